/*
 * netio.c: system call wrappers that classify errno into the outcomes of
 * netio.h, and the small socket chores (flags, keepalive, the accept
 * queue, the FD_SETSIZE guard; addresses as text are netio_addr.c's).
 * Owns no state.  EINTR is retried here for calls that cannot block;
 * select() hands EINTR to its caller's loop.  Calls util for the clock.
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "netio.h"

/*
 * netio_fd_ok: select() cannot watch a descriptor at or above FD_SETSIZE;
 * FD_SET on one would write past the set.
 */
int
netio_fd_ok(int fd)
{
	if (fd < 0 || fd >= FD_SETSIZE) {
		errno = EMFILE;
		return -1;
	}
	return 0;
}

int
netio_nonblock(int fd, int on)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

void
netio_nodelay(int fd)
{
	int one = 1;

	/* Fails harmlessly on a non-TCP socket (inetd may hand us one). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * netio_keepalive: probe a connection that has been silent for idle
 * seconds, every intvl seconds, and give it up (ETIMEDOUT on the next
 * read) after cnt unanswered probes.  Fails harmlessly on a socket that
 * is not TCP.
 */
void
netio_keepalive(int fd, int idle, int intvl, int cnt)
{
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
#else
	(void)idle;
	(void)intvl;
	(void)cnt;
#endif
}

/*
 * netio_queued: connections in the accept queue of listening socket lfd,
 * from TCP_INFO (Linux reports the queue as tcpi_unacked there); -1 if it
 * cannot be known.
 */
int
netio_queued(int lfd)
{
#if defined(__linux__) && defined(TCP_INFO)
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= sizeof(ti) && ti.tcpi_state == TCP_LISTEN)
		return (int)ti.tcpi_unacked;
#else
	(void)lfd;
#endif
	return -1;
}

/*
 * netio_close: close fd on an error path, keeping the errno that explains
 * the error.
 */
void
netio_close(int fd)
{
	int save = errno;

	(void)close(fd);
	errno = save;
}

void
netio_abort(int fd)
{
	struct linger l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)close(fd);
}

int
netio_resource_err(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}

/* Our own mistakes; everything else on a connected socket is the peer's. */
static int
classify(int err)
{
	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return NETIO_AGAIN;
	case EBADF:
	case EFAULT:
	case EINVAL:
	case ENOTSOCK:
		return NETIO_BUG;
	default:
		return NETIO_GONE;
	}
}

/* A read's result as an outcome: n > 0, EOF for 0, or the errno's. */
static ssize_t
read_outcome(ssize_t n)
{
	if (n == 0)
		return NETIO_EOF;
	if (n == -1)
		return classify(errno);
	return n;
}

/*
 * netio_readv: n > 0 bytes read, or AGAIN, EOF, GONE (a read error such as
 * ECONNRESET), BUG.
 */
ssize_t
netio_readv(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	do
		n = readv(fd, iov, cnt);
	while (n == -1 && errno == EINTR);
	return read_outcome(n);
}

/*
 * netio_writev: n > 0 bytes written (maybe fewer than asked), or AGAIN,
 * GONE (EPIPE, ECONNRESET, ...), BUG.  MSG_NOSIGNAL: a dead peer is an
 * errno, never a SIGPIPE.
 */
ssize_t
netio_writev(int fd, const struct iovec *iov, int cnt)
{
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)(uintptr_t)iov;
	msg.msg_iovlen = (size_t)cnt;
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return classify(errno);
	return n;
}

/*
 * netio_shutwr: pass an EOF on.  ENOTCONN means the peer already reset
 * the connection: nothing is left to tell it, and a write would fail, so
 * that is GONE like any other broken link.
 */
int
netio_shutwr(int fd)
{
	if (shutdown(fd, SHUT_WR) == 0)
		return NETIO_OK;
	return classify(errno);
}

/*
 * netio_splice: up to n bytes from in to out, through the kernel only.
 * SPLICE_F_NONBLOCK keeps the pipe end from blocking; the socket is
 * non-blocking already.  A peer that is gone is EPIPE, as with write(2).
 */
ssize_t
netio_splice(int in, int out, size_t n)
{
#ifdef __linux__
	ssize_t r;

	do
		r = splice(in, NULL, out, NULL, n,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (r == -1 && errno == EINTR);
	return read_outcome(r);
#else
	(void)in;
	(void)out;
	(void)n;
	errno = ENOSYS;
	return NETIO_BUG;
#endif
}

/*
 * netio_wait: until fd is readable (or writable), a signal comes or the
 * deadline passes.
 */
int
netio_wait(int fd, int out, int64_t deadline, const sigset_t *waitmask)
{
	struct timespec ts;
	fd_set set;
	int64_t left;

	/* The client's socket comes here before pair.c has checked it. */
	if (netio_fd_ok(fd) == -1)
		return NETIO_GONE;
	for (;;) {
		if ((left = deadline - util_now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return NETIO_GONE;
		}
		FD_ZERO(&set);
		FD_SET(fd, &set);
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		if (pselect(fd + 1, out ? NULL : &set, out ? &set : NULL,
		    NULL, &ts, waitmask) == -1)
			return errno == EINTR ? NETIO_WAKE : NETIO_BUG;
		if (FD_ISSET(fd, &set))
			return NETIO_OK;
	}
}

/*
 * netio_connect_done: the outcome of a connect in progress on fd, once
 * select() says it is writable.
 */
int
netio_connect_done(int fd)
{
	int soerr;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return NETIO_BUG;
	if (soerr != 0) {
		errno = soerr;
		return NETIO_GONE;
	}
	return NETIO_OK;
}

/*
 * Bind fd to src, port 0.  Linux: the port is picked at connect(), by the
 * destination too, so one source address does not run out of ports at
 * the number of ephemeral ones.
 */
static int
bind_source(int fd, const struct sockaddr *src, socklen_t srclen)
{
#ifdef IP_BIND_ADDRESS_NO_PORT
	int one = 1;

	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
#endif
	return bind(fd, src, srclen);
}

/*
 * netio_connect_start: a new non-blocking, close-on-exec socket, bound to
 * src if srclen is not 0, connecting to sa.  OK (connected) or AGAIN (in
 * progress) with *fdp set; otherwise the socket is closed and errno says
 * why (EMFILE for a descriptor that select() cannot watch).
 */
int
netio_connect_start(const struct sockaddr *sa, socklen_t salen,
    const struct sockaddr *src, socklen_t srclen, int *fdp)
{
	int fd, rc;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return NETIO_GONE;
	if (netio_fd_ok(fd) == -1 || (srclen > 0 && bind_source(fd, src,
	    srclen) == -1)) {
		rc = NETIO_GONE;
		goto fail;
	}
	/* EINTR: the connection goes on in the background, as EINPROGRESS. */
	if (connect(fd, sa, salen) == 0)
		rc = NETIO_OK;
	else if (errno == EINPROGRESS || errno == EINTR)
		rc = NETIO_AGAIN;
	else
		rc = NETIO_GONE;	/* errno names the reason */
	if (rc == NETIO_GONE)
		goto fail;
	*fdp = fd;
	return rc;

fail:
	netio_close(fd);
	return rc;
}
