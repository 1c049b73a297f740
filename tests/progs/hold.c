/*
 * hold: many connections at once, for the load tests: an echo server and
 * a client that opens thousands of connections and keeps them, each one
 * checked by echoes, until told to let go.
 *
 * Usage: hold serve
 *        hold open PORT COUNT CONC
 *
 * serve: listen on 127.0.0.1, on a port the kernel picks, print the port
 * once it listens, and echo every byte of every client (any number of
 * them: epoll, no per-connection limit) until killed.
 *
 * open: connect COUNT times to 127.0.0.1:PORT, at most CONC connections
 * being set up at a time; each sends a message of its own (its number)
 * and must get exactly it back.  Once every connection is either
 * verified or failed, print
 *   ready held=N fails=N setup_ms=N
 * then, with all of them still open, send each a second message and check
 * its echo too (so that every pair relays at the same moment), and print
 *   again ok=N fails=N
 * then wait for SIGUSR1 or SIGTERM, close them all and print
 *   closed N
 * A connection that gets no echo within STUCK_MS counts as failed.  Exit
 * status 0 if every connection was held and echoed twice, 1 otherwise, 2
 * for usage.  The descriptor limit must allow COUNT connections.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSGLEN		24
#define STUCK_MS	60000
#define NEVENTS		256

enum state { C_NEW, C_CONNECTING, C_WAITING, C_HELD, C_FAILED };

struct conn {
	int		 fd;
	enum state	 state;
	int		 round;		/* 1: first echo, 2: second */
	size_t		 got;
	char		 msg[MSGLEN];
};

static volatile sig_atomic_t release;

static void
on_signal(int sig)
{
	(void)sig;
	release = 1;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
usage(void)
{
	fprintf(stderr, "usage: hold serve | hold open PORT COUNT CONC\n");
	exit(2);
}

static int
serve(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct epoll_event ev, evs[NEVENTS];
	char buf[65536];
	int lfd, ep, n, i, fd, one = 1;
	ssize_t r;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    (ep = epoll_create1(0)) == -1) {
		perror("hold serve");
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) == -1)
		return 1;
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		if ((n = epoll_wait(ep, evs, NEVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					(void)epoll_ctl(ep, EPOLL_CTL_ADD, fd,
					    &ev);
				}
				continue;
			}
			/* Messages are tiny: what is read fits the socket. */
			r = read(fd, buf, sizeof(buf));
			if (r > 0 && write(fd, buf, (size_t)r) == r)
				continue;
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			close(fd);
		}
	}
}

static void
fail(struct conn *c, int ep, int *fails, int *pending)
{
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = C_FAILED;
	(*fails)++;
	(*pending)--;
}

static void
send_msg(struct conn *c, int ep, int *fails, int *pending)
{
	struct epoll_event ev;

	c->got = 0;
	if (send(c->fd, c->msg, MSGLEN, MSG_NOSIGNAL) != MSGLEN) {
		fail(c, ep, fails, pending);
		return;
	}
	c->state = C_WAITING;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		fail(c, ep, fails, pending);
}

/* A readable connection: 1 if its echo is now complete. */
static int
take_echo(struct conn *c, int ep, int *fails, int *pending)
{
	char buf[MSGLEN];
	ssize_t r;

	r = read(c->fd, buf, MSGLEN - c->got);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0 || memcmp(buf, c->msg + c->got, (size_t)r) != 0) {
		fail(c, ep, fails, pending);
		return 0;
	}
	if ((c->got += (size_t)r) < MSGLEN)
		return 0;
	c->state = C_HELD;
	(*pending)--;
	return 1;
}

static int
start(struct conn *c, const struct sockaddr_in *sin, int ep, int *fails,
    int *pending)
{
	struct epoll_event ev;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	(*pending)++;
	if (c->fd == -1) {
		c->state = C_FAILED;
		(*fails)++;
		(*pending)--;
		return -1;
	}
	c->state = C_CONNECTING;
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if ((connect(c->fd, (const struct sockaddr *)sin, sizeof(*sin)) ==
	    -1 && errno != EINPROGRESS) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		fail(c, ep, fails, pending);
		return -1;
	}
	return 0;
}

/* Run events until nothing is pending (or stuck): connects and echoes. */
static void
pump(struct conn *conns, int count, int conc, const struct sockaddr_in *sin,
    int ep, int *next, int *fails, int pending)
{
	struct epoll_event evs[NEVENTS];
	long long last = now_ms();
	int n, i, err;
	socklen_t len;
	struct conn *c;

	for (;;) {
		while (next != NULL && *next < count && pending < conc)
			(void)start(&conns[(*next)++], sin, ep, fails,
			    &pending);
		if (pending == 0 && (next == NULL || *next == count))
			return;
		if ((n = epoll_wait(ep, evs, NEVENTS, 1000)) == -1 &&
		    errno != EINTR)
			return;
		if (n > 0)
			last = now_ms();
		else if (now_ms() - last > STUCK_MS) {
			for (i = 0; i < count; i++)
				if (conns[i].state == C_CONNECTING ||
				    conns[i].state == C_WAITING)
					fail(&conns[i], ep, fails, &pending);
			return;
		}
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c->state == C_CONNECTING) {
				len = sizeof(err);
				if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR,
				    &err, &len) == -1 || err != 0)
					fail(c, ep, fails, &pending);
				else
					send_msg(c, ep, fails, &pending);
			} else if (c->state == C_WAITING)
				(void)take_echo(c, ep, fails, &pending);
		}
	}
}

static int
open_many(int port, int count, int conc)
{
	struct sockaddr_in sin;
	struct conn *conns;
	struct sigaction sa;
	sigset_t mask, old;
	long long t0;
	int ep, i, next = 0, fails = 0, again = 0, waiting = 0, none = 0;
	int held, ok;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((conns = calloc((size_t)count, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(0)) == -1) {
		perror("hold open");
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < count; i++)
		(void)snprintf(conns[i].msg, MSGLEN, "%011d-first!", i);
	t0 = now_ms();
	pump(conns, count, conc, &sin, ep, &next, &fails, 0);
	held = count - fails;
	printf("ready held=%d fails=%d setup_ms=%lld\n", held, fails,
	    now_ms() - t0);
	fflush(stdout);

	/* Every held connection at once: a second, different message. */
	for (i = 0; i < count; i++) {
		if (conns[i].state != C_HELD)
			continue;
		memcpy(conns[i].msg + 12, "again!", 6);
		send_msg(&conns[i], ep, &again, &none);
		waiting += conns[i].state == C_WAITING;
	}
	pump(conns, count, 0, &sin, ep, NULL, &again, waiting);
	ok = 0;
	for (i = 0; i < count; i++)
		ok += conns[i].state == C_HELD;
	printf("again ok=%d fails=%d\n", ok, again);
	fflush(stdout);

	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	while (!release)
		sigsuspend(&old);
	for (i = 0; i < count; i++)
		if (conns[i].fd != -1)
			close(conns[i].fd);
	printf("closed %d\n", ok);
	return fails == 0 && again == 0 && ok == count ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "serve") == 0)
		return serve();
	if (argc == 5 && strcmp(argv[1], "open") == 0)
		return open_many(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	usage();
	return 2;
}
