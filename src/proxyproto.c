/*
 * proxyproto.c: HAProxy's PROXY protocol, versions 1 and 2, after its
 * specification (proxy-protocol.txt): parse the header a balancer sends,
 * build the one we send.  Strict where the specification says "must",
 * since anything taken for a header decides who the client is: one space
 * between v1 fields, addresses in their canonical forms, ports in range,
 * only the versions, commands and families it defines.  TLVs are not
 * looked at: the parser decides without them, and the caller skips them.
 * Pure: no system call, no state.  Calls nothing of the project.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1sig[] = "PROXY ";

#define V1_MAX		107	/* the longest line, CRLF included */
#define V2_FIXED	16	/* signature, version and command, family, length */

/* Version 2's address blocks: IPv4, IPv6 (source, destination, ports). */
#define V2_INET_LEN	12
#define V2_INET6_LEN	36
#define V2_UNIX_LEN	216

static enum pp_result
bad(struct pp_header *h, const char *why)
{
	h->why = why;
	return PP_BAD;
}

static void
set_addr(struct sockaddr_storage *ss, socklen_t *len, int family,
    const void *addr, uint16_t port)	/* port in network order */
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		sin->sin_port = port;
		*len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		sin6->sin6_port = port;
		*len = sizeof(*sin6);
	}
}

/* The next v1 field of line (up to one space or the end): its length. */
static size_t
field(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != ' ')
		q++;
	return (size_t)(q - p);
}

/* A v1 port: 1 to 5 digits, at most 65535; 0 or -1. */
static int
v1_port(const char *p, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = htons((uint16_t)v);
	return 0;
}

/* "TCP4 a b p q" or "TCP6 ..." or "UNKNOWN[ anything]": line without CRLF. */
static enum pp_result
v1_fields(const char *p, const char *end, struct pp_header *h)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char addr[2][16];
	uint16_t port[2];
	size_t n;
	int family, i;

	n = field(p, end);
	if (n == 7 && memcmp(p, "UNKNOWN", 7) == 0)
		return PP_OK;		/* the rest is to be ignored */
	if (n != 4 || (memcmp(p, "TCP4", 4) != 0 && memcmp(p, "TCP6", 4) != 0))
		return bad(h, "v1: unknown protocol");
	family = p[3] == '4' ? AF_INET : AF_INET6;
	p += n;
	for (i = 0; i < 2; i++) {
		if (p >= end || *p++ != ' ')
			return bad(h, "v1: missing address");
		n = field(p, end);
		if (n == 0 || n >= sizeof(text))
			return bad(h, "v1: bad address");
		memcpy(text, p, n);
		text[n] = '\0';
		if (inet_pton(family, text, addr[i]) != 1)
			return bad(h, "v1: bad address");
		p += n;
	}
	for (i = 0; i < 2; i++) {
		if (p >= end || *p++ != ' ')
			return bad(h, "v1: missing port");
		n = field(p, end);
		if (v1_port(p, n, &port[i]) == -1)
			return bad(h, "v1: bad port");
		p += n;
	}
	if (p != end)
		return bad(h, "v1: trailing fields");
	set_addr(&h->src, &h->srclen, family, addr[0], port[0]);
	set_addr(&h->dst, &h->dstlen, family, addr[1], port[1]);
	h->has_addr = 1;
	return PP_OK;
}

static enum pp_result
parse_v1(const uint8_t *buf, size_t len, struct pp_header *h)
{
	const char *s = (const char *)buf;
	size_t i, max = len < V1_MAX ? len : V1_MAX;

	for (i = sizeof(v1sig) - 1; i < max; i++) {
		if (s[i] == '\r') {
			if (i + 1 == len)
				return PP_MORE;
			if (s[i + 1] != '\n')
				return bad(h, "v1: CR without LF");
			h->len = i + 2;
			h->version = 1;
			return v1_fields(s + sizeof(v1sig) - 1, s + i, h);
		}
		/* Printable ASCII only: a header is never anything else. */
		if (s[i] < 0x20 || s[i] > 0x7e)
			return bad(h, "v1: not text");
	}
	return len < V1_MAX ? PP_MORE : bad(h, "v1: longer than 107 bytes");
}

/* Two bytes in network order, kept in network order. */
static uint16_t
port_at(const uint8_t *p)
{
	uint16_t port;

	memcpy(&port, p, sizeof(port));
	return port;
}

static enum pp_result
parse_v2(const uint8_t *buf, size_t len, struct pp_header *h)
{
	size_t body, need;
	int cmd, fam, proto;

	if (len < V2_FIXED)
		return PP_MORE;
	if ((buf[12] & 0xf0) != 0x20)
		return bad(h, "v2: unknown version");
	cmd = buf[12] & 0x0f;
	if (cmd > 1)
		return bad(h, "v2: unknown command");
	fam = buf[13] >> 4;
	proto = buf[13] & 0x0f;
	if (fam > 3 || proto > 2)
		return bad(h, "v2: unknown family or protocol");
	body = (size_t)buf[14] << 8 | buf[15];
	if (V2_FIXED + body > PP_MAX)
		return bad(h, "v2: longer than the limit");
	need = fam == 1 ? V2_INET_LEN : fam == 2 ? V2_INET6_LEN :
	    fam == 3 ? V2_UNIX_LEN : 0;
	if (cmd == 1 && body < need)
		return bad(h, "v2: addresses cut short");
	h->len = V2_FIXED + body;
	h->version = 2;
	/* LOCAL, UNSPEC, UDP, unix: the connection's own addresses stand. */
	if (cmd == 0 || proto != 1 || (fam != 1 && fam != 2))
		return PP_OK;
	/* The addresses, not the TLVs after them, are what it takes. */
	if (len < V2_FIXED + need)
		return PP_MORE;
	if (fam == 1) {
		set_addr(&h->src, &h->srclen, AF_INET, buf + 16, port_at(buf + 24));
		set_addr(&h->dst, &h->dstlen, AF_INET, buf + 20, port_at(buf + 26));
	} else {
		set_addr(&h->src, &h->srclen, AF_INET6, buf + 16,
		    port_at(buf + 48));
		set_addr(&h->dst, &h->dstlen, AF_INET6, buf + 32,
		    port_at(buf + 50));
	}
	h->has_addr = 1;
	return PP_OK;
}

enum pp_result
pp_parse(const uint8_t *buf, size_t len, struct pp_header *h)
{
	size_t n;

	memset(h, 0, sizeof(*h));
	if (len > PP_MAX)
		len = PP_MAX;
	n = len < sizeof(v2sig) ? len : sizeof(v2sig);
	if (n > 0 && memcmp(buf, v2sig, n) == 0)
		return n < sizeof(v2sig) ? PP_MORE : parse_v2(buf, len, h);
	n = len < sizeof(v1sig) - 1 ? len : sizeof(v1sig) - 1;
	if (len == 0 || memcmp(buf, v1sig, n) == 0)
		return n < sizeof(v1sig) - 1 ? PP_MORE : parse_v1(buf, len, h);
	return bad(h, "no PROXY header");
}

/*
 * A sockaddr as IPv4 (an IPv4-mapped IPv6 address too) or IPv6: its
 * family, and its address and port (network order) in addr and *port.
 */
static int
plain(const struct sockaddr *sa, unsigned char addr[16], uint16_t *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(addr, &sin->sin_addr, 4);
		*port = sin->sin_port;
		return AF_INET;
	}
	if (sa == NULL || sa->sa_family != AF_INET6)
		return AF_UNSPEC;
	*port = sin6->sin6_port;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(addr, &sin6->sin6_addr.s6_addr[12], 4);
		return AF_INET;
	}
	memcpy(addr, &sin6->sin6_addr, 16);
	return AF_INET6;
}

size_t
pp_build(int version, const struct sockaddr *src, const struct sockaddr *dst,
    uint8_t *out)
{
	unsigned char a[2][16];
	char text[2][INET6_ADDRSTRLEN];
	uint16_t port[2] = { 0, 0 };	/* gcc -O1 cannot tell they are set */
	int fa, fb, n, alen;
	size_t len;

	fa = plain(src, a[0], &port[0]);
	fb = plain(dst, a[1], &port[1]);
	if (fa != fb)
		fa = AF_UNSPEC;
	if (version == 1) {
		if (fa == AF_UNSPEC) {
			memcpy(out, "PROXY UNKNOWN\r\n", 15);
			return 15;
		}
		(void)inet_ntop(fa, a[0], text[0], sizeof(text[0]));
		(void)inet_ntop(fa, a[1], text[1], sizeof(text[1]));
		n = snprintf((char *)out, V1_MAX + 1, "PROXY TCP%c %s %s %u %u\r\n",
		    fa == AF_INET ? '4' : '6', text[0], text[1],
		    (unsigned)ntohs(port[0]), (unsigned)ntohs(port[1]));
		return n > 0 ? (size_t)n : 0;
	}
	memcpy(out, v2sig, sizeof(v2sig));
	out[12] = 0x21;			/* version 2, PROXY */
	alen = fa == AF_INET ? 4 : fa == AF_INET6 ? 16 : 0;
	out[13] = fa == AF_INET ? 0x11 : fa == AF_INET6 ? 0x21 : 0x00;
	len = alen == 0 ? 0 : (size_t)alen * 2 + 4;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	if (alen != 0) {
		memcpy(out + 16, a[0], (size_t)alen);
		memcpy(out + 16 + alen, a[1], (size_t)alen);
		memcpy(out + 16 + 2 * alen, &port[0], 2);
		memcpy(out + 18 + 2 * alen, &port[1], 2);
	}
	return V2_FIXED + len;
}
