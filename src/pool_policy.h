/*
 * pool_policy.h: how many children the master wants, as a pure function
 * of the pool's counts and the clock (see pool_policy.c).
 */
#ifndef TCPPROXY_POOL_POLICY_H
#define TCPPROXY_POOL_POLICY_H

#include <stdint.h>

/*
 * Spawning pauses after a failed fork() or a sick child: back-off range.
 * The cap is what service waits for once the cause is gone (a process
 * limit raised, memory freed), so it is short: at one failed fork and
 * one rate-limited log line per 2 s, waiting longer saves nothing.
 */
#define POLICY_BACKOFF_MIN_MS	100
#define POLICY_BACKOFF_MAX_MS	2000
/* The accept rate is counted over windows this long (see target()). */
#define POLICY_WINDOW_MS	100
/* A burst may raise the idle children to this many times --spare. */
#define POLICY_SPARE_GROWTH	2
/*
 * Forks per run at most: signals wait while the master forks, so a large
 * --spare is reached in batches, with the signals looked at in between.
 */
#define POLICY_SPAWN_BATCH	64

/* Where the master is in its life. */
enum policy_stop {
	POLICY_RUNNING = 0,
	POLICY_DRAINING,	/* stopped: no new clients, pairs finish */
	POLICY_ENDING		/* open pairs were told to end */
};

/* The policy's memory; only the calls below change it. */
struct policy {
	unsigned	 spare;		/* --spare */
	unsigned	 max_children;	/* --max-children */
	int64_t		 hold_until;	/* no spawning before this */
	int64_t		 backoff_ms;	/* the next hold's length */
	int64_t		 window_start;	/* the accept-rate window */
	unsigned	 taken_now;	/* clients taken in this window */
	unsigned	 taken_last;	/* clients taken in the previous one */
	unsigned	 target;	/* idle children wanted, last run */
	int		 at_limit;	/* --max-children stopped a spawn */
	int		 reuse;		/* children come back idle after a pair */
};

/* The pool as the policy sees it. */
struct policy_in {
	unsigned	 idle;		/* children waiting in accept() */
	unsigned	 busy;		/* children with a pair */
	unsigned	 retiring;	/* idle children asked to leave */
	enum policy_stop stop;
	int64_t		 drain_until;	/* draining: end pairs then; 0: never */
};

/* What to do now, and when to ask again at the latest. */
struct policy_plan {
	unsigned	 spawn;		/* fork this many idle children */
	unsigned	 retire;	/* ask this many idle children to leave */
	int		 end_pairs;	/* the drain timeout is up: end pairs */
	int		 at_limit;	/* just hit --max-children: say so */
	int		 target_moved;	/* target changed: say so (debug) */
	int64_t		 wake_at;	/* ms; -1 when only an event can help;
					   now when a batch is to follow */
};

void	policy_init(struct policy *, unsigned spare, unsigned max_children,
	    int64_t now);

/*
 * Children serve more than one pair (--pairs-per-child): idle children
 * above the target are retired only once clients stop coming.
 */
void	policy_reuse(struct policy *);

/* A child took a client: counts toward the rate, ends any back-off. */
void	policy_taken(struct policy *);

/*
 * A fork failed or a child ended badly: no spawning for the returned
 * number of ms, twice as long each time up to POLICY_BACKOFF_MAX_MS.
 */
int64_t	policy_hold(struct policy *, int64_t now);

/*
 * The policy, run after every event: fill *plan from the pool's counts.
 * The plan's wake_at assumes the plan is carried out; if a fork fails,
 * call policy_hold() and run the policy again.
 */
void	policy_run(struct policy *, const struct policy_in *, int64_t now,
	    struct policy_plan *plan);

#endif /* TCPPROXY_POOL_POLICY_H */
