/*
 * echosrv: the benchmark's destination, an epoll echo server on 127.0.0.1.
 *
 * Usage: echosrv PORT
 * Owns one listening socket and every connection it accepts; nothing else.
 * One thread, one level-triggered epoll loop, non-blocking sockets with
 * TCP_NODELAY.  Each connection has a fixed buffer: bytes read are written
 * back, and while some are still unsent the connection is not read, so a
 * slow reader cannot make it grow.  The client's EOF ends the connection
 * (close() sends our FIN after everything was written).  It never forks and
 * never exits on a per-connection error, so killing this one pid ends
 * everything it holds.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ECHO_BUFSZ	16384
#define ECHO_BACKLOG	4096	/* the kernel caps it at somaxconn */
#define ECHO_EVENTS	256
#define ECHO_MAXFD	1048576

enum flush_result { FLUSH_DONE, FLUSH_LEFT, FLUSH_FAIL };

struct conn {
	size_t	 off;		/* next byte to send */
	size_t	 len;		/* bytes held */
	uint32_t want;		/* EPOLLIN or EPOLLOUT, as registered */
	char	 buf[ECHO_BUFSZ];
};

static struct conn **conns;	/* indexed by fd */
static int nconns;		/* size of conns */
static int ep;

static int
listen_on(const char *portstr)
{
	struct sockaddr_in sin;
	char *end;
	long port;
	int fd, one = 1;

	port = strtol(portstr, &end, 10);
	if (*portstr == '\0' || *end != '\0' || port < 1 || port > 65535)
		errx(2, "invalid port '%s'", portstr);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		err(1, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		err(1, "SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind 127.0.0.1:%ld", port);
	if (listen(fd, ECHO_BACKLOG) == -1)
		err(1, "listen");
	return fd;
}

static void
watch(int op, int fd, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(ep, op, fd, &ev) == -1)
		err(1, "epoll_ctl");
}

static void
drop(int fd)
{
	free(conns[fd]);
	conns[fd] = NULL;
	close(fd);
}

static void
take_all(int lfd)
{
	int fd, one = 1;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				warn("accept");
			return;		/* EAGAIN, or try again later */
		}
		if (fd >= nconns || (conns[fd] = calloc(1,
		    sizeof(struct conn))) == NULL) {
			warnx("no room for fd %d", fd);
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		conns[fd]->want = EPOLLIN;
		watch(EPOLL_CTL_ADD, fd, EPOLLIN);
	}
}

static enum flush_result
flush(int fd, struct conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = send(fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? FLUSH_LEFT : FLUSH_FAIL;
		}
		c->off += (size_t)n;
	}
	c->off = c->len = 0;
	return FLUSH_DONE;
}

/* Serve one readiness event: write what is held, else read and echo. */
static enum flush_result
serve(int fd, struct conn *c)
{
	enum flush_result r;
	ssize_t n;

	if ((r = flush(fd, c)) != FLUSH_DONE || c->want == EPOLLOUT)
		return r;
	n = recv(fd, c->buf, sizeof(c->buf), 0);
	if (n == 0)
		return FLUSH_FAIL;	/* EOF, and nothing is held: done */
	if (n == -1)
		return (errno == EAGAIN || errno == EINTR) ? FLUSH_DONE :
		    FLUSH_FAIL;
	c->len = (size_t)n;
	return flush(fd, c);
}

static void
event(int fd)
{
	struct conn *c = conns[fd];
	enum flush_result r;
	uint32_t want;

	if ((r = serve(fd, c)) == FLUSH_FAIL) {
		drop(fd);
		return;
	}
	want = r == FLUSH_LEFT ? EPOLLOUT : EPOLLIN;
	if (want != c->want) {
		c->want = want;
		watch(EPOLL_CTL_MOD, fd, want);
	}
}

int
main(int argc, char *argv[])
{
	struct epoll_event evs[ECHO_EVENTS];
	struct rlimit rl;
	int lfd, i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: echosrv PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	nconns = rl.rlim_cur > ECHO_MAXFD ? ECHO_MAXFD : (int)rl.rlim_cur;
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL)
		err(1, "calloc");
	lfd = listen_on(argv[1]);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	watch(EPOLL_CTL_ADD, lfd, EPOLLIN);
	for (;;) {
		n = epoll_wait(ep, evs, ECHO_EVENTS, -1);
		if (n == -1 && errno != EINTR)
			err(1, "epoll_wait");
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				take_all(lfd);
			else if (conns[evs[i].data.fd] != NULL)
				event(evs[i].data.fd);
		}
	}
}
