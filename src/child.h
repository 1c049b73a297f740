/*
 * child.h: a pool child until it takes a client, and the record it sends
 * the master on the taken pipe (its exit statuses are in end.h).
 */
#ifndef TCPPROXY_CHILD_H
#define TCPPROXY_CHILD_H

#include <sys/types.h>

#include <stdint.h>

#include "cli.h"
#include "dest.h"
#include "scoreboard.h"

/*
 * Sent on the taken pipe right after accept() (TAKEN), and after a pair
 * when the child goes back to accept() (IDLE, --pairs-per-child); one
 * write each, atomic.
 */
struct child_msg {
	uint32_t	slot;
	uint32_t	gen;
	int32_t		pid;
	uint32_t	event;
	uint32_t	code;		/* IDLE: the pair's end_exit */
	uint32_t	pad;
	uint64_t	up, down;	/* IDLE: the bytes it delivered */
};
#define CHILD_MSG_TAKEN	1
#define CHILD_MSG_IDLE	2

/* What a pool child inherits from the master. */
struct child_ctx {
	const struct config	*cfg;
	const struct dest	*dest;
	const int		*lfds;		/* listening sockets */
	int			 nlfd;
	int			 takenfd;	/* taken pipe, write end */
	uint32_t		 slot;		/* our slot and its generation */
	uint32_t		 gen;
	pid_t			 master;
	struct sb_slot		*sb;		/* our scoreboard slot, or NULL */
};

/*
 * In a freshly forked child, with every signal blocked: set up signals,
 * wait for one client on the listeners, tell the master, serve the client
 * (pair.h) and exit with an end_exit status; with --pairs-per-child, go
 * back to waiting after a pair that ended as pairs do, and tell the master
 * so.  Retires quietly on SIGUSR2 (or SIGTERM) while idle.
 */
void	child_run(const struct child_ctx *) __attribute__((noreturn));

/*
 * The one connection systemd (Accept=yes) or inetd (nowait) passed as
 * cfd, non-blocking: serve it like a pool child and exit.
 */
void	child_single(const struct config *, const struct dest *, int cfd)
	    __attribute__((noreturn));

#endif /* TCPPROXY_CHILD_H */
