/*
 * relay_io.h: the select() loop that carries out relay.c's decisions on
 * two sockets, by splice(2) through a pipe per direction on Linux, or by
 * copying through a user-space buffer per direction.
 */
#ifndef TCPPROXY_RELAY_IO_H
#define TCPPROXY_RELAY_IO_H

#include <stddef.h>
#include <stdint.h>

#include "relay.h"

/* Most read/write rounds per direction before select() is asked again. */
#define RELAY_IO_ROUNDS	8
/* A busy loop asks for pending signals at least this often (sig_poll()). */
#define RELAY_IO_SIGPOLL_MS	100

/* Most bytes a direction copies at a time while it may still splice. */
#define RELAY_IO_SMALL	16384
/* Quiet this long after copying, a pair gives its buffer pages back. */
#define RELAY_IO_GIVEBACK_MS	250

/* How the bytes move (--splice). */
enum relay_io_path {
	RELAY_IO_COPY,		/* through buffers of the full size */
	RELAY_IO_SPLICE,	/* through pipes (else copy) */
	RELAY_IO_AUTO		/* per direction, by the traffic (relay_path.h) */
};

/* How to relay one pair. */
struct relay_io_cfg {
	enum relay_io_path path;	/* splice only where the system can */
	int64_t		 end_at;	/* util_now_ms() time to end; 0: never */
	uint64_t	 max_bytes;	/* both directions together; 0: no limit */
	unsigned	 signals;	/* SIGBIT()s that end the pair */
	int		 release;	/* free pipes and buffers at the end */
	/*
	 * Called after every wake-up that may have moved data, with the
	 * clock read then; NULL for none.  The loop itself reports nothing.
	 */
	void		(*progress)(void *arg, const struct relay *, int64_t now);
	/* Called once, when pipes or buffers are set up; NULL for none. */
	void		(*ready)(void *arg);
	void		*arg;
};

/*
 * Relay between the connected non-blocking sockets fd[RELAY_CLIENT] and
 * fd[RELAY_UPSTREAM] with *r, set up by relay_init() with the buffer size
 * and stall time, until *r ends: by relay.c's rules, by a limit of cfg
 * (END_MAXTIME, END_MAXBYTES), by one of cfg->signals (END_SIGNAL; caught
 * and blocked, see sig.h) or by a failure of its own (END_SHORT,
 * END_INTERNAL, with the errno in r->end_err).  Data moves through a pipe
 * per direction where the system allows, else through buffers, or by
 * turns, as cfg->path says.  Both sockets must have passed netio_fd_ok().
 * Closes neither socket.  Its pipes and buffers are released with
 * cfg->release, else left for the process's exit (one syscall per
 * descriptor fewer for a child that exits next).
 */
void	relay_io_run(const int fd[2], const struct relay_io_cfg *,
	    struct relay *r);

#endif /* TCPPROXY_RELAY_IO_H */
