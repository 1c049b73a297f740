/*
 * child.h: one client, from accept() to exit, and the contract between a
 * child and the master: the exit statuses and the status pipe record.
 */
#ifndef TCPPROXY_CHILD_H
#define TCPPROXY_CHILD_H

#include <sys/types.h>

#include <stdint.h>

#include "cli.h"
#include "dest.h"
#include "scoreboard.h"

/* A child's exit status tells the master how to go on. */
enum child_exit {
	CHILD_EXIT_SERVED = 0,	/* served a client, or retired while idle */
	CHILD_EXIT_PEER = 3,	/* the client or destination failed: normal */
	CHILD_EXIT_SICK = 4,	/* short of resources: slow spawning down */
	CHILD_EXIT_FATAL = 5	/* the listener can never work: stop */
};

/* Sent on the status pipe right after accept(); one write, atomic. */
struct child_msg {
	uint32_t	slot;
	uint32_t	gen;
	int32_t		pid;
	uint32_t	event;
};
#define CHILD_MSG_TAKEN	1

/* What a pool child inherits from the master. */
struct child_ctx {
	const struct config	*cfg;
	const struct dest	*dest;
	const int		*lfds;		/* listening sockets */
	int			 nlfd;
	int			 statusfd;	/* status pipe, write end */
	uint32_t		 slot;		/* our slot and its generation */
	uint32_t		 gen;
	pid_t			 master;
	struct sb_slot		*sb;		/* our scoreboard slot, or NULL */
};

/*
 * In a freshly forked child, with every signal blocked: set up signals,
 * wait for one client on the listeners, tell the master, serve the client
 * and exit with a child_exit status.  Retires quietly on SIGUSR2 (or
 * SIGTERM) while still idle.
 */
void	child_run(const struct child_ctx *) __attribute__((noreturn));

/*
 * Serve the one connected client cfd (non-blocking, close-on-exec) and
 * exit, showing progress in scoreboard slot sb (NULL: none).  SIGTERM and
 * SIGINT must be caught and blocked (sig_init).
 */
void	child_serve(const struct config *, const struct dest *, int cfd,
	    const struct sockaddr *peer, socklen_t peerlen, struct sb_slot *sb)
	    __attribute__((noreturn));

/*
 * The one connection systemd (Accept=yes) or inetd (nowait) passed as
 * cfd, non-blocking: serve it like a pool child and exit.
 */
void	child_single(const struct config *, const struct dest *, int cfd)
	    __attribute__((noreturn));

#endif /* TCPPROXY_CHILD_H */
