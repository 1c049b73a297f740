/*
 * pair.h: one relayed pair, from a connected client to the child's exit.
 */
#ifndef TCPPROXY_PAIR_H
#define TCPPROXY_PAIR_H

#include <sys/types.h>
#include <sys/socket.h>

#include "cli.h"
#include "dest.h"
#include "end.h"
#include "scoreboard.h"
#include "sig.h"

/* The signals that end a pair (SIGUSR2 retires a child only while idle). */
#define PAIR_SIGNALS	(SIGBIT(SIGTERM) | SIGBIT(SIGINT))

/*
 * Who the client is: its peer's address, or the one its PROXY header
 * carried; and the address it came to (locallen 0: ask the socket).
 */
struct pair_client {
	struct sockaddr_storage	addr, local;
	socklen_t		addrlen, locallen;
};

/* How a pair ended, for the process that served it. */
struct pair_result {
	enum end_reason	 reason;
	enum end_exit	 exit;		/* the status end.h gives the reason */
	uint64_t	 up, down;	/* bytes delivered each way */
};

/*
 * Serve the one connected client cfd (non-blocking, close-on-exec): connect
 * to dest, send it a PROXY header (--send-proxy), relay, then close both
 * sides and write the pair's summary line; *res says how it ended, and
 * the caller exits with res->exit or, with reuse, may take another client.
 * Without reuse the relaying child locks itself down further (sandbox.c)
 * and leaves its pipes and buffers to its exit.  Progress shows in
 * scoreboard slot sb (NULL: none) and in the process title.  SIGTERM and
 * SIGINT must be caught and blocked (sig_init).
 */
void	pair_serve(const struct config *, const struct dest *, int cfd,
	    const struct pair_client *, struct sb_slot *sb, int reuse,
	    struct pair_result *res);

/*
 * End the client cfd, there since since (ms, monotonic; 0: now), before
 * any use, for reason (END_DENIED, ...) and err (its detail, if the reason
 * has one): closed as the reason says, with the pair's log line; returns,
 * so that an idle child can go back to accept().
 */
void	pair_refuse(const struct config *, int cfd, const struct sockaddr *peer,
	    socklen_t peerlen, int64_t since, enum end_reason reason, int err);

#endif /* TCPPROXY_PAIR_H */
