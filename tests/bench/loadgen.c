/*
 * loadgen: the benchmark's client.  Every mode talks to 127.0.0.1:PORT,
 * where an echo server (directly or through a proxy) answers, and prints
 * one line of key=value words on stdout; diagnostics go to stderr.
 *
 *   check PORT                    one 64-byte echo; exit 0 if it came back
 *   connrate PORT CONC SECS       CONC connections in flight for SECS: each
 *                                 connects, sends 64 bytes, reads the echo,
 *                                 checks it and closes; failures by kind
 *   latency PORT WARMUP COUNT     one connection, TCP_NODELAY, 64-byte
 *                                 ping-pong; p50/p99 of COUNT round trips
 *   hold PORT COUNT CONC TIMEOUT  open COUNT connections (CONC being set up
 *                                 at a time), each verified with one echo;
 *                                 print "ready ..." and keep them open
 *                                 until SIGUSR1, SIGTERM or SIGINT; then
 *                                 report how many the far side closed
 *   fork COUNT                    fork() + _exit() + waitpid() COUNT times
 *
 * Owns the sockets it opens and nothing else.  It never retries a failed
 * connection: a failure is counted by kind, which is the point.  It ends with
 * a SIGTERM when its parent dies (PR_SET_PDEATHSIG), so a benchmark killed
 * hard leaves no holder behind.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

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
#include <time.h>
#include <unistd.h>

#define MSG_SIZE	64		/* bytes per echo */
#define PROBE_TIMEOUT_MS 3000		/* connrate: no echo by then = fail */
#define LATENCY_TIMEOUT_S 5		/* latency/check: a lost echo */
#define POLL_MS		50		/* deadline scan interval */
#define MAX_EVENTS	256

enum fail_kind { FAIL_REFUSED, FAIL_RESET, FAIL_EOF, FAIL_MISMATCH,
	FAIL_TIMEOUT, FAIL_ADDRNOTAVAIL, FAIL_OTHER, FAIL_N };

static const char *const fail_name[FAIL_N] = {
	"refused", "reset", "eof", "mismatch", "timeout", "addrnotavail",
	"other"
};

enum phase { PH_IDLE, PH_CONNECTING, PH_READING };

/* One connection being set up: connect, send 64 bytes, read them back. */
struct probe {
	int		 fd;
	enum phase	 phase;
	size_t		 got;
	int64_t		 start_ns;
	int64_t		 deadline_ns;
	unsigned char	 msg[MSG_SIZE];
	unsigned char	 echo[MSG_SIZE];
};

/* What connrate and hold share: the epoll set and the counters. */
struct engine {
	int		 ep;
	unsigned short	 port;
	struct probe	*probes;
	int		 conc;
	int64_t		 timeout_ns;
	uint64_t	 seq;		/* makes every message different */
	uint64_t	 ok;
	uint64_t	 fails[FAIL_N];
	int		 other_errno;	/* last errno counted "other" */
	uint32_t	*times_us;	/* connect-to-echo time of each ok */
	size_t		 ntimes, captimes;
	int		*held;		/* hold: verified sockets */
	size_t		 nheld;
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long
number(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		errx(2, "invalid %s '%s' (%ld-%ld)", what, s, min, max);
	return v;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
loopback(struct sockaddr_in *sin, unsigned short port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
}

static enum fail_kind
classify(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return FAIL_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return FAIL_RESET;
	case ETIMEDOUT:
		return FAIL_TIMEOUT;
	case EADDRNOTAVAIL:
		return FAIL_ADDRNOTAVAIL;
	default:
		return FAIL_OTHER;
	}
}

/* Blocking send or receive of exactly len bytes; 0, or -1 with errno. */
static int
xfer_all(int fd, unsigned char *buf, size_t len, int sending)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (sending)
			n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		else
			n = recv(fd, buf + done, len - done, 0);
		if (n == 0) {
			errno = ECONNRESET;	/* EOF before the echo */
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* A blocking connection with TCP_NODELAY and a receive timeout. */
static int
dial_blocking(unsigned short port)
{
	struct sockaddr_in sin;
	struct timeval tv = { LATENCY_TIMEOUT_S, 0 };
	int fd, one = 1;

	loopback(&sin, port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "connect 127.0.0.1:%u", (unsigned)port);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		err(1, "setsockopt");
	return fd;
}

static void
fill(unsigned char *msg, uint64_t seq)
{
	size_t i;

	for (i = 0; i < MSG_SIZE; i++)
		msg[i] = (unsigned char)((seq >> (8 * (i % 8))) + i);
}

/* One blocking 64-byte round trip; its time in ns, or -1 with errno. */
static int64_t
round_trip(int fd, uint64_t seq)
{
	unsigned char msg[MSG_SIZE], echo[MSG_SIZE];
	int64_t t0;

	fill(msg, seq);
	t0 = now_ns();
	if (xfer_all(fd, msg, sizeof(msg), 1) == -1 ||
	    xfer_all(fd, echo, sizeof(echo), 0) == -1)
		return -1;
	if (memcmp(msg, echo, sizeof(msg)) != 0) {
		errno = EBADMSG;
		return -1;
	}
	return now_ns() - t0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
mode_check(unsigned short port)
{
	int fd;

	fd = dial_blocking(port);
	if (round_trip(fd, 1) == -1)
		err(1, "echo through 127.0.0.1:%u", (unsigned)port);
	close(fd);
	printf("ok=1\n");
	return 0;
}

static int
mode_latency(unsigned short port, long warmup, long count)
{
	int64_t *t, sum = 0;
	long i;
	int fd;

	if ((t = calloc((size_t)count, sizeof(*t))) == NULL)
		err(1, "calloc");
	fd = dial_blocking(port);
	for (i = 0; i < warmup + count; i++) {
		int64_t ns = round_trip(fd, (uint64_t)i);

		if (ns == -1)
			err(1, "round trip %ld", i);
		if (i >= warmup)
			t[i - warmup] = ns;
	}
	close(fd);
	for (i = 0; i < count; i++)
		sum += t[i];
	qsort(t, (size_t)count, sizeof(*t), cmp_i64);
	printf("count=%ld p50_us=%.1f p99_us=%.1f mean_us=%.1f min_us=%.1f "
	    "max_us=%.1f\n", count, t[count / 2] / 1e3,
	    t[count * 99 / 100] / 1e3, (double)sum / count / 1e3, t[0] / 1e3,
	    t[count - 1] / 1e3);
	free(t);
	return 0;
}

static int
mode_fork(long count)
{
	int64_t *t, sum = 0, t0;
	pid_t pid;
	long i;

	if ((t = calloc((size_t)count, sizeof(*t))) == NULL)
		err(1, "calloc");
	for (i = 0; i < count; i++) {
		t0 = now_ns();
		if ((pid = fork()) == -1)
			err(1, "fork");
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) == -1)
			err(1, "waitpid");
		t[i] = now_ns() - t0;
		sum += t[i];
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_i64);
	printf("count=%ld mean_us=%.1f p50_us=%.1f p99_us=%.1f\n", count,
	    (double)sum / count / 1e3, t[count / 2] / 1e3,
	    t[count * 99 / 100] / 1e3);
	free(t);
	return 0;
}

static void
probe_watch(struct engine *e, int slot, int op, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u32 = (uint32_t)slot;
	if (epoll_ctl(e->ep, op, e->probes[slot].fd, &ev) == -1)
		err(1, "epoll_ctl");
}

static void
probe_fail(struct engine *e, int slot, enum fail_kind kind, int error)
{
	struct probe *p = &e->probes[slot];

	e->fails[kind]++;
	if (kind == FAIL_OTHER)
		e->other_errno = error;
	close(p->fd);		/* also removes it from the epoll set */
	p->fd = -1;
	p->phase = PH_IDLE;
}

static void
record_time(struct engine *e, int64_t ns)
{
	uint32_t *nt;
	size_t cap;

	if (e->ntimes == e->captimes) {
		cap = e->captimes == 0 ? 65536 : e->captimes * 2;
		if ((nt = realloc(e->times_us, cap * sizeof(*nt))) == NULL)
			err(1, "realloc");
		e->times_us = nt;
		e->captimes = cap;
	}
	e->times_us[e->ntimes++] = (uint32_t)(ns / 1000);
}

/* The echo came back whole and right: keep the socket or close it. */
static void
probe_done(struct engine *e, int slot)
{
	struct probe *p = &e->probes[slot];

	e->ok++;
	record_time(e, now_ns() - p->start_ns);
	if (e->held != NULL) {
		if (epoll_ctl(e->ep, EPOLL_CTL_DEL, p->fd, NULL) == -1)
			err(1, "epoll_ctl");
		e->held[e->nheld++] = p->fd;
	} else
		close(p->fd);
	p->fd = -1;
	p->phase = PH_IDLE;
}

/* Connected: send the message (64 bytes always fit), then wait for it. */
static void
probe_send(struct engine *e, int slot)
{
	struct probe *p = &e->probes[slot];
	ssize_t n;

	n = send(p->fd, p->msg, sizeof(p->msg), MSG_NOSIGNAL);
	if (n != (ssize_t)sizeof(p->msg)) {
		probe_fail(e, slot, n == -1 ? classify(errno) : FAIL_OTHER,
		    n == -1 ? errno : EMSGSIZE);
		return;
	}
	p->phase = PH_READING;
	p->got = 0;
	probe_watch(e, slot, EPOLL_CTL_MOD, EPOLLIN);
}

static void
probe_start(struct engine *e, int slot)
{
	struct probe *p = &e->probes[slot];
	struct sockaddr_in sin;

	loopback(&sin, e->port);
	fill(p->msg, ++e->seq);
	p->start_ns = now_ns();
	p->deadline_ns = p->start_ns + e->timeout_ns;
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1)
		err(1, "socket");
	p->phase = PH_CONNECTING;
	probe_watch(e, slot, EPOLL_CTL_ADD, EPOLLOUT);
	if (connect(p->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		probe_send(e, slot);
	else if (errno != EINPROGRESS)
		probe_fail(e, slot, classify(errno), errno);
}

static void
probe_read(struct engine *e, int slot)
{
	struct probe *p = &e->probes[slot];
	ssize_t n;

	n = recv(p->fd, p->echo + p->got, sizeof(p->echo) - p->got, 0);
	if (n == 0)
		probe_fail(e, slot, FAIL_EOF, 0);
	else if (n == -1 && errno != EAGAIN && errno != EINTR)
		probe_fail(e, slot, classify(errno), errno);
	else if (n > 0 && (p->got += (size_t)n) == sizeof(p->echo)) {
		if (memcmp(p->msg, p->echo, sizeof(p->msg)) != 0)
			probe_fail(e, slot, FAIL_MISMATCH, 0);
		else
			probe_done(e, slot);
	}
}

static void
probe_event(struct engine *e, int slot)
{
	struct probe *p = &e->probes[slot];
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (p->phase == PH_READING) {
		probe_read(e, slot);
		return;
	}
	if (p->phase != PH_CONNECTING)
		return;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr != 0)
		probe_fail(e, slot, classify(soerr), soerr);
	else
		probe_send(e, slot);
}

static void
expire(struct engine *e, int64_t now)
{
	int i;

	for (i = 0; i < e->conc; i++)
		if (e->probes[i].phase != PH_IDLE &&
		    now >= e->probes[i].deadline_ns)
			probe_fail(e, i, FAIL_TIMEOUT, 0);
}

static void
engine_init(struct engine *e, unsigned short port, int conc,
    int64_t timeout_ns)
{
	int i;

	memset(e, 0, sizeof(*e));
	e->port = port;
	e->conc = conc;
	e->timeout_ns = timeout_ns;
	if ((e->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	if ((e->probes = calloc((size_t)conc, sizeof(*e->probes))) == NULL)
		err(1, "calloc");
	for (i = 0; i < conc; i++)
		e->probes[i].fd = -1;
}

/* Wait for events once and handle them and the deadlines. */
static void
engine_step(struct engine *e)
{
	struct epoll_event evs[MAX_EVENTS];
	int i, n;

	n = epoll_wait(e->ep, evs, MAX_EVENTS, POLL_MS);
	if (n == -1 && errno != EINTR)
		err(1, "epoll_wait");
	for (i = 0; i < n; i++)
		probe_event(e, (int)evs[i].data.u32);
	expire(e, now_ns());
}

static uint64_t
total_fails(const struct engine *e)
{
	uint64_t sum = 0;
	int k;

	for (k = 0; k < FAIL_N; k++)
		sum += e->fails[k];
	return sum;
}

static void
print_fails(const struct engine *e)
{
	int k;

	printf(" fails=%llu", (unsigned long long)total_fails(e));
	for (k = 0; k < FAIL_N; k++)
		printf(" fail_%s=%llu", fail_name[k],
		    (unsigned long long)e->fails[k]);
	if (e->other_errno != 0)
		printf(" other_errno=%d", e->other_errno);
}

static void
print_times(struct engine *e)
{
	uint32_t *t = e->times_us;
	size_t n = e->ntimes;

	if (n == 0) {
		printf(" conn_p50_ms=0 conn_p99_ms=0 conn_max_ms=0");
		return;
	}
	qsort(t, n, sizeof(*t), cmp_u32);
	printf(" conn_p50_ms=%.3f conn_p99_ms=%.3f conn_max_ms=%.3f",
	    t[n / 2] / 1e3, t[n * 99 / 100] / 1e3, t[n - 1] / 1e3);
}

static int
mode_connrate(unsigned short port, int conc, long secs)
{
	struct engine e;
	int64_t t0, end;
	int i;

	engine_init(&e, port, conc, (int64_t)PROBE_TIMEOUT_MS * 1000000);
	t0 = now_ns();
	end = t0 + (int64_t)secs * 1000000000;
	while (now_ns() < end) {
		for (i = 0; i < conc; i++)
			if (e.probes[i].phase == PH_IDLE)
				probe_start(&e, i);
		engine_step(&e);
	}
	/* Connections still in flight at the end are not counted. */
	for (i = 0; i < conc; i++)
		if (e.probes[i].fd != -1)
			close(e.probes[i].fd);
	printf("conns=%llu secs=%ld rate=%.1f", (unsigned long long)e.ok,
	    secs, (double)e.ok / (double)secs);
	print_fails(&e);
	print_times(&e);
	printf("\n");
	return 0;
}

/* Open and verify count connections; the time it took in ns. */
static int64_t
hold_open(struct engine *e, long count)
{
	int64_t t0 = now_ns();
	long started = 0;
	int i, busy;

	for (;;) {
		busy = 0;
		for (i = 0; i < e->conc; i++) {
			if (e->probes[i].phase == PH_IDLE && started < count) {
				probe_start(e, i);
				started++;
			}
			busy += e->probes[i].phase != PH_IDLE;
		}
		if (busy == 0)
			break;
		engine_step(e);
	}
	return now_ns() - t0;
}

/* After the release signal: is each held connection still open? */
static void
hold_verify(const struct engine *e)
{
	unsigned long open = 0, closed = 0, reset = 0, data = 0;
	ssize_t n;
	size_t i;
	char c;

	for (i = 0; i < e->nheld; i++) {
		n = recv(e->held[i], &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			open++;
		else if (n == 0)
			closed++;
		else if (n == -1)
			reset++;
		else
			data++;
	}
	printf("done open=%lu closed=%lu reset=%lu unexpected_data=%lu\n",
	    open, closed, reset, data);
}

static int
mode_hold(unsigned short port, long count, int conc, long timeout_s)
{
	struct engine e;
	sigset_t set;
	int64_t ns;
	size_t i;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		err(1, "sigprocmask");
	engine_init(&e, port, conc, (int64_t)timeout_s * 1000000000);
	if ((e.held = calloc((size_t)count, sizeof(*e.held))) == NULL)
		err(1, "calloc");
	ns = hold_open(&e, count);
	printf("ready held=%zu setup_s=%.3f", e.nheld, ns / 1e9);
	print_fails(&e);
	print_times(&e);
	printf("\n");
	fflush(stdout);
	if (sigwait(&set, &sig) != 0)
		errx(1, "sigwait");
	hold_verify(&e);
	for (i = 0; i < e.nheld; i++)
		close(e.held[i]);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen check PORT\n"
	    "       loadgen connrate PORT CONC SECS\n"
	    "       loadgen latency PORT WARMUP COUNT\n"
	    "       loadgen hold PORT COUNT CONC TIMEOUT_SECS\n"
	    "       loadgen fork COUNT\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	unsigned short port;

	signal(SIGPIPE, SIG_IGN);
	/* If the benchmark dies, do not hold connections open forever. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		err(1, "prctl");
	if (getppid() == 1)
		errx(1, "parent already gone");
	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "fork") == 0)
		return mode_fork(number(argv[2], 1, 10000000, "count"));
	if (argc < 3)
		usage();
	port = (unsigned short)number(argv[2], 1, 65535, "port");
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return mode_check(port);
	if (argc == 5 && strcmp(argv[1], "connrate") == 0)
		return mode_connrate(port, (int)number(argv[3], 1, 4096,
		    "concurrency"), number(argv[4], 1, 3600, "seconds"));
	if (argc == 5 && strcmp(argv[1], "latency") == 0)
		return mode_latency(port, number(argv[3], 0, 10000000,
		    "warm-up count"), number(argv[4], 1, 10000000, "count"));
	if (argc == 6 && strcmp(argv[1], "hold") == 0)
		return mode_hold(port, number(argv[3], 1, 1000000, "count"),
		    (int)number(argv[4], 1, 4096, "concurrency"),
		    number(argv[5], 1, 3600, "timeout"));
	usage();
	return 2;
}
