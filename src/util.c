/*
 * util.c: stateless helpers: bounded number parsing, the monotonic clock,
 * errno names.  Owns no state; calls nothing of the project.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

/*
 * Digits only, no sign, no space: strtoull would accept " -1" as huge.
 * A number past UINT64_MAX is *vp = UINT64_MAX with *big set, so that it
 * is out of range whatever the bound.
 */
static enum util_perr
digits(const char **sp, uint64_t *vp, int *big)
{
	const char *s = *sp;
	uint64_t v = 0, d;

	if (!isdigit((unsigned char)*s))
		return UTIL_NAN;
	*big = 0;
	for (; isdigit((unsigned char)*s); s++) {
		d = (uint64_t)(*s - '0');
		if (*big || v > (UINT64_MAX - d) / 10)
			*big = 1;
		else
			v = v * 10 + d;
	}
	*sp = s;
	*vp = *big ? UINT64_MAX : v;
	return UTIL_OK;
}

/* "-5" is a number out of range; "-x" or "-5x" is not a number at all. */
static enum util_perr
negative(const char *s)
{
	const char *p = s + 1;
	uint64_t v;
	int big;

	if (*s != '-' || digits(&p, &v, &big) != UTIL_OK)
		return UTIL_NAN;
	if (*p != '\0' && strchr(".kKmMgG", *p) != NULL)
		p++;		/* "-0.5", "-4k": numbers too, of other kinds */
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0' ? UTIL_RANGE : UTIL_NAN;
}

/*
 * The digits that start s, with *pp after them and *big set if they are
 * more than 64 bits hold; "-5" is out of range.
 */
static enum util_perr
leading(const char *s, const char **pp, uint64_t *vp, int *big)
{
	*pp = s;
	if (digits(pp, vp, big) == UTIL_OK)
		return UTIL_OK;
	return *s == '-' ? negative(s) : UTIL_NAN;
}

/*
 * util_parse_uint: a decimal integer in [min, max].
 */
enum util_perr
util_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	enum util_perr e;
	const char *p;
	uint64_t v;
	int big;

	if ((e = leading(s, &p, &v, &big)) != UTIL_OK)
		return e;
	if (*p != '\0')
		return UTIL_NAN;
	if (big || v < min || v > max)
		return UTIL_RANGE;
	*out = v;
	return UTIL_OK;
}

/*
 * util_parse_size: a decimal integer with an optional k, m or g suffix
 * (powers of 1024), in [min, max] after scaling.
 */
enum util_perr
util_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const char units[] = "kKmMgG";
	const char *p, *u;
	enum util_perr e;
	uint64_t v, mul = 1;
	int big;

	if ((e = leading(s, &p, &v, &big)) != UTIL_OK)
		return e;
	/* k or K is 1024, m or M 1024 * 1024, g or G 1024 ** 3. */
	if (*p != '\0' && (u = strchr(units, *p)) != NULL) {
		mul <<= 10 * (1 + (u - units) / 2);
		p++;
	}
	if (*p != '\0')
		return UTIL_NAN;
	if (big || v > UINT64_MAX / mul || v * mul < min || v * mul > max)
		return UTIL_RANGE;
	*out = v * mul;
	return UTIL_OK;
}

/*
 * util_parse_secs: seconds with up to three decimals, as milliseconds, in
 * [min_ms, max_ms].
 */
enum util_perr
util_parse_secs(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out)
{
	enum util_perr e;
	const char *p;
	uint64_t whole, ms = 0;
	int i, big;

	if ((e = leading(s, &p, &whole, &big)) != UTIL_OK)
		return e;
	if (*p == '.') {
		p++;
		for (i = 0; i < 3 && isdigit((unsigned char)*p); i++, p++)
			ms = ms * 10 + (uint64_t)(*p - '0');
		if (i == 0)
			return UTIL_NAN;
		for (; i < 3; i++)
			ms *= 10;
		while (*p == '0')
			p++;
		if (isdigit((unsigned char)*p)) {
			/* finer than a millisecond, if a number at all */
			while (isdigit((unsigned char)*p))
				p++;
			return *p == '\0' ? UTIL_RANGE : UTIL_NAN;
		}
	}
	if (*p != '\0')
		return UTIL_NAN;
	if (big || whole > (uint64_t)max_ms / 1000)
		return UTIL_RANGE;
	ms += whole * 1000;
	if ((int64_t)ms < min_ms || (int64_t)ms > max_ms)
		return UTIL_RANGE;
	*out = (int64_t)ms;
	return UTIL_OK;
}

/*
 * util_now_ms: milliseconds on CLOCK_MONOTONIC.
 */
int64_t
util_now_ms(void)
{
	struct timespec ts;

	/* Cannot fail with a valid clock id and pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define E(x)	{ x, #x }
static const struct util_name errnames[] = {
	E(EPERM), E(ENOENT), E(EINTR), E(EIO), E(EBADF), E(EAGAIN),
	E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY), E(EINVAL), E(ENFILE),
	E(EMFILE), E(ENOSPC), E(EPIPE), E(ENOTSOCK), E(EDESTADDRREQ),
	E(EMSGSIZE), E(EPROTOTYPE), E(ENOPROTOOPT), E(EPROTONOSUPPORT),
	E(EOPNOTSUPP), E(EAFNOSUPPORT), E(EADDRINUSE), E(EADDRNOTAVAIL),
	E(ENETDOWN), E(ENETUNREACH), E(ENETRESET), E(ECONNABORTED),
	E(ECONNRESET), E(ENOBUFS), E(EISCONN), E(ENOTCONN), E(ETIMEDOUT),
	E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY),
	E(EINPROGRESS), E(EPROTO), E(ENODATA),
};
#undef E

/*
 * util_name: the symbolic name of value, for log lines that a script
 * matches on.  A value the table lacks gets prefix and its number, in a
 * static buffer.
 */
const char *
util_name(const struct util_name *table, size_t n, int value,
    const char *prefix)
{
	static char buf[32];
	size_t i;

	for (i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	(void)snprintf(buf, sizeof(buf), "%s%d", prefix, value);
	return buf;
}

/*
 * util_errname: "EPIPE" for EPIPE.
 */
const char *
util_errname(int err)
{
	return util_name(errnames, sizeof(errnames) / sizeof(errnames[0]),
	    err, "E");
}

/*
 * util_append: s after the first n bytes of buf.
 */
size_t
util_append(char *buf, size_t size, size_t n, const char *s)
{
	while (*s != '\0' && n + 1 < size)
		buf[n++] = *s++;
	return n;
}

/*
 * util_append_num: v in decimal, zero-padded to width digits, the same
 * way: printf's work buffers are the deepest frames a child has, and a
 * pair's log line needs nothing else (README, "Pages").
 */
size_t
util_append_num(char *buf, size_t size, size_t n, uint64_t v, int width)
{
	char d[24];
	int i = (int)sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	while (i > 0 && (int)sizeof(d) - 1 - i < width)
		d[--i] = '0';
	return util_append(buf, size, n, d + i);
}
