/*
 * pool.c: the master's loop.  Sets the pool up, then waits for events (a
 * child's "taken" record, a signal, a timer), and after each one runs the
 * policy and carries out what it says, until stopped and every child is
 * reaped.  Also stop (SIGTERM, SIGINT) and reload (SIGHUP).  Owns the
 * listening sockets, the pool's state and the destination children
 * connect to.  The master never touches client data and stays small,
 * because every fork() copies its page tables; it never sleeps except in
 * pselect() and, on SIGHUP, in the resolver (see reload()).
 * Calls pool_slots, pool_policy, pool_report, spawn, priv, srclim,
 * sandbox, sig, dest, notify, scoreboard, title, netio, log and util.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/select.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netio.h"
#include "notify.h"
#include "pool_policy.h"
#include "pool_report.h"
#include "pool_slots.h"
#include "priv.h"
#include "sandbox.h"
#include "scoreboard.h"
#include "sig.h"
#include "spawn.h"
#include "srclim.h"
#include "title.h"
#include "util.h"
#include "pool.h"

/* Repeating warnings (the child limit) at most this often. */
#define POOL_WARN_MS	10000
/* A master busy with records lets its signals in at least this often. */
#define POOL_SIGPOLL_MS	100

struct pool {
	const struct config *cfg;
	int		*lfds;		/* closed (-1) once stopping */
	int		 nlfd;
	int		 own_listeners;	/* we opened them (not passed in) */
	enum policy_stop stop;
	int64_t		 drain_until;	/* end pairs then; 0: never */
	int		 exitcode;
	int64_t		 warned_limit;
	int64_t		 poll_at;	/* next sig_poll() under records */
	struct slots	 slots;		/* children's lives */
	struct policy	 policy;	/* how many */
	struct report	 report;	/* what systemd was told */
	struct child_ctx tmpl;		/* what every child gets, but its slot */
	int64_t		 resolve_at;	/* --resolve-every: next; -1: off */
	int		 resolve_failed; /* the last timed one failed */
};

/*
 * What children connect to.  Not in the pool's mapping: children read it,
 * and the master writes it only on reload, so each child keeps the copy
 * it was forked with.
 */
static struct dest	 pool_dest;

/* Ask every open pair to end now (a busy child aborts its pair). */
static void
end_pairs(struct pool *p)
{
	p->stop = POLICY_ENDING;
	slots_signal(&p->slots, SLOT_BUSY, SIGTERM);
	slots_signal(&p->slots, SLOT_RETIRING, SIGTERM);
}

/* Say what the policy's plan says needs saying. */
static void
explain(struct pool *p, const struct policy_plan *plan)
{
	if (plan->end_pairs)
		log_msg(LOGL_INFO, "drain timeout: ending %u open pair(s)",
		    p->slots.count[SLOT_BUSY]);
	if (plan->at_limit)
		log_limited(&p->warned_limit, POOL_WARN_MS, LOGL_WARN,
		    "all %u children in use (--max-children); new clients "
		    "wait in the listen queue", p->cfg->max_children);
	if (plan->target_moved)
		log_msg(LOGL_DEBUG, "keeping %u idle children (%u clients "
		    "taken in the last %d ms)", p->policy.target,
		    p->policy.taken_last, POLICY_WINDOW_MS);
}

/*
 * Run the policy and carry out its plan; once more if a fork failed, as
 * the hold changes the answer.  Returns when to run it again, or -1.
 */
static int64_t
adjust(struct pool *p, int64_t now)
{
	struct policy_plan plan;
	struct policy_in in;

	slots_resignal(&p->slots, now);
	for (;;) {
		in.idle = p->slots.count[SLOT_IDLE];
		in.busy = p->slots.count[SLOT_BUSY];
		in.retiring = p->slots.count[SLOT_RETIRING];
		in.stop = p->stop;
		in.drain_until = p->drain_until;
		policy_run(&p->policy, &in, now, &plan);
		explain(p, &plan);
		if (plan.end_pairs)
			end_pairs(p);
		if (plan.retire > 0)
			slots_retire(&p->slots, plan.retire, now);
		if (plan.spawn == 0 ||
		    slots_spawn(&p->slots, plan.spawn, &p->tmpl, now) == 0)
			break;
		/* A fork failed, and the hold it started changes the plan. */
	}
	return plan.wake_at;
}

/*
 * Tell the children that serve more than one pair whether they may take
 * another: only while running, and only those of the current generation.
 * Written before the idle ones are retired, so that none that finishes a
 * pair later goes back to accept().
 */
static void
publish(const struct pool *p)
{
	sb_master_gen(p->slots.gen, p->stop != POLICY_RUNNING);
}

static void
stop(struct pool *p, int sig)
{
	int64_t now = util_now_ms();
	int i;

	if (p->stop == POLICY_RUNNING) {
		p->stop = POLICY_DRAINING;
		publish(p);
		if (p->cfg->drain_ms > 0)
			p->drain_until = now + p->cfg->drain_ms;
		log_msg(LOGL_INFO, "%s: no new clients; waiting for %u open "
		    "pair(s) to finish", sig_name(sig),
		    p->slots.count[SLOT_BUSY]);
		report_tell(&p->report, "STOPPING=1\n", &p->slots, 1, now);
	} else if (p->stop == POLICY_DRAINING) {
		log_msg(LOGL_INFO, "%s again: ending %u open pair(s)",
		    sig_name(sig), p->slots.count[SLOT_BUSY]);
		end_pairs(p);
	}
	/*
	 * Idle children still hold the listener: the policy retires them.
	 * Busy ones that would serve again hold it too, so a listener of our
	 * own is shut down, which stops it for every process at once; one
	 * that systemd passed is left listening, for the next instance.
	 */
	for (i = 0; i < p->nlfd; i++)
		if (p->lfds[i] != -1) {
			if (p->own_listeners && p->cfg->pairs_per_child != 1)
				(void)shutdown(p->lfds[i], SHUT_RD);
			(void)close(p->lfds[i]);
			p->lfds[i] = -1;
		}
}

/*
 * SIGHUP: resolve the destination again.  New children use the answer;
 * idle children of the old generation are replaced (new ones first, so
 * the listener is never without a taker); busy pairs are untouched.  The
 * resolver blocks the master for as long as it takes: children already
 * forked go on accepting and relaying meanwhile, only reaping and
 * replacing them wait.
 */
static void
reload(struct pool *p, int64_t now, int timed)
{
	struct dest nd;
	unsigned old_idle = p->slots.count[SLOT_IDLE];
	int rc, changed = 0;

	if (p->stop == POLICY_RUNNING && !timed)
		notify("RELOADING=1");
	rc = dest_resolve(p->cfg->dest_host, p->cfg->dest_port, &nd);
	if (p->stop == POLICY_RUNNING && !timed)
		report_tell(&p->report, "READY=1\n", &p->slots, 0, now);
	if (rc == 0 && (changed = !dest_equal(&nd, &pool_dest)))
		pool_dest = nd;
	/* A timed one speaks when the answer changed, or first failed. */
	if (!timed || changed || (rc != 0 && !p->resolve_failed))
		report_reload(p->cfg, &pool_dest, rc, changed);
	p->resolve_failed = timed && rc != 0;
	if (rc != 0 || (timed && !changed))
		return;
	p->slots.gen++;
	publish(p);
	if (p->stop != POLICY_RUNNING)
		return;
	/* The policy forks the rest of the new spares, in batches. */
	(void)slots_spawn(&p->slots, p->policy.spare < POLICY_SPAWN_BATCH ?
	    p->policy.spare : POLICY_SPAWN_BATCH, &p->tmpl, now);
	slots_retire(&p->slots, old_idle, now);
}

static void
on_signals(struct pool *p, unsigned mask, int64_t now)
{
	if (mask & SIGBIT(SIGCHLD)) {
		slots_reap(&p->slots, now);
		if (p->slots.fatal) {
			p->exitcode = 1;
			if (p->stop == POLICY_RUNNING)
				p->stop = POLICY_DRAINING;
			publish(p);
		}
	}
	if (mask & SIGBIT(SIGTERM))
		stop(p, SIGTERM);
	if (mask & SIGBIT(SIGINT))
		stop(p, SIGINT);
	if (mask & SIGBIT(SIGHUP))
		reload(p, now, 0);
	if (mask & SIGBIT(SIGUSR1))
		report_counts(&p->slots);
}

/* The earliest of the times t[0..n-1] that is set (not -1), or -1. */
static int64_t
earliest(const int64_t *t, int n)
{
	int64_t e = -1;
	int i;

	for (i = 0; i < n; i++)
		if (t[i] != -1 && (e == -1 || t[i] < e))
			e = t[i];
	return e;
}

/*
 * Sleep until a child reports, a signal arrives or wake_at (-1: no timer).
 * The caught signals are blocked everywhere but inside pselect(), so none
 * can slip in between deciding to sleep and sleeping.
 */
static int
wait_events(struct pool *p, int64_t wake_at)
{
	struct timespec ts, *tsp = NULL;
	int64_t left, now;
	fd_set rset;

	if (wake_at != -1) {
		left = wake_at - util_now_ms();
		left = left > 0 ? left : 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		tsp = &ts;
	}
	FD_ZERO(&rset);
	FD_SET(p->slots.takenr, &rset);
	if (pselect(p->slots.takenr + 1, &rset, NULL, NULL, tsp,
	    sig_waitmask()) == -1) {
		if (errno != EINTR) {
			log_msg(LOGL_ERROR, "pselect: %s", strerror(errno));
			return -1;
		}
		/*
		 * Records before reaping: a child may have taken a client
		 * and exited already, and its pair counts.
		 */
		slots_read_taken(&p->slots);
		on_signals(p, sig_take(), util_now_ms());
		return 0;
	}
	if (!FD_ISSET(p->slots.takenr, &rset))
		return 0;	/* it slept its timeout: no signal came */
	slots_read_taken(&p->slots);
	/*
	 * Under a steady stream of records pselect() may never return EINTR:
	 * a reload, a stop or the reaping would wait for a quiet moment.  So
	 * the signals are let in here too, at most every POOL_SIGPOLL_MS: a
	 * busy master then makes two system calls fewer per record.
	 */
	now = util_now_ms();
	if (now >= p->poll_at) {
		p->poll_at = now + POOL_SIGPOLL_MS;
		on_signals(p, sig_poll(), now);
	}
	return 0;
}

/* The master's loop, until stopped and every child is reaped. */
static int
master_loop(void *arg)
{
	struct pool *p = arg;
	int64_t now, t[4];

	t[0] = adjust(p, now = util_now_ms());
	report_tell(&p->report, "READY=1\n", &p->slots, 0, now);
	for (;;) {
		slots_check(&p->slots);
		now = util_now_ms();
		if (p->resolve_at != -1 && now >= p->resolve_at &&
		    p->stop == POLICY_RUNNING) {
			reload(p, now, 1);
			p->resolve_at = (now = util_now_ms()) +
			    p->cfg->resolve_ms;
		}
		t[0] = adjust(p, now);
		p->report.waiting = p->policy.at_limit &&
		    p->stop == POLICY_RUNNING ?
		    report_waiting(p->lfds, p->nlfd) : -1;
		report_check(&p->report, &p->slots, p->stop != POLICY_RUNNING,
		    now);
		sb_master_totals(p->slots.spawned, p->slots.fork_failed,
		    p->slots.count[SLOT_IDLE], p->slots.count[SLOT_BUSY] +
		    p->slots.count[SLOT_RETIRING],
		    p->policy.at_limit ? p->report.waiting : 0);
		if (p->stop != POLICY_RUNNING && slots_live(&p->slots) == 0)
			break;
		t[1] = slots_wake(&p->slots);
		t[2] = report_wake(&p->report);
		t[3] = p->stop == POLICY_RUNNING ? p->resolve_at : -1;
		if (wait_events(p, earliest(t, 4)) == -1) {
			p->exitcode = 1;
			break;
		}
	}
	log_msg(LOGL_INFO, "stopped; %llu pairs served, %llu failed",
	    (unsigned long long)p->slots.served,
	    (unsigned long long)p->slots.failed);
	return p->exitcode;
}


/*
 * --spare, or the process limit (RLIMIT_NPROC) if that is lower: forks
 * beyond it would only fail and hold spawning back.
 */
static unsigned
usable_spare(const struct config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NPROC, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= cfg->spare)
		return cfg->spare;
	log_msg(LOGL_WARN, "--spare %u is above the process limit; keeping "
	    "%llu idle children at most", cfg->spare,
	    (unsigned long long)rl.rlim_cur);
	return rl.rlim_cur > 0 ? (unsigned)rl.rlim_cur : 1;
}

static struct pool *
setup(const struct config *cfg, int *lfds, int nlfd)
{
	struct pool *p;
	int i;

	/* State and slot table where no child sees them (README, "Pages"). */
	if ((p = spawn_private(sizeof(*p) + cfg->max_children *
	    sizeof(struct slot))) == NULL)
		return NULL;
	p->cfg = cfg;
	p->lfds = lfds;
	p->nlfd = nlfd;
	p->report.waiting = p->report.sent_waiting = -1;
	p->resolve_at = cfg->resolve_ms > 0 ? util_now_ms() + cfg->resolve_ms :
	    -1;
	p->tmpl.cfg = cfg;
	p->tmpl.dest = &pool_dest;
	p->tmpl.lfds = lfds;
	p->tmpl.nlfd = nlfd;
	p->tmpl.master = getpid();
	policy_init(&p->policy, usable_spare(cfg), cfg->max_children,
	    util_now_ms());
	if (slots_init(&p->slots, (struct slot *)(p + 1), cfg->max_children,
	    &p->policy) == -1)
		return NULL;
	/* Several listeners: children select() on them, so no blocking. */
	for (i = 0; nlfd > 1 && i < nlfd; i++)
		if (netio_fd_ok(lfds[i]) == -1 ||
		    netio_nonblock(lfds[i], 1) == -1)
			return NULL;
	if (sig_init(SIGBIT(SIGTERM) | SIGBIT(SIGINT) | SIGBIT(SIGHUP) |
	    SIGBIT(SIGUSR1) | SIGBIT(SIGCHLD), 1) == -1)
		return NULL;
	if (cfg->max_per_source > 0 && srclim_create(cfg->max_children) == -1)
		return NULL;
	if (sb_create(cfg->max_children) == -1)
		log_msg(LOGL_WARN, "no scoreboard (--status will not work%s): "
		    "%s", cfg->pairs_per_child != 1 ? ", and each child serves "
		    "one pair" : "", strerror(errno));
	publish(p);
	if (cfg->pairs_per_child != 1)
		policy_reuse(&p->policy);
	/* A stray retire signal (our children's) must not kill the master. */
	sig_ignore(SIGUSR2);
	return p;
}

/*
 * pool_run: set up and run the master until it stops.
 */
int
pool_run(const struct config *cfg, const struct dest *dest, int *lfds,
    int nlfd, int standalone)
{
	struct pool *p;

	pool_dest = *dest;
	if ((p = setup(cfg, lfds, nlfd)) == NULL) {
		log_msg(LOGL_ERROR, "cannot start the pool: %s",
		    strerror(errno));
		return 1;
	}
	if (cfg->chroot != NULL)
		notify_hold();
	/* The scoreboard stays its starter's: --status trusts that. */
	priv_apply(cfg);
	/*
	 * Titles in the page a child starts on, not in the argv area: one
	 * page fewer for every child.
	 */
	(void)title_move(spawn_title_area(), SPAWN_TITLE_MAX);
	report_start(cfg, p->policy.spare, &pool_dest, lfds, nlfd);
	p->own_listeners = standalone;
	if (standalone)
		priv_warn_root(cfg);
	if (cfg->sandbox && !sandbox_available())
		log_msg(LOGL_INFO, "children run without a sandbox: none for "
		    "this system or build");
	else if (cfg->sandbox && sandbox_init() == -1)
		log_msg(LOGL_WARN, "children run without a sandbox: %s",
		    strerror(errno));
	return spawn_run(master_loop, p);
}
