/*
 * pool.c: the master.  Owns the slot table (the one authority on which
 * children exist and what they do), the status pipe's read end and the
 * listening sockets.  One routine, adjust(), re-evaluates the policy after
 * every event: keep `spare` children idle, never exceed `max_children`,
 * pause spawning after a failure, retire idle children that are not
 * needed.  The master never sleeps, never touches client data and stays
 * small, because every fork() copies its page tables.
 * Calls spawn, child (in the forked child only), sig, dest, notify,
 * scoreboard, title, netio, log, util.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "notify.h"
#include "scoreboard.h"
#include "netio.h"
#include "sig.h"
#include "spawn.h"
#include "title.h"
#include "util.h"
#include "pool.h"

enum slot_state { SLOT_FREE = 0, SLOT_IDLE, SLOT_BUSY, SLOT_RETIRING,
	SLOT_NSTATES };

static const char *const state_name[] = {
	"free", "idle", "busy", "retiring"
};

struct slot {
	pid_t		 pid;
	uint32_t	 gen;		/* generation it was forked in */
	enum slot_state	 state;
};

struct pool {
	const struct config *cfg;
	int		*lfds;
	int		 nlfd;
	struct slot	*slots;		/* cfg->max_children of them */
	unsigned	 hiwater;	/* slots at and above are free */
	unsigned	 lowfree;	/* slots below are all in use */
	unsigned	 count[SLOT_NSTATES];
	uint32_t	 gen;		/* bumped by each reload */
	int		 statusr, statusw;
	int		 stopping;	/* 1: draining, 2: ending pairs */
	int		 exitcode;
	int64_t		 hold_until;	/* no spawning before this */
	int64_t		 backoff_ms;
	int64_t		 retire_at;	/* next retire signal resend */
	int64_t		 drain_until;	/* stopping: end open pairs then */
	int64_t		 warned_fork, warned_limit, warned_hold;
	int		 at_limit;
	int64_t		 window_start;	/* the accept-rate window (see target) */
	unsigned	 taken_now;	/* clients taken in this window */
	unsigned	 taken_last;	/* clients taken in the previous one */
	unsigned	 last_target;	/* what target() said last time */
	uint64_t	 spawned, served, failed, fork_failed;
	uint64_t	 bytes_up, bytes_down;	/* of pairs that ended */
	int64_t		 status_at;	/* no systemd STATUS= before this */
	int		 status_due;	/* counts changed since the last one */
	unsigned	 status_busy, status_idle;
	uint64_t	 status_ended;	/* served + failed */
};

/*
 * The master's state lives in a mapping children do not inherit: pages the
 * master writes after a fork would otherwise stay behind, as a private
 * copy, in every child forked before the write.  The slot table follows
 * it in the same mapping.
 */
static struct pool	*P;
static struct dest	 pool_dest;	/* what new children connect to */

static unsigned
live(void)
{
	return P->count[SLOT_IDLE] + P->count[SLOT_BUSY] +
	    P->count[SLOT_RETIRING];
}

static void
set_state(unsigned i, enum slot_state st)
{
	P->count[P->slots[i].state]--;
	P->slots[i].state = st;
	P->count[st]++;
	if (st == SLOT_FREE) {
		P->slots[i].pid = 0;
		if (i < P->lowfree)
			P->lowfree = i;
		while (P->hiwater > 0 && P->slots[P->hiwater - 1].state ==
		    SLOT_FREE)
			P->hiwater--;
	} else if (i >= P->hiwater)
		P->hiwater = i + 1;
}

static int
find_pid(pid_t pid)
{
	unsigned i;

	for (i = 0; i < P->hiwater; i++)
		if (P->slots[i].state != SLOT_FREE && P->slots[i].pid == pid)
			return (int)i;
	return -1;
}

/* The lowest free slot, scanning from the lowest that may be free. */
static int
find_free(void)
{
	unsigned i;

	for (i = P->lowfree; i < P->cfg->max_children; i++)
		if (P->slots[i].state == SLOT_FREE)
			break;
	P->lowfree = i;		/* a failed fork leaves slot i free: fine */
	return i < P->cfg->max_children ? (int)i : -1;
}

/* Pause spawning, each time twice as long, up to the cap. */
static void
hold(int64_t now, const char *why)
{
	P->hold_until = now + P->backoff_ms;
	log_limited(&P->warned_hold, POOL_WARN_MS, LOGL_WARN,
	    "%s; pausing new children for %lld ms", why,
	    (long long)P->backoff_ms);
	P->backoff_ms *= 2;
	if (P->backoff_ms > POOL_BACKOFF_MAX_MS)
		P->backoff_ms = POOL_BACKOFF_MAX_MS;
}

/* What a new child gets: its context, and the master's end to close. */
struct birth {
	struct child_ctx ctx;
	int		 statusr;
};

static void
child_main(const void *p)
{
	const struct birth *b = p;

	(void)close(b->statusr);
	sb_child_close();
	child_run(&b->ctx);
}

/* Fork n idle children; signals stay blocked until each has its own. */
static void
spawn(unsigned n, int64_t now)
{
	struct birth b;		/* P is not mapped in the child */
	sigset_t old;
	pid_t pid;
	int i;

	memset(&b, 0, sizeof(b));
	b.ctx.master = getpid();
	b.statusr = P->statusr;
	sig_block(&old);
	while (n-- > 0 && (i = find_free()) != -1) {
		b.ctx.cfg = P->cfg;
		b.ctx.dest = &pool_dest;
		b.ctx.lfds = P->lfds;
		b.ctx.nlfd = P->nlfd;
		b.ctx.statusfd = P->statusw;
		b.ctx.slot = (uint32_t)i;
		b.ctx.gen = P->gen;
		b.ctx.sb = sb_slot((unsigned)i);
		/* Before the child can write its own state there. */
		sb_master_set((unsigned)i, 0, SB_IDLE);
		if ((pid = spawn_child(child_main, &b, sizeof(b))) == -1) {
			sb_master_set((unsigned)i, 0, SB_FREE);
			P->fork_failed++;
			log_limited(&P->warned_fork, POOL_WARN_MS, LOGL_WARN,
			    "fork: %s", strerror(errno));
			hold(now, "cannot fork");
			break;
		}
		P->slots[i].pid = pid;
		P->slots[i].gen = P->gen;
		sb_master_set((unsigned)i, (int32_t)pid, SB_NSTATES);
		set_state((unsigned)i, SLOT_IDLE);
		P->spawned++;
	}
	sig_restore(&old);
}

/* Ask idle children to leave; repeated until they have (see child.c). */
static void
retire(unsigned n, int64_t now)
{
	unsigned i;

	for (i = 0; i < P->hiwater && n > 0; i++)
		if (P->slots[i].state == SLOT_IDLE) {
			(void)kill(P->slots[i].pid, SIGUSR2);
			set_state(i, SLOT_RETIRING);
			n--;
		}
	P->retire_at = now + POOL_RETIRE_AGAIN_MS;
}

static void
signal_all(enum slot_state st, int sig)
{
	unsigned i;

	for (i = 0; i < P->hiwater; i++)
		if (P->slots[i].state == st)
			(void)kill(P->slots[i].pid, sig);
}

/* Ask every open pair to end now (a busy child aborts its pair). */
static void
end_pairs(void)
{
	P->stopping = 2;
	signal_all(SLOT_BUSY, SIGTERM);
	signal_all(SLOT_RETIRING, SIGTERM);
}

/* Roll the accept-rate window forward to now. */
static void
window_roll(int64_t now)
{
	if (now - P->window_start < POOL_WINDOW_MS)
		return;
	/* A window with no event in it counts as an empty one. */
	P->taken_last = now - P->window_start < 2 * POOL_WINDOW_MS ?
	    P->taken_now : 0;
	P->taken_now = 0;
	P->window_start = now;
}

/*
 * How many idle children to keep: --spare, or as many clients as were
 * taken in the last full window if that is more, up to POOL_SPARE_GROWTH
 * times --spare, so that recurring bursts find children waiting rather
 * than forks in flight.  It falls back to --spare one quiet window after
 * the burst.  The cap matters: under a steady load every idle child is a
 * process the scheduler and each fork pay for, and a pool sized to a
 * whole window of clients measured slower than a fixed one.
 */
static unsigned
target(int64_t now)
{
	unsigned t = P->cfg->spare, most = POOL_SPARE_GROWTH * t;

	window_roll(now);
	if (P->taken_last > t)
		t = P->taken_last < most ? P->taken_last : most;
	if (t != P->last_target && P->last_target != 0)
		log_msg(LOGL_DEBUG, "keeping %u idle children (%u clients "
		    "taken in the last %d ms)", t, P->taken_last,
		    POOL_WINDOW_MS);
	P->last_target = t;
	return t;
}

/*
 * The policy, run after every event: the only place that forks or
 * retires children.
 */
static void
adjust(int64_t now)
{
	unsigned idle = P->count[SLOT_IDLE], want, room, spare;

	if (P->count[SLOT_RETIRING] > 0 && now >= P->retire_at) {
		signal_all(SLOT_RETIRING, SIGUSR2);
		P->retire_at = now + POOL_RETIRE_AGAIN_MS;
	}
	if (P->stopping) {
		if (idle > 0)
			retire(idle, now);
		if (P->stopping == 1 && P->drain_until != 0 &&
		    now >= P->drain_until && P->count[SLOT_BUSY] > 0) {
			log_msg(LOGL_INFO, "drain timeout: ending %u open "
			    "pair(s)", P->count[SLOT_BUSY]);
			end_pairs();
		}
		return;
	}
	spare = target(now);
	if (idle > spare) {
		retire(idle - spare, now);
		return;
	}
	want = spare - idle;
	room = P->cfg->max_children - live();
	if (want == 0 || now < P->hold_until)
		return;
	if (room < want && !P->at_limit) {
		P->at_limit = 1;
		log_limited(&P->warned_limit, POOL_WARN_MS, LOGL_WARN,
		    "all %u children in use (--max-children); new clients "
		    "wait in the listen queue", P->cfg->max_children);
	} else if (room >= want)
		P->at_limit = 0;
	if (room > 0)
		spawn(want < room ? want : room, now);
}

/* How a child ended, against what we knew of it. */
static void
judge(pid_t pid, enum slot_state was, int st, int64_t now)
{
	char why[128];

	if (WIFEXITED(st)) {
		switch (WEXITSTATUS(st)) {
		case CHILD_EXIT_SERVED:
			if (was == SLOT_BUSY)
				P->served++;
			return;
		case CHILD_EXIT_PEER:
			P->failed++;
			return;
		case CHILD_EXIT_SICK:
			(void)snprintf(why, sizeof(why),
			    "child %ld ran short of resources", (long)pid);
			hold(now, why);
			return;
		case CHILD_EXIT_FATAL:
			log_msg(LOGL_ERROR, "child %ld cannot accept on the "
			    "listening socket; shutting down", (long)pid);
			P->exitcode = 1;
			if (!P->stopping)
				P->stopping = 1;
			return;
		default:
			(void)snprintf(why, sizeof(why), "child %ld exited "
			    "with status %d", (long)pid, WEXITSTATUS(st));
			hold(now, why);
			return;
		}
	}
	if (!WIFSIGNALED(st))
		return;
	log_msg(was == SLOT_BUSY ? LOGL_INFO : LOGL_WARN,
	    "child %ld (%s) killed by %s", (long)pid, state_name[was],
	    sig_name(WTERMSIG(st)));
	/* Dying before taking a client is a broken child, not a peer. */
	if (was == SLOT_IDLE)
		hold(now, "an idle child died");
}

/* What a reaped child relayed, from its scoreboard slot, before reuse. */
static void
count_bytes(unsigned i)
{
	uint64_t up, down;

	sb_master_counts(i, &up, &down);
	P->bytes_up += up;
	P->bytes_down += down;
}

/* Reap every child that has ended: one SIGCHLD may stand for many. */
static void
reap(int64_t now)
{
	enum slot_state was;
	pid_t pid;
	int st, i;

	for (;;) {
		pid = waitpid(-1, &st, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		if ((i = find_pid(pid)) == -1) {
			log_msg(LOGL_WARN, "reaped unknown child %ld",
			    (long)pid);
			continue;
		}
		was = P->slots[i].state;
		set_state((unsigned)i, SLOT_FREE);
		count_bytes((unsigned)i);
		sb_master_set((unsigned)i, 0, SB_FREE);
		judge(pid, was, st, now);
	}
}

/* Children's "taken" records; odd ones (stale slot or pid) are ignored. */
static void
read_status(void)
{
	struct child_msg m[64];
	ssize_t n;
	size_t k;
	struct slot *s;

	for (;;) {
		n = read(P->statusr, m, sizeof(m));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		/* Records are written whole and atomically: no partials. */
		for (k = 0; k < (size_t)n / sizeof(m[0]); k++) {
			if (m[k].event != CHILD_MSG_TAKEN ||
			    m[k].slot >= P->hiwater)
				continue;
			s = &P->slots[m[k].slot];
			if (s->pid != (pid_t)m[k].pid || s->gen != m[k].gen ||
			    (s->state != SLOT_IDLE &&
			    s->state != SLOT_RETIRING))
				continue;
			set_state(m[k].slot, SLOT_BUSY);
			P->backoff_ms = POOL_BACKOFF_MIN_MS;
			P->taken_now++;
		}
	}
}

/*
 * systemd's view: state (READY=1, STOPPING=1, ...) with a STATUS= line.
 * Counts are sent as they change, at most once per POOL_STATUS_MS, so
 * that busy pools do not flood systemd and idle ones are never woken.
 */
static void
tell(const char *state, int64_t now)
{
	if (!notify_enabled())
		return;
	P->status_busy = P->count[SLOT_BUSY];
	P->status_idle = P->count[SLOT_IDLE];
	P->status_ended = P->served + P->failed;
	P->status_at = now + POOL_STATUS_MS;
	P->status_due = 0;
	notify("%sSTATUS=%s%u open pair(s), %u idle children; %llu served, "
	    "%llu failed", state, P->stopping ? "stopping; " : "",
	    P->status_busy, P->status_idle,
	    (unsigned long long)P->served, (unsigned long long)P->failed);
}

static void
status_check(int64_t now)
{
	if (!notify_enabled())
		return;
	if (P->count[SLOT_BUSY] == P->status_busy &&
	    P->count[SLOT_IDLE] == P->status_idle &&
	    P->served + P->failed == P->status_ended) {
		P->status_due = 0;	/* changed and changed back */
		return;
	}
	if (now >= P->status_at)
		tell("", now);
	else
		P->status_due = 1;
}

static void
stop(int sig)
{
	int64_t now = util_now_ms();
	int i;

	if (P->stopping == 0) {
		P->stopping = 1;
		if (P->cfg->drain_ms > 0)
			P->drain_until = now + P->cfg->drain_ms;
		log_msg(LOGL_INFO, "%s: no new clients; waiting for %u open "
		    "pair(s) to finish", sig_name(sig), P->count[SLOT_BUSY]);
		tell("STOPPING=1\n", now);
	} else if (P->stopping == 1) {
		log_msg(LOGL_INFO, "%s again: ending %u open pair(s)",
		    sig_name(sig), P->count[SLOT_BUSY]);
		end_pairs();
	}
	/* Idle children still hold the listener: they leave in adjust(). */
	for (i = 0; i < P->nlfd; i++)
		if (P->lfds[i] != -1) {
			(void)close(P->lfds[i]);
			P->lfds[i] = -1;
		}
}

static void
fmt_dest(char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < pool_dest.n && len + 2 < size; i++) {
		if (i > 0)
			buf[len++] = ' ';
		netio_fmtaddr((struct sockaddr *)&pool_dest.addr[i].ss,
		    pool_dest.addr[i].len, buf + len, size - len);
		len = strlen(buf);
	}
}

/*
 * SIGHUP: resolve the destination again.  New children use the answer;
 * idle children of the old generation are replaced (new ones first, so
 * the listener is never without a taker); busy pairs are untouched.
 */
static void
reload(int64_t now)
{
	char host[256], addrs[512];
	struct dest nd;
	unsigned old_idle = P->count[SLOT_IDLE];
	int rc;

	log_sanitize(host, sizeof(host), P->cfg->dest_host);
	if (!P->stopping)
		notify("RELOADING=1");
	rc = dest_resolve(P->cfg->dest_host, P->cfg->dest_port, &nd);
	if (!P->stopping)
		tell("READY=1\n", now);
	if (rc != 0) {
		log_msg(LOGL_WARN, "reload: cannot resolve '%s': %s; keeping "
		    "the old addresses", host, dest_strerror(rc));
		return;
	}
	if (!dest_equal(&nd, &pool_dest)) {
		pool_dest = nd;
		fmt_dest(addrs, sizeof(addrs));
		log_msg(LOGL_INFO, "reload: %s now resolves to %s", host,
		    addrs);
	} else
		log_msg(LOGL_INFO, "reload: %s unchanged", host);
	P->gen++;
	if (P->stopping)
		return;
	spawn(P->cfg->spare, now);
	retire(old_idle, now);
}

static void
report(void)
{
	log_msg(LOGL_INFO, "pool: %u idle, %u busy, %u retiring; %llu pairs "
	    "served, %llu failed; %llu bytes up, %llu down in ended pairs; "
	    "%llu children forked, %llu fork failures",
	    P->count[SLOT_IDLE], P->count[SLOT_BUSY], P->count[SLOT_RETIRING],
	    (unsigned long long)P->served, (unsigned long long)P->failed,
	    (unsigned long long)P->bytes_up, (unsigned long long)P->bytes_down,
	    (unsigned long long)P->spawned, (unsigned long long)P->fork_failed);
}

static void
on_signals(unsigned mask, int64_t now)
{
	if (mask & SIGBIT(SIGCHLD))
		reap(now);
	if (mask & SIGBIT(SIGTERM))
		stop(SIGTERM);
	if (mask & SIGBIT(SIGINT))
		stop(SIGINT);
	if (mask & SIGBIT(SIGHUP))
		reload(now);
	if (mask & SIGBIT(SIGUSR1))
		report();
}

/* The earliest timer adjust() needs, as a pselect() timeout, or NULL. */
static struct timespec *
next_timeout(struct timespec *ts, int64_t now)
{
	int64_t t = -1;

	if (P->count[SLOT_RETIRING] > 0)
		t = P->retire_at;
	if (!P->stopping && P->count[SLOT_IDLE] < P->cfg->spare &&
	    now < P->hold_until && (t == -1 || P->hold_until < t))
		t = P->hold_until;
	/* Above --spare after a burst: look again when the window rolls. */
	if (!P->stopping && P->taken_now + P->taken_last > 0) {
		int64_t w = P->window_start + POOL_WINDOW_MS;

		if (t == -1 || w < t)
			t = w;
	}
	if (P->status_due && (t == -1 || P->status_at < t))
		t = P->status_at;
	if (P->stopping == 1 && P->drain_until != 0 &&
	    P->count[SLOT_BUSY] > 0 && (t == -1 || P->drain_until < t))
		t = P->drain_until;
	if (t == -1)
		return NULL;
	t = t > now ? t - now : 0;
	ts->tv_sec = t / 1000;
	ts->tv_nsec = (t % 1000) * 1000000;
	return ts;
}

/*
 * Sleep until a child reports, a signal arrives or a timer is due.  The
 * caught signals are blocked everywhere but inside pselect(), so none can
 * slip in between deciding to sleep and sleeping.
 */
static int
wait_events(int64_t now)
{
	struct timespec ts;
	fd_set rset;

	FD_ZERO(&rset);
	FD_SET(P->statusr, &rset);
	if (pselect(P->statusr + 1, &rset, NULL, NULL, next_timeout(&ts, now),
	    sig_waitmask()) == -1) {
		if (errno == EINTR) {
			/*
			 * Records before reaping: a child may have taken a
			 * client and exited already, and its pair counts.
			 */
			read_status();
			on_signals(sig_take(), util_now_ms());
			return 0;
		}
		log_msg(LOGL_ERROR, "pselect: %s", strerror(errno));
		return -1;
	}
	if (FD_ISSET(P->statusr, &rset))
		read_status();
	return 0;
}

/* Zeroed state and slot table, kept out of children (MADV_DONTFORK). */
static struct pool *
state_alloc(unsigned nslots)
{
	size_t size = sizeof(struct pool) + nslots * sizeof(struct slot);
	struct pool *pool;

	pool = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pool == MAP_FAILED)
		return NULL;
#ifdef MADV_DONTFORK
	(void)madvise(pool, size, MADV_DONTFORK);
#endif
	pool->slots = (struct slot *)(pool + 1);
	return pool;
}

static int
setup(const struct config *cfg, const struct dest *dest, int *lfds,
    int nlfd)
{
	int sp[2], i;

	if ((P = state_alloc(cfg->max_children)) == NULL)
		return -1;
	P->cfg = cfg;
	pool_dest = *dest;
	P->lfds = lfds;
	P->nlfd = nlfd;
	P->backoff_ms = POOL_BACKOFF_MIN_MS;
	P->count[SLOT_FREE] = cfg->max_children;
	/* Several listeners: children select() on them, so no blocking. */
	for (i = 0; nlfd > 1 && i < nlfd; i++)
		if (netio_fd_ok(lfds[i]) == -1 ||
		    netio_nonblock(lfds[i], 1) == -1)
			return -1;
	/* Non-blocking both ways: a child must never wait on the master. */
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	P->statusr = sp[0];
	P->statusw = sp[1];
	if (sig_init(SIGBIT(SIGTERM) | SIGBIT(SIGINT) | SIGBIT(SIGHUP) |
	    SIGBIT(SIGUSR1) | SIGBIT(SIGCHLD), 1) == -1)
		return -1;
	if (sb_create(cfg->max_children) == -1)
		log_msg(LOGL_WARN, "no scoreboard (--status will not work): "
		    "%s", strerror(errno));
	/* A stray retire signal (our children's) must not kill the master. */
	sig_ignore(SIGUSR2);
	if (netio_fd_ok(P->statusr) == -1)
		return -1;
	return 0;
}

static void
announce(void)
{
	char host[256], addrs[512], names[512];
	struct sockaddr_storage ss;
	socklen_t len;
	size_t n = 0;
	int i, v6;

	names[0] = '\0';
	for (i = 0; i < P->nlfd && n + 2 < sizeof(names); i++) {
		len = sizeof(ss);
		if (getsockname(P->lfds[i], (struct sockaddr *)&ss, &len) == -1)
			continue;
		if (n > 0)
			names[n++] = ' ';
		netio_fmtaddr((struct sockaddr *)&ss, len, names + n,
		    sizeof(names) - n);
		n = strlen(names);
	}
	log_sanitize(host, sizeof(host), P->cfg->dest_host);
	fmt_dest(addrs, sizeof(addrs));
	log_msg(LOGL_INFO, "listening on %s, forwarding to %s port %s (%s); "
	    "%u spare, at most %u children", names, host, P->cfg->dest_port,
	    addrs, P->cfg->spare, P->cfg->max_children);
	v6 = strchr(host, ':') != NULL;	/* an IPv6 literal, bracketed */
	title_set("master", names, " > ", v6 ? "[" : "", host, v6 ? "]" : "",
	    ":", P->cfg->dest_port, (const char *)NULL);
}

/* The master's loop, until stopped and every child is reaped. */
static int
master_loop(void *unused)
{
	int64_t now;

	(void)unused;
	adjust(now = util_now_ms());
	tell("READY=1\n", now);
	for (;;) {
		adjust(now = util_now_ms());
		status_check(now);
		if (P->stopping && live() == 0)
			break;
		if (wait_events(util_now_ms()) == -1) {
			P->exitcode = 1;
			break;
		}
	}
	log_msg(LOGL_INFO, "stopped; %llu pairs served, %llu failed",
	    (unsigned long long)P->served, (unsigned long long)P->failed);
	return P->exitcode;
}

/*
 * pool_run: set up and run the master until it stops.
 */
int
pool_run(const struct config *cfg, const struct dest *dest, int *lfds,
    int nlfd)
{
	if (setup(cfg, dest, lfds, nlfd) == -1) {
		log_msg(LOGL_ERROR, "cannot start the pool: %s",
		    strerror(errno));
		return 1;
	}
	/*
	 * Titles in the page a child starts on, not in the argv area: one
	 * page fewer for every child.
	 */
	(void)title_move(spawn_title_area(), SPAWN_TITLE_MAX);
	announce();
	return spawn_run(master_loop, NULL);
}
