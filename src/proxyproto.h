/*
 * proxyproto.h: HAProxy's PROXY protocol, versions 1 (text) and 2
 * (binary): the header a balancer puts before a client's bytes to say who
 * the client is.  Pure: bytes in, bytes out.
 */
#ifndef TCPPROXY_PROXYPROTO_H
#define TCPPROXY_PROXYPROTO_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* The longest header accepted: a v1 line is at most 107 bytes, and a v2
 * header this long leaves room for a balancer's TLVs. */
#define PP_MAX		4096
/* Bytes that always suffice for pp_parse() to decide: the longest v1
 * line, or v2's fixed part and its largest address block. */
#define PP_DECIDE	232
/* Room for the longest header sent (v1, IPv6: 104 bytes and a NUL). */
#define PP_SEND_MAX	108
/* Bytes that are enough to tell a v1 from a v2 header, or neither. */
#define PP_PREFIX	16

enum pp_result {
	PP_OK,			/* a whole header */
	PP_MORE,		/* a header so far: wait for more bytes */
	PP_BAD			/* not a header, or a broken one */
};

struct pp_header {
	size_t		 len;		/* bytes of the header, TLVs included */
	int		 version;	/* 1 or 2 */
	/*
	 * 0: the connection's own addresses stand (v1 UNKNOWN, v2 LOCAL, or
	 * a family other than TCP over IPv4 or IPv6).
	 */
	int		 has_addr;
	struct sockaddr_storage src, dst;
	socklen_t	 srclen, dstlen;
	const char	*why;		/* PP_BAD: what was wrong */
};

/*
 * The header at the start of buf (len bytes).  PP_MORE only while every
 * byte so far can begin a header and fewer than PP_DECIDE came: a caller
 * that reads to a deadline calls again with more.  PP_OK once the header
 * is known, which for v2 is before its TLVs: h->len may then exceed len,
 * and the caller skips the rest.
 */
enum pp_result	pp_parse(const uint8_t *buf, size_t len,
		    struct pp_header *h);

/*
 * The header for a client at src that reached us at dst, version 1 or 2,
 * into out (at least PP_SEND_MAX bytes): its length.  IPv4-mapped
 * addresses are sent as IPv4; anything but IPv4 and IPv6 as v1 UNKNOWN or
 * v2 with no addresses.
 */
size_t		pp_build(int version, const struct sockaddr *src,
		    const struct sockaddr *dst, uint8_t *out);

#endif /* TCPPROXY_PROXYPROTO_H */
