/*
 * notify.c: the sd_notify(3) protocol without libsystemd: one datagram
 * of newline-separated assignments to the unix socket named by
 * NOTIFY_SOCKET, a path or, with a leading '@', an abstract name.  Used
 * by the master only.  A socket is opened for each message, so that no
 * child inherits one: messages are few (ready, reload, stop, and pool
 * status at most once a second).  Under --chroot the path may not be
 * reachable any more: one socket is connected before, which children
 * close.  Calls log.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static struct sockaddr_un	addr;
static socklen_t		addrlen;	/* 0: notifications off */
static int			held = -1;	/* notify_hold()'s socket */

/*
 * notify_init: remember where to notify.
 */
void
notify_init(void)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t len;

	addrlen = 0;
	if (e == NULL)
		return;
	len = strlen(e);
	/* A path needs room for its NUL; an abstract name has none. */
	if ((e[0] != '/' && e[0] != '@') || len < 2 ||
	    len + (e[0] == '/') > sizeof(addr.sun_path)) {
		log_msg(LOGL_WARN, "NOTIFY_SOCKET is not a unix socket path "
		    "or abstract name; not notifying");
		(void)unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, e, len);
	if (addr.sun_path[0] == '@')
		addr.sun_path[0] = '\0';	/* abstract: not NUL-ended */
	addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (addr.sun_path[0] != '\0'));
	(void)unsetenv("NOTIFY_SOCKET");
}

int
notify_enabled(void)
{
	return addrlen != 0;
}

/* A datagram socket for a message: held, or new (to be closed). */
static int
sock(void)
{
	return held != -1 ? held :
	    socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

/*
 * notify_hold: connect one socket now, for every later message.
 */
void
notify_hold(void)
{
	int fd;

	if (addrlen == 0 || held != -1 || (fd = sock()) == -1)
		return;
	if (connect(fd, (struct sockaddr *)&addr, addrlen) == 0)
		held = fd;
	else
		(void)close(fd);
}

/* No write to "held": a child writes no global (README, "Pages"). */
void
notify_child_close(void)
{
	if (held != -1)
		(void)close(held);
}

/*
 * notify: one message.
 */
void
notify(const char *fmt, ...)
{
	static int warned;
	char msg[512];
	va_list ap;
	ssize_t n;
	int fd, len, err, save = errno;

	if (addrlen == 0)
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0)
		goto out;
	if ((size_t)len >= sizeof(msg))
		len = (int)sizeof(msg) - 1;
	if ((fd = sock()) == -1)
		goto fail;
	do
		n = fd == held ? send(fd, msg, (size_t)len, MSG_NOSIGNAL) :
		    sendto(fd, msg, (size_t)len, MSG_NOSIGNAL,
		    (struct sockaddr *)&addr, addrlen);
	while (n == -1 && errno == EINTR);
	err = errno;
	if (fd != held)
		(void)close(fd);
	errno = err;
	if (n != -1)
		goto out;
fail:
	if (!warned) {
		warned = 1;
		log_msg(LOGL_WARN, "cannot notify systemd: %s",
		    strerror(errno));
	}
out:
	errno = save;
}
