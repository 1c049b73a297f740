/*
 * dest.h: the destination's addresses, resolved by the master only.
 */
#ifndef TCPPROXY_DEST_H
#define TCPPROXY_DEST_H

#include <sys/socket.h>

/* Addresses kept from one resolution; a child tries them in order. */
#define DEST_MAX	16

struct dest {
	int	n;
	struct dest_addr {
		struct sockaddr_storage	ss;
		socklen_t		len;
	}	addr[DEST_MAX];
};

/*
 * Resolve host and numeric port into *d, IPv4 and IPv6 answers both, in
 * getaddrinfo()'s order.  Returns 0, or a getaddrinfo() error code that
 * dest_strerror() explains; *d is untouched on error.  It may block: only
 * the master calls it, at start-up and on reload, never a child.
 */
int		dest_resolve(const char *host, const char *port, struct dest *d);
const char	*dest_strerror(int);

/* 1 if a and b hold the same addresses in the same order. */
int		dest_equal(const struct dest *a, const struct dest *b);

/*
 * The addresses of d in the order to try them (RFC 8305), as indexes into
 * order[]: the first address's family first, then the families in turn,
 * each in d's order; only family's unless it is AF_UNSPEC.  How many.
 * Pure.
 */
int		dest_order(const struct dest *d, int family,
		    int order[DEST_MAX]);

#endif /* TCPPROXY_DEST_H */
