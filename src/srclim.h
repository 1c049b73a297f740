/*
 * srclim.h: --max-per-source: live pairs per client address, counted
 * across all children in memory they share with the master.
 */
#ifndef TCPPROXY_SRCLIM_H
#define TCPPROXY_SRCLIM_H

#include <sys/types.h>
#include <sys/socket.h>

/* IPv6 clients are counted by network: the first this many bits. */
#define SRCLIM_V6_BITS	64

/*
 * Make the shared table for nslots children, before the first fork: 0, or
 * -1 with errno.
 */
int	srclim_create(unsigned nslots);

/*
 * In the child of slot `slot` that accepted a client at sa: count it
 * against its address (an IPv4 address, or the IPv6 /64 it is in) if that
 * has fewer than limit live pairs, and return 1; return 0 if it has limit
 * already.  A client that is not IP is not counted (1).  The count is
 * returned by srclim_release().
 */
int	srclim_take(unsigned slot, const struct sockaddr *sa, socklen_t len,
	    unsigned limit);

/*
 * Return the count slot `slot` took, if it holds one: in the master once
 * it reaped the slot's child, or in a child whose pair ended and that
 * goes on to take another (--pairs-per-child).
 */
void	srclim_release(unsigned slot);

#endif /* TCPPROXY_SRCLIM_H */
