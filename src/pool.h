/*
 * pool.h: the master: a supervised pool of preforked children.
 */
#ifndef TCPPROXY_POOL_H
#define TCPPROXY_POOL_H

#include "cli.h"
#include "dest.h"

/*
 * Run the master on the listening sockets lfds until SIGTERM or SIGINT
 * and every child is gone: keep cfg->spare idle children blocked in
 * accept(), fork a replacement as soon as one takes a client, reap them
 * all, never touch client data.  dest is re-resolved on SIGHUP.  Drops
 * privileges as --user and --group say once set up (standalone: warns
 * when running as root without them).  Returns
 * the process exit status: 0, or 1 if a child found the listener broken.
 */
int	pool_run(const struct config *cfg, const struct dest *dest,
	    int *lfds, int nlfd, int standalone);

#endif /* TCPPROXY_POOL_H */
