/*
 * soakload: the client side of the soak test (tests/soak.sh): a mix of
 * echo connections of every shape a relay meets, each one checked.
 *
 * Usage: soakload [-c CONC] [-d SECS] [-t STALL] [-r SEED] PORT
 *
 * Keeps CONC connections (default 24) to 127.0.0.1:PORT going, through
 * the proxy to progs/echod in echo mode, and starts new ones for SECS
 * seconds (default 10), or until SIGTERM or SIGINT; then finishes the
 * ones in flight and exits.  STALL (default 3, up to three decimals) is
 * the proxy's --stall-timeout.  SEED (default 1) seeds the choices, so a
 * run can be repeated.  Each connection is of one kind, drawn at random:
 *   short   1 B to 16 KiB: all sent, SHUT_WR, all back, then EOF
 *   long    256 KiB to 4 MiB, sent in 64 KiB slices up to 50 ms apart
 *   half    16 to 256 KiB sent and SHUT_WR before reading a byte (or
 *           until STALL/4 passed): the echo flows after the client's FIN
 *   stall   after 256 KiB, stops writing for 10 to 30 % of STALL (1 to
 *           3 MiB in all), or stops reading and writes on until nothing
 *           more goes for 100 ms (the whole way to echod and back full,
 *           the proxy's stall clock running), then stops reading, or
 *           both, for 10 to 30 % of STALL: well within the stall timeout
 *   idle    4 to 64 KiB; halfway, with every byte back, it sends nothing
 *           for 1.5 x STALL: a silent pair, which no stall timeout ends
 *   reset   resets (SO_LINGER 0) at a random moment: right after
 *           connecting, or after a random part of up to 1 MiB is sent
 *           and up to 300 ms; reading meanwhile, or not (then of up to
 *           128 KiB)
 *   hang    sends without end and never reads: the proxy must end it
 *           (stall), not sooner than STALL after it stopped reading, not
 *           later than 3 x STALL + 5 s
 * Every byte that comes back is compared with the byte sent at that
 * offset (a pattern of the connection's own), so a lost, doubled,
 * reordered, foreign or corrupted byte is found where it happens.  The
 * five kinds that end well must end with every byte back and then EOF.
 *
 * A connection that does not do what its kind says gets a line on stdout:
 *   fail KIND PORT WHY sent=N rcvd=N
 * and the run ends with
 *   total connected=N connect_fail=N ok=N bytes=N checked=N resets=N
 *         halfclosed=N stalls_short=N stalls_blocked=N idles=N aborted=N
 *         fail=N
 *   kinds short=N long=N half=N stall=N idle=N reset=N hang=N
 * connected: connects that completed, each one a connection the proxy
 * accepts and must log; ok: connections that ended well, bytes: their
 * bytes (each one sent, echoed and compared); checked: every byte
 * compared, of any kind; halfclosed: halves that ended well and received
 * bytes after their SHUT_WR; stalls_short, idles: pauses begun;
 * stalls_blocked: stalls that ended well after filling up until sends
 * stopped; aborted: hangs the proxy ended.
 * Exit status 0 unless a connection failed, 2 for usage.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
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
#define STUCK_MS	20000	/* no byte moved, outside a pause */
#define CHUNK		65536
#define PAT_LEN		65521	/* a prime: no power-of-two shift aliases */
#define SLICE		65536	/* long: bytes between pauses */
#define SLICE_GAP_MS	50
#define RESET_DELAY_MS	300
#define RESET_UNREAD_MAX (128 * 1024)
#define HANG_GRACE_MS	5000
#define EARLY_SLACK_MS	50	/* the proxy's clock in ms, rounded */
#define FILL_MAX	(64 * 1024 * 1024)
#define FILL_QUIET_MS	100	/* no send for that long: all is full */

#define NO_READ		1
#define NO_WRITE	2

enum kind { K_SHORT, K_LONG, K_HALF, K_STALL, K_IDLE, K_RESET, K_HANG,
	K_NKINDS };

static const char *const kind_name[K_NKINDS] = {
	"short", "long", "half", "stall", "idle", "reset", "hang"
};
/* Out of 100 new connections. */
static const unsigned kind_weight[K_NKINDS] = { 50, 8, 10, 8, 3, 18, 3 };

enum state { S_FREE, S_CONNECTING, S_ACTIVE };

struct conn {
	enum state	 state;
	enum kind	 kind;
	int		 fd;
	unsigned	 port;
	uint32_t	 off;		/* where in the pattern it starts */
	size_t		 size;		/* bytes to send; SIZE_MAX: no end */
	size_t		 sent, rcvd;
	int		 shut;		/* SHUT_WR done */
	size_t		 rcvd_at_shut;
	size_t		 limit;		/* send no further for now */
	int		 hold;		/* NO_READ, NO_WRITE until hold_end */
	int64_t		 hold_end;
	size_t		 pause_at;	/* stall, idle: the one pause begins */
	int		 pause_what;
	int64_t		 pause_ms;
	int		 filling;	/* stall: sending, not reading, until full */
	int64_t		 last_send;
	int		 blocked;	/* stall: filled up before pausing */
	size_t		 reset_at;	/* reset: sent this far, and */
	int64_t		 reset_time;	/* this late */
	int64_t		 t0;		/* connected */
	int64_t		 stuck_at;	/* fail if still here by then */
	int64_t		 next_at;	/* S_FREE: no new connect before */
};

struct opts {
	unsigned	 conc;
	int64_t		 secs_ms;
	int64_t		 stall_ms;
	uint64_t	 seed;
	unsigned	 port;
};

static volatile sig_atomic_t stop_flag;
static struct conn conns[MAXCONC];
static unsigned char pat[PAT_LEN];
static uint64_t rng;
static unsigned long n_connected, n_connect_fail, n_ok, n_resets, n_half,
    n_stalls, n_blocked, n_idles, n_aborted, n_fail, n_kind[K_NKINDS];
static unsigned long long n_bytes, n_checked;

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

/* xorshift64*: the run's one source of choices. */
static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

/* A number from lo to hi, both included. */
static uint64_t
between(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

/*
 * Bytes pos.. of the stream that starts at pattern offset off: the table
 * again and again, each round one higher, so that a shift by a whole
 * table is seen too.
 */
static void
fill(unsigned char *dst, uint32_t off, size_t pos, size_t n)
{
	uint64_t k = (uint64_t)off + pos;
	size_t i, j, run;
	unsigned char lap;

	for (i = 0; i < n; i += run) {
		j = (size_t)((k + i) % PAT_LEN);
		lap = (unsigned char)((k + i) / PAT_LEN);
		run = PAT_LEN - j < n - i ? PAT_LEN - j : n - i;
		for (size_t m = 0; m < run; m++)
			dst[i + m] = (unsigned char)(pat[j + m] + lap);
	}
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

static void
release(struct conn *c, int64_t now)
{
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	c->state = S_FREE;
	c->next_at = now;
}

static void
fail(struct conn *c, const char *why, int64_t now)
{
	n_fail++;
	printf("fail %s %u %s sent=%zu rcvd=%zu\n", kind_name[c->kind],
	    c->port, why, c->sent, c->rcvd);
	release(c, now);
}

static void
fail_err(struct conn *c, const char *what, int err, int64_t now)
{
	char why[64];

	(void)snprintf(why, sizeof(why), "%s:%s", what, errname(err));
	fail(c, why, now);
}

/*
 * The proxy ended a hang: right, unless sooner than STALL after the hang
 * stopped reading (too late is stuck_at's to find).
 */
static void
hang_ended(struct conn *c, int64_t now)
{
	if (now - c->t0 < c->pause_ms - EARLY_SLACK_MS) {
		fail(c, "aborted-early", now);
		return;
	}
	n_aborted++;
	release(c, now);
}

/* A close with SO_LINGER 0: the peer gets a reset. */
static void
do_reset(struct conn *c, int64_t now)
{
	struct linger l = { 1, 0 };

	(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	n_resets++;
	release(c, now);
}

static enum kind
pick_kind(void)
{
	unsigned r = (unsigned)between(0, 99), k;

	for (k = 0; k < K_NKINDS - 1; k++) {
		if (r < kind_weight[k])
			break;
		r -= kind_weight[k];
	}
	return (enum kind)k;
}

/* A new connection: its kind, its sizes and its moments. */
static void
plan(struct conn *c, const struct opts *o)
{
	c->kind = pick_kind();
	c->off = (uint32_t)between(0, PAT_LEN - 1);
	switch (c->kind) {
	case K_SHORT:
		c->size = between(1, 16384);
		break;
	case K_LONG:
		c->size = between(256 * 1024, 4 * 1024 * 1024);
		break;
	case K_HALF:
		c->size = between(16 * 1024, 256 * 1024);
		break;
	case K_STALL:
		c->size = between(1024 * 1024, 3 * 1024 * 1024);
		c->pause_at = 256 * 1024;
		c->pause_what = (int)between(NO_READ, NO_READ | NO_WRITE);
		c->pause_ms = (int64_t)between(o->stall_ms / 10,
		    o->stall_ms * 3 / 10);
		break;
	case K_IDLE:
		c->size = between(4096, 65536);
		c->pause_at = c->size / 2;
		c->pause_what = NO_WRITE;
		c->pause_ms = o->stall_ms * 3 / 2;
		break;
	case K_RESET:
		/* One that does not read sends no more than buffers hold. */
		c->hold = between(0, 1) ? NO_READ : 0;
		c->hold_end = INT64_MAX;
		c->size = between(1, c->hold ? RESET_UNREAD_MAX : 1024 * 1024);
		c->reset_at = between(0, 3) == 0 ? 0 : between(0, c->size - 1);
		c->reset_time = between(0, 3) == 0 ? 0 :
		    (int64_t)between(0, RESET_DELAY_MS);
		break;
	default:
		c->size = SIZE_MAX;
		c->hold = NO_READ;
		c->hold_end = INT64_MAX;
		c->pause_ms = o->stall_ms;	/* the least it may live */
		break;
	}
	n_kind[c->kind]++;
}

static void
start(struct conn *c, const struct opts *o, int64_t now)
{
	struct sockaddr_in sin;

	memset(c, 0, sizeof(*c));
	plan(c, o);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)o->port);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		perror("soakload: socket");
		exit(1);
	}
	c->state = S_CONNECTING;
	c->stuck_at = now + STUCK_MS;
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno == EINPROGRESS)
		return;
	n_connect_fail++;
	fail_err(c, "connect", errno, now);
	c->next_at = now + RETRY_MS;
}

/* The connect completed: from now on the proxy owes a pair line. */
static void
connected(struct conn *c, const struct opts *o, int64_t now)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		n_connect_fail++;
		fail_err(c, "connect", err, now);
		c->next_at = now + RETRY_MS;
		return;
	}
	n_connected++;
	len = sizeof(sin);
	if (getsockname(c->fd, (struct sockaddr *)&sin, &len) == 0)
		c->port = ntohs(sin.sin_port);
	c->state = S_ACTIVE;
	c->t0 = now;
	c->stuck_at = now + STUCK_MS;
	c->limit = c->size;
	if (c->kind == K_LONG)
		c->limit = SLICE;
	else if (c->kind == K_IDLE || c->kind == K_STALL)
		c->limit = c->pause_at;
	else if (c->kind == K_RESET) {
		c->limit = c->reset_at;
		c->reset_time += now;
	} else if (c->kind == K_HALF) {
		c->hold = NO_READ;
		c->hold_end = now + o->stall_ms / 4;
	} else if (c->kind == K_HANG)
		c->stuck_at = now + 3 * o->stall_ms + HANG_GRACE_MS;
}

/* A byte moved: not stuck (a hang's deadline is fixed, a pause's kept). */
static void
progress(struct conn *c, int64_t now)
{
	if (c->kind != K_HANG && c->stuck_at < now + STUCK_MS)
		c->stuck_at = now + STUCK_MS;
}

static void
hold_for(struct conn *c, int what, int64_t ms, int64_t now)
{
	c->hold = what;
	c->hold_end = now + ms;
	c->stuck_at = c->hold_end + STUCK_MS;
}

/*
 * A stall that stops reading first writes until nothing more goes (or
 * FILL_MAX went), then pauses: from then on it knows its size.
 */
static void
end_fill(struct conn *c, int blocked, int64_t now)
{
	c->filling = 0;
	c->blocked = blocked;
	c->size = c->sent + between(1, 256 * 1024);
	c->limit = c->size;
	hold_for(c, c->pause_what, c->pause_ms, now);
}

/* A stall's one pause begins; a reader's with filling up. */
static void
begin_stall(struct conn *c, int64_t now)
{
	n_stalls++;
	if (!(c->pause_what & NO_READ)) {
		c->limit = c->size;
		hold_for(c, c->pause_what, c->pause_ms, now);
		return;
	}
	c->filling = 1;
	c->last_send = now;
	c->size = SIZE_MAX;
	c->limit = c->sent + FILL_MAX;
	c->hold = NO_READ;
	c->hold_end = INT64_MAX;
}

/*
 * Begin a pause or a new slice once the connection got there: stall and
 * idle pause once (idle only with every byte back), long between slices.
 */
static void
advance(struct conn *c, int64_t now)
{
	if (c->filling && (now - c->last_send >= FILL_QUIET_MS ||
	    c->sent >= c->limit))
		end_fill(c, c->sent < c->limit, now);
	if (c->hold != 0 && now >= c->hold_end)
		c->hold = 0;
	if (c->hold != 0 || c->sent < c->limit || c->limit == c->size)
		return;
	switch (c->kind) {
	case K_LONG:
		c->limit = c->size - c->sent < SLICE ? c->size :
		    c->sent + SLICE;
		hold_for(c, NO_WRITE, (int64_t)between(0, SLICE_GAP_MS), now);
		break;
	case K_IDLE:
		if (c->rcvd < c->sent)
			return;
		c->limit = c->size;
		hold_for(c, c->pause_what, c->pause_ms, now);
		n_idles++;
		break;
	case K_STALL:
		begin_stall(c, now);
		break;
	default:
		break;
	}
}

/* How far c may send now; a paused reader still writes, to fill up. */
static int
may_send(const struct conn *c)
{
	if (c->hold & NO_WRITE)
		return 0;
	return c->sent < c->limit || (c->sent == c->size && !c->shut);
}

static void
do_send(struct conn *c, int64_t now)
{
	static unsigned char buf[CHUNK];
	size_t n;
	ssize_t w;

	if (c->sent < c->limit) {
		n = c->limit - c->sent < CHUNK ? c->limit - c->sent : CHUNK;
		fill(buf, c->off, c->sent, n);
		w = send(c->fd, buf, n, MSG_NOSIGNAL);
		if (w == -1 && errno != EAGAIN && errno != EINTR) {
			if (c->kind == K_HANG)
				hang_ended(c, now);
			else
				fail_err(c, "send", errno, now);
			return;
		}
		if (w > 0) {
			c->sent += (size_t)w;
			c->last_send = now;
			progress(c, now);
		}
	}
	if (c->sent == c->size && !c->shut) {
		if (shutdown(c->fd, SHUT_WR) == -1) {
			fail_err(c, "shutdown", errno, now);
			return;
		}
		c->shut = 1;
		c->rcvd_at_shut = c->rcvd;
		if (c->kind == K_HALF)
			c->hold = 0;
	}
}

/* End of the stream from the proxy: right only after every byte. */
static void
got_eof(struct conn *c, int64_t now)
{
	if (c->kind == K_HANG) {
		hang_ended(c, now);
		return;
	}
	if (c->kind == K_RESET || c->rcvd != c->size || !c->shut) {
		fail(c, "eof", now);
		return;
	}
	if (c->kind == K_STALL && c->blocked)
		n_blocked++;
	if (c->kind == K_HALF && c->rcvd_at_shut < c->size)
		n_half++;
	n_ok++;
	n_bytes += c->size;
	release(c, now);
}

/* Compare n received bytes with what was sent at that offset. */
static int
check(struct conn *c, const unsigned char *buf, size_t n, int64_t now)
{
	static unsigned char want[CHUNK];
	char why[64];
	size_t i;

	if (n > c->sent - c->rcvd) {
		fail(c, "extra", now);
		return -1;
	}
	fill(want, c->off, c->rcvd, n);
	if (memcmp(buf, want, n) == 0) {
		c->rcvd += n;
		n_checked += n;
		return 0;
	}
	for (i = 0; buf[i] == want[i]; i++)
		continue;
	(void)snprintf(why, sizeof(why), "mismatch@%zu", c->rcvd + i);
	c->rcvd += i;
	fail(c, why, now);
	return -1;
}

static void
do_recv(struct conn *c, int64_t now)
{
	static unsigned char buf[CHUNK];
	ssize_t r;

	r = recv(c->fd, buf, sizeof(buf), 0);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == -1) {
		if (c->kind == K_HANG)
			hang_ended(c, now);
		else
			fail_err(c, "recv", errno, now);
		return;
	}
	if (r == 0) {
		got_eof(c, now);
		return;
	}
	if (check(c, buf, (size_t)r, now) == 0)
		progress(c, now);
}

static short
interest(const struct conn *c)
{
	short ev = 0;

	if (c->state == S_CONNECTING)
		return POLLOUT;
	if (!(c->hold & NO_READ))
		ev |= POLLIN;
	if (may_send(c))
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

		if (c->state == S_FREE) {
			if (starting && c->next_at < t)
				t = c->next_at;
			continue;
		}
		if (c->hold != 0 && c->hold_end < t)
			t = c->hold_end;
		if (c->filling && c->last_send + FILL_QUIET_MS < t)
			t = c->last_send + FILL_QUIET_MS;
		/* A reset still sending waits for the socket, not the time. */
		if (c->kind == K_RESET && c->state == S_ACTIVE &&
		    c->sent >= c->reset_at && c->reset_time < t)
			t = c->reset_time;
		if (c->stuck_at < t)
			t = c->stuck_at;
	}
	return t > now ? (int)(t - now) : 0;
}

static int
still_starting(int64_t deadline)
{
	return !stop_flag && now_ms() < deadline;
}

/* Timers of one slot: a new connection, a reset due, one stuck. */
static void
tick(struct conn *c, const struct opts *o, int starting, int64_t now)
{
	if (c->state == S_FREE && starting && now >= c->next_at)
		start(c, o, now);
	if (c->state == S_FREE)
		return;
	if (c->state == S_ACTIVE)
		advance(c, now);
	if (c->kind == K_RESET && c->state == S_ACTIVE &&
	    c->sent >= c->reset_at && now >= c->reset_time) {
		do_reset(c, now);
		return;
	}
	if (now >= c->stuck_at)
		fail(c, c->kind == K_HANG ? "not-aborted" : "stuck", now);
}

static void
serve(struct conn *c, const struct opts *o, short revents, int64_t now)
{
	if (c->state == S_CONNECTING) {
		connected(c, o, now);
		return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP)) {
		if (!(c->hold & NO_READ) || c->kind != K_HANG)
			do_recv(c, now);
		else
			hang_ended(c, now);
	}
	if (c->state == S_ACTIVE && (revents & POLLOUT))
		do_send(c, now);
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
		starting = still_starting(deadline);
		busy = 0;
		for (i = 0; i < o->conc; i++) {
			struct conn *c = &conns[i];

			tick(c, o, starting, now);
			pfd[i].fd = c->state == S_FREE ? -1 : c->fd;
			pfd[i].events = c->state == S_FREE ? 0 : interest(c);
			pfd[i].revents = 0;
			busy += c->state != S_FREE;
		}
		if (busy == 0 && !starting)
			return;
		if (poll(pfd, o->conc, timeout(o, starting, now)) == -1) {
			if (errno == EINTR)
				continue;
			perror("soakload: poll");
			exit(1);
		}
		now = now_ms();
		for (i = 0; i < o->conc; i++)
			if (conns[i].state != S_FREE && pfd[i].revents != 0)
				serve(&conns[i], o, pfd[i].revents, now);
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: soakload [-c conc] [-d secs] [-t stall] "
	    "[-r seed] port\n");
	exit(2);
}

/* A number of milliseconds from SECS with up to three decimals. */
static int64_t
parse_ms(const char *s)
{
	char *end;
	double d = strtod(s, &end);

	if (end == s || *end != '\0' || d <= 0 || d > 86400 * 366)
		usage();
	return (int64_t)(d * 1000 + 0.5);
}

static unsigned long
parse_num(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi)
		usage();
	return v;
}

static void
report(void)
{
	unsigned k;

	printf("total connected=%lu connect_fail=%lu ok=%lu bytes=%llu "
	    "checked=%llu resets=%lu halfclosed=%lu stalls_short=%lu "
	    "stalls_blocked=%lu idles=%lu aborted=%lu fail=%lu\n",
	    n_connected, n_connect_fail, n_ok, n_bytes, n_checked, n_resets,
	    n_half, n_stalls, n_blocked, n_idles, n_aborted, n_fail);
	printf("kinds");
	for (k = 0; k < K_NKINDS; k++)
		printf(" %s=%lu", kind_name[k], n_kind[k]);
	printf("\n");
}

int
main(int argc, char *argv[])
{
	struct opts o = { 24, 10000, 3000, 1, 0 };
	struct sigaction sa;
	size_t i;
	int ch;

	while ((ch = getopt(argc, argv, "c:d:t:r:")) != -1) {
		switch (ch) {
		case 'c':
			o.conc = (unsigned)parse_num(optarg, 1, MAXCONC);
			break;
		case 'd':
			o.secs_ms = parse_ms(optarg);
			break;
		case 't':
			o.stall_ms = parse_ms(optarg);
			break;
		case 'r':
			o.seed = parse_num(optarg, 0, ULONG_MAX);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	o.port = (unsigned)parse_num(argv[optind], 1, 65535);
	rng = o.seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	for (i = 0; i < PAT_LEN; i++)
		pat[i] = (unsigned char)(rnd() >> 56);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	run(&o);
	report();
	return n_fail == 0 ? 0 : 1;
}
