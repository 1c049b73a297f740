/*
 * echod: a loopback TCP server for the tests, serving many clients at once.
 *
 * Usage: echod [-6] [-p PORT] [-m echo|after-eof]
 * Listens on 127.0.0.1 (or ::1 with -6), on PORT or on a port the kernel
 * picks, prints the port on stdout once it listens, then serves until it
 * is killed.  One poll() loop, non-blocking sockets, no forks, so killing
 * this one pid ends every connection it holds.
 *   echo       send back every byte as it arrives; after the client's EOF
 *              and once all is written, close (the client sees EOF).
 *   after-eof  send nothing until the client's EOF, then send back
 *              everything received and close (tests half-close).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXCONN		512
#define ECHO_BUFSZ	65536
#define HOLD_BUFSZ	(4 * 1024 * 1024)

struct conn {
	int	 fd;
	int	 eof;		/* client sent EOF */
	size_t	 off;		/* next byte to send */
	size_t	 len;		/* bytes held */
	char	*buf;
};

static int after_eof;
static size_t bufsz = ECHO_BUFSZ;

static int
listen_on(int v6, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	printf("%u\n", (unsigned)ntohs(v6 ? sin6->sin6_port : sin->sin_port));
	fflush(stdout);
	return fd;
}

static void
drop(struct conn *c)
{
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* Poll events this connection waits for. */
static short
interest(const struct conn *c)
{
	short ev = 0;

	if (!c->eof && c->len < bufsz)
		ev |= POLLIN;
	if (c->off < c->len && (!after_eof || c->eof))
		ev |= POLLOUT;
	return ev;
}

/* Move bytes for one ready connection; drop it when done or broken. */
static void
serve(struct conn *c, short revents)
{
	ssize_t n;

	if (revents & POLLIN) {
		n = read(c->fd, c->buf + c->len, bufsz - c->len);
		if (n == 0)
			c->eof = 1;
		else if (n > 0)
			c->len += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR) {
			drop(c);
			return;
		}
	} else if (revents & (POLLERR | POLLHUP) && !(revents & POLLOUT)) {
		drop(c);
		return;
	}
	if (revents & POLLOUT) {
		n = send(c->fd, c->buf + c->off, c->len - c->off,
		    MSG_NOSIGNAL);
		if (n > 0)
			c->off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			drop(c);
			return;
		}
		if (c->off == c->len && !after_eof)
			c->off = c->len = 0;
	}
	if (c->eof && c->off == c->len)
		drop(c);
	else if (c->len == bufsz && after_eof && !c->eof)
		drop(c);	/* more than we hold: give up */
}

static void
add(struct conn *conns, int lfd)
{
	int fd, i;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	for (i = 0; i < MAXCONN; i++)
		if (conns[i].fd == -1)
			break;
	if (i == MAXCONN || (conns[i].buf = malloc(bufsz)) == NULL) {
		close(fd);
		return;
	}
	conns[i].fd = fd;
	conns[i].eof = 0;
	conns[i].off = conns[i].len = 0;
}

int
main(int argc, char *argv[])
{
	static struct conn conns[MAXCONN];
	struct pollfd pfd[MAXCONN + 1];
	int ch, i, lfd, n, v6 = 0;
	unsigned port = 0;

	while ((ch = getopt(argc, argv, "6m:p:")) != -1) {
		switch (ch) {
		case '6':
			v6 = 1;
			break;
		case 'm':
			if (strcmp(optarg, "after-eof") == 0) {
				after_eof = 1;
				bufsz = HOLD_BUFSZ;
			} else if (strcmp(optarg, "echo") != 0)
				goto usage;
			break;
		case 'p':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = listen_on(v6, port)) == -1) {
		perror("echod");
		return 1;
	}
	for (i = 0; i < MAXCONN; i++)
		conns[i].fd = -1;
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < MAXCONN; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = conns[i].fd == -1 ? 0 :
			    interest(&conns[i]);
			pfd[i + 1].revents = 0;
		}
		n = poll(pfd, MAXCONN + 1, -1);
		if (n == -1 && errno != EINTR) {
			perror("echod: poll");
			return 1;
		}
		for (i = 0; n > 0 && i < MAXCONN; i++)
			if (conns[i].fd != -1 && pfd[i + 1].revents != 0)
				serve(&conns[i], pfd[i + 1].revents);
		if (n > 0 && (pfd[0].revents & POLLIN))
			add(conns, lfd);
	}
usage:
	fprintf(stderr, "usage: echod [-6] [-p port] [-m echo|after-eof]\n");
	return 2;
}
