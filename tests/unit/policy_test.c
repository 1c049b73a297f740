/*
 * policy_test.c: unit tests for pool_policy.c, the master's spare-child
 * policy, driven by made-up counts and clock readings.  Each test asks
 * the policy what to do for a pool state and checks the plan: how many
 * to spawn and retire, when to end pairs, when to run again.  No
 * processes, no clock.  Output is TAP (tap.h).  Calls pool_policy.c only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_policy.h"
#include "tap.h"

#define SPARE	4
#define MAXCH	20
#define T0	1000000		/* the clock at start, ms */

static struct policy_in
pool(unsigned idle, unsigned busy, unsigned retiring)
{
	struct policy_in in;

	memset(&in, 0, sizeof(in));
	in.idle = idle;
	in.busy = busy;
	in.retiring = retiring;
	in.stop = POLICY_RUNNING;
	return in;
}

static void
run(struct policy *p, unsigned idle, unsigned busy, int64_t now,
    struct policy_plan *plan)
{
	struct policy_in in = pool(idle, busy, 0);

	policy_run(p, &in, now, plan);
}

static void
t_start_spawns_spare(void)
{
	struct policy p;
	struct policy_plan plan;

	policy_init(&p, SPARE, MAXCH, T0);
	run(&p, 0, 0, T0, &plan);
	CHECK(plan.spawn == SPARE);
	CHECK(plan.retire == 0);
	CHECK(!plan.end_pairs && !plan.at_limit && !plan.target_moved);
	CHECK(plan.wake_at == -1);
	/* Carried out: nothing more to do, and no timer. */
	run(&p, SPARE, 0, T0, &plan);
	CHECK(plan.spawn == 0 && plan.retire == 0);
	CHECK(plan.wake_at == -1);
}

static void
t_replaces_taken_children(void)
{
	struct policy p;
	struct policy_plan plan;

	policy_init(&p, SPARE, MAXCH, T0);
	policy_taken(&p);
	run(&p, SPARE - 1, 1, T0 + 1, &plan);
	CHECK(plan.spawn == 1);
	/* A take counts toward the rate: look again when the window ends. */
	CHECK(plan.wake_at == T0 + POLICY_WINDOW_MS);
}

static void
t_retires_surplus(void)
{
	struct policy p;
	struct policy_plan plan;

	policy_init(&p, SPARE, MAXCH, T0);
	run(&p, SPARE + 3, 2, T0, &plan);
	CHECK(plan.retire == 3);
	CHECK(plan.spawn == 0);
}

static void
t_max_children(void)
{
	struct policy p;
	struct policy_plan plan;

	policy_init(&p, SPARE, MAXCH, T0);
	/* Room for 2 of the 4 wanted: spawn 2, and say so once. */
	run(&p, 0, MAXCH - 2, T0, &plan);
	CHECK(plan.spawn == 2);
	CHECK(plan.at_limit == 1);
	run(&p, 2, MAXCH - 2, T0, &plan);
	CHECK(plan.spawn == 0);
	CHECK(plan.at_limit == 0);
	/* Full: nothing to spawn and no timer: only a reap can help. */
	run(&p, 0, MAXCH, T0, &plan);
	CHECK(plan.spawn == 0);
	CHECK(plan.wake_at == -1);
	/* Room again: the warning may come again after the next shortage. */
	run(&p, 0, 0, T0, &plan);
	CHECK(plan.spawn == SPARE && plan.at_limit == 0);
	run(&p, 0, MAXCH - 1, T0, &plan);
	CHECK(plan.spawn == 1 && plan.at_limit == 1);
}

static void
t_large_spare_in_batches(void)
{
	struct policy p;
	struct policy_plan plan;
	unsigned idle = 0;
	int runs = 0;

	policy_init(&p, 1000, 5000, T0);
	do {
		run(&p, idle, 0, T0, &plan);
		CHECK(plan.spawn <= POLICY_SPAWN_BATCH);
		CHECK(plan.wake_at == (plan.spawn == POLICY_SPAWN_BATCH ?
		    T0 : -1));
		idle += plan.spawn;
		runs++;
	} while (plan.spawn > 0 && runs < 100);
	CHECK(idle == 1000);
	CHECK(runs == 1000 / POLICY_SPAWN_BATCH + 2);
}

static void
t_hold_doubles_to_cap(void)
{
	struct policy p;
	int64_t ms, want = POLICY_BACKOFF_MIN_MS;
	int i;

	policy_init(&p, SPARE, MAXCH, T0);
	for (i = 0; i < 20; i++) {
		ms = policy_hold(&p, T0);
		CHECK(ms == want);
		CHECK(p.hold_until == T0 + ms);
		want = want * 2 > POLICY_BACKOFF_MAX_MS ?
		    POLICY_BACKOFF_MAX_MS : want * 2;
	}
	CHECK(ms == POLICY_BACKOFF_MAX_MS);
	/* A child that takes a client shows that children work again. */
	policy_taken(&p);
	CHECK(policy_hold(&p, T0) == POLICY_BACKOFF_MIN_MS);
}

static void
t_no_spawn_while_held(void)
{
	struct policy p;
	struct policy_plan plan;
	int64_t ms;

	policy_init(&p, SPARE, MAXCH, T0);
	ms = policy_hold(&p, T0);
	run(&p, 1, 0, T0, &plan);
	CHECK(plan.spawn == 0);
	CHECK(plan.wake_at == T0 + ms);
	run(&p, 1, 0, T0 + ms - 1, &plan);
	CHECK(plan.spawn == 0);
	CHECK(plan.wake_at == T0 + ms);
	run(&p, 1, 0, T0 + ms, &plan);
	CHECK(plan.spawn == SPARE - 1);
	CHECK(plan.wake_at == -1);
	/* Surplus children are retired even during a hold. */
	(void)policy_hold(&p, T0 + ms);
	run(&p, SPARE + 1, 0, T0 + ms, &plan);
	CHECK(plan.retire == 1);
}

/* n clients taken at time now. */
static void
takes(struct policy *p, unsigned n)
{
	while (n-- > 0)
		policy_taken(p);
}

static void
t_burst_raises_target(void)
{
	struct policy p;
	struct policy_plan plan;
	int64_t t = T0 + POLICY_WINDOW_MS;

	policy_init(&p, SPARE, MAXCH, T0);
	takes(&p, SPARE + 2);
	/* The window rolls: SPARE + 2 were taken in it. */
	run(&p, SPARE, SPARE + 2, t, &plan);
	CHECK(p.target == SPARE + 2);
	CHECK(plan.target_moved == 1);
	CHECK(plan.spawn == 2);
	CHECK(plan.wake_at == t + POLICY_WINDOW_MS);
	/* No more than POLICY_SPARE_GROWTH times --spare. */
	takes(&p, 100);
	t += POLICY_WINDOW_MS;
	run(&p, SPARE + 2, 0, t, &plan);
	CHECK(p.target == POLICY_SPARE_GROWTH * SPARE);
	CHECK(plan.spawn == POLICY_SPARE_GROWTH * SPARE - SPARE - 2);
	/* One quiet window later, back to --spare: the surplus retires. */
	t += POLICY_WINDOW_MS;
	run(&p, POLICY_SPARE_GROWTH * SPARE, 0, t, &plan);
	CHECK(p.target == SPARE);
	CHECK(plan.target_moved == 1);
	CHECK(plan.retire == POLICY_SPARE_GROWTH * SPARE - SPARE);
	/* Nothing taken in either window: no more timer. */
	t += POLICY_WINDOW_MS;
	run(&p, SPARE, 0, t, &plan);
	CHECK(plan.wake_at == -1);
	CHECK(plan.target_moved == 0);
}

static void
t_late_window_counts_as_empty(void)
{
	struct policy p;
	struct policy_plan plan;

	policy_init(&p, SPARE, MAXCH, T0);
	takes(&p, 3 * SPARE);
	/* Two windows passed with no run: the last full one was empty. */
	run(&p, SPARE, 0, T0 + 2 * POLICY_WINDOW_MS, &plan);
	CHECK(p.target == SPARE);
	CHECK(plan.spawn == 0);
}

static void
t_stop_retires_every_idle_child(void)
{
	struct policy p;
	struct policy_plan plan;
	struct policy_in in = pool(3, 2, 1);

	policy_init(&p, SPARE, MAXCH, T0);
	in.stop = POLICY_DRAINING;
	policy_run(&p, &in, T0, &plan);
	CHECK(plan.retire == 3);
	CHECK(plan.spawn == 0);
	CHECK(plan.end_pairs == 0);
	CHECK(plan.wake_at == -1);	/* no drain timeout */
	/* Never a spawn after a stop, not even short of --spare. */
	in = pool(0, 0, 0);
	in.stop = POLICY_DRAINING;
	policy_run(&p, &in, T0, &plan);
	CHECK(plan.spawn == 0 && plan.retire == 0);
}

static void
t_drain_timeout_ends_pairs(void)
{
	struct policy p;
	struct policy_plan plan;
	struct policy_in in = pool(0, 2, 0);

	policy_init(&p, SPARE, MAXCH, T0);
	in.stop = POLICY_DRAINING;
	in.drain_until = T0 + 60000;
	policy_run(&p, &in, T0, &plan);
	CHECK(plan.end_pairs == 0);
	CHECK(plan.wake_at == T0 + 60000);
	policy_run(&p, &in, T0 + 60000, &plan);
	CHECK(plan.end_pairs == 1);
	CHECK(plan.wake_at == -1);
	/* Once told, the pairs end by themselves: no second order. */
	in.stop = POLICY_ENDING;
	policy_run(&p, &in, T0 + 70000, &plan);
	CHECK(plan.end_pairs == 0);
	CHECK(plan.wake_at == -1);
	/* No open pair: nothing to end, no timer. */
	in = pool(0, 0, 0);
	in.stop = POLICY_DRAINING;
	in.drain_until = T0 + 60000;
	policy_run(&p, &in, T0 + 70000, &plan);
	CHECK(plan.end_pairs == 0);
	CHECK(plan.wake_at == -1);
}

static void
t_random_states_keep_the_rules(void)
{
	struct policy p;
	struct policy_plan plan;
	struct policy_in in;
	int64_t now = T0;
	unsigned live;
	int i, bad = 0;

	policy_init(&p, SPARE, MAXCH, T0);
	for (i = 0; i < 100000 && bad == 0; i++) {
		now += tap_rand() % 300;
		in = pool(tap_rand() % 12, tap_rand() % (MAXCH + 1), tap_rand() % 3);
		in.stop = tap_rand() % 8 == 0 ? (enum policy_stop)(tap_rand() % 3) :
		    POLICY_RUNNING;
		in.drain_until = tap_rand() % 2 ? now + (int64_t)(tap_rand() % 500) -
		    250 : 0;
		if (tap_rand() % 4 == 0)
			takes(&p, tap_rand() % 20);
		if (tap_rand() % 16 == 0)
			(void)policy_hold(&p, now);
		policy_run(&p, &in, now, &plan);
		live = in.idle + in.busy + in.retiring;
		/*
		 * Never a timer due already, or the master would spin: only
		 * a full batch of forks asks to come back at once.
		 */
		bad += plan.wake_at != -1 && plan.wake_at < now;
		bad += plan.wake_at == now &&
		    plan.spawn != POLICY_SPAWN_BATCH;
		bad += plan.spawn > POLICY_SPAWN_BATCH;
		bad += live <= MAXCH && live + plan.spawn > MAXCH;
		bad += plan.retire > in.idle;
		bad += plan.spawn > 0 && plan.retire > 0;
		bad += in.stop != POLICY_RUNNING && plan.spawn > 0;
		bad += plan.end_pairs && in.stop != POLICY_DRAINING;
		bad += in.stop == POLICY_RUNNING && plan.spawn > 0 &&
		    now < p.hold_until;
		bad += p.target < SPARE || p.target >
		    POLICY_SPARE_GROWTH * SPARE;
	}
	if (bad != 0)
		printf("# step %d broke a rule\n", i);
	CHECK(bad == 0);
}

/*
 * --pairs-per-child: children come back idle, so while clients come the
 * pool keeps what it grew to (no retire on a swing above the target, no
 * fork on the way back), still forks when idle children run short, and
 * shrinks to the target after a quiet window; a stop retires them all.
 */
static void
t_reuse_keeps_pool_while_busy(void)
{
	struct policy p;
	struct policy_plan plan;
	int64_t now = T0;
	int i;

	policy_init(&p, SPARE, MAXCH, T0);
	policy_reuse(&p);
	run(&p, SPARE, 0, now, &plan);
	/* Clients come: one taken, then its child is back a moment later. */
	for (i = 0; i < 50; i++) {
		now += 40;	/* fewer than --spare a window: target stays */
		policy_taken(&p);
		run(&p, SPARE - 1, 1, now, &plan);
		CHECK(plan.spawn == 1 && plan.retire == 0);
		run(&p, SPARE, 1, now, &plan);
		CHECK(plan.spawn == 0 && plan.retire == 0);
		/* Back idle: one above the target, and kept. */
		run(&p, SPARE + 1, 0, now, &plan);
		CHECK(plan.retire == 0);
		CHECK(plan.wake_at != -1);
	}
	/* Far above the target, still kept while clients come. */
	run(&p, 3 * SPARE, 0, now, &plan);
	CHECK(plan.retire == 0 && plan.spawn == 0);
	/* Two quiet windows later the surplus goes. */
	now += 2 * POLICY_WINDOW_MS + 1;
	run(&p, 3 * SPARE, 0, now, &plan);
	CHECK(plan.retire == 2 * SPARE && plan.spawn == 0);
	/* Without reuse the same surplus goes at once, clients or not. */
	policy_init(&p, SPARE, MAXCH, T0);
	policy_taken(&p);
	run(&p, SPARE + 2, 0, T0 + 1, &plan);
	CHECK(plan.retire == 2);
	/* A stop retires every idle child, reuse or not. */
	policy_init(&p, SPARE, MAXCH, T0);
	policy_reuse(&p);
	policy_taken(&p);
	{
		struct policy_in in = pool(SPARE + 3, 2, 0);

		in.stop = POLICY_DRAINING;
		policy_run(&p, &in, T0 + 1, &plan);
		CHECK(plan.retire == SPARE + 3 && plan.spawn == 0);
	}
}

static const struct tap_test tests[] = {
	{ "start spawns --spare", t_start_spawns_spare },
	{ "taken children are replaced", t_replaces_taken_children },
	{ "surplus idle children retire", t_retires_surplus },
	{ "--max-children caps spawning, warned once", t_max_children },
	{ "a large --spare comes in batches", t_large_spare_in_batches },
	{ "the hold doubles up to its cap", t_hold_doubles_to_cap },
	{ "no spawn while held", t_no_spawn_while_held },
	{ "a burst raises the target, then it falls back",
	    t_burst_raises_target },
	{ "a late window counts as empty", t_late_window_counts_as_empty },
	{ "a stop retires every idle child", t_stop_retires_every_idle_child },
	{ "the drain timeout ends pairs once", t_drain_timeout_ends_pairs },
	{ "random states keep the rules", t_random_states_keep_the_rules },
	{ "--pairs-per-child: the pool keeps its size while clients come",
	    t_reuse_keeps_pool_while_busy },
};

int
main(void)
{
	return TAP_RUN(tests);
}
