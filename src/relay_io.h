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
#include "scoreboard.h"

/* Most read/write rounds per direction before select() is asked again. */
#define RELAY_IO_ROUNDS	8

enum relay_io_res {
	RELAY_IO_DONE = 0,	/* the pair ended by relay.c's rules */
	RELAY_IO_SIGNAL,	/* SIGTERM or SIGINT ended it */
	RELAY_IO_MAXTIME,	/* it reached its end_at time */
	RELAY_IO_MAXBYTES,	/* it relayed max_bytes or more */
	RELAY_IO_ERROR		/* could not go on (errno: ENOMEM, ...) */
};

/* How to relay one pair. */
struct relay_io_cfg {
	size_t		 bufsize;	/* bytes at most buffered per direction */
	int64_t		 stall_ms;	/* see relay.h */
	int		 splice;	/* pipes where the system allows */
	int64_t		 end_at;	/* util_now_ms() time to end; 0: never */
	uint64_t	 max_bytes;	/* both directions together; 0: no limit */
	struct sb_slot	*sb;		/* progress goes here; NULL: nowhere */
	const char	*client;	/* names for the process title */
	const char	*upstream;
};

/*
 * Relay between the connected non-blocking sockets fd[RELAY_CLIENT] and
 * fd[RELAY_UPSTREAM] as cfg says, until *r ends, a limit is reached, or
 * SIGTERM or SIGINT arrives (caught and blocked, see sig.h).  Data moves
 * through a pipe per direction where cfg->splice and the system allow,
 * else through buffers.  Both sockets must have passed netio_fd_ok().
 * Closes nothing, and leaves its pipes and buffers for the process's exit
 * to release: only a child that exits next calls it.
 */
enum relay_io_res relay_io_run(const int fd[2], const struct relay_io_cfg *,
		    struct relay *r);

#endif /* TCPPROXY_RELAY_IO_H */
