/*
 * values_fuzz.c: libFuzzer target for the value parsers and formatters
 * that take outside input: util.c's numbers with their suffixes and
 * decimals, acl.c's addresses and CIDRs (and matching by them),
 * netio_addr.c's address text and log.c's sanitising.
 *
 * Byte 0 of the input picks the target, byte 1 its bounds; the rest is
 * the text (NUL-terminated at the first NUL).  Each parser is held to a
 * reference written here from its documented grammar, independently of
 * the code under test; a formatter writes into a buffer of exactly the
 * size it was given, so that AddressSanitizer sees a byte too far.  Any
 * disagreement is an abort().
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "log.h"
#include "netio_addr.h"
#include "util.h"

#define TEXT_MAX	256

static const unsigned char mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

typedef unsigned __int128 u128;

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* The digits at *s as a number, saturated at 2^80: above any bound, and
 * still without overflow once a suffix multiplies it. */
static u128
ref_digits(const char **s)
{
	u128 v = 0, cap = (u128)1 << 80;

	for (; isdig(**s); (*s)++)
		if ((v = v * 10 + (u128)(**s - '0')) > cap)
			v = cap;
	return v;
}

/*
 * "-" digits, then one character of ".kKmMgG", then digits: a negative
 * number of some kind, out of range; anything else after '-' is not one.
 */
static enum util_perr
ref_negative(const char *s)
{
	if (*s++ != '-' || !isdig(*s))
		return UTIL_NAN;
	(void)ref_digits(&s);
	if (*s != '\0' && strchr(".kKmMgG", *s) != NULL)
		s++;
	while (isdig(*s))
		s++;
	return *s == '\0' ? UTIL_RANGE : UTIL_NAN;
}

/* Digits and an optional suffix of size units (mul 1 if none allowed). */
static enum util_perr
ref_scaled(const char *s, int units, uint64_t min, uint64_t max, u128 *out)
{
	const char *p = s;
	u128 v, mul = 1;

	if (!isdig(*p))
		return *p == '-' ? ref_negative(s) : UTIL_NAN;
	v = ref_digits(&p);
	if (units && *p != '\0' && strchr("kK", *p) != NULL)
		mul = 1024, p++;
	else if (units && *p != '\0' && strchr("mM", *p) != NULL)
		mul = 1024 * 1024, p++;
	else if (units && *p != '\0' && strchr("gG", *p) != NULL)
		mul = 1024 * 1024 * 1024, p++;
	if (*p != '\0')
		return UTIL_NAN;
	v *= mul;
	if (v < min || v > max)
		return UTIL_RANGE;
	*out = v;
	return UTIL_OK;
}

/* Seconds: digits, then '.' and 1-3 digits (more only if zeros), as ms. */
static enum util_perr
ref_secs(const char *s, int64_t min, int64_t max, u128 *out)
{
	const char *p = s;
	u128 v, ms = 0;
	int i;

	if (!isdig(*p))
		return *p == '-' ? ref_negative(s) : UTIL_NAN;
	v = ref_digits(&p) * 1000;
	if (*p == '.') {
		p++;
		if (!isdig(*p))
			return UTIL_NAN;
		for (i = 0; i < 3; i++) {
			ms = ms * 10 + (isdig(*p) ? (u128)(*p - '0') : 0);
			if (isdig(*p))
				p++;
		}
		for (; isdig(*p); p++)
			if (*p != '0') {
				/* finer than a millisecond: if it is a number */
				while (isdig(*p))
					p++;
				return *p == '\0' ? UTIL_RANGE : UTIL_NAN;
			}
	}
	if (*p != '\0')
		return UTIL_NAN;
	v += ms;
	if (v < (u128)min || v > (u128)max)
		return UTIL_RANGE;
	*out = v;
	return UTIL_OK;
}

static const struct { uint64_t min, max; } bounds[] = {
	{ 0, UINT64_MAX }, { 1, 65535 }, { 0, UINT32_MAX }, { 1024, 64 << 20 },
	{ 1, 1000000 }, { 0, 1ULL << 50 }, { 1, 3600 * 1000 },
	{ 0, 86400ULL * 1000 }, { UINT64_MAX - 5, UINT64_MAX },
};
#define NBOUNDS	(sizeof(bounds) / sizeof(bounds[0]))

static void
numbers(int kind, uint64_t min, uint64_t max, const char *s)
{
	enum util_perr e, want;
	uint64_t u = 0xdeadbeef;
	int64_t ms = -1;
	u128 ref = 0;

	switch (kind) {
	case 0:
		e = util_parse_uint(s, min, max, &u);
		want = ref_scaled(s, 0, min, max, &ref);
		break;
	case 1:
		e = util_parse_size(s, min, max, &u);
		want = ref_scaled(s, 1, min, max, &ref);
		break;
	default:
		if (max > INT64_MAX)
			max = INT64_MAX;
		if (min > max)
			return;
		e = util_parse_secs(s, (int64_t)min, (int64_t)max, &ms);
		want = ref_secs(s, (int64_t)min, (int64_t)max, &ref);
		u = (uint64_t)ms;
		break;
	}
	if (e != want || (e == UTIL_OK && (u128)u != ref))
		abort();
}

/* A one-rule list that denies r's network: 1 if sa is denied by it. */
static int
denied(const struct acl_rule *r, const void *addr, uint16_t port)
{
	struct acl_rule deny = *r;
	struct acl acl = { &deny, 1, 0 };
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	deny.allow = 0;
	if (r->family == AF_INET) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_port = port;
		memcpy(&s4.sin_addr, addr, 4);
		return !acl_permit(&acl, (struct sockaddr *)&s4, sizeof(s4));
	}
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = port;
	memcpy(&s6.sin6_addr, addr, 16);
	return !acl_permit(&acl, (struct sockaddr *)&s6, sizeof(s6));
}

/* The address part of s (brackets off, up to '/') for inet_pton(). */
static int
ref_addr(const char *s, unsigned char net[16], int *family)
{
	char text[TEXT_MAX];
	size_t len = strcspn(s, "/");

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		s++, len -= 2;
	if (len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	*family = AF_INET;
	if (inet_pton(AF_INET, text, net) == 1)
		return 0;
	*family = AF_INET6;
	return inet_pton(AF_INET6, text, net) == 1 ? 0 : -1;
}

static void
cidr(const char *s, uint16_t port)
{
	struct acl_rule r, back;
	unsigned char net[16], probe[16];
	char text[TEXT_MAX];
	const char *why = NULL, *why2, *slash;
	unsigned len, i;
	int family;

	if (acl_parse(s, &r, &why) == -1) {
		/* Refused: with a reason, and never a plain address. */
		if (why == NULL || (strchr(s, '/') == NULL &&
		    ref_addr(s, net, &family) == 0))
			abort();
		return;
	}
	if (ref_addr(s, net, &family) == -1)
		abort();
	/* Written IPv4-mapped with 96 bits or more: the IPv4 network. */
	slash = strchr(s, '/');
	if (family == AF_INET6 && memcmp(net, mapped, 12) == 0 &&
	    (slash == NULL || atoi(slash + 1) >= 96)) {
		memmove(net, net + 12, 4);
		family = AF_INET;
	}
	if (family != r.family)
		abort();
	len = r.family == AF_INET ? 4 : 16;
	if (r.bits > len * 8 || memcmp(net, r.net, len) != 0)
		abort();
	for (i = r.bits; i < len * 8; i++)
		if (r.net[i / 8] & (0x80 >> (i % 8)))
			abort();
	/* Printed back and parsed again: the same rule. */
	if (inet_ntop(r.family, r.net, text, sizeof(text)) == NULL)
		abort();
	(void)snprintf(text + strlen(text), sizeof(text) - strlen(text),
	    "/%u", r.bits);
	if (acl_parse(text, &back, &why2) == -1 || back.family != r.family ||
	    back.bits != r.bits || memcmp(back.net, r.net, 16) != 0)
		abort();
	/*
	 * Matching: the network and its last host address are in it; an
	 * address with a prefix bit flipped is not.
	 */
	memcpy(probe, r.net, len);
	if (!denied(&r, probe, port))
		abort();
	if (r.bits < len * 8) {
		probe[len - 1] ^= 1;
		if (!denied(&r, probe, port))
			abort();
		probe[len - 1] ^= 1;
	}
	if (r.bits > 0) {
		i = r.bits - 1;
		probe[i / 8] ^= (unsigned char)(0x80 >> (i % 8));
		if (denied(&r, probe, port))
			abort();
	}
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s >= 0x7f)
			return 0;
	return 1;
}

/* Any bytes as an address, into a buffer of exactly size bytes. */
static void
fmtaddr(const uint8_t *data, size_t n, uint8_t sel)
{
	static const int fam[] = { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC };
	struct sockaddr_storage ss;
	socklen_t len;
	size_t size = (size_t)(sel & 0x3f) + 1;
	char *buf;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, data, n < sizeof(ss) ? n : sizeof(ss));
	ss.ss_family = (sa_family_t)fam[(sel >> 6) & 3];
	len = (socklen_t)(n < sizeof(ss) ? n : sizeof(ss));
	if ((buf = malloc(size)) == NULL)
		abort();
	netio_fmtaddr((struct sockaddr *)&ss, len, buf, size);
	if (memchr(buf, '\0', size) == NULL || !printable(buf))
		abort();
	free(buf);
}

static void
sanitize(const char *s, size_t size)
{
	char *buf;
	size_t i, n;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	log_sanitize(buf, size, s);
	if (size == 0) {
		free(buf);
		return;
	}
	n = strlen(buf);
	if (n >= size || !printable(buf) || n != (strlen(s) < size - 1 ?
	    strlen(s) : size - 1))
		abort();
	for (i = 0; i < n; i++)
		if (buf[i] != '?' && buf[i] != s[i])
			abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX];
	size_t n;

	if (size < 2)
		return 0;
	n = size - 2 < sizeof(text) - 1 ? size - 2 : sizeof(text) - 1;
	memcpy(text, data + 2, n);
	text[n] = '\0';
	switch (data[0] % 6) {
	case 0:
	case 1:
	case 2:
		numbers(data[0] % 6, bounds[data[1] % NBOUNDS].min,
		    bounds[data[1] % NBOUNDS].max, text);
		break;
	case 3:
		cidr(text, (uint16_t)data[1]);
		break;
	case 4:
		fmtaddr(data + 2, size - 2, data[1]);
		break;
	case 5:
		sanitize(text, data[1] % 80);
		break;
	}
	return 0;
}
