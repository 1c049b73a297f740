/*
 * relay_path.h: by which path a direction of a pair moves its bytes next,
 * copying through a small user-space buffer or splicing through a pipe,
 * decided from what its reads return (pure: no system call).
 *
 * Request/reply traffic (a few hundred bytes each way, then a wait) is
 * cheapest copied: one read and one write per message.  A stream is
 * cheapest spliced: the bytes never reach user space.  A direction starts
 * by copying, splices once reads keep filling the copy buffer, and goes
 * back to copying once splices keep returning small amounts.  The caller
 * switches only while the direction holds no byte, so no byte changes
 * path half-way and the order is kept.
 */
#ifndef TCPPROXY_RELAY_PATH_H
#define TCPPROXY_RELAY_PATH_H

#include <stddef.h>

enum relay_path_mode { RELAY_PATH_COPY = 0, RELAY_PATH_SPLICE = 1 };

/* Consecutive full copy reads that make a direction splice. */
#define RELAY_PATH_TO_SPLICE	2
/* Consecutive small splices (at most small / 2 bytes) that make it copy. */
#define RELAY_PATH_TO_COPY	4

struct relay_path {
	enum relay_path_mode mode;	/* the path in use */
	enum relay_path_mode want;	/* the path the reads argue for */
	int	 streak;		/* reads in a row that argue for it */
	size_t	 small;			/* the copy buffer's size */
};

/* A direction that copies through a buffer of small bytes first. */
void	relay_path_init(struct relay_path *, size_t small);

/* A read asked for asked bytes and got got > 0 of them. */
void	relay_path_on_read(struct relay_path *, size_t asked, size_t got);

/*
 * Before a read, with buffered bytes held: 1 if the direction switches
 * path now (p->mode changed), else 0.
 */
int	relay_path_switch(struct relay_path *, size_t buffered);

#endif /* TCPPROXY_RELAY_PATH_H */
