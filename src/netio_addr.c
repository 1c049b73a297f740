/*
 * netio_addr.c: socket addresses as text for logs, titles and the
 * scoreboard, without DNS and without printf (see netio_fmtaddr()).  Owns
 * no state.  Calls util for strings.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>

#include "util.h"
#include "netio_addr.h"

/* Append the decimal v at *n; leaves room for the terminating NUL. */
static void
put_uint(char *buf, size_t size, size_t *n, unsigned long v)
{
	char d[24];
	int i = 0;

	do
		d[i++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (i > 0 && *n + 1 < size)
		buf[(*n)++] = d[--i];
}

/* "unix:/path", "unix:@abstract", or "unix" for no name. */
static size_t
fmt_unix(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
	size_t i, plen, n;
	char c;

	n = util_append(buf, size, 0, "unix");
	if (len <= offsetof(struct sockaddr_un, sun_path))
		return n;
	plen = len - offsetof(struct sockaddr_un, sun_path);
	n = util_append(buf, size, n, ":");
	for (i = 0; i < plen && i < sizeof(sun->sun_path) && n + 1 < size;
	    i++) {
		c = sun->sun_path[i];
		if (c == '\0' && i > 0)
			break;
		buf[n++] = c == '\0' ? '@' : (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	return n;
}

/* "1.2.3.4:80", "[::1]:80" or "[fe80::1%2]:80"; 0 if not an IP address. */
static size_t
fmt_inet(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	char host[INET6_ADDRSTRLEN];
	const void *addr;
	size_t n = 0;
	int af = AF_INET, v6;

	v6 = sa->sa_family == AF_INET6 && len >= sizeof(*s6);
	if (v6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		addr = &s6->sin6_addr.s6_addr[12];
		v6 = 0;
	} else if (v6) {
		addr = &s6->sin6_addr;
		af = AF_INET6;
	} else if (sa->sa_family == AF_INET && len >= sizeof(*sin))
		addr = &sin->sin_addr;
	else
		return 0;
	if (inet_ntop(af, addr, host, sizeof(host)) == NULL)
		return 0;
	if (v6)
		n = util_append(buf, size, n, "[");
	n = util_append(buf, size, n, host);
	if (v6 && s6->sin6_scope_id != 0) {
		n = util_append(buf, size, n, "%");
		put_uint(buf, size, &n, s6->sin6_scope_id);
	}
	if (v6)
		n = util_append(buf, size, n, "]");
	n = util_append(buf, size, n, ":");
	put_uint(buf, size, &n, ntohs(sa->sa_family == AF_INET ?
	    sin->sin_port : s6->sin6_port));
	return n;
}

/*
 * netio_fmtaddr: a numeric address and port, "192.0.2.1:80" or
 * "[2001:db8::1]:80" (an IPv4-mapped address as IPv4, a scope as its
 * number), "unix:/path" for a unix-domain socket; "?" for anything else.
 * Never asks DNS, and is done with inet_ntop() rather than getnameinfo()
 * and printf: every child calls it, and those need pages of stack that an
 * idle child would keep.
 */
void
netio_fmtaddr(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	size_t n;

	if (size == 0)
		return;
	if (sa->sa_family == AF_UNIX)
		n = fmt_unix(sa, len, buf, size);
	else if ((n = fmt_inet(sa, len, buf, size)) == 0)
		n = util_append(buf, size, 0, "?");
	buf[n] = '\0';
}
