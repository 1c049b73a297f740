/*
 * listen.h: standalone mode's listening sockets.
 */
#ifndef TCPPROXY_LISTEN_H
#define TCPPROXY_LISTEN_H

/* Most listening sockets, all --listen-address together. */
#define LISTEN_MAX	16
/* The kernel caps this at net.core.somaxconn; ask for the most. */
#define LISTEN_BACKLOG	65535

/*
 * Listen on port at each of the naddr addrs (a name, or a literal; IPv6
 * with or without brackets), or at every address when naddr is 0 (one
 * dual-stack IPv6 socket, or IPv4 where the host has no IPv6).  Fills fds
 * with blocking, close-on-exec listening sockets and returns how many, or
 * prints one line naming the address and the reason and returns -1 with
 * none open.  With reuseport, SO_REUSEPORT on each.
 */
int	listen_open(const char *const *addrs, int naddr, const char *port,
	    int reuseport, int fds[LISTEN_MAX]);

#endif /* TCPPROXY_LISTEN_H */
