/*
 * scoreboard.h: a live view of every child, in memory shared by the
 * master and its children, and readable by `tcpproxy --status`.
 */
#ifndef TCPPROXY_SCOREBOARD_H
#define TCPPROXY_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>

/* How --status (status.c) knows the mapping and checks its layout. */
#define SB_MAGIC	"tcpproxy-sb-2"
#define SB_NAME		"tcpproxy-scoreboard"

/* Room for every end reason (end.h), by number. */
#define SB_NREASONS	24

/*
 * The pool's totals.  Counters only grow: each child adds its pair's end
 * and bytes (atomically, as it ends); the master sets its own counters
 * and the gauges.
 */
struct sb_totals {
	uint64_t	 pairs[SB_NREASONS];	/* ended and refused, by reason */
	uint64_t	 up, down;	/* bytes of the ended pairs */
	uint64_t	 forks, fork_failed;
	uint32_t	 idle, busy;	/* children now */
	int32_t		 waiting;	/* clients in the listen queue; -1: ? */
	uint32_t	 pad;
};

struct sb_header {
	char		 magic[16];
	uint32_t	 slot_size;	/* sizeof(struct sb_slot) */
	uint32_t	 nslots;
	int32_t		 master;	/* its pid */
	uint32_t	 gen;		/* the pool's generation (reloads) */
	uint32_t	 stopping;	/* the master takes no new clients */
	uint32_t	 pad[7];
	struct sb_totals totals;
};

/* What a slot's child is doing; written by its owner only (see .c). */
enum sb_state {
	SB_FREE = 0,		/* no child */
	SB_IDLE,		/* waiting in accept() */
	SB_CONNECTING,		/* has a client, connecting upstream */
	SB_RELAYING,		/* relaying both ways */
	SB_DRAINING,		/* one direction has ended, the other flows */
	SB_NSTATES
};

#define SB_ADDRLEN	56	/* "[v6 address]:port", cut if longer */

struct sb_slot {
	uint32_t	 seq;		/* odd while the child writes */
	uint32_t	 state;		/* enum sb_state */
	int32_t		 pid;		/* written by the master */
	uint32_t	 pad;
	int64_t		 start;		/* CLOCK_MONOTONIC ms: accepted */
	int64_t		 progress;	/* ... ms: last write progress */
	uint64_t	 up;		/* bytes delivered client -> upstream */
	uint64_t	 down;		/* bytes delivered upstream -> client */
	char		 client[SB_ADDRLEN];
	char		 upstream[SB_ADDRLEN];
};

/* The mapping's size: the header and nslots slots. */
size_t	sb_size(unsigned nslots);

/*
 * Create the scoreboard for nslots children (the master, before the first
 * fork).  -1 with errno if it cannot be had; the pool runs without one.
 */
int	sb_create(unsigned nslots);

/* Slot i, or NULL when there is no scoreboard. */
struct sb_slot *sb_slot(unsigned i);

/* In a child: close the descriptor; the mapping stays. */
void	sb_child_close(void);

/* The master's mirror of its slot table. */
void	sb_master_set(unsigned i, int32_t pid, enum sb_state);

/* Bytes slot i's child relayed (the master, once it has reaped it). */
void	sb_master_counts(unsigned i, uint64_t *up, uint64_t *down);

/* A child's own slot (NULL: none; every call then does nothing). */
void	sb_client(struct sb_slot *, const char *client, int64_t now);
void	sb_upstream(struct sb_slot *, const char *upstream);
void	sb_state(struct sb_slot *, enum sb_state);
void	sb_counts(struct sb_slot *, uint64_t up, uint64_t down,
	    int64_t progress);

/* A pair ended for reason with those bytes (any process of the pool). */
/*
 * In a child that served a pair and may serve another (--pairs-per-child):
 * its slot is idle again, with nothing left of the pair.
 */
void	sb_idle(struct sb_slot *);

/*
 * The master's generation and whether it stopped, for children that go
 * back to accept() after a pair: a child of generation gen may, if this
 * returns 1.  0 without a scoreboard.
 */
void	sb_master_gen(uint32_t gen, int stopping);
int	sb_gen_current(uint32_t gen);
/* 1 once the master stopped taking clients; 0 without a scoreboard. */
int	sb_stopping(void);

void	sb_count_end(unsigned reason, uint64_t up, uint64_t down);
/* The master's counters and gauges. */
void	sb_master_totals(uint64_t forks, uint64_t fork_failed, unsigned idle,
	    unsigned busy, int waiting);

/* The name of a state, as --status prints it. */
const char *sb_state_name(uint32_t);

#endif /* TCPPROXY_SCOREBOARD_H */
