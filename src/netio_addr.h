/*
 * netio_addr.h: socket addresses as text.
 */
#ifndef TCPPROXY_NETIO_ADDR_H
#define TCPPROXY_NETIO_ADDR_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

/* "1.2.3.4:80" or "[::1]:80"; IPv4-mapped IPv6 prints as IPv4. */
#define NETIO_ADDRSTRLEN	64
void	netio_fmtaddr(const struct sockaddr *, socklen_t, char *, size_t);

#endif /* TCPPROXY_NETIO_ADDR_H */
