/*
 * util.h: stateless helpers: bounded number parsing, the monotonic clock,
 * errno names.
 */
#ifndef TCPPROXY_UTIL_H
#define TCPPROXY_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Why a number did not parse. */
enum util_perr {
	UTIL_OK = 0,
	UTIL_NAN,		/* not a number (of that kind) */
	UTIL_RANGE		/* a number, but out of [min, max] */
};

/* A decimal integer in [min, max]; leading/trailing junk is UTIL_NAN. */
enum util_perr	util_parse_uint(const char *, uint64_t min, uint64_t max,
		    uint64_t *);
/* Like util_parse_uint, with an optional k/K (1024), m/M or g/G suffix. */
enum util_perr	util_parse_size(const char *, uint64_t min, uint64_t max,
		    uint64_t *);
/* Seconds with up to three decimals ("10", "0.5"), as milliseconds. */
enum util_perr	util_parse_secs(const char *, int64_t min_ms, int64_t max_ms,
		    int64_t *);

/* Milliseconds on CLOCK_MONOTONIC: never jumps with the wall clock. */
int64_t		util_now_ms(void);

/* A number and its symbolic name, for tables such as errno names. */
struct util_name {
	int		 value;
	const char	*name;
};

/* The name of value in table, or prefix and the number (a static buffer). */
const char	*util_name(const struct util_name *, size_t, int value,
		    const char *prefix);

/*
 * Copy s to buf + n, as much as fits with room for a NUL (not written);
 * returns the new length.  For building short strings without printf,
 * whose stack a child would keep as a page of its own.
 */
size_t		util_append(char *buf, size_t size, size_t n, const char *s);
/* ... and v in decimal, at least width digits (zeros in front). */
size_t		util_append_num(char *buf, size_t size, size_t n, uint64_t v,
		    int width);

/* "EPIPE" for EPIPE; "E123" for an errno this table does not know. */
const char	*util_errname(int);

#endif /* TCPPROXY_UTIL_H */
