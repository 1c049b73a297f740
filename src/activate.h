/*
 * activate.h: sockets handed to us by systemd or inetd.
 */
#ifndef TCPPROXY_ACTIVATE_H
#define TCPPROXY_ACTIVATE_H

#include "cli.h"
#include "listen.h"

enum act_kind {
	ACT_NONE,		/* standalone: open our own listeners */
	ACT_LISTEN,		/* listening sockets: run the pool on them */
	ACT_CONNECTED		/* one connected client: relay it and exit */
};

struct activation {
	enum act_kind	 kind;
	const char	*source;	/* "systemd" or "inetd" */
	int		 fds[LISTEN_MAX];
	int		 nfd;
	char		 names[256];	/* LISTEN_FDNAMES, sanitised */
};

/*
 * Find the sockets for cfg->mode (ACT_AUTO: from the environment), check
 * each one and that it agrees with cfg->listen_port and listen_addr, and
 * unset LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES.  Prints one line and
 * exits 1 when what was passed cannot be used.
 */
void	activate(const struct config *cfg, struct activation *a);

#endif /* TCPPROXY_ACTIVATE_H */
