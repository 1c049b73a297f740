/*
 * pool_policy.c: the spare-child policy, after Postfix's master_avail.c
 * and Apache's prefork: keep `spare` children idle (more for a moment
 * after a burst), never more than `max_children` in all, no spawning
 * during a back-off after a failure, idle children above the target
 * retired, and after a stop every idle child retired and, at the drain
 * timeout, the open pairs ended.  It makes no system call, reads no clock
 * and logs nothing: the master carries out and reports what it answers,
 * and a test drives it with made-up counts and times.  Calls nothing.
 */
#include <string.h>

#include "pool_policy.h"

/*
 * policy_init: --spare and --max-children, and the clock at start.
 */
void
policy_init(struct policy *p, unsigned spare, unsigned max_children,
    int64_t now)
{
	*p = (struct policy){ .spare = spare, .max_children = max_children,
	    .backoff_ms = POLICY_BACKOFF_MIN_MS, .window_start = now,
	    .target = spare };
}

/*
 * policy_reuse: busy children come back idle.  Under a steady load one
 * comes back about when the next client is taken, so the idle count
 * swings around the target: retiring on every swing above it and forking
 * on every swing below would cost a fork per client again.  So the pool
 * keeps what it grew to while clients come, and shrinks after one quiet
 * window.
 */
void
policy_reuse(struct policy *p)
{
	p->reuse = 1;
}

/*
 * policy_taken: a child took a client.
 */
void
policy_taken(struct policy *p)
{
	p->backoff_ms = POLICY_BACKOFF_MIN_MS;
	p->taken_now++;
}

/*
 * policy_hold: pause spawning, each time twice as long, up to the cap.
 */
int64_t
policy_hold(struct policy *p, int64_t now)
{
	int64_t ms = p->backoff_ms;

	p->hold_until = now + ms;
	p->backoff_ms *= 2;
	if (p->backoff_ms > POLICY_BACKOFF_MAX_MS)
		p->backoff_ms = POLICY_BACKOFF_MAX_MS;
	return ms;
}

/* Roll the accept-rate window forward to now. */
static void
window_roll(struct policy *p, int64_t now)
{
	if (now - p->window_start < POLICY_WINDOW_MS)
		return;
	/* A window with no event in it counts as an empty one. */
	p->taken_last = now - p->window_start < 2 * POLICY_WINDOW_MS ?
	    p->taken_now : 0;
	p->taken_now = 0;
	p->window_start = now;
}

/*
 * How many idle children to keep: --spare, or as many clients as were
 * taken in the last full window if that is more, up to POLICY_SPARE_GROWTH
 * times --spare, so that recurring bursts find children waiting rather
 * than forks in flight.  It falls back to --spare one quiet window after
 * the burst.  The cap matters: under a steady load every idle child is a
 * process the scheduler and each fork pay for, and a pool sized to a
 * whole window of clients measured slower than a fixed one.
 */
static unsigned
target(struct policy *p, int64_t now)
{
	unsigned t = p->spare, most = POLICY_SPARE_GROWTH * t;

	window_roll(p, now);
	if (p->taken_last > t)
		t = p->taken_last < most ? p->taken_last : most;
	return t;
}

/* Spawn toward the target, within --max-children and outside a hold. */
static void
grow(struct policy *p, const struct policy_in *in, unsigned want,
    int64_t now, struct policy_plan *plan)
{
	unsigned live = in->idle + in->busy + in->retiring;
	unsigned room = live < p->max_children ? p->max_children - live : 0;

	if (want == 0 || now < p->hold_until)
		return;
	if (room < want && !p->at_limit)
		p->at_limit = plan->at_limit = 1;
	else if (room >= want)
		p->at_limit = 0;
	plan->spawn = want < room ? want : room;
	if (plan->spawn > POLICY_SPAWN_BATCH)
		plan->spawn = POLICY_SPAWN_BATCH;
}

/* The earliest time the answer can change without an event, or -1. */
static int64_t
wake(const struct policy *p, const struct policy_in *in, unsigned idle,
    int64_t now, const struct policy_plan *plan)
{
	int64_t t = -1;

	if (plan->spawn == POLICY_SPAWN_BATCH)
		return now;	/* maybe more to fork, after the signals */
	if (in->stop == POLICY_RUNNING) {
		/* Held short of --spare: spawn when the hold ends. */
		if (idle < p->spare && now < p->hold_until)
			t = p->hold_until;
		/* Above --spare after a burst: look again when it rolls. */
		if (p->taken_now + p->taken_last > 0 && (t == -1 ||
		    p->window_start + POLICY_WINDOW_MS < t))
			t = p->window_start + POLICY_WINDOW_MS;
	} else if (in->stop == POLICY_DRAINING && in->drain_until != 0 &&
	    in->busy > 0 && !plan->end_pairs)
		t = in->drain_until;
	return t;
}

/*
 * policy_run: what to do now.
 */
void
policy_run(struct policy *p, const struct policy_in *in, int64_t now,
    struct policy_plan *plan)
{
	unsigned t;

	memset(plan, 0, sizeof(*plan));
	if (in->stop != POLICY_RUNNING) {
		plan->retire = in->idle;
		plan->end_pairs = in->stop == POLICY_DRAINING &&
		    in->drain_until != 0 && now >= in->drain_until &&
		    in->busy > 0;
	} else {
		t = target(p, now);
		plan->target_moved = t != p->target;
		p->target = t;
		if (in->idle > t) {
			if (!p->reuse || p->taken_now + p->taken_last == 0)
				plan->retire = in->idle - t;
		} else
			grow(p, in, t - in->idle, now, plan);
	}
	plan->wake_at = wake(p, in, in->idle + plan->spawn - plan->retire,
	    now, plan);
}
