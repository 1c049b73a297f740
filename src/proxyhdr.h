/*
 * proxyhdr.h: the PROXY protocol header on a socket: a client's, received
 * before anything else; ours, sent to the destination before any client
 * byte.
 */
#ifndef TCPPROXY_PROXYHDR_H
#define TCPPROXY_PROXYHDR_H

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdint.h>

#include "end.h"
#include "proxyproto.h"

/* How long a client may take to send its whole header, in ms. */
#define PROXYHDR_TIMEOUT_MS	5000

/*
 * Read exactly the header at the start of non-blocking socket fd, and not
 * one byte more, before deadline (ms, monotonic), waiting in pselect()
 * with waitmask.  END_NONE with *h filled; END_BAD_HEADER with *err (and
 * h->why for a malformed one): EPROTO malformed or too long, ETIMEDOUT
 * too slow, ENODATA closed first, or the read error; END_SIGNAL when a
 * signal came that wants a wake-up (the caller's sig_take() says which).
 */
enum end_reason	proxyhdr_recv(int fd, int64_t deadline,
		    const sigset_t *waitmask, struct pp_header *h, int *err);

/*
 * Send the version (1 or 2) header for a client at src that came to dst,
 * on non-blocking socket fd, before deadline: 0, or -1 with errno
 * (ETIMEDOUT at the deadline, EINTR when a signal came).
 */
int		proxyhdr_send(int fd, int version, const struct sockaddr *src,
		    const struct sockaddr *dst, int64_t deadline,
		    const sigset_t *waitmask);

#endif /* TCPPROXY_PROXYHDR_H */
