/*
 * proxyproto_test.c: the PROXY protocol parser and builder.  Headers as
 * HAProxy's specification and real producers write them (v1 TCP4, TCP6,
 * UNKNOWN; v2 PROXY, LOCAL, TLVs) parse to their addresses and lengths;
 * every proper prefix of one asks for more and never decides early; each
 * way of breaking one is refused with a reason; what we build parses back
 * to what it was built from; and random bytes get a verdict within
 * PP_DECIDE bytes, a v1 header never longer than the input.
 * Output is TAP (tap.h).  Calls proxyproto.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"
#include "tap.h"

/* ss's address as text and its port: "1.2.3.4 80", "::1 443". */
static const char *
show(const struct sockaddr_storage *ss)
{
	static char buf[2][80];
	static int which;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN];
	char *out = buf[which ^= 1];

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(out, 80, "%s %u", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, 80, "%s %u", a, ntohs(s6->sin6_port));
	} else
		snprintf(out, 80, "family %d", ss->ss_family);
	return out;
}

static enum pp_result
parse_str(const char *s, struct pp_header *h)
{
	return pp_parse((const uint8_t *)s, strlen(s), h);
}

/* Every proper prefix of buf asks for more. */
static int
prefixes_want_more(const uint8_t *buf, size_t len)
{
	struct pp_header h;
	size_t i;

	for (i = 0; i < len; i++)
		if (pp_parse(buf, i, &h) != PP_MORE)
			return 0;
	return 1;
}

static void
t_v1(void)
{
	static const char tcp4[] = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";
	static const char tcp6[] = "PROXY TCP6 2001:db8::1 ::1 65535 0\r\nGET /";
	struct pp_header h;

	CHECK(parse_str(tcp4, &h) == PP_OK);
	CHECK(h.version == 1 && h.has_addr && h.len == strlen(tcp4));
	CHECK(strcmp(show(&h.src), "192.0.2.1 56324") == 0);
	CHECK(strcmp(show(&h.dst), "198.51.100.7 443") == 0);
	CHECK(h.srclen == sizeof(struct sockaddr_in));
	CHECK(parse_str(tcp6, &h) == PP_OK);
	CHECK(h.len == strlen(tcp6) - strlen("GET /"));	/* data left alone */
	CHECK(strcmp(show(&h.src), "2001:db8::1 65535") == 0);
	CHECK(strcmp(show(&h.dst), "::1 0") == 0);
	CHECK(parse_str("PROXY UNKNOWN\r\n", &h) == PP_OK && !h.has_addr);
	CHECK(h.len == 15);
	CHECK(parse_str("PROXY UNKNOWN ffff::1 ::2 1 2\r\n", &h) == PP_OK);
	CHECK(!h.has_addr);
	CHECK(prefixes_want_more((const uint8_t *)tcp4, strlen(tcp4)));
}

static void
t_v1_broken(void)
{
	static const char *const broken[] = {
		"PROXY TCP4  192.0.2.1 198.51.100.7 1 2\r\n",	/* two spaces */
		"PROXY TCP4 192.0.2.1 198.51.100.7 1 2 \r\n",	/* trailing */
		"PROXY TCP4 192.0.2.01 198.51.100.7 1 2\r\n",	/* zero */
		"PROXY TCP4 192.0.2.1 198.51.100.7 1 65536\r\n",
		"PROXY TCP4 192.0.2.1 198.51.100.7 -1 2\r\n",
		"PROXY TCP4 192.0.2.1 198.51.100.7 123456 2\r\n",
		"PROXY TCP4 ::1 ::1 1 2\r\n",			/* family */
		"PROXY TCP6 192.0.2.1 198.51.100.7 1 2\r\n",
		"PROXY TCP4 192.0.2.1 198.51.100.7 1\r\n",
		"PROXY TCP4 192.0.2.1\r\n",
		"PROXY TCP5 192.0.2.1 198.51.100.7 1 2\r\n",
		"PROXY tcp4 192.0.2.1 198.51.100.7 1 2\r\n",
		"PROXY TCP4 192.0.2.1 198.51.100.7 1 2\rX",	/* CR, no LF */
		"PROXY TCP4 192.0.2.1 198.51.100.7 1 2\n",	/* LF alone */
		"PROXY TCP4 192.0.2.1 198.51.100.7 1 \t2\r\n",
		"PROXY \r\n",
		"proxy TCP4 192.0.2.1 198.51.100.7 1 2\r\n",
		"GET / HTTP/1.0\r\n",
		"G",
		"PROXX",
	};
	char longline[200];
	struct pp_header h;
	size_t i;

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		if (parse_str(broken[i], &h) != PP_BAD) {
			printf("# not refused: %s\n", broken[i]);
			CHECK(0);
		} else
			CHECK(h.why != NULL);
	}
	/* 107 bytes without CRLF: no v1 header can be that long. */
	memset(longline, 'A', sizeof(longline));
	memcpy(longline, "PROXY UNKNOWN ", 14);
	CHECK(pp_parse((uint8_t *)longline, 106, &h) == PP_MORE);
	CHECK(pp_parse((uint8_t *)longline, 107, &h) == PP_BAD);
	memcpy(longline + 105, "\r\n", 2);
	CHECK(pp_parse((uint8_t *)longline, 107, &h) == PP_OK);
}

/* v2 as HAProxy sends it: TCP4 172.19.0.1:42578 -> 172.19.0.3:80. */
static const uint8_t v2_tcp4[] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
	0x21, 0x11, 0x00, 0x0c,
	0xac, 0x13, 0x00, 0x01, 0xac, 0x13, 0x00, 0x03, 0xa6, 0x52, 0x00, 0x50,
};

static void
t_v2(void)
{
	uint8_t buf[300];
	struct pp_header h;

	CHECK(pp_parse(v2_tcp4, sizeof(v2_tcp4), &h) == PP_OK);
	CHECK(h.version == 2 && h.has_addr && h.len == sizeof(v2_tcp4));
	CHECK(strcmp(show(&h.src), "172.19.0.1 42578") == 0);
	CHECK(strcmp(show(&h.dst), "172.19.0.3 80") == 0);
	CHECK(prefixes_want_more(v2_tcp4, sizeof(v2_tcp4)));

	/* TLVs after the addresses belong to the header, data after them not */
	memcpy(buf, v2_tcp4, sizeof(v2_tcp4));
	buf[15] = 0x0c + 7;
	memcpy(buf + 28, "\x04\x00\x04" "abcd" "DATA", 11);
	CHECK(pp_parse(buf, 39, &h) == PP_OK && h.len == 35 && h.has_addr);

	/* LOCAL: a health check; the connection's own addresses stand */
	memcpy(buf, v2_tcp4, sizeof(v2_tcp4));
	buf[12] = 0x20;
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_OK && !h.has_addr);
	buf[13] = 0x00;
	buf[15] = 0;
	CHECK(pp_parse(buf, 16, &h) == PP_OK && !h.has_addr && h.len == 16);

	/* PROXY over UNSPEC, UDP or unix: parsed, no address taken */
	memcpy(buf, v2_tcp4, sizeof(v2_tcp4));
	buf[13] = 0x12;
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_OK && !h.has_addr);
	buf[13] = 0x00;
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_OK && !h.has_addr);
	memset(buf + 16, 0, 216);
	buf[13] = 0x31;
	buf[14] = 0;
	buf[15] = 216;
	CHECK(pp_parse(buf, 16 + 216, &h) == PP_OK && !h.has_addr);
	/* any header is decided within PP_DECIDE bytes */
	buf[14] = 0x0f;
	CHECK(pp_parse(buf, PP_DECIDE, &h) == PP_OK && h.len == 16 + 0x0fd8);
}

static void
t_v2_broken(void)
{
	uint8_t buf[PP_MAX + 100];
	struct pp_header h;

	memcpy(buf, v2_tcp4, sizeof(v2_tcp4));
	buf[12] = 0x11;			/* version 1 in a v2 header */
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_BAD);
	buf[12] = 0x22;			/* command 2 */
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_BAD);
	buf[12] = 0x21;
	buf[13] = 0x41;			/* family 4 */
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_BAD);
	buf[13] = 0x13;			/* protocol 3 */
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_BAD);
	buf[13] = 0x21;			/* TCP6 with room for TCP4 only */
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_BAD);
	buf[13] = 0x11;
	buf[15] = 8;			/* TCP4 cut short */
	CHECK(pp_parse(buf, 24, &h) == PP_BAD);
	buf[14] = 0x10;			/* 4096 + 16: over the limit */
	buf[15] = 0x00;
	memset(buf + 16, 0, PP_MAX + 100 - 16);
	CHECK(pp_parse(buf, sizeof(buf), &h) == PP_BAD);
	buf[14] = 0x0f;			/* 4080 + 16: the limit itself */
	buf[15] = 0xf0;
	CHECK(pp_parse(buf, sizeof(buf), &h) == PP_OK && h.len == PP_MAX);
	/* decided from the addresses, before the TLVs */
	CHECK(pp_parse(buf, 28, &h) == PP_OK && h.len == PP_MAX);
	CHECK(pp_parse(buf, 27, &h) == PP_MORE);
	/* The signature with a byte wrong */
	memcpy(buf, v2_tcp4, sizeof(v2_tcp4));
	buf[7] = 'q';
	CHECK(pp_parse(buf, sizeof(v2_tcp4), &h) == PP_BAD);
	CHECK(pp_parse(buf, 8, &h) == PP_BAD);	/* as soon as it shows */
}

/* What we send parses back to what it was built from. */
static void
t_round_trip(void)
{
	static const char *const pairs[][2] = {
		{ "192.0.2.1", "198.51.100.7" },
		{ "2001:db8::1", "2001:db8::ffff:1" },
		{ "::1", "::" },
	};
	struct sockaddr_storage src, dst, msrc, mdst;
	struct sockaddr_in6 *m6;
	struct pp_header h;
	uint8_t out[PP_SEND_MAX];
	size_t i, n;
	int v;

	for (v = 1; v <= 2; v++)
		for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			tap_addr(pairs[i][0], &src);
			tap_addr(pairs[i][1], &dst);
			((struct sockaddr_in *)&src)->sin_port = htons(65535);
			((struct sockaddr_in *)&dst)->sin_port = htons(80);
			n = pp_build(v, (struct sockaddr *)&src,
			    (struct sockaddr *)&dst, out);
			CHECK(n > 0 && n <= PP_SEND_MAX);
			CHECK(pp_parse(out, n, &h) == PP_OK && h.len == n);
			CHECK(h.version == v && h.has_addr);
			CHECK(strcmp(show(&h.src), show(&src)) == 0);
			CHECK(strcmp(show(&h.dst), show(&dst)) == 0);
		}
	/* IPv4-mapped goes out as IPv4 */
	tap_addr("::ffff:192.0.2.9", &msrc);
	tap_addr("::ffff:192.0.2.10", &mdst);
	m6 = (struct sockaddr_in6 *)&msrc;
	m6->sin6_port = htons(1234);
	n = pp_build(1, (struct sockaddr *)&msrc, (struct sockaddr *)&mdst, out);
	CHECK(n == strlen("PROXY TCP4 192.0.2.9 192.0.2.10 1234 0\r\n"));
	CHECK(memcmp(out, "PROXY TCP4 192.0.2.9 192.0.2.10 1234 0\r\n", n) == 0);
	n = pp_build(2, (struct sockaddr *)&msrc, (struct sockaddr *)&mdst, out);
	CHECK(n == 28 && out[13] == 0x11);
	/* Another family: UNKNOWN, or v2 with no addresses */
	memset(&src, 0, sizeof(src));
	src.ss_family = AF_UNIX;
	n = pp_build(1, (struct sockaddr *)&src, (struct sockaddr *)&src, out);
	CHECK(n == 15 && memcmp(out, "PROXY UNKNOWN\r\n", 15) == 0);
	n = pp_build(2, (struct sockaddr *)&src, (struct sockaddr *)&src, out);
	CHECK(n == 16 && pp_parse(out, n, &h) == PP_OK && !h.has_addr);
	/* The longest v1 line fits */
	tap_addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", &src);
	((struct sockaddr_in6 *)&src)->sin6_port = htons(65535);
	n = pp_build(1, (struct sockaddr *)&src, (struct sockaddr *)&src, out);
	CHECK(n == 104 && pp_parse(out, n, &h) == PP_OK);
}

/* Random bytes, and random changes to good headers: a verdict within
 * PP_DECIDE bytes.  (tests/fuzz/proxyproto_fuzz.c goes further.) */
static void
t_random(void)
{
	uint8_t buf[600];
	struct pp_header h;
	enum pp_result r;
	size_t len, i;
	int round, bad = 0;

	for (round = 0; round < 200000; round++) {
		len = tap_rand() % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)tap_rand();
		if (round % 2 == 0 && len >= sizeof(v2_tcp4)) {
			memcpy(buf, v2_tcp4, sizeof(v2_tcp4));
			buf[12 + tap_rand() % 4] ^= (uint8_t)(1u << (tap_rand() % 8));
		} else if (round % 4 == 1 && len > 6)
			memcpy(buf, "PROXY ", 6);
		r = pp_parse(buf, len, &h);
		if (r == PP_OK && (h.len == 0 || h.len > PP_MAX ||
		    (h.version == 1 && h.len > len)))
			bad++;
		if (r == PP_MORE && len >= PP_DECIDE)
			bad++;
		if (r == PP_BAD && h.why == NULL)
			bad++;
	}
	CHECK(bad == 0);
}

static const struct tap_test tests[] = {
	{ "v1 TCP4, TCP6, UNKNOWN; prefixes ask for more", t_v1 },
	{ "v1 broken in every field: refused with a reason", t_v1_broken },
	{ "v2 PROXY, TLVs, LOCAL, other families", t_v2 },
	{ "v2 broken: version, command, family, length, signature",
	    t_v2_broken },
	{ "what is built parses back, v1 and v2, mapped and unknown",
	    t_round_trip },
	{ "random bytes: a verdict within PP_DECIDE bytes", t_random },
};

int
main(void)
{
	return TAP_RUN(tests);
}
