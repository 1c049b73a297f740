/*
 * listen.c: standalone mode: resolve the listen address, then socket,
 * bind and listen.  Runs before any fork, so it reports with warn(3).
 * Calls netio to format addresses, dest to explain resolver errors, log
 * to sanitise names.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dest.h"
#include "log.h"
#include "netio.h"
#include "listen.h"

/* --reuseport, for every socket this file opens. */
static int reuseport;

/* One listening socket on sa; v6only for IPv6 unless dual stack wanted. */
static int
open_one(const struct sockaddr *sa, socklen_t len, int v6only)
{
	char name[NETIO_ADDRSTRLEN];
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	/* A restarted proxy must not wait for old TIME_WAIT pairs. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail_fd;
#ifdef SO_REUSEPORT
	/* Another tcpproxy may listen here too, as this one drains. */
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1)
		goto fail_fd;
#endif
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1)
		goto fail_fd;
	if (bind(fd, sa, len) == -1 || listen(fd, LISTEN_BACKLOG) == -1)
		goto fail_fd;
	return fd;

fail_fd:
	netio_close(fd);
fail:
	netio_fmtaddr(sa, len, name, sizeof(name));
	warn("cannot listen on %s", name);
	return -1;
}

/* Every address: [::] taking IPv4 too, or 0.0.0.0 without IPv6. */
static int
open_any(const char *port, int fds[LISTEN_MAX])
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	int fd;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = in6addr_any;
	s6.sin6_port = htons((unsigned short)strtoul(port, NULL, 10));
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd != -1) {
		(void)close(fd);
		fd = open_one((struct sockaddr *)&s6, sizeof(s6), 0);
	} else {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		s4.sin_port = s6.sin6_port;
		fd = open_one((struct sockaddr *)&s4, sizeof(s4), 0);
	}
	if (fd == -1)
		return -1;
	fds[0] = fd;
	return 1;
}

/* Resolvers may repeat an answer; binding it twice would fail. */
static int
seen_before(const struct addrinfo *res, const struct addrinfo *ai)
{
	for (; res != ai; res = res->ai_next)
		if (res->ai_addrlen == ai->ai_addrlen &&
		    memcmp(res->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
			return 1;
	return 0;
}

/*
 * Sockets for addr and port after the n in fds: the new count, or -1 with
 * the ones it opened closed again.  "[::1]" is "::1".
 */
static int
open_addr(const char *addr, const char *port, int fds[LISTEN_MAX], int n)
{
	struct addrinfo hints, *res, *ai;
	char host[256], safe[256];
	size_t len = strlen(addr);
	int rc, fd, start = n;

	if (len >= sizeof(host)) {
		log_sanitize(safe, sizeof(safe), addr);
		warnx("listen address '%s...' is too long", safe);
		return -1;
	}
	if (len > 2 && addr[0] == '[' && addr[len - 1] == ']') {
		memcpy(host, addr + 1, len - 2);
		host[len - 2] = '\0';
	} else
		memcpy(host, addr, len + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_sanitize(safe, sizeof(safe), addr);
		warnx("cannot resolve listen address '%s': %s", safe,
		    dest_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (seen_before(res, ai))
			continue;
		if (n == LISTEN_MAX) {
			warnx("more than %d listening sockets", LISTEN_MAX);
			break;
		}
		/* Each address its own socket: IPv6 ones must not take IPv4. */
		if ((fd = open_one(ai->ai_addr, ai->ai_addrlen, 1)) == -1)
			break;
		fds[n++] = fd;
	}
	freeaddrinfo(res);
	if (ai == NULL)
		return n;
	while (n > start)
		(void)close(fds[--n]);
	return -1;
}

/*
 * listen_open: listening sockets for addrs (none: every address) and port.
 */
int
listen_open(const char *const *addrs, int naddr, const char *port,
    int reuse, int fds[LISTEN_MAX])
{
	int i, n = 0, m;

#ifndef SO_REUSEPORT
	if (reuse) {
		warnx("--reuseport: no SO_REUSEPORT on this system");
		return -1;
	}
#endif
	reuseport = reuse;
	if (naddr == 0)
		return open_any(port, fds);
	for (i = 0; i < naddr; i++) {
		if ((m = open_addr(addrs[i], port, fds, n)) == -1) {
			while (n > 0)
				(void)close(fds[--n]);
			return -1;
		}
		n = m;
	}
	return n;
}
