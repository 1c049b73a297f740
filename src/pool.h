/*
 * pool.h: the master: a supervised pool of preforked children.
 */
#ifndef TCPPROXY_POOL_H
#define TCPPROXY_POOL_H

#include "cli.h"
#include "dest.h"

/* Spawning pauses after a failed fork() or a sick child: back-off range. */
#define POOL_BACKOFF_MIN_MS	100
#define POOL_BACKOFF_MAX_MS	10000
/* A retire signal can land just before accept(): say it again this often. */
#define POOL_RETIRE_AGAIN_MS	1000
/* The accept rate is counted over windows this long (see pool.c target). */
#define POOL_WINDOW_MS		100
/* A burst may raise the idle children to this many times --spare. */
#define POOL_SPARE_GROWTH	2
/* Repeating warnings (fork failures, the child limit) at most this often. */
#define POOL_WARN_MS		10000
/* systemd STATUS= updates at most this often. */
#define POOL_STATUS_MS		1000

/*
 * Run the master on the listening sockets lfds until SIGTERM or SIGINT
 * and every child is gone: keep cfg->spare idle children blocked in
 * accept(), fork a replacement as soon as one takes a client, reap them
 * all, never touch client data.  dest is re-resolved on SIGHUP.  Returns
 * the process exit status: 0, or 1 if a child found the listener broken.
 */
int	pool_run(const struct config *cfg, const struct dest *dest,
	    int *lfds, int nlfd);

#endif /* TCPPROXY_POOL_H */
