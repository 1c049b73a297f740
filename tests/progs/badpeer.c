/*
 * badpeer: loopback peers that misbehave on purpose, for the operations
 * tests: they reset, stop reading, flood, hold a half-closed connection
 * open, or make a connect time out.
 *
 * Usage: badpeer server MODE
 *        badpeer client PORT MODE
 *        badpeer fill FIFO
 *        badpeer sockport
 *
 * server: listen on 127.0.0.1, on a port the kernel picks, print the port
 * on stdout once it listens, then serve every client in MODE until killed.
 * One poll() loop, no forks, so killing this one pid ends every connection.
 *   echo-hold    send back every byte; after the client's EOF keep the
 *                connection open, not even shut down for writing
 *   bye-on-eof   send back every byte; after the client's EOF send "bye\n"
 *                and close
 *   rst-on-data  reset the connection (SO_LINGER 0) on its first bytes
 *   rst-on-eof   read and discard until the client's EOF, then reset
 *   noread       never read; hold the connection open
 *   flood        never read; write zeros for as long as the client takes them
 *   fullqueue    listen with a backlog of 0 and fill the accept queue with
 *                a connection of its own, never accepting: the kernel drops
 *                every further SYN, so a connect to it times out
 *   fullqueue6   the same on ::1
 *
 * client: connect to 127.0.0.1:PORT, print "port N" (its own port), then
 *   rst          send "hello\n", wait until it came back, reset; exit 0 if
 *                it came back
 *   halfclose    send "hello\n", shut down writing, copy whatever arrives to
 *                stdout until EOF (or until killed)
 *
 * fill: open FIFO for writing without blocking (someone must hold it open
 * for reading), shrink its pipe to one page and write until it takes no
 * more; print the number of bytes written.  A writer that waits on a full
 * pipe blocks from then on, as long as nobody reads.
 *
 * sockport: print the local port of the TCP socket (IPv4 or IPv6) on
 * standard input: a shell's connection, lent with "<&FD".
 *
 * Exit status 0, 1 on a failure (with a message on stderr), 2 for usage.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXCONN		256
#define CONN_BUFSZ	4096
#define FLOOD_BUFSZ	65536
#define HELLO		"hello\n"
#define BYE		"bye\n"

enum mode { M_ECHO_HOLD, M_BYE_ON_EOF, M_RST_ON_DATA, M_RST_ON_EOF,
	M_NOREAD, M_FLOOD, M_FULLQUEUE, M_FULLQUEUE6, M_NMODES };

static const char *const mode_name[M_NMODES] = {
	"echo-hold", "bye-on-eof", "rst-on-data", "rst-on-eof", "noread",
	"flood", "fullqueue", "fullqueue6"
};

struct conn {
	int	 fd;
	int	 eof;		/* the client sent EOF */
	size_t	 off;		/* next byte to send back */
	size_t	 len;		/* bytes held */
	char	 buf[CONN_BUFSZ];
};

static enum mode mode;
static struct conn conns[MAXCONN];
static const char zeros[FLOOD_BUFSZ];

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: badpeer server MODE\n"
	    "       badpeer client PORT rst|halfclose\n"
	    "       badpeer fill FIFO\n"
	    "       badpeer sockport\n");
	exit(2);
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "badpeer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
loopback(struct sockaddr_in *sin, unsigned port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((unsigned short)port);
}

/* The local port of socket fd, IPv4 or IPv6. */
static unsigned
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		die("getsockname");
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Close with a reset instead of a FIN. */
static void
reset(int fd)
{
	struct linger l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)close(fd);
}

/* The loopback address of family (AF_INET, AF_INET6) and port. */
static socklen_t
loopback_of(int family, struct sockaddr_storage *ss, unsigned port)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	if (family == AF_INET) {
		loopback((struct sockaddr_in *)ss, port);
		return sizeof(struct sockaddr_in);
	}
	memset(s6, 0, sizeof(*s6));
	s6->sin6_family = AF_INET6;
	s6->sin6_addr = in6addr_loopback;
	s6->sin6_port = htons((unsigned short)port);
	return sizeof(*s6);
}

static int
listen_on(int family, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback_of(family, &ss, 0);
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket");
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, backlog) == -1)
		die("listen");
	return fd;
}

static void
announce(int lfd)
{
	printf("%u\n", local_port(lfd));
	fflush(stdout);
}

/* fullqueue: one connection of our own sits in the queue, never taken. */
static void __attribute__((noreturn))
fullqueue(int family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, cfd;

	lfd = listen_on(family, 0);
	len = loopback_of(family, &ss, local_port(lfd));
	if ((cfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	if (connect(cfd, (struct sockaddr *)&ss, len) == -1)
		die("connect");
	announce(lfd);
	for (;;)
		pause();
}

static void
drop(struct conn *c, int rst)
{
	if (rst)
		reset(c->fd);
	else
		(void)close(c->fd);
	c->fd = -1;
}

/* Poll events a connection waits for in this mode. */
static short
interest(const struct conn *c)
{
	switch (mode) {
	case M_NOREAD:
		return 0;	/* POLLHUP and POLLERR still come */
	case M_FLOOD:
		return POLLOUT;
	default:
		break;
	}
	if (c->off < c->len)
		return POLLOUT;
	return c->eof ? 0 : POLLIN;
}

/* The client's EOF, in the modes that care. */
static void
on_eof(struct conn *c)
{
	c->eof = 1;
	switch (mode) {
	case M_BYE_ON_EOF:
		(void)send(c->fd, BYE, strlen(BYE), MSG_NOSIGNAL);
		drop(c, 0);
		break;
	case M_RST_ON_EOF:
		drop(c, 1);
		break;
	default:
		break;		/* echo-hold: keep it open */
	}
}

static void
on_read(struct conn *c)
{
	ssize_t n;

	n = recv(c->fd, c->buf, sizeof(c->buf), 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		drop(c, 0);
		return;
	}
	if (n == 0) {
		on_eof(c);
		return;
	}
	if (mode == M_RST_ON_DATA) {
		drop(c, 1);
		return;
	}
	if (mode == M_RST_ON_EOF)
		return;		/* discarded */
	c->off = 0;
	c->len = (size_t)n;
}

static void
on_write(struct conn *c)
{
	ssize_t n;

	if (mode == M_FLOOD)
		n = send(c->fd, zeros, sizeof(zeros), MSG_NOSIGNAL);
	else
		n = send(c->fd, c->buf + c->off, c->len - c->off,
		    MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1) {
		drop(c, 0);
		return;
	}
	if (mode != M_FLOOD)
		c->off += (size_t)n;
}

static void
serve(struct conn *c, short revents)
{
	if (revents & POLLOUT)
		on_write(c);
	else if (revents & POLLIN)
		on_read(c);
	else if (revents & (POLLERR | POLLHUP))
		drop(c, 0);
}

static void
add(int lfd)
{
	int fd, i;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	for (i = 0; i < MAXCONN && conns[i].fd != -1; i++)
		continue;
	if (i == MAXCONN) {
		(void)close(fd);
		return;
	}
	conns[i].fd = fd;
	conns[i].eof = 0;
	conns[i].off = conns[i].len = 0;
}

static int
server(const char *name)
{
	static struct pollfd pfd[MAXCONN + 1];
	int i, lfd, n;

	for (i = 0; i < M_NMODES && strcmp(name, mode_name[i]) != 0; i++)
		continue;
	if (i == M_NMODES)
		usage();
	mode = (enum mode)i;
	if (mode == M_FULLQUEUE || mode == M_FULLQUEUE6)
		fullqueue(mode == M_FULLQUEUE ? AF_INET : AF_INET6);
	lfd = listen_on(AF_INET, 128);
	for (i = 0; i < MAXCONN; i++)
		conns[i].fd = -1;
	announce(lfd);
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < MAXCONN; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = conns[i].fd == -1 ? 0 :
			    interest(&conns[i]);
			pfd[i + 1].revents = 0;
		}
		if ((n = poll(pfd, MAXCONN + 1, -1)) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = 0; i < MAXCONN; i++)
			if (conns[i].fd != -1 && pfd[i + 1].revents != 0)
				serve(&conns[i], pfd[i + 1].revents);
		if (pfd[0].revents & POLLIN)
			add(lfd);
	}
}

static int
client(const char *portarg, const char *how)
{
	struct sockaddr_in sin;
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd;

	if (strcmp(how, "rst") != 0 && strcmp(how, "halfclose") != 0)
		usage();
	loopback(&sin, (unsigned)strtoul(portarg, NULL, 10));
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("connect");
	printf("port %u\n", local_port(fd));
	fflush(stdout);
	if (send(fd, HELLO, strlen(HELLO), MSG_NOSIGNAL) !=
	    (ssize_t)strlen(HELLO))
		die("send");
	if (strcmp(how, "halfclose") == 0) {
		if (shutdown(fd, SHUT_WR) == -1)
			die("shutdown");
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				die("write");
		return n == 0 ? 0 : 1;
	}
	while (got < strlen(HELLO)) {
		if ((n = recv(fd, buf + got, strlen(HELLO) - got, 0)) <= 0) {
			fprintf(stderr, "badpeer: no echo came back\n");
			return 1;
		}
		got += (size_t)n;
	}
	if (memcmp(buf, HELLO, strlen(HELLO)) != 0) {
		fprintf(stderr, "badpeer: a different echo came back\n");
		return 1;
	}
	reset(fd);
	return 0;
}

static int
fill(const char *path)
{
	static const char junk[4096];
	size_t size = sizeof(junk);
	unsigned long long total = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		die(path);
	if (fcntl(fd, F_SETPIPE_SZ, (int)sizeof(junk)) == -1)
		die("F_SETPIPE_SZ");
	/* A write of up to PIPE_BUF bytes goes in whole or not at all. */
	while (size > 0) {
		n = write(fd, junk, size);
		if (n > 0)
			total += (unsigned long long)n;
		else if (n == -1 && errno == EAGAIN)
			size /= 2;
		else if (n == -1 && errno != EINTR)
			die("write");
	}
	printf("%llu\n", total);
	return 0;
}

int
main(int argc, char *argv[])
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(argv[2]);
	if (argc == 4 && strcmp(argv[1], "client") == 0)
		return client(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2]);
	if (argc == 2 && strcmp(argv[1], "sockport") == 0) {
		printf("%u\n", local_port(STDIN_FILENO));
		return 0;
	}
	usage();
}
