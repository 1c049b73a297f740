/*
 * relay_io.c: the select() loop of one pair.  It decides nothing about
 * the data: relay.c says what to wait for, when to shut a side down and
 * when the pair is over, and the stall deadline it returns is select()'s
 * timeout, so an idle pair sleeps without a timeout and a busy one never
 * spins.  Owns the bytes in flight: on Linux a pipe per direction that
 * splice(2) fills from one socket and drains into the other, so no byte
 * is copied to user space; elsewhere, or where a socket cannot splice, a
 * buffer per direction, allocated after the client arrived so that idle
 * children touch no buffer page.
 * It also enforces the pair's limits (time, bytes), and records every end
 * of its own (a limit, a signal, a failure) in the relay's state.  It
 * reports progress only through its caller's callback.  Calls relay, end,
 * netio, sig and util.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "netio.h"
#include "sig.h"
#include "util.h"
#include "relay_path.h"
#include "relay_io.h"

struct io {
	struct relay	*r;
	const int	*fd;			/* fd[side] */
	int		 path;			/* RELAY_IO_COPY, ... */
	int		 splice[RELAY_NDIR];	/* d moves through its pipe */
	int		 nosplice[RELAY_NDIR];	/* d's source cannot splice */
	struct relay_path way[RELAY_NDIR];	/* RELAY_IO_AUTO: d's path */
	int		 pipe[RELAY_NDIR][2];	/* [d][0] read end */
	char		*buf[RELAY_NDIR];	/* copy: one per direction */
	char		*mem;			/* the buffers' mapping */
	size_t		 memsize;
	int		 dirty;			/* a read touched mem since
						   it was last given back */
	size_t		 bufsize;
	const struct relay_io_cfg *cfg;
	int64_t		 poll_at;		/* next sig_poll() when busy */
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

static size_t
span_total(const struct relay_span *sp, int n)
{
	return n == 0 ? 0 : n == 1 ? sp[0].len : sp[0].len + sp[1].len;
}

/*
 * Two buffers of size bytes, in a mapping of their own: no page of it is
 * touched until bytes land there, and give_back() can hand the pages back
 * whole.  0, or -1 with errno.
 */
static int
map_buffers(struct io *io, size_t size)
{
	void *p;

	p = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	io->mem = p;
	io->memsize = 2 * size;
	io->buf[RELAY_UP] = io->mem;
	io->buf[RELAY_DOWN] = io->mem + size;
	return 0;
}

/* Buffers of the full --buffer-size, for copying all the way. */
static int
open_buffers(struct io *io)
{
	int d;

	if (io->mem != NULL)
		(void)munmap(io->mem, io->memsize);
	io->mem = NULL;
	if (map_buffers(io, io->bufsize) == -1)
		return -1;
	for (d = 0; d < RELAY_NDIR; d++) {
		io->splice[d] = 0;
		relay_set_cap(io->r, d, io->bufsize);
	}
	io->path = RELAY_IO_COPY;
	return 0;
}

/*
 * 1 if the buffers hold pages a read touched and no byte that waits: then
 * a quiet pair may give them back.  Bytes waiting mean a stall clock runs
 * anyway, and the pages are needed.
 */
static int
can_give_back(const struct io *io)
{
	int d;

	if (!io->dirty)
		return 0;
	for (d = 0; d < RELAY_NDIR; d++)
		if (!io->splice[d] && io->r->dir[d].len > 0)
			return 0;
	return 1;
}

/*
 * The pair has been quiet for RELAY_IO_GIVEBACK_MS with its buffers empty:
 * give their pages back, so that an idle pair holds no more memory than
 * one that never copied (README, "Pages").  The next read gets fresh
 * zeroed pages.  Should madvise() fail, the pages stay; the pair does not
 * wake again for them.
 */
static void
give_back(struct io *io)
{
	(void)madvise(io->mem, io->memsize, MADV_DONTNEED);
	io->dirty = 0;
}

/*
 * A write or shutdown to the sink of d failed: the peer's doing (a reset),
 * or ours (BUG: a bad descriptor or argument) and then an internal end.
 */
static void
failed(struct io *io, int d, ssize_t res, int err)
{
	if (res == NETIO_BUG)
		relay_end(io->r, END_INTERNAL, err);
	else
		relay_on_write_error(io->r, d, err);
}

/*
 * One read from the source of d into its free spans (in), or one write of
 * its data spans to the sink: the netio outcome, or 0 if relay.c has no
 * span for it.  *asked is how many bytes it asked for.
 */
static ssize_t
transfer(struct io *io, int d, int in, size_t *asked)
{
	struct relay_span sp[2];
	struct iovec iov[2];
	int cnt;

	cnt = in ? relay_free_spans(io->r, d, sp) :
	    relay_data_spans(io->r, d, sp);
	if ((*asked = span_total(sp, cnt)) == 0)
		return 0;
	if (io->splice[d])
		return in ? netio_splice(io->fd[d], io->pipe[d][1], *asked) :
		    netio_splice(io->pipe[d][0], io->fd[1 - d], *asked);
	cnt = spans_to_iov(io->buf[d], sp, cnt, iov);
	io->dirty |= in;
	return in ? netio_readv(io->fd[d], iov, cnt) :
	    netio_writev(io->fd[1 - d], iov, cnt);
}

/* Write what direction d holds: 1 on progress, 0 when the sink is full. */
static int
pump_write(struct io *io, int d, int64_t now)
{
	size_t asked;
	ssize_t n = transfer(io, d, 0, &asked);

	if (n > 0)
		relay_on_write(io->r, d, (size_t)n, now);
	else if (n != 0 && n != NETIO_AGAIN)
		failed(io, d, n, errno);
	return n > 0;
}

/* Direction d's pipe, sized to the buffer; -1 if the system says no. */
static int
open_pipe(struct io *io, int d)
{
#if defined(__linux__) && defined(F_SETPIPE_SZ)
	if (pipe2(io->pipe[d], O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	/*
	 * The default (16 pages) is the default --buffer-size; any other
	 * size is asked for.  If refused (pipe-max-size), the pipe keeps its
	 * size and relay_on_full() copes.
	 */
	if (io->bufsize != 65536)
		(void)fcntl(io->pipe[d][0], F_SETPIPE_SZ, (int)io->bufsize);
	return 0;
#else
	(void)io;
	(void)d;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * RELAY_IO_AUTO, before a read of d: the path its reads argue for, taken
 * while it holds nothing (relay_path.c).
 */
static void
choose_path(struct io *io, int d)
{
	struct relay_path *p = &io->way[d];

	if (io->path != RELAY_IO_AUTO || io->nosplice[d] ||
	    !relay_path_switch(p, io->r->dir[d].len))
		return;
	if (p->mode == RELAY_PATH_SPLICE && io->pipe[d][0] == -1 &&
	    open_pipe(io, d) == -1) {
		/* No pipe to be had: this direction copies from now on. */
		io->nosplice[d] = 1;
		p->mode = RELAY_PATH_COPY;
		return;
	}
	io->splice[d] = p->mode == RELAY_PATH_SPLICE;
	relay_set_cap(io->r, d, io->splice[d] ? io->bufsize : p->small);
}

/*
 * The source of d cannot splice (EINVAL: not a socket that can): copy
 * instead, 1 if it can.  Only ever with nothing in its pipe.
 */
static int
stop_splicing(struct io *io, int d)
{
	const struct relay *r = io->r;

	if (io->path == RELAY_IO_AUTO) {
		if (r->dir[d].len != 0)
			return 0;	/* bytes in the pipe: cannot go back */
		io->nosplice[d] = 1;
		io->splice[d] = 0;
		relay_set_cap(io->r, d, io->way[d].small);
		return 1;
	}
	/* Forced splicing: copy both ways, if no byte moved yet. */
	return r->dir[RELAY_UP].nin + r->dir[RELAY_DOWN].nin == 0 &&
	    open_buffers(io) == 0;
}

/*
 * Read into direction d: PUMP_MORE when the source may have more, PUMP_DRY
 * when the read drained it, 0 when it moved nothing.
 */
enum { PUMP_NONE, PUMP_MORE, PUMP_DRY };

static int
pump_read(struct io *io, int d, int64_t now)
{
	size_t asked;
	ssize_t n;

	choose_path(io, d);
	if ((n = transfer(io, d, 1, &asked)) == 0)
		return PUMP_NONE;
	if (n > 0) {
		relay_on_read(io->r, d, (size_t)n, now);
		if (io->path == RELAY_IO_AUTO)
			relay_path_on_read(&io->way[d], asked, (size_t)n);
		/*
		 * A stream socket returns less than asked only when its queue
		 * ran dry: another read now would only say EAGAIN, so select()
		 * says when there is more.
		 */
		return (size_t)n < asked ? PUMP_DRY : PUMP_MORE;
	}
	if (n == NETIO_BUG && io->splice[d] && errno == EINVAL &&
	    stop_splicing(io, d))
		return pump_read(io, d, now);
	/*
	 * EAGAIN with data in the pipe may be the pipe, out of slots for
	 * small segments: wait for a write rather than spin on readability.
	 */
	if (n == NETIO_AGAIN && io->splice[d] && io->r->dir[d].len > 0)
		relay_on_full(io->r, d);
	else if (n == NETIO_AGAIN)
		return PUMP_NONE;
	else if (n == NETIO_BUG)
		relay_end(io->r, END_INTERNAL, errno);
	else
		relay_on_eof(io->r, d, n == NETIO_EOF ? 0 : errno);
	return PUMP_NONE;
}

/*
 * Move data in direction d while it moves, a bounded number of rounds so
 * that a fast direction cannot starve the other.  After a read the sink
 * is tried at once: it is usually writable, and that saves a select().
 */
static void
pump(struct io *io, int d, int readable, int writable, int64_t now)
{
	int i, moved, rd;

	for (i = 0; i < RELAY_IO_ROUNDS && !relay_done(io->r); i++) {
		moved = 0;
		if (writable) {
			writable = pump_write(io, d, now);
			moved = writable;
		}
		if (readable && !relay_done(io->r)) {
			rd = pump_read(io, d, now);
			readable = rd == PUMP_MORE;
			if (rd != PUMP_NONE)
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
		else
			failed(io, d, rc, errno);
	}
}

/* pselect() on what relay.c wants, letting the caught signals in. */
static int
wait_events(struct io *io, fd_set *rset, fd_set *wset)
{
	struct relay_wants w;
	struct timespec ts, *tsp = NULL;
	int d, maxfd = -1;
	int64_t left, now = util_now_ms();

	relay_wants(io->r, &w);
	FD_ZERO(rset);
	FD_ZERO(wset);
	for (d = 0; d < RELAY_NDIR; d++) {
		if (w.read[d])
			FD_SET(io->fd[d], rset);
		if (w.write[d])
			FD_SET(io->fd[1 - d], wset);
		if (io->fd[d] > maxfd)
			maxfd = io->fd[d];
	}
	if (io->cfg->end_at != 0 && (w.deadline == -1 ||
	    io->cfg->end_at < w.deadline))
		w.deadline = io->cfg->end_at;
	/* Quiet with copied bytes behind it: wake once to give_back(). */
	if (can_give_back(io) && (w.deadline == -1 ||
	    now + RELAY_IO_GIVEBACK_MS < w.deadline))
		w.deadline = now + RELAY_IO_GIVEBACK_MS;
	if (w.deadline != -1) {
		left = w.deadline - now;
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		tsp = &ts;
	}
	return pselect(maxfd + 1, rset, wset, NULL, tsp, sig_waitmask());
}

/* --pair-max-seconds and --pair-max-bytes. */
static void
limits(const struct io *io, int64_t now)
{
	const struct relay *r = io->r;

	if (io->cfg->end_at != 0 && now >= io->cfg->end_at)
		relay_end(io->r, END_MAXTIME, 0);
	else if (io->cfg->max_bytes != 0 && r->dir[RELAY_UP].nout +
	    r->dir[RELAY_DOWN].nout >= io->cfg->max_bytes)
		relay_end(io->r, END_MAXBYTES, 0);
}

static void
loop(struct io *io)
{
	fd_set rset, wset;
	int64_t now;
	int d, n;

	for (;;) {
		do_shutdowns(io);
		if (relay_done(io->r))
			return;
		if ((n = wait_events(io, &rset, &wset)) == -1) {
			if (errno != EINTR)
				relay_end(io->r, end_internal(errno), errno);
			else if (sig_take() & io->cfg->signals)
				relay_end(io->r, END_SIGNAL, 0);
			continue;
		}
		now = util_now_ms();
		if (n == 0 && can_give_back(io))
			give_back(io);
		/* pselect() prefers ready descriptors to EINTR (sig.h). */
		if (now >= io->poll_at) {
			io->poll_at = now + RELAY_IO_SIGPOLL_MS;
			if (sig_poll() & io->cfg->signals)
				relay_end(io->r, END_SIGNAL, 0);
		}
		for (d = 0; d < RELAY_NDIR; d++)
			pump(io, d, FD_ISSET(io->fd[d], &rset),
			    FD_ISSET(io->fd[1 - d], &wset), now);
		if (io->cfg->progress != NULL)
			io->cfg->progress(io->cfg->arg, io->r, now);
		limits(io, now);
		relay_on_time(io->r, now);
	}
}

/*
 * Pipes and buffers for cfg->path.  RELAY_IO_AUTO copies through buffers
 * of RELAY_IO_SMALL bytes until a direction splices; without pipes it
 * copies all the way.  -1 if nothing can carry the bytes.
 */
static int
open_path(struct io *io)
{
	size_t sz = io->bufsize < RELAY_IO_SMALL ? io->bufsize :
	    RELAY_IO_SMALL;
	int d;

	io->path = io->cfg->path;
	if (io->path == RELAY_IO_COPY)
		return open_buffers(io);
	/*
	 * A child that goes on after the pair (cfg->release) may open
	 * descriptors while it relays, so it makes a direction's pipe only
	 * when that direction first splices: a short connection then costs
	 * no pipe.  A child that relays locked down (sandbox.c) cannot.
	 */
	for (d = 0; d < RELAY_NDIR &&
	    !(io->path == RELAY_IO_AUTO && io->cfg->release); d++)
		if (open_pipe(io, d) == -1)
			return open_buffers(io);
	if (io->path == RELAY_IO_AUTO && map_buffers(io, sz) == -1)
		return -1;
	for (d = 0; d < RELAY_NDIR; d++) {
		io->splice[d] = io->path == RELAY_IO_SPLICE;
		if (io->path == RELAY_IO_AUTO) {
			relay_path_init(&io->way[d], sz);
			relay_set_cap(io->r, d, sz);
		}
	}
	return 0;
}

/* The pair is over and the process goes on: give back what it had. */
static void
release(struct io *io)
{
	int d, e;

	for (d = 0; d < RELAY_NDIR; d++)
		for (e = 0; e < 2; e++)
			if (io->pipe[d][e] != -1)
				(void)close(io->pipe[d][e]);
	if (io->mem != NULL)
		(void)munmap(io->mem, io->memsize);
}

/*
 * relay_io_run: relay fd[0] <-> fd[1] until *r ends.
 */
void
relay_io_run(const int fd[2], const struct relay_io_cfg *cfg,
    struct relay *r)
{
	struct io io;

	memset(&io, 0, sizeof(io));
	io.r = r;
	io.fd = fd;
	io.cfg = cfg;
	io.bufsize = r->dir[RELAY_UP].cap;
	io.pipe[RELAY_UP][0] = io.pipe[RELAY_UP][1] = -1;
	io.pipe[RELAY_DOWN][0] = io.pipe[RELAY_DOWN][1] = -1;
	if (open_path(&io) == -1)
		relay_end(r, END_SHORT, errno);
	/* Signals are polled in a busy loop only (see loop()). */
	io.poll_at = util_now_ms() + RELAY_IO_SIGPOLL_MS;
	if (cfg->ready != NULL)
		cfg->ready(cfg->arg);
	loop(&io);
	if (cfg->release)
		release(&io);
}
