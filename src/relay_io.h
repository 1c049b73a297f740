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

enum relay_io_res {
	RELAY_IO_DONE = 0,	/* the pair ended by relay.c's rules */
	RELAY_IO_SIGNAL,	/* SIGTERM or SIGINT ended it */
	RELAY_IO_ERROR		/* could not go on (errno: ENOMEM, ...) */
};

/*
 * Relay between the connected non-blocking sockets fd[RELAY_CLIENT] and
 * fd[RELAY_UPSTREAM], bufsize bytes at most buffered per direction, until
 * *r ends or SIGTERM or SIGINT arrives (caught and blocked, see sig.h).
 * With use_splice, data moves through a pipe per direction where the
 * system allows it, else through buffers.  Both sockets must have passed
 * netio_fd_ok().  Closes nothing, and leaves its pipes and buffers for the
 * process's exit to release: only a child that exits next calls it.
 */
enum relay_io_res relay_io_run(const int fd[2], size_t bufsize,
		    int64_t stall_ms, int use_splice, struct relay *r);

#endif /* TCPPROXY_RELAY_IO_H */
