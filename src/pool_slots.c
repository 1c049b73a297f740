/*
 * pool_slots.c: the master's children, after Postfix's master_spawn.c and
 * master_status.c.  Owns the slot table (the one authority on which
 * children exist and what they do), the taken pipe's read end and the
 * counts of what children did.  Forks children, asks them to leave,
 * reaps and judges them, and reads their "taken" records, which it checks
 * against pid and generation.  Decides nothing: the policy says how many,
 * and hears here of every take and failure.  Lives in memory children do
 * not inherit (see README, "Pages").  Calls spawn, child (in the new
 * child only), pool_policy, scoreboard, notify, srclim, sig, log and
 * netio.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "end.h"
#include "log.h"
#include "netio.h"
#include "notify.h"
#include "scoreboard.h"
#include "sig.h"
#include "spawn.h"
#include "srclim.h"
#include "pool_slots.h"

static const char *const state_name[] = { "free", "idle", "busy", "retiring" };

/* The master's own bug: say so and stop, as Postfix's msg_panic(). */
static void __attribute__((noreturn))
panic(const char *what, unsigned i)
{
	log_msg(LOGL_ERROR, "bug: slot table: %s (slot %u)", what, i);
	abort();
}

/*
 * slots_init: the table and the taken pipe, non-blocking both ways: a
 * child must never wait on the master.
 */
int
slots_init(struct slots *s, struct slot *table, unsigned n,
    struct policy *policy)
{
	int fds[2];

	memset(s, 0, sizeof(*s));
	s->slot = table;
	s->n = n;
	s->count[SLOT_FREE] = n;
	s->policy = policy;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
#ifdef F_SETPIPE_SZ
	/*
	 * Room for some 26,000 records rather than 1,600, for a master
	 * that is stopped or behind while reusing children serve on (a
	 * record that finds the pipe full is lost: child.c).  The limit
	 * for an unprivileged user is 1 MiB by default; less is kept.
	 */
	(void)fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
#endif
	s->takenr = fds[0];
	s->takenw = fds[1];
	return netio_fd_ok(s->takenr);
}

unsigned
slots_live(const struct slots *s)
{
	return s->count[SLOT_IDLE] + s->count[SLOT_BUSY] +
	    s->count[SLOT_RETIRING];
}

static void
set_state(struct slots *s, unsigned i, enum slot_state st)
{
	s->count[s->slot[i].state]--;
	s->slot[i].state = st;
	s->count[st]++;
	if (st == SLOT_FREE) {
		s->slot[i].pid = 0;
		if (i < s->lowfree)
			s->lowfree = i;
		while (s->hiwater > 0 && s->slot[s->hiwater - 1].state ==
		    SLOT_FREE)
			s->hiwater--;
	} else if (i >= s->hiwater)
		s->hiwater = i + 1;
}

static int
find_pid(const struct slots *s, pid_t pid)
{
	unsigned i;

	for (i = 0; i < s->hiwater; i++)
		if (s->slot[i].state != SLOT_FREE && s->slot[i].pid == pid)
			return (int)i;
	return -1;
}

/* The lowest free slot, scanning from the lowest that may be free. */
static int
find_free(struct slots *s)
{
	unsigned i;

	for (i = s->lowfree; i < s->n; i++)
		if (s->slot[i].state == SLOT_FREE)
			break;
	s->lowfree = i;		/* a failed fork leaves slot i free: fine */
	return i < s->n ? (int)i : -1;
}

/* Pause spawning for the policy's back-off, and say why (rate-limited). */
static void
hold(struct slots *s, int64_t now, const char *why)
{
	int64_t ms = policy_hold(s->policy, now);

	log_limited(&s->warned_hold, SLOTS_WARN_MS, LOGL_WARN,
	    "%s; pausing new children for %lld ms", why, (long long)ms);
}

/* What a new child gets: its context, and the master's end to close. */
struct birth {
	struct child_ctx ctx;
	int		 takenr;
};

static void
child_main(const void *p)
{
	const struct birth *b = p;

	(void)close(b->takenr);
	sb_child_close();
	notify_child_close();
	child_run(&b->ctx);
}

/* Fork one child into free slot i: 0, or -1 with errno. */
static int
birth(struct slots *s, unsigned i, struct birth *b)
{
	pid_t pid;

	b->ctx.slot = (uint32_t)i;
	b->ctx.gen = s->gen;
	b->ctx.sb = sb_slot(i);
	/* Before the child can write its own state there. */
	sb_master_set(i, 0, SB_IDLE);
	if ((pid = spawn_child(child_main, b, sizeof(*b))) == -1) {
		sb_master_set(i, 0, SB_FREE);
		return -1;
	}
	if (find_pid(s, pid) != -1)
		panic("a new child's pid is in use", i);
	s->slot[i].pid = pid;
	s->slot[i].gen = s->gen;
	sb_master_set(i, (int32_t)pid, SB_NSTATES);
	set_state(s, i, SLOT_IDLE);
	s->spawned++;
	return 0;
}

/*
 * slots_spawn: fork n idle children; signals stay blocked until each has
 * its own.
 */
int
slots_spawn(struct slots *s, unsigned n, const struct child_ctx *tmpl,
    int64_t now)
{
	struct birth b;		/* the slot table is not in the child */
	sigset_t old;
	int i, rc = 0;

	memset(&b, 0, sizeof(b));
	b.ctx = *tmpl;
	b.ctx.takenfd = s->takenw;
	b.takenr = s->takenr;
	sig_block(&old);
	while (n-- > 0 && (i = find_free(s)) != -1)
		if (birth(s, (unsigned)i, &b) == -1) {
			s->fork_failed++;
			log_limited(&s->warned_fork, SLOTS_WARN_MS, LOGL_WARN,
			    "fork: %s", strerror(errno));
			hold(s, now, "cannot fork");
			rc = -1;
			break;
		}
	sig_restore(&old);
	return rc;
}

/* Retire idle slot i: SIGUSR2, repeated until it has left (child.c). */
static void
retire_one(struct slots *s, unsigned i)
{
	(void)kill(s->slot[i].pid, SIGUSR2);
	set_state(s, i, SLOT_RETIRING);
}

/*
 * slots_retire: ask n idle children to leave, those forked before the
 * last reload first, so that none keeps the old destination.
 */
void
slots_retire(struct slots *s, unsigned n, int64_t now)
{
	unsigned i;

	for (i = 0; i < s->hiwater && n > 0; i++)
		if (s->slot[i].state == SLOT_IDLE && s->slot[i].gen != s->gen) {
			retire_one(s, i);
			n--;
		}
	for (i = 0; i < s->hiwater && n > 0; i++)
		if (s->slot[i].state == SLOT_IDLE) {
			retire_one(s, i);
			n--;
		}
	s->retire_at = now + SLOTS_RETIRE_AGAIN_MS;
}

void
slots_resignal(struct slots *s, int64_t now)
{
	if (s->count[SLOT_RETIRING] == 0 || now < s->retire_at)
		return;
	slots_signal(s, SLOT_RETIRING, SIGUSR2);
	s->retire_at = now + SLOTS_RETIRE_AGAIN_MS;
}

int64_t
slots_wake(const struct slots *s)
{
	return s->count[SLOT_RETIRING] > 0 ? s->retire_at : -1;
}

void
slots_signal(const struct slots *s, enum slot_state st, int sig)
{
	unsigned i;

	for (i = 0; i < s->hiwater; i++)
		if (s->slot[i].state == st)
			(void)kill(s->slot[i].pid, sig);
}

/* An exit status, against what we knew of the child. */
static void
judge_exit(struct slots *s, pid_t pid, enum slot_state was, int code,
    int64_t now)
{
	char why[128];

	switch (code) {
	case END_EXIT_SERVED:
		if (was == SLOT_BUSY)
			s->served++;
		return;
	case END_EXIT_PEER:
		s->failed++;
		return;
	case END_EXIT_SICK:
		(void)snprintf(why, sizeof(why),
		    "child %ld ran short of resources", (long)pid);
		hold(s, now, why);
		return;
	case END_EXIT_FATAL:
		log_msg(LOGL_ERROR, "child %ld cannot accept on the "
		    "listening socket; shutting down", (long)pid);
		s->fatal = 1;
		return;
	default:
		(void)snprintf(why, sizeof(why), "child %ld exited "
		    "with status %d", (long)pid, code);
		hold(s, now, why);
		return;
	}
}

/* How a child ended, against what we knew of it. */
static void
judge(struct slots *s, pid_t pid, enum slot_state was, int st, int64_t now)
{
	if (WIFEXITED(st)) {
		judge_exit(s, pid, was, WEXITSTATUS(st), now);
		return;
	}
	if (!WIFSIGNALED(st))
		return;
	log_msg(was == SLOT_BUSY ? LOGL_INFO : LOGL_WARN,
	    "child %ld (%s) killed by %s", (long)pid, state_name[was],
	    sig_name(WTERMSIG(st)));
	/* Dying before taking a client is a broken child, not a peer. */
	if (was == SLOT_IDLE)
		hold(s, now, "an idle child died");
}

/*
 * The next child that has ended, left a zombie (WNOWAIT) so that its pid
 * cannot be reused meanwhile: its pid, or 0 when none has.
 */
static pid_t
next_ended(void)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
			return si.si_pid;
		if (errno != EINTR)
			return 0;	/* ECHILD: no child at all */
	}
}

/*
 * slots_reap: every child that has ended: one SIGCHLD may stand for many.
 */
void
slots_reap(struct slots *s, int64_t now)
{
	enum slot_state was;
	uint64_t up, down;
	pid_t pid;
	int st, i;

	while ((pid = next_ended()) > 0) {
		/*
		 * It may have written records since the taken pipe was last
		 * read (taken a client, served pairs, then exited): all it
		 * wrote is there by now, and counts before its exit does.
		 * Its pid is still a zombie's, should a record make us
		 * signal it.
		 */
		slots_read_taken(s);
		i = find_pid(s, pid);
		while (waitpid(pid, &st, 0) == -1) {
			if (errno != EINTR) {
				/* A zombie we were just shown: cannot be. */
				log_msg(LOGL_ERROR, "bug: waitpid(%ld): %s",
				    (long)pid, strerror(errno));
				abort();
			}
		}
		if (i == -1) {
			log_msg(LOGL_WARN, "reaped unknown child %ld",
			    (long)pid);
			continue;
		}
		was = s->slot[i].state;
		set_state(s, (unsigned)i, SLOT_FREE);
		/* What it relayed and counted, before the slot is reused. */
		sb_master_counts((unsigned)i, &up, &down);
		s->bytes_up += up;
		s->bytes_down += down;
		srclim_release((unsigned)i);
		sb_master_set((unsigned)i, 0, SB_FREE);
		judge(s, pid, was, st, now);
	}
}

/*
 * A child that served a pair is idle again (--pairs-per-child): count the
 * pair as its exit would have, and retire the child at once if it is of
 * an older generation, which must not take another client.
 */
static void
back_idle(struct slots *s, unsigned i, const struct child_msg *m)
{
	if (m->code == END_EXIT_SERVED)
		s->served++;
	else
		s->failed++;
	s->bytes_up += m->up;
	s->bytes_down += m->down;
	set_state(s, i, SLOT_IDLE);
	if (s->slot[i].gen != s->gen)
		retire_one(s, i);
}

/*
 * slots_read_taken: children's records; odd ones (a stale slot, pid or
 * generation) are ignored, as a child may be gone already.
 */
void
slots_read_taken(struct slots *s)
{
	struct child_msg m[64];
	struct slot *sl;
	ssize_t n;
	size_t k;

	for (;;) {
		n = read(s->takenr, m, sizeof(m));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		/* Records are written whole and atomically: no partials. */
		for (k = 0; k < (size_t)n / sizeof(m[0]); k++) {
			if (m[k].slot >= s->hiwater)
				continue;
			sl = &s->slot[m[k].slot];
			if (sl->pid != (pid_t)m[k].pid || sl->gen != m[k].gen)
				continue;
			if (m[k].event == CHILD_MSG_TAKEN &&
			    (sl->state == SLOT_IDLE ||
			    sl->state == SLOT_RETIRING)) {
				set_state(s, m[k].slot, SLOT_BUSY);
				policy_taken(s->policy);
			} else if (m[k].event == CHILD_MSG_IDLE &&
			    sl->state == SLOT_BUSY)
				back_idle(s, m[k].slot, &m[k]);
		}
		/* Less than asked for: the pipe is empty, no EAGAIN read. */
		if ((size_t)n < sizeof(m))
			return;
	}
}

/*
 * slots_check: the counts match the states, a slot has a pid exactly when
 * it is in use, none below lowfree is free and the one below hiwater is
 * used.  One scan of the used part of the table, after every event; a
 * pid twice is caught at birth instead, where it costs one scan.
 */
void
slots_check(const struct slots *s)
{
	unsigned count[SLOT_NSTATES] = { 0 }, i;
	enum slot_state st;

	for (i = 0; i < s->hiwater; i++) {
		st = s->slot[i].state;
		if ((unsigned)st >= SLOT_NSTATES)
			panic("unknown state", i);
		if ((st == SLOT_FREE) != (s->slot[i].pid == 0))
			panic("a pid in a free slot, or none in a used one", i);
		if (i < s->lowfree && st == SLOT_FREE)
			panic("a free slot below lowfree", i);
		count[st]++;
	}
	if (s->hiwater > 0 && s->slot[s->hiwater - 1].state == SLOT_FREE)
		panic("hiwater above a free slot", s->hiwater - 1);
	count[SLOT_FREE] += s->n - s->hiwater;
	for (st = SLOT_FREE; st < SLOT_NSTATES; st++)
		if (count[st] != s->count[st])
			panic("counts do not match the states", (unsigned)st);
}
