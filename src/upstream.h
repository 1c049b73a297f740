/*
 * upstream.h: connecting a pair to the destination, its addresses raced
 * in the manner of Happy Eyeballs (RFC 8305).
 */
#ifndef TCPPROXY_UPSTREAM_H
#define TCPPROXY_UPSTREAM_H

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdint.h>

#include "dest.h"

/* How long an attempt has alone before the next address starts. */
#define UPSTREAM_DELAY_MS	250
/*
 * Attempts in flight at once: the next waits for one of them to end.
 * Small, because a child's stack is to stay within one page.
 */
#define UPSTREAM_INFLIGHT	4

enum upstream_res {
	UPSTREAM_OK,		/* fd and idx say which connected */
	UPSTREAM_FAILED,	/* every address failed; err says how */
	UPSTREAM_SIGNAL,	/* one of the signals came */
	UPSTREAM_MAXTIME,	/* end_at passed */
	UPSTREAM_CLIENT_GONE	/* the client failed (reset); err says how */
};

struct upstream {
	/* What to connect to, and how. */
	const struct dest *dest;
	const struct sockaddr *src;	/* --source, or NULL */
	socklen_t	 srclen;
	int64_t		 connect_ms;	/* each address's own time */
	int64_t		 end_at;	/* the pair's end (ms); 0: none */
	const sigset_t	*waitmask;
	unsigned	 signals;	/* SIGBITs that end the attempts */
	int		 client;	/* watched for a reset meanwhile; -1 */
	/* Told of each address as it is tried and as it fails. */
	void		(*trying)(void *arg, int idx);
	void		(*failed)(void *arg, int idx, int err);
	void		*arg;
	/* The outcome. */
	int		 fd;
	int		 idx;
	int		 err;
};

/*
 * Connect to one of u->dest's addresses: start the first, and the next
 * one UPSTREAM_DELAY_MS later or at once when one fails, while earlier
 * ones go on (up to UPSTREAM_INFLIGHT), each for connect_ms; the first to
 * connect wins and the rest are closed.  A client that resets meanwhile
 * ends them all at once: nobody is left to connect for.
 */
enum upstream_res upstream_connect(struct upstream *u);

#endif /* TCPPROXY_UPSTREAM_H */
