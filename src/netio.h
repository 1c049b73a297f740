/*
 * netio.h: system call wrappers that classify errno, so that callers
 * switch on an outcome instead of on raw errno values.
 */
#ifndef TCPPROXY_NETIO_H
#define TCPPROXY_NETIO_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <signal.h>
#include <stdint.h>

#include "netio_addr.h"

/* Outcomes other than progress; errno is kept for GONE and BUG. */
enum netio_res {
	NETIO_OK = 0,
	NETIO_AGAIN = -1,	/* not now: wait for readiness */
	NETIO_EOF = -2,		/* orderly end of the peer's data */
	NETIO_GONE = -3,	/* the connection is broken (reset, ...) */
	NETIO_BUG = -4,		/* EBADF, EINVAL, EFAULT: our own mistake */
	NETIO_WAKE = -5		/* a signal interrupted the wait */
};


/* 0 if fd may go into an fd_set, else -1 with errno EMFILE. */
int	netio_fd_ok(int);
int	netio_nonblock(int, int on);
/* TCP_NODELAY: a proxy forwards what it got; Nagle would only delay it. */
void	netio_nodelay(int);
/* TCP keepalive: idle and intvl seconds, cnt probes (see netio.c). */
void	netio_keepalive(int, int idle, int intvl, int cnt);
/* Connections waiting in listener lfd's accept queue, or -1. */
int	netio_queued(int lfd);
/* Close on an error path: errno is kept for the caller. */
void	netio_close(int);
/* Close so that the peer sees a reset, not an orderly end. */
void	netio_abort(int);
/* EMFILE, ENFILE, ENOBUFS, ENOMEM: this process is short of resources. */
int	netio_resource_err(int);

/* Read into / write from iov: n > 0, or AGAIN, EOF (read), GONE, BUG. */
ssize_t	netio_readv(int, struct iovec *, int);
ssize_t	netio_writev(int, const struct iovec *, int);
/* shutdown(SHUT_WR): OK, GONE or BUG. */
int	netio_shutwr(int);

/*
 * Move up to n bytes from in to out with splice(2), one of them a pipe,
 * never blocking on the pipe: n > 0, or AGAIN, EOF, GONE, BUG.  Where
 * splice(2) does not exist: BUG with errno ENOSYS.
 */
ssize_t	netio_splice(int in, int out, size_t n);

/*
 * Wait until fd is readable (out: writable) before deadline (ms,
 * monotonic), in pselect() with waitmask: OK, GONE with errno ETIMEDOUT at
 * the deadline (EMFILE for a descriptor select() cannot watch), WAKE when
 * a signal came, or BUG.
 */
int	netio_wait(int fd, int out, int64_t deadline,
	    const sigset_t *waitmask);

/*
 * Start connecting a new non-blocking socket to sa, from src if srclen is
 * not 0: OK (connected at once) or AGAIN (in progress) with *fdp set, or
 * GONE with errno and no socket.  Once select() finds it writable,
 * netio_connect_done() says OK, or GONE with errno.
 */
int	netio_connect_start(const struct sockaddr *, socklen_t,
	    const struct sockaddr *src, socklen_t srclen, int *fdp);
int	netio_connect_done(int fd);

#endif /* TCPPROXY_NETIO_H */
