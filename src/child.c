/*
 * child.c: a pool child until it has a client.  Sets up its signals, waits
 * in accept() on the shared listeners, tells the master on the taken pipe
 * that it took a client, drops what only an idle child needs and hands
 * the client to pair.c, which never returns.  Also the set-up of a lone
 * pair passed by systemd (Accept=yes) or inetd (nowait).  Owns the
 * listeners' copies and the taken pipe's write end.  Refuses a client that
 * --allow/--deny rule out, or whose source has --max-per-source pairs
 * already, and waits for the next.  Locks itself down (sandbox) before it
 * waits.  Calls acl, srclim, pair, end (for the exit statuses), sandbox,
 * netio, sig, title and log.
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
#include "sandbox.h"
#include "sig.h"
#include "srclim.h"
#include "title.h"
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
		pair_refuse(cfg, cfd, sa, len, why);
	return why == END_NONE;
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
		if (fd != -1 && !admit(ctx->cfg, ctx->slot, fd, ss, *len))
			continue;
		if (fd != -1)
			return fd;
		if (accept_again(errno))
			continue;
		if (netio_resource_err(errno)) {
			log_msg(LOGL_WARN, "accept: %s", strerror(errno));
			_exit(END_EXIT_SICK);
		}
		log_msg(LOGL_ERROR, "accept: %s", strerror(errno));
		_exit(END_EXIT_FATAL);
	}
}

/* Tell the master at once, on the taken pipe, so that it forks a spare. */
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
		n = write(ctx->takenfd, &m, sizeof(m));
	while (n == -1 && errno == EINTR);
	/* A full pipe only delays the replacement until we exit. */
	(void)close(ctx->takenfd);
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
	struct sockaddr_storage ss;
	socklen_t len;
	int cfd, i;

	setup_signals(ctx);
	title_set("idle", (const char *)NULL);
	lockdown(ctx->cfg);
	cfd = take_client(ctx, &ss, &len);
	report_taken(ctx);
	/*
	 * From here on signals wait for pselect(), and a retire request or
	 * the master's death is ignored (one already pending is dropped).
	 */
	sig_block_caught(PAIR_SIGNALS);
	sig_ignore(SIGUSR2);
	for (i = 0; i < ctx->nlfd; i++)
		(void)close(ctx->lfds[i]);
	pair_serve(ctx->cfg, ctx->dest, cfd, (struct sockaddr *)&ss, len,
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

	if (sig_init(PAIR_SIGNALS, 1) == -1) {
		log_msg(LOGL_ERROR, "signal setup: %s", strerror(errno));
		_exit(END_EXIT_SICK);
	}
	/* What a pool's master would take: nothing to do for one pair. */
	sig_ignore(SIGHUP);
	sig_ignore(SIGUSR1);
	sig_ignore(SIGUSR2);
	lockdown(cfg);
	if (getpeername(cfd, (struct sockaddr *)&ss, &len) == -1) {
		memset(&ss, 0, sizeof(ss));
		len = 0;
	}
	/* No pool, no per-source count (srclim has no table). */
	if (!admit(cfg, UINT32_MAX, cfd, &ss, len))
		_exit(END_EXIT_SERVED);
	pair_serve(cfg, dest, cfd, (struct sockaddr *)&ss, len, NULL);
}
