/*
 * child.c: one client.  Waits in accept() on the shared listener, tells
 * the master it took a client, connects to the destination, runs the
 * relay, writes the pair's one summary line and exits with a status the
 * master understands.  Owns the two connected sockets and nothing else;
 * never resolves names (the master did) and never returns to the pool.
 * Calls relay_io, netio, sig, log and util.
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netio.h"
#include "relay_io.h"
#include "sig.h"
#include "title.h"
#include "util.h"
#include "child.h"

/* Why a pair ended, as its summary line says it. */
enum reason {
	R_EOF,		/* both directions finished and were delivered */
	R_RESET,	/* a side failed: write error, or read error */
	R_STALL,	/* buffered data saw no write progress */
	R_REFUSED,	/* destination refused every connect */
	R_UNREACHABLE,	/* destination could not be reached */
	R_TIMEOUT,	/* connecting took longer than --connect-timeout */
	R_SIGNAL,	/* SIGTERM or SIGINT ended the pair */
	R_MAXTIME,	/* --pair-max-seconds */
	R_MAXBYTES,	/* --pair-max-bytes */
	R_INTERNAL	/* a resource ran out, or a bug */
};

static const char *const reason_name[] = {
	[R_EOF] = "eof",
	[R_RESET] = "reset",
	[R_STALL] = "stall",
	[R_REFUSED] = "refused",
	[R_UNREACHABLE] = "unreachable",
	[R_TIMEOUT] = "timeout",
	[R_SIGNAL] = "signal",
	[R_MAXTIME] = "max-time",
	[R_MAXBYTES] = "max-bytes",
	[R_INTERNAL] = "internal",
};

/* What ends a busy child's pair; SIGUSR2 retires it only while idle. */
#define CHILD_SIGNALS	(SIGBIT(SIGTERM) | SIGBIT(SIGINT))

static const char *const side_name[] = { "client", "upstream" };
static const char *const dir_name[] = { "up", "down" };

/* Everything the summary line reports. */
struct pair {
	char		 client[NETIO_ADDRSTRLEN];
	char		 upstream[NETIO_ADDRSTRLEN];
	int64_t		 start;
	enum reason	 reason;
	char		 detail[64];
	struct relay	 relay;
};

static void
summary(const struct pair *p)
{
	int64_t ms = util_now_ms() - p->start;

	log_msg(p->reason == R_INTERNAL ? LOGL_WARN : LOGL_INFO,
	    "pair client=%s upstream=%s up=%llu down=%llu duration=%lld.%03llds"
	    " reason=%s%s%s", p->client, p->upstream,
	    (unsigned long long)p->relay.dir[RELAY_UP].nout,
	    (unsigned long long)p->relay.dir[RELAY_DOWN].nout,
	    (long long)(ms / 1000), (long long)(ms % 1000),
	    reason_name[p->reason], p->detail[0] != '\0' ? " " : "", p->detail);
}

/* What a failed connect()'s errno means for the summary. */
static enum reason
connect_reason(int err)
{
	if (err == ECONNREFUSED)
		return R_REFUSED;
	if (err == ETIMEDOUT)
		return R_TIMEOUT;
	if (netio_resource_err(err))
		return R_INTERNAL;
	return R_UNREACHABLE;
}

/*
 * Try each destination address in order, each with its own deadline.
 * Returns the connected socket, or -1 with p->reason and p->detail set.
 */
static int
connect_upstream(const struct config *cfg, const struct dest *dest,
    struct pair *p)
{
	const struct dest_addr *a;
	int64_t deadline, end_at;
	int i, fd, rc, err = EHOSTUNREACH;

	/* --pair-max-seconds counts from the client's arrival, connect too. */
	end_at = cfg->pair_max_ms != 0 ? p->start + cfg->pair_max_ms : 0;
	for (i = 0; i < dest->n; i++) {
		a = &dest->addr[i];
		netio_fmtaddr((const struct sockaddr *)&a->ss, a->len,
		    p->upstream, sizeof(p->upstream));
		deadline = util_now_ms() + cfg->connect_ms;
		if (end_at != 0 && end_at < deadline)
			deadline = end_at;
		rc = netio_connect((const struct sockaddr *)&a->ss, a->len,
		    deadline, sig_waitmask(), &fd);
		if (rc == NETIO_OK)
			return fd;
		if (end_at != 0 && util_now_ms() >= end_at) {
			p->reason = R_MAXTIME;
			return -1;
		}
		if (rc == NETIO_WAKE &&
		    (sig_take() & (SIGBIT(SIGTERM) | SIGBIT(SIGINT)))) {
			p->reason = R_SIGNAL;
			return -1;
		}
		if (rc == NETIO_WAKE) {
			i--;		/* another signal: try it again */
			continue;
		}
		err = errno;
		log_msg(LOGL_DEBUG, "connect to %s: %s", p->upstream,
		    strerror(err));
		if (rc == NETIO_BUG || netio_resource_err(err))
			break;
	}
	p->reason = connect_reason(err);
	(void)snprintf(p->detail, sizeof(p->detail), "detail=%s",
	    util_errname(err));
	return -1;
}

/* Turn how the relay ended into the summary's reason and detail. */
static void
relay_reason(struct pair *p, enum relay_io_res res)
{
	const struct relay *r = &p->relay;
	int d;

	if (res == RELAY_IO_SIGNAL || res == RELAY_IO_MAXTIME ||
	    res == RELAY_IO_MAXBYTES) {
		p->reason = res == RELAY_IO_SIGNAL ? R_SIGNAL :
		    res == RELAY_IO_MAXTIME ? R_MAXTIME : R_MAXBYTES;
		return;
	}
	if (res == RELAY_IO_ERROR) {
		p->reason = R_INTERNAL;
		(void)snprintf(p->detail, sizeof(p->detail), "detail=%s",
		    util_errname(errno));
		return;
	}
	switch (r->end) {
	case RELAY_END_WRITE:
		p->reason = R_RESET;
		/*
		 * A side that reset shows it first to a read, and only then
		 * to the write (EPIPE) or shutdown (ENOTCONN) that ended the
		 * pair: the read's errno is the one that explains it.
		 */
		d = 1 - r->end_dir;
		(void)snprintf(p->detail, sizeof(p->detail),
		    "detail=%s side=%s", util_errname(r->dir[d].rerr != 0 ?
		    r->dir[d].rerr : r->end_err), side_name[d]);
		return;
	case RELAY_END_STALL:
		p->reason = R_STALL;
		(void)snprintf(p->detail, sizeof(p->detail), "detail=%s",
		    dir_name[r->end_dir]);
		return;
	default:
		break;
	}
	p->reason = R_EOF;
	/* Both sides finished, but one of them by a read error. */
	for (d = 0; d < RELAY_NDIR; d++)
		if (r->dir[d].rerr != 0) {
			p->reason = R_RESET;
			(void)snprintf(p->detail, sizeof(p->detail),
			    "detail=%s side=%s", util_errname(r->dir[d].rerr),
			    side_name[d]);
			return;
		}
}

/* Close both sides: a reset for an aborted pair, else an orderly close. */
static void
close_pair(const int fd[2], enum reason reason)
{
	int s;

	for (s = 0; s < 2; s++) {
		if (reason == R_STALL || reason == R_SIGNAL ||
		    reason == R_MAXTIME || reason == R_MAXBYTES)
			netio_abort(fd[s]);
		else
			(void)close(fd[s]);
	}
}

static int
exit_status(enum reason reason, int err)
{
	switch (reason) {
	case R_EOF:
	case R_SIGNAL:
	case R_MAXTIME:
	case R_MAXBYTES:
		return CHILD_EXIT_SERVED;
	case R_INTERNAL:
		return netio_resource_err(err) ? CHILD_EXIT_SICK :
		    CHILD_EXIT_PEER;
	default:
		return CHILD_EXIT_PEER;
	}
}

/*
 * child_serve: relay the connected client cfd to the destination, log
 * the summary and exit.
 */
void
child_serve(const struct config *cfg, const struct dest *dest, int cfd,
    const struct sockaddr *peer, socklen_t peerlen, struct sb_slot *sb)
{
	struct relay_io_cfg rc;
	struct pair p;
	enum relay_io_res res;
	int fd[2], err;

	memset(&p, 0, sizeof(p));
	p.start = util_now_ms();
	relay_init(&p.relay, 1, 0);	/* zero counters if we never relay */
	netio_fmtaddr(peer, peerlen, p.client, sizeof(p.client));
	sb_client(sb, p.client, p.start);
	title_set("connect", p.client, (const char *)NULL);
	p.upstream[0] = '-';	/* no snprintf(): see netio_fmtaddr() */
	fd[RELAY_CLIENT] = cfd;
	if (netio_fd_ok(cfd) == -1) {
		err = errno;
		p.reason = R_INTERNAL;
		(void)snprintf(p.detail, sizeof(p.detail), "detail=%s",
		    util_errname(err));
		(void)close(cfd);
		summary(&p);
		_exit(CHILD_EXIT_SICK);
	}
	/*
	 * A SIGTERM that came between accept() and blocking the signals ran
	 * its handler already: no later pselect() will report it.
	 */
	if (sig_take() & CHILD_SIGNALS) {
		p.reason = R_SIGNAL;
		netio_abort(cfd);
		summary(&p);
		_exit(CHILD_EXIT_SERVED);
	}
	netio_nodelay(cfd);
	if ((fd[RELAY_UPSTREAM] = connect_upstream(cfg, dest, &p)) == -1) {
		err = errno;
		/* The client must not sit open on a pair that cannot be. */
		(void)close(cfd);
		summary(&p);
		_exit(exit_status(p.reason, err));
	}
	netio_nodelay(fd[RELAY_UPSTREAM]);
	sb_upstream(sb, p.upstream);
	title_set("relay", p.client, " > ", p.upstream, (const char *)NULL);
	rc.bufsize = cfg->bufsize;
	rc.stall_ms = cfg->stall_ms;
	rc.splice = cfg->splice;
	rc.end_at = cfg->pair_max_ms != 0 ? p.start + cfg->pair_max_ms : 0;
	rc.max_bytes = cfg->pair_max_bytes;
	rc.sb = sb;
	rc.client = p.client;
	rc.upstream = p.upstream;
	res = relay_io_run(fd, &rc, &p.relay);
	err = errno;
	relay_reason(&p, res);
	close_pair(fd, p.reason);
	summary(&p);
	_exit(exit_status(p.reason, err));
}

/*
 * Signals of a fresh child (all blocked since the fork): only what it uses
 * caught, and unblocked while it waits in accept(), which they interrupt.
 */
static void
setup_signals(const struct child_ctx *ctx)
{
	if (sig_init(CHILD_SIGNALS | SIGBIT(SIGUSR2), 0) == -1) {
		log_msg(LOGL_ERROR, "child: signal setup: %s", strerror(errno));
		_exit(CHILD_EXIT_SICK);
	}
	sig_default(SIGCHLD);
	sig_ignore(SIGHUP);
	sig_ignore(SIGUSR1);
#ifdef __linux__
	/* An idle child must not outlive the master; a busy one finishes. */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) == -1 ||
	    getppid() != ctx->master)
		_exit(CHILD_EXIT_SERVED);
#else
	(void)ctx;
#endif
}

/*
 * Several listeners: wait on all of them (they are non-blocking), -1 when
 * a signal interrupted.  One listener: block in accept() itself, where the
 * kernel wakes one waiter per connection instead of the whole pool.
 */
static int
wait_listener(const struct child_ctx *ctx)
{
	fd_set rset;
	int i, maxfd = -1;

	if (ctx->nlfd == 1)
		return ctx->lfds[0];
	FD_ZERO(&rset);
	for (i = 0; i < ctx->nlfd; i++) {
		FD_SET(ctx->lfds[i], &rset);
		if (ctx->lfds[i] > maxfd)
			maxfd = ctx->lfds[i];
	}
	if (select(maxfd + 1, &rset, NULL, NULL, NULL) == -1)
		return -1;
	for (i = 0; i < ctx->nlfd; i++)
		if (FD_ISSET(ctx->lfds[i], &rset))
			return ctx->lfds[i];
	return -1;
}

/* accept() errors that only mean "not this one, wait for the next". */
static int
accept_again(int err)
{
	switch (err) {
	case EINTR:
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ECONNABORTED:
	case EPROTO:
	case EPERM:		/* a firewall rule refused this one */
	/* Linux passes pending network errors of the new socket on. */
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
#ifdef ENONET
	case ENONET:
#endif
		return 1;
	default:
		return 0;
	}
}

/* Wait for a client; exit quietly if told to retire first. */
static int
take_client(const struct child_ctx *ctx, struct sockaddr_storage *ss,
    socklen_t *len)
{
	int lfd, fd;

	for (;;) {
		if (sig_take() & (SIGBIT(SIGUSR2) | SIGBIT(SIGTERM) |
		    SIGBIT(SIGINT)))
			_exit(CHILD_EXIT_SERVED);
		if ((lfd = wait_listener(ctx)) == -1)
			continue;
		*len = sizeof(*ss);
		fd = accept4(lfd, (struct sockaddr *)ss, len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd != -1)
			return fd;
		if (accept_again(errno))
			continue;
		if (netio_resource_err(errno)) {
			log_msg(LOGL_WARN, "accept: %s", strerror(errno));
			_exit(CHILD_EXIT_SICK);
		}
		log_msg(LOGL_ERROR, "accept: %s", strerror(errno));
		_exit(CHILD_EXIT_FATAL);
	}
}

/* Tell the master at once, so that it forks a replacement. */
static void
report_taken(const struct child_ctx *ctx)
{
	struct child_msg m;
	ssize_t n;

	m.slot = ctx->slot;
	m.gen = ctx->gen;
	m.pid = (int32_t)getpid();
	m.event = CHILD_MSG_TAKEN;
	do
		n = write(ctx->statusfd, &m, sizeof(m));
	while (n == -1 && errno == EINTR);
	/* A full pipe only delays the replacement until we exit. */
	(void)close(ctx->statusfd);
}

/*
 * child_run: a pool child's whole life.
 */
void
child_run(const struct child_ctx *ctx)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int cfd, i;

	setup_signals(ctx);
	title_set("idle", (const char *)NULL);
	cfd = take_client(ctx, &ss, &len);
	report_taken(ctx);
	/*
	 * From here on signals wait for pselect(), and a retire request or
	 * the master's death is ignored (one already pending is dropped).
	 */
	sig_block_caught(CHILD_SIGNALS);
	sig_ignore(SIGUSR2);
	for (i = 0; i < ctx->nlfd; i++)
		(void)close(ctx->lfds[i]);
	child_serve(ctx->cfg, ctx->dest, cfd, (struct sockaddr *)&ss, len,
	    ctx->sb);
}

/*
 * child_single: a passed connection, served without a pool.
 */
void
child_single(const struct config *cfg, const struct dest *dest, int cfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (sig_init(CHILD_SIGNALS, 1) == -1) {
		log_msg(LOGL_ERROR, "signal setup: %s", strerror(errno));
		_exit(CHILD_EXIT_SICK);
	}
	/* What a pool's master would take: nothing to do for one pair. */
	sig_ignore(SIGHUP);
	sig_ignore(SIGUSR1);
	sig_ignore(SIGUSR2);
	if (getpeername(cfd, (struct sockaddr *)&ss, &len) == -1) {
		memset(&ss, 0, sizeof(ss));
		len = 0;
	}
	child_serve(cfg, dest, cfd, (struct sockaddr *)&ss, len, NULL);
}
