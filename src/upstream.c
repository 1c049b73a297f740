/*
 * upstream.c: connecting a pair to the destination, after RFC 8305
 * ("Happy Eyeballs"): a destination whose first address drops SYNs must
 * not make every client wait the whole --connect-timeout before the next
 * address is tried.  Attempts start UPSTREAM_DELAY_MS apart, the families
 * in turn, or at once after a failure; each keeps its own timeout, and
 * the first to connect wins.  One pselect() waits on all of them, and on
 * the client, whose reset ends them, so nothing spins.  Owns the sockets
 * of the attempts until one wins.  Calls dest (the order), netio, sig and
 * util.
 */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netio.h"
#include "sig.h"
#include "util.h"
#include "upstream.h"

struct attempt {
	int	 fd;
	int	 idx;
	int64_t	 deadline;
};

static void
drop_all(struct attempt *a, int na, int keep)
{
	int i;

	for (i = 0; i < na; i++)
		if (a[i].fd != keep)
			netio_close(a[i].fd);
}

/*
 * The client's socket is readable while we connect: 1 if that is an error
 * (a reset), with *err set; 0 if it is data or an EOF, which wait for the
 * relay (a client may well send its request and shut down at once).
 */
static int
client_failed(int fd, int *err)
{
	char c;

	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
	    errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	*err = errno;
	return 1;
}

/* Forget attempt i (its socket closed); the last one takes its place. */
static int
forget(struct attempt *a, int na, int i)
{
	netio_close(a[i].fd);
	a[i] = a[na - 1];
	return na - 1;
}

enum upstream_res
upstream_connect(struct upstream *u)
{
	struct attempt a[UPSTREAM_INFLIGHT];
	const struct dest_addr *d;
	struct timespec ts;
	fd_set rset, wset;
	int order[DEST_MAX], n, na = 0, next = 0, i, rc, maxfd;
	int client = u->client;
	int64_t now, start_next = 0, wake;

	n = dest_order(u->dest, u->srclen > 0 ? u->src->sa_family :
	    AF_UNSPEC, order);
	u->err = n == 0 ? EAFNOSUPPORT : EHOSTUNREACH;
	for (;;) {
		now = util_now_ms();
		if (u->end_at != 0 && now >= u->end_at) {
			drop_all(a, na, -1);
			return UPSTREAM_MAXTIME;
		}
		/* Start what is due: the first, then one per delay. */
		while (next < n && (na == 0 || (now >= start_next &&
		    na < UPSTREAM_INFLIGHT))) {
			d = &u->dest->addr[order[next]];
			u->trying(u->arg, order[next]);
			rc = netio_connect_start((const struct sockaddr *)&d->ss,
			    d->len, u->src, u->srclen, &u->fd);
			if (rc == NETIO_OK) {
				u->idx = order[next];
				drop_all(a, na, -1);
				return UPSTREAM_OK;
			}
			if (rc == NETIO_AGAIN) {
				a[na].fd = u->fd;
				a[na].idx = order[next++];
				a[na++].deadline = now + u->connect_ms;
				start_next = now + UPSTREAM_DELAY_MS;
				break;
			}
			u->err = errno;
			u->failed(u->arg, order[next++], u->err);
			/* Short of descriptors: more attempts fail the same. */
			if (netio_resource_err(u->err))
				next = n;
		}
		if (na == 0)
			return UPSTREAM_FAILED;
		/* Sleep until one is writable, times out, or the next is due. */
		FD_ZERO(&rset);
		FD_ZERO(&wset);
		maxfd = client;
		if (client >= 0)
			FD_SET(client, &rset);
		wake = next < n && na < UPSTREAM_INFLIGHT ? start_next : -1;
		if (u->end_at != 0 && (wake == -1 || u->end_at < wake))
			wake = u->end_at;
		for (i = 0; i < na; i++) {
			FD_SET(a[i].fd, &wset);
			if (a[i].fd > maxfd)
				maxfd = a[i].fd;
			if (wake == -1 || a[i].deadline < wake)
				wake = a[i].deadline;
		}
		wake = wake > now ? wake - now : 0;
		ts.tv_sec = wake / 1000;
		ts.tv_nsec = (wake % 1000) * 1000000;
		if (pselect(maxfd + 1, &rset, &wset, NULL, &ts,
		    u->waitmask) == -1) {
			if (errno == EINTR) {
				if (sig_take() & u->signals) {
					drop_all(a, na, -1);
					return UPSTREAM_SIGNAL;
				}
				continue;
			}
			u->err = errno;
			drop_all(a, na, -1);
			return UPSTREAM_FAILED;
		}
		if (client >= 0 && FD_ISSET(client, &rset)) {
			if (client_failed(client, &u->err)) {
				drop_all(a, na, -1);
				return UPSTREAM_CLIENT_GONE;
			}
			client = -1;	/* readable until the relay reads it */
		}
		now = util_now_ms();
		for (i = 0; i < na; i++) {
			if (FD_ISSET(a[i].fd, &wset)) {
				if (netio_connect_done(a[i].fd) == NETIO_OK) {
					u->fd = a[i].fd;
					u->idx = a[i].idx;
					drop_all(a, na, u->fd);
					return UPSTREAM_OK;
				}
				u->err = errno;
			} else if (now >= a[i].deadline)
				u->err = ETIMEDOUT;
			else
				continue;
			u->failed(u->arg, a[i].idx, u->err);
			na = forget(a, na, i--);
			start_next = now;	/* the next one at once */
		}
	}
}
