/*
 * spawn.h: creating children and running the master so that children
 * inherit as few pages as possible (see spawn.c).
 */
#ifndef TCPPROXY_SPAWN_H
#define TCPPROXY_SPAWN_H

#include <sys/types.h>

#include <stddef.h>

#define SPAWN_ALIGN(n)	(((n) + 15) & ~(size_t)15)
#define SPAWN_TITLE_MAX	128

/*
 * SPAWN_TITLE_MAX bytes in the page every child starts on, for its
 * process title; NULL where children do not get a stack of their own.
 */
char	*spawn_title_area(void);

/*
 * size zeroed bytes that children forked later do not inherit
 * (MADV_DONTFORK where there is one), for the master's own state; NULL
 * with errno.
 */
void	*spawn_private(size_t size);

/* Run fn(arg), the master's whole life, on a stack children never get. */
int	spawn_run(int (*fn)(void *), void *arg);

/*
 * Start a child that runs fn on a copy of the size bytes at ctx and never
 * returns.  Like fork(): the parent gets the pid or -1 with errno set.
 * Call it from inside spawn_run() with every signal blocked.
 */
pid_t	spawn_child(void (*fn)(const void *), const void *ctx, size_t size);

#endif /* TCPPROXY_SPAWN_H */
