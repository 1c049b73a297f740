/*
 * listen.h: standalone mode's listening sockets.
 */
#ifndef TCPPROXY_LISTEN_H
#define TCPPROXY_LISTEN_H

/* Most sockets one --listen-address can expand to. */
#define LISTEN_MAX	16
/* The kernel caps this at net.core.somaxconn; ask for the most. */
#define LISTEN_BACKLOG	65535

/*
 * Listen on port at addr, or at every address when addr is NULL (one
 * dual-stack IPv6 socket, or IPv4 where the host has no IPv6).  Fills fds
 * with blocking, close-on-exec listening sockets and returns how many, or
 * prints one line naming the address and the reason and returns -1.
 */
int	listen_open(const char *addr, const char *port, int fds[LISTEN_MAX]);

#endif /* TCPPROXY_LISTEN_H */
