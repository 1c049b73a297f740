/*
 * relay_io.c: the select() loop of one pair.  Owns the two buffers (one
 * allocation, made after the client arrived, so idle children touch no
 * buffer page) and the translation between relay.c's spans and iovecs.
 * It decides nothing about the data: relay.c says what to wait for, when
 * to shut a side down and when the pair is over; the stall deadline it
 * returns is select()'s timeout, so an idle pair sleeps without a timeout
 * and a busy one never spins.
 * Calls relay, netio, sig and util.
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/uio.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "netio.h"
#include "sig.h"
#include "util.h"
#include "relay_io.h"

struct io {
	struct relay	*r;
	const int	*fd;		/* fd[side] */
	char		*buf[RELAY_NDIR];
	int		 internal;	/* a BUG outcome was seen */
};

static int
spans_to_iov(char *base, const struct relay_span *sp, int n,
    struct iovec iov[2])
{
	int i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = base + sp[i].off;
		iov[i].iov_len = sp[i].len;
	}
	return n;
}

/* Write what direction d holds: 1 on progress, 0 when the sink is full. */
static int
pump_write(struct io *io, int d, int64_t now)
{
	struct relay_span sp[2];
	struct iovec iov[2];
	ssize_t n;
	int cnt;

	cnt = relay_data_spans(io->r, d, sp);
	if (cnt == 0)
		return 0;
	n = netio_writev(io->fd[1 - d], iov, spans_to_iov(io->buf[d], sp, cnt,
	    iov));
	if (n > 0) {
		relay_on_write(io->r, d, (size_t)n, now);
		return 1;
	}
	if (n == NETIO_AGAIN)
		return 0;
	if (n == NETIO_BUG)
		io->internal = 1;
	relay_on_write_error(io->r, d, errno);
	return 0;
}

/* Read into direction d: 1 on progress, 0 when the source has nothing. */
static int
pump_read(struct io *io, int d, int64_t now)
{
	struct relay_span sp[2];
	struct iovec iov[2];
	ssize_t n;
	int cnt;

	cnt = relay_free_spans(io->r, d, sp);
	if (cnt == 0)
		return 0;
	n = netio_readv(io->fd[d], iov, spans_to_iov(io->buf[d], sp, cnt,
	    iov));
	if (n > 0) {
		relay_on_read(io->r, d, (size_t)n, now);
		return 1;
	}
	if (n == NETIO_AGAIN)
		return 0;
	if (n == NETIO_BUG) {
		io->internal = 1;
		relay_abort(io->r);
	} else
		relay_on_eof(io->r, d, n == NETIO_EOF ? 0 : errno);
	return 0;
}

/*
 * Move data in direction d while it moves, a bounded number of rounds so
 * that a fast direction cannot starve the other.  After a read the sink
 * is tried at once: it is usually writable, and that saves a select().
 */
static void
pump(struct io *io, int d, int readable, int writable, int64_t now)
{
	int i, moved;

	for (i = 0; i < RELAY_IO_ROUNDS && !relay_done(io->r); i++) {
		moved = 0;
		if (writable) {
			writable = pump_write(io, d, now);
			moved = writable;
		}
		if (readable && !relay_done(io->r)) {
			readable = pump_read(io, d, now);
			if (readable)
				moved = writable = 1;
		}
		if (!moved)
			break;
	}
}

/* shutdown(SHUT_WR) every sink relay.c says is drained after EOF. */
static void
do_shutdowns(struct io *io)
{
	struct relay_wants w;
	int d, rc;

	relay_wants(io->r, &w);
	for (d = 0; d < RELAY_NDIR && !relay_done(io->r); d++) {
		if (!w.shut[d])
			continue;
		if ((rc = netio_shutwr(io->fd[1 - d])) == NETIO_OK)
			relay_on_shut(io->r, d);
		else {
			if (rc == NETIO_BUG)
				io->internal = 1;
			relay_on_write_error(io->r, d, errno);
		}
	}
}

/* select() on what relay.c wants; returns its result, sets are in/out. */
static int
wait_events(struct io *io, int wakefd, fd_set *rset, fd_set *wset)
{
	struct relay_wants w;
	struct timeval tv, *tvp = NULL;
	int d, maxfd = wakefd;
	int64_t left;

	relay_wants(io->r, &w);
	FD_ZERO(rset);
	FD_ZERO(wset);
	FD_SET(wakefd, rset);
	for (d = 0; d < RELAY_NDIR; d++) {
		if (w.read[d])
			FD_SET(io->fd[d], rset);
		if (w.write[d])
			FD_SET(io->fd[1 - d], wset);
		if (io->fd[d] > maxfd)
			maxfd = io->fd[d];
	}
	if (w.deadline != -1) {
		left = w.deadline - util_now_ms();
		if (left < 0)
			left = 0;
		tv.tv_sec = left / 1000;
		tv.tv_usec = (left % 1000) * 1000;
		tvp = &tv;
	}
	return select(maxfd + 1, rset, wset, NULL, tvp);
}

static enum relay_io_res
loop(struct io *io, int wakefd)
{
	fd_set rset, wset;
	int64_t now;
	int d;

	for (;;) {
		do_shutdowns(io);
		if (relay_done(io->r))
			return RELAY_IO_DONE;
		if (wait_events(io, wakefd, &rset, &wset) == -1) {
			if (errno == EINTR)
				continue;	/* the pipe says which signal */
			return RELAY_IO_ERROR;
		}
		if (FD_ISSET(wakefd, &rset) &&
		    (sig_take() & (SIGBIT(SIGTERM) | SIGBIT(SIGINT)))) {
			relay_abort(io->r);
			return RELAY_IO_SIGNAL;
		}
		now = util_now_ms();
		for (d = 0; d < RELAY_NDIR; d++)
			pump(io, d, FD_ISSET(io->fd[d], &rset),
			    FD_ISSET(io->fd[1 - d], &wset), now);
		if (io->internal) {
			errno = EINVAL;
			return RELAY_IO_ERROR;
		}
		relay_on_time(io->r, now);
	}
}

/*
 * relay_io_run: relay fd[0] <-> fd[1] until *r ends or a terminating
 * signal arrives.
 */
enum relay_io_res
relay_io_run(const int fd[2], size_t bufsize, int64_t stall_ms, int wakefd,
    struct relay *r)
{
	struct io io;
	enum relay_io_res res;
	char *mem;

	relay_init(r, bufsize, stall_ms);
	if ((mem = malloc(2 * bufsize)) == NULL) {
		relay_abort(r);
		return RELAY_IO_ERROR;
	}
	io.r = r;
	io.fd = fd;
	io.buf[RELAY_UP] = mem;
	io.buf[RELAY_DOWN] = mem + bufsize;
	io.internal = 0;
	res = loop(&io, wakefd);
	if (res != RELAY_IO_DONE)
		relay_abort(r);
	free(mem);
	return res;
}
