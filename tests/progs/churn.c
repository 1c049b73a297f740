/*
 * churn: a steady load of echo connections, each one checked byte by byte.
 *
 * Usage: churn [-c CONC] [-n COUNT] [-d SECS] [-s SIZE] [-p MS] PORT
 *
 * Keeps CONC connections (default 4) to 127.0.0.1:PORT going.  Each sends
 * SIZE bytes (default 65536) of a pattern of its own, pausing MS
 * milliseconds (default 0) halfway, then shuts down writing, and expects
 * the same bytes back and then EOF, as from progs/echod (through the
 * proxy).  New connections are started until COUNT have been (-n), SECS
 * seconds have passed (-d), or SIGTERM or SIGINT arrives; the ones in
 * flight are finished, then it exits.  After a refused connect that slot
 * waits RETRY_MS before it tries again, so a closed port costs no CPU.
 *
 * One line per connection on stdout, PORT being its own (client) port:
 *   ok PORT            every byte came back, then EOF
 *   refused            connect() was refused: nothing listened
 *   dropped PORT WHY   EOF or a reset before a single byte came back
 *   fail PORT WHY      anything else: wrong, missing or extra bytes, a
 *                      reset midway, no progress for STUCK_MS
 * and at the end:
 *   total ok=N refused=N dropped=N fail=N
 * Exit status 0 unless a connection failed (dropped and refused are not
 * failures here: the caller decides what they mean), 2 for usage.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXCONC		256
#define RETRY_MS	50
#define STUCK_MS	20000
#define CHUNK		16384

enum state { S_FREE, S_CONNECTING, S_ACTIVE };

struct conn {
	enum state	 state;
	int		 fd;
	unsigned	 port;
	uint32_t	 seed;
	size_t		 sent, rcvd;
	int		 shut;		/* SHUT_WR done */
	int		 paused;	/* the halfway pause has begun */
	int64_t		 resume_at;	/* no sending before */
	int64_t		 next_at;	/* S_FREE: no new connect before */
	int64_t		 progress;	/* last byte moved */
};

struct opts {
	unsigned	 conc;
	unsigned long	 count;		/* 0: no limit */
	int64_t		 secs_ms;	/* 0: no limit */
	size_t		 size;
	int64_t		 pause_ms;
	unsigned	 port;
};

static volatile sig_atomic_t stop_flag;
static struct conn conns[MAXCONC];
static unsigned long n_ok, n_refused, n_dropped, n_fail, started;
static uint32_t next_seed = 1;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Byte i of the stream of seed: no two connections send the same. */
static unsigned char
pattern(uint32_t seed, size_t i)
{
	uint32_t x = seed * 0x9e3779b9u ^ (uint32_t)i * 2654435761u;

	x ^= x >> 15;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return (unsigned char)x;
}

static const char *
errname(int err)
{
	static char buf[32];

	switch (err) {
	case ECONNRESET:
		return "ECONNRESET";
	case EPIPE:
		return "EPIPE";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	default:
		(void)snprintf(buf, sizeof(buf), "errno%d", err);
		return buf;
	}
}

/* End connection c: report it and free its slot. */
static void
finish(struct conn *c, const char *verdict, const char *why, int64_t now)
{
	(void)close(c->fd);
	c->fd = -1;
	c->state = S_FREE;
	c->next_at = now;
	if (strcmp(verdict, "ok") == 0) {
		n_ok++;
		printf("ok %u\n", c->port);
	} else if (strcmp(verdict, "refused") == 0) {
		n_refused++;
		c->next_at = now + RETRY_MS;
		printf("refused\n");
	} else if (strcmp(verdict, "dropped") == 0) {
		n_dropped++;
		printf("dropped %u %s\n", c->port, why);
	} else {
		n_fail++;
		printf("fail %u %s sent=%zu rcvd=%zu\n", c->port, why,
		    c->sent, c->rcvd);
	}
}

/* A broken connection: dropped if nothing ever came back, else failed. */
static void
broken(struct conn *c, const char *what, int err, int64_t now)
{
	char why[64];

	(void)snprintf(why, sizeof(why), "%s:%s", what, errname(err));
	finish(c, c->rcvd == 0 ? "dropped" : "fail", why, now);
}

static void
start(struct conn *c, const struct opts *o, int64_t now)
{
	struct sockaddr_in sin;

	memset(c, 0, sizeof(*c));
	c->seed = next_seed++;
	c->progress = now;
	started++;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)o->port);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		perror("churn: socket");
		exit(1);
	}
	c->state = S_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS)
		return;
	if (errno == ECONNREFUSED)
		finish(c, "refused", "", now);
	else
		finish(c, "fail", errname(errno), now);
}

static void
connected(struct conn *c, int64_t now)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err == ECONNREFUSED) {
		finish(c, "refused", "", now);
		return;
	}
	if (err != 0) {
		finish(c, "fail", errname(err), now);
		return;
	}
	len = sizeof(sin);
	if (getsockname(c->fd, (struct sockaddr *)&sin, &len) == 0)
		c->port = ntohs(sin.sin_port);
	c->state = S_ACTIVE;
	c->progress = now;
}

/* How far c may send now: half the stream until the pause is over. */
static size_t
send_limit(const struct conn *c, const struct opts *o, int64_t now)
{
	if (o->pause_ms > 0 && (!c->paused || now < c->resume_at))
		return o->size / 2;
	return o->size;
}

static void
do_send(struct conn *c, const struct opts *o, int64_t now)
{
	unsigned char buf[CHUNK];
	size_t lim = send_limit(c, o, now), n, i;
	ssize_t w;

	if (c->sent < lim) {
		n = lim - c->sent < sizeof(buf) ? lim - c->sent : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = pattern(c->seed, c->sent + i);
		w = send(c->fd, buf, n, MSG_NOSIGNAL);
		if (w == -1 && errno != EAGAIN && errno != EINTR) {
			broken(c, "send", errno, now);
			return;
		}
		if (w > 0) {
			c->sent += (size_t)w;
			c->progress = now;
		}
	}
	if (o->pause_ms > 0 && !c->paused && c->sent == o->size / 2) {
		c->paused = 1;
		c->resume_at = now + o->pause_ms;
	}
	if (c->sent == o->size && !c->shut) {
		if (shutdown(c->fd, SHUT_WR) == -1) {
			broken(c, "shutdown", errno, now);
			return;
		}
		c->shut = 1;
	}
}

static void
do_recv(struct conn *c, const struct opts *o, int64_t now)
{
	unsigned char buf[CHUNK];
	ssize_t r;
	size_t i;

	r = recv(c->fd, buf, sizeof(buf), 0);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == -1) {
		broken(c, "recv", errno, now);
		return;
	}
	if (r == 0) {
		if (c->rcvd == o->size && c->shut)
			finish(c, "ok", "", now);
		else
			finish(c, c->rcvd == 0 ? "dropped" : "fail", "eof",
			    now);
		return;
	}
	for (i = 0; i < (size_t)r; i++)
		if (c->rcvd + i >= o->size ||
		    buf[i] != pattern(c->seed, c->rcvd + i)) {
			c->rcvd += i;
			finish(c, "fail", c->rcvd >= o->size ? "extra" :
			    "mismatch", now);
			return;
		}
	c->rcvd += (size_t)r;
	c->progress = now;
}

static short
interest(const struct conn *c, const struct opts *o, int64_t now)
{
	short ev = POLLIN;

	if (c->state == S_CONNECTING)
		return POLLOUT;
	if (c->sent < send_limit(c, o, now))
		ev |= POLLOUT;
	return ev;
}

/* Milliseconds until the next timer of any slot, at most 1000. */
static int
timeout(const struct opts *o, int starting, int64_t now)
{
	int64_t t = now + 1000;
	unsigned i;

	for (i = 0; i < o->conc; i++) {
		const struct conn *c = &conns[i];

		if (c->state == S_FREE && starting && c->next_at < t)
			t = c->next_at;
		if (c->state == S_ACTIVE && c->paused && c->resume_at > now &&
		    c->resume_at < t)
			t = c->resume_at;
	}
	return t > now ? (int)(t - now) : 0;
}

static int
still_starting(const struct opts *o, int64_t deadline)
{
	if (stop_flag)
		return 0;
	if (o->count != 0 && started >= o->count)
		return 0;
	return o->secs_ms == 0 || now_ms() < deadline;
}

static void
run(const struct opts *o)
{
	static struct pollfd pfd[MAXCONC];
	int64_t now = now_ms(), deadline = now + o->secs_ms;
	unsigned i, busy;
	int starting;

	for (i = 0; i < o->conc; i++)
		conns[i].fd = -1;
	for (;;) {
		now = now_ms();
		starting = still_starting(o, deadline);
		busy = 0;
		for (i = 0; i < o->conc; i++) {
			struct conn *c = &conns[i];

			if (c->state == S_FREE && starting &&
			    now >= c->next_at && still_starting(o, deadline))
				start(c, o, now);
			if (c->state != S_FREE && now - c->progress > STUCK_MS)
				finish(c, "fail", "stuck", now);
			pfd[i].fd = c->state == S_FREE ? -1 : c->fd;
			pfd[i].events = c->state == S_FREE ? 0 :
			    interest(c, o, now);
			pfd[i].revents = 0;
			busy += c->state != S_FREE;
		}
		if (busy == 0 && !starting)
			return;
		if (poll(pfd, o->conc, timeout(o, starting, now)) == -1) {
			if (errno == EINTR)
				continue;
			perror("churn: poll");
			exit(1);
		}
		now = now_ms();
		for (i = 0; i < o->conc; i++) {
			struct conn *c = &conns[i];

			if (c->state == S_FREE || pfd[i].revents == 0)
				continue;
			if (c->state == S_CONNECTING) {
				connected(c, now);
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
				do_recv(c, o, now);
			if (c->state == S_ACTIVE &&
			    (pfd[i].revents & POLLOUT))
				do_send(c, o, now);
		}
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: churn [-c conc] [-n count] [-d secs] "
	    "[-s size] [-p ms] port\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct opts o = { 4, 0, 0, 65536, 0, 0 };
	struct sigaction sa;
	int ch;

	while ((ch = getopt(argc, argv, "c:n:d:s:p:")) != -1) {
		switch (ch) {
		case 'c':
			o.conc = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o.count = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o.secs_ms = (int64_t)(strtod(optarg, NULL) * 1000);
			break;
		case 's':
			o.size = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o.pause_ms = (int64_t)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || o.conc == 0 || o.conc > MAXCONC ||
	    o.size < 2)
		usage();
	o.port = (unsigned)strtoul(argv[optind], NULL, 10);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	run(&o);
	printf("total ok=%lu refused=%lu dropped=%lu fail=%lu\n", n_ok,
	    n_refused, n_dropped, n_fail);
	return n_fail == 0 ? 0 : 1;
}
