/*
 * relay_io.h: the select() loop that carries out relay.c's decisions on
 * two sockets.
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
 * fd[RELAY_UPSTREAM] with bufsize bytes per direction, until *r ends or a
 * terminating signal arrives on wakefd (sig.c's pipe).  Every descriptor
 * must have passed netio_fd_ok().  Closes nothing; *r tells why it ended
 * and how many bytes moved.
 */
enum relay_io_res relay_io_run(const int fd[2], size_t bufsize,
		    int64_t stall_ms, int wakefd, struct relay *r);

#endif /* TCPPROXY_RELAY_IO_H */
