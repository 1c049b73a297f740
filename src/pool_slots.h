/*
 * pool_slots.h: the master's children: the slot table, their births and
 * deaths, and the taken pipe on which they say they took a client.
 */
#ifndef TCPPROXY_POOL_SLOTS_H
#define TCPPROXY_POOL_SLOTS_H

#include <sys/types.h>

#include <stdint.h>

#include "child.h"
#include "pool_policy.h"

/* A retire signal can land just before accept(): say it again this often. */
#define SLOTS_RETIRE_AGAIN_MS	1000
/* Repeating warnings (fork failures, back-offs) at most this often. */
#define SLOTS_WARN_MS		10000

enum slot_state { SLOT_FREE = 0, SLOT_IDLE, SLOT_BUSY, SLOT_RETIRING,
	SLOT_NSTATES };

struct slot {
	pid_t		 pid;
	uint32_t	 gen;		/* generation it was forked in */
	enum slot_state	 state;
};

struct slots {
	struct slot	*slot;		/* n of them, the one authority */
	unsigned	 n;		/* --max-children */
	unsigned	 hiwater;	/* slots at and above are free */
	unsigned	 lowfree;	/* slots below are all in use */
	unsigned	 count[SLOT_NSTATES];
	uint32_t	 gen;		/* bumped by each reload */
	int		 takenr, takenw;	/* the taken pipe */
	int64_t		 retire_at;	/* next retire signal resend */
	int		 fatal;		/* a child found the listener broken */
	struct policy	*policy;	/* told of takes and failures */
	/* What SIGUSR1 and STATUS= report. */
	uint64_t	 spawned, served, failed, fork_failed;
	uint64_t	 bytes_up, bytes_down;	/* of pairs that ended */
	int64_t		 warned_fork, warned_hold;
};

/*
 * Take the n zeroed slots at table (memory children do not inherit) and
 * open the taken pipe; failures and takes go to policy.  0, or -1 with
 * errno.
 */
int	slots_init(struct slots *, struct slot *table, unsigned n,
	    struct policy *);

/* Children alive: idle, busy or retiring. */
unsigned slots_live(const struct slots *);

/*
 * Fork up to n idle children of the current generation, each with a copy
 * of *tmpl completed with its slot.  Returns 0, or -1 once a fork failed
 * (logged, and the policy put on hold).
 */
int	slots_spawn(struct slots *, unsigned n, const struct child_ctx *tmpl,
	    int64_t now);

/* Ask n idle children, those of older generations first, to leave. */
void	slots_retire(struct slots *, unsigned n, int64_t now);

/* Ask retiring children again once SLOTS_RETIRE_AGAIN_MS has passed. */
void	slots_resignal(struct slots *, int64_t now);
/* When slots_resignal() has work, or -1. */
int64_t	slots_wake(const struct slots *);

/* Send sig to every child in state st. */
void	slots_signal(const struct slots *, enum slot_state st, int sig);

/* The taken pipe's records: idle children become busy. */
void	slots_read_taken(struct slots *);

/* Reap every child that has ended and judge how it ended. */
void	slots_reap(struct slots *, int64_t now);

/*
 * Check the table against the counts: a mismatch is a bug of the master,
 * logged, then abort().
 */
void	slots_check(const struct slots *);

#endif /* TCPPROXY_POOL_SLOTS_H */
