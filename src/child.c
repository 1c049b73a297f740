/*
 * child.c: a pool child.  Sets up its signals, waits in accept() on the
 * shared listeners, tells the master on the taken pipe that it took a
 * client, drops what only an idle child needs and hands the client to
 * pair.c; then exits with the pair's status, or (--pairs-per-child) gives
 * back what the pair had, tells the master it is idle again and waits for
 * the next client.  Also the set-up of a lone pair passed by systemd
 * (Accept=yes) or inetd (nowait).  Owns the listeners' copies and the
 * taken pipe's write end.  Refuses a client that
 * --allow/--deny rule out, or whose source has --max-per-source pairs
 * already, and waits for the next.  With --accept-proxy, reads the
 * client's PROXY header first and applies those rules to the address it
 * carries.  Locks itself down (sandbox) before it waits.  Calls acl,
 * srclim, proxyhdr, pair, end (for the exit statuses), sandbox, netio,
 * sig, title, log and util.
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "end.h"
#include "log.h"
#include "netio.h"
#include "pair.h"
#include "proxyhdr.h"
#include "sandbox.h"
#include "sig.h"
#include "srclim.h"
#include "title.h"
#include "util.h"
#include "child.h"

/*
 * Signals of a fresh child (all blocked since the fork): only what it uses
 * caught, and unblocked while it waits in accept(), which they interrupt.
 */
static void
setup_signals(const struct child_ctx *ctx)
{
	if (sig_init(PAIR_SIGNALS | SIGBIT(SIGUSR2), 0) == -1) {
		log_msg(LOGL_ERROR, "child: signal setup: %s", strerror(errno));
		_exit(END_EXIT_SICK);
	}
	sig_default(SIGCHLD);
	sig_ignore(SIGHUP);
	sig_ignore(SIGUSR1);
#ifdef __linux__
	/* An idle child must not outlive the master; a busy one finishes. */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) == -1 ||
	    getppid() != ctx->master)
		_exit(END_EXIT_SERVED);
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

/*
 * 1 if the client cfd at ss may have a pair: --allow and --deny, then
 * --max-per-source, counted for slot.  Else it is refused here.
 */
static int
admit(const struct config *cfg, uint32_t slot, int cfd,
    const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)ss;
	enum end_reason why = END_NONE;

	if (!acl_permit(&cfg->acl, sa, len))
		why = END_DENIED;
	else if (cfg->max_per_source > 0 &&
	    !srclim_take(slot, sa, len, cfg->max_per_source))
		why = END_LIMIT;
	if (why != END_NONE)
		pair_refuse(cfg, cfd, sa, len, 0, why, 0);
	return why == END_NONE;
}

/*
 * 1 if the peer cfd at ss may go on: with --accept-proxy only whether it
 * may send a header at all (--accept-proxy-from), since the client is
 * the one its header names; else admit().
 */
static int
admit_peer(const struct config *cfg, uint32_t slot, int cfd,
    const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr *sa = (const struct sockaddr *)ss;

	if (!cfg->accept_proxy)
		return admit(cfg, slot, cfd, ss, len);
	if (acl_permit(&cfg->proxy_from, sa, len))
		return 1;
	pair_refuse(cfg, cfd, sa, len, 0, END_DENIED, 0);
	return 0;
}

/*
 * --accept-proxy: the client's PROXY header, read before anything else;
 * its addresses, if it carries any, make *c.  1 if the client may go on;
 * 0 if it had no good header in time, or the rules refuse it: then it
 * has ended here, as *res says.
 */
static int __attribute__((noinline))
take_header(const struct config *cfg, uint32_t slot, int cfd,
    struct pair_client *c, struct pair_result *res)
{
	struct pp_header h;
	enum end_reason why;
	char peer[NETIO_ADDRSTRLEN];
	int64_t since = util_now_ms();
	int err = 0;

	memset(res, 0, sizeof(*res));
	why = proxyhdr_recv(cfd, since + PROXYHDR_TIMEOUT_MS, sig_waitmask(),
	    &h, &err);
	/* Only the pair's signals are caught here; anything else is a bug. */
	if (why == END_SIGNAL && !(sig_take() & PAIR_SIGNALS)) {
		why = END_BAD_HEADER;
		err = EINTR;
	}
	if (why == END_BAD_HEADER && err == EPROTO) {
		netio_fmtaddr((struct sockaddr *)&c->addr, c->addrlen, peer,
		    sizeof(peer));
		log_msg(LOGL_DEBUG, "PROXY header from %s: %s", peer, h.why);
	}
	if (why != END_NONE) {
		pair_refuse(cfg, cfd, (struct sockaddr *)&c->addr, c->addrlen,
		    since, why, err);
		res->reason = why;
		res->exit = end_info(why)->exit;
		return 0;
	}
	if (h.has_addr) {
		c->addr = h.src;
		c->addrlen = h.srclen;
		c->local = h.dst;
		c->locallen = h.dstlen;
	}
	res->reason = END_DENIED;
	res->exit = END_EXIT_SERVED;
	return admit(cfg, slot, cfd, &c->addr, c->addrlen);
}

/*
 * Wait for a client; exit quietly if told to retire first.  Not inlined:
 * its frame is gone by the time the pair runs (README, "Pages").
 */
static int __attribute__((noinline))
take_client(const struct child_ctx *ctx, struct sockaddr_storage *ss,
    socklen_t *len)
{
	int lfd, fd;

	for (;;) {
		if (sig_take() & (SIGBIT(SIGUSR2) | SIGBIT(SIGTERM) |
		    SIGBIT(SIGINT)))
			_exit(END_EXIT_SERVED);
		if ((lfd = wait_listener(ctx)) == -1)
			continue;
		*len = sizeof(*ss);
		fd = accept4(lfd, (struct sockaddr *)ss, len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		/*
		 * A refused client costs no fork: this child stays idle, and
		 * the master hears nothing of it.
		 */
		if (fd != -1 && !admit_peer(ctx->cfg, ctx->slot, fd, ss, *len))
			continue;
		if (fd != -1)
			return fd;
		if (accept_again(errno))
			continue;
		/* A stopping master shut its listener down (pool.c). */
		if (errno == EINVAL && sb_stopping())
			_exit(END_EXIT_SERVED);
		if (netio_resource_err(errno)) {
			log_msg(LOGL_WARN, "accept: %s", strerror(errno));
			_exit(END_EXIT_SICK);
		}
		log_msg(LOGL_ERROR, "accept: %s", strerror(errno));
		_exit(END_EXIT_FATAL);
	}
}

/*
 * Tell the master on the taken pipe: 0, or -1 when the pipe is full (the
 * master stopped or far behind), the record then lost: a child never
 * waits on the master.
 */
static int
report(const struct child_ctx *ctx, uint32_t event,
    const struct pair_result *res)
{
	struct child_msg m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.slot = ctx->slot;
	m.gen = ctx->gen;
	m.pid = (int32_t)getpid();
	m.event = event;
	if (res != NULL) {
		m.code = (uint32_t)res->exit;
		m.up = res->up;
		m.down = res->down;
	}
	do
		n = write(ctx->takenfd, &m, sizeof(m));
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

/*
 * --pairs-per-child: 1 if this child, whose pair ended as *res says, may
 * take another client: the pair ended as pairs do (not by a signal, a
 * shortage or a bug), and the master still runs in the generation this
 * child was forked in (a reload or a stop since says no; so does a
 * master gone, see setup_signals()).
 */
static int
again(const struct child_ctx *ctx, const struct pair_result *res)
{
	return (res->exit == END_EXIT_SERVED || res->exit == END_EXIT_PEER) &&
	    res->reason != END_SIGNAL && sb_gen_current(ctx->gen);
}

/*
 * Back to waiting, with nothing of the pair left: its per-source count,
 * its scoreboard row and its title.  The master hears of it last, when
 * the child can take a client again.
 */
static void __attribute__((noinline))
back_to_idle(const struct child_ctx *ctx, const struct pair_result *res)
{
	/* As setup_signals(); the death signal is still set. */
	if (sig_init(PAIR_SIGNALS | SIGBIT(SIGUSR2), 0) == -1) {
		log_msg(LOGL_ERROR, "child: signal setup: %s", strerror(errno));
		_exit(END_EXIT_SICK);
	}
#ifdef __linux__
	if (getppid() != ctx->master)
		_exit(END_EXIT_SERVED);
#endif
	srclim_release(ctx->slot);
	sb_idle(ctx->sb);
	/*
	 * Unheard, the master would count this child busy (and its pair
	 * not at all) until it exits: so it exits now, its pair counted
	 * by its exit status.
	 */
	if (report(ctx, CHILD_MSG_IDLE, res) == -1)
		_exit(res->exit);
}

/*
 * Before the first client: from here on the child can only take clients,
 * connect, relay and log (sandbox.c).  Where this build has no sandbox
 * the master said so once.
 */
static void
lockdown(const struct config *cfg)
{
	if (cfg->sandbox && sandbox_idle() == -1 && errno != ENOSYS)
		log_msg(LOGL_WARN, "child: no sandbox: %s", strerror(errno));
}

/*
 * child_run: a pool child's whole life.
 */
void
child_run(const struct child_ctx *ctx)
{
	struct pair_client c;
	struct pair_result res;
	unsigned limit = ctx->cfg->pairs_per_child, served = 0;
	int cfd, i, reuse;

	setup_signals(ctx);
	lockdown(ctx->cfg);
	for (;;) {
		title_set("idle", (const char *)NULL);
		c.locallen = 0;
		cfd = take_client(ctx, &c.addr, &c.addrlen);
		served++;
		/* Without a scoreboard the master cannot call it back. */
		reuse = limit != 1 && (limit == 0 || served < limit) &&
		    ctx->sb != NULL;
		(void)report(ctx, CHILD_MSG_TAKEN, NULL);
		/*
		 * From here on signals wait for pselect(), and a retire
		 * request or the master's death is ignored (one already
		 * pending is dropped): a busy child finishes its pair.
		 */
		sig_block_caught(PAIR_SIGNALS);
		sig_ignore(SIGUSR2);
		if (!reuse) {
			(void)close(ctx->takenfd);
			for (i = 0; i < ctx->nlfd; i++)
				(void)close(ctx->lfds[i]);
		}
		if (!ctx->cfg->accept_proxy ||
		    take_header(ctx->cfg, ctx->slot, cfd, &c, &res))
			pair_serve(ctx->cfg, ctx->dest, cfd, &c, ctx->sb,
			    reuse, &res);
		if (!reuse || !again(ctx, &res))
			_exit(res.exit);
		back_to_idle(ctx, &res);
	}
}

/*
 * child_single: a passed connection, served without a pool.
 */
void
child_single(const struct config *cfg, const struct dest *dest, int cfd)
{
	struct pair_client c;
	struct pair_result res;

	if (sig_init(PAIR_SIGNALS, 1) == -1) {
		log_msg(LOGL_ERROR, "signal setup: %s", strerror(errno));
		_exit(END_EXIT_SICK);
	}
	/* What a pool's master would take: nothing to do for one pair. */
	sig_ignore(SIGHUP);
	sig_ignore(SIGUSR1);
	sig_ignore(SIGUSR2);
	lockdown(cfg);
	c.addrlen = sizeof(c.addr);
	c.locallen = 0;
	if (getpeername(cfd, (struct sockaddr *)&c.addr, &c.addrlen) == -1) {
		memset(&c.addr, 0, sizeof(c.addr));
		c.addrlen = 0;
	}
	/* No pool, no per-source count (srclim has no table). */
	if (!admit_peer(cfg, UINT32_MAX, cfd, &c.addr, c.addrlen))
		_exit(END_EXIT_SERVED);
	if (!cfg->accept_proxy || take_header(cfg, UINT32_MAX, cfd, &c, &res))
		pair_serve(cfg, dest, cfd, &c, NULL, 0, &res);
	_exit(res.exit);
}
