/*
 * hostile: clients that misbehave on purpose, for the tests of what one
 * bad client may cost: a byte at a time, a window closed for good, a
 * reset at each stage of a pair, silence, a half-close with a flood.
 *
 * Usage: hostile [-n CONNS] [-s BYTES] [-i MS] [-r RCVBUF] [-w SECS]
 *            MODE PORT
 *
 * Opens CONNS connections (default 1, at most 512) to 127.0.0.1:PORT at
 * once, each one doing what MODE says, and ends when every one has ended,
 * at SIGTERM or SIGINT, or SECS seconds (default 30) after the start,
 * whichever comes first; a connection still going then fails (in
 * synsilence, that is how it succeeds).  -r sets SO_RCVBUF to RCVBUF
 * bytes before connecting.  Each connection sends a pattern of its own,
 * so an echo of another connection's bytes is caught.
 *   trickle       send BYTES (default 200) one at a time, MS ms apart
 *                 (default 5), Nagle off; expect each byte echoed back,
 *                 then shut down writing and expect EOF
 *   zerowin       with SO_RCVBUF at RCVBUF (default 1024), send for as
 *                 long as the peer takes bytes and never read: the window
 *                 toward this client closes.  Expected: the peer resets it
 *                 (the proxy's stall timeout)
 *   rst-queued    reset (SO_LINGER 0) as soon as connected: before the
 *                 proxy accepts, when every child is busy
 *   rst-connect   send nothing, reset MS ms (default 100) after
 *                 connecting: while the proxy connects to a destination
 *                 that does not answer
 *   rst-mid       send and check the echo; once BYTES (default 262144)
 *                 came back, reset with bytes in flight both ways
 *   rst-drain     with SO_RCVBUF at RCVBUF (default 4096), send BYTES
 *                 (default 16777216) and never read: the echo fills this
 *                 client's window and the proxy's socket toward it, and
 *                 the rest waits in the proxy.  Once the echo waiting
 *                 unread has not grown for MS ms (default 300), reset
 *   synsilence    connect, then send nothing and read nothing, holding the
 *                 connection until the end.  Expected: the peer keeps it
 *                 open (one it ends fails, and counts as closed)
 *   halfflood     send BYTES (default 3000000), shut down writing, expect
 *                 the same bytes back, then EOF: progs/echod -m after-eof
 *                 behind the proxy floods them back after the EOF
 *   halfflood-up  wait for the peer's EOF (a destination that shuts down
 *                 writing at once), then send BYTES (default 16777216) and
 *                 shut down writing; expect the peer to acknowledge every
 *                 byte and the FIN, with no reset
 *
 * Prints one line on stdout at the end:
 *   MODE conns=N ok=N fail=N closed=N sent=N rcvd=N secs=S.SSS
 * ok: connections that went as MODE expects; closed: those that the peer
 * ended, by a reset or by an EOF after which nothing was left to do (the
 * EOF halfflood-up waits for is not one); sent and rcvd: bytes of all the
 * connections together.  Each failure says why on stderr.
 * Exit status 0 if no connection failed, 1 if one did, 2 for usage.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN		512
#define CHUNK		65536
/* rst-drain: how often to look at the bytes waiting unread. */
#define INQ_POLL_MS	20
/* halfflood-up: how often to look whether the peer acknowledged the FIN. */
#define FIN_POLL_MS	10

enum mode { M_TRICKLE, M_ZEROWIN, M_RST_QUEUED, M_RST_CONNECT, M_RST_MID,
	M_RST_DRAIN, M_SYNSILENCE, M_HALFFLOOD, M_HALFFLOOD_UP, M_NMODES };

/* Each mode's name and its defaults for -s, -i and -r. */
static const struct modeinfo {
	const char	*name;
	uint64_t	 bytes;
	int64_t		 ms;
	int		 rcvbuf;
} modes[M_NMODES] = {
	{ "trickle", 200, 5, 0 },
	{ "zerowin", 0, 0, 1024 },
	{ "rst-queued", 0, 0, 0 },
	{ "rst-connect", 0, 100, 0 },
	{ "rst-mid", 262144, 0, 0 },
	{ "rst-drain", 16777216, 300, 4096 },
	{ "synsilence", 0, 0, 0 },
	{ "halfflood", 3000000, 0, 0 },
	{ "halfflood-up", 16777216, 0, 0 },
};

enum state { C_CONNECTING, C_ACTIVE, C_DONE };

struct conn {
	enum state	 state;
	int		 fd;
	unsigned	 port;		/* our own, once connected */
	uint32_t	 seed;
	uint64_t	 sent, rcvd;
	int		 shut;		/* SHUT_WR done */
	int		 eof;		/* the peer's EOF seen */
	int64_t		 at;		/* its timer (0: none) */
	int		 inq;		/* rst-drain: bytes waiting unread */
	int64_t		 inq_since;	/* rst-drain: since when that many */
};

struct opts {
	enum mode	 mode;
	unsigned	 conns;
	uint64_t	 bytes;
	int64_t		 ms;
	int		 rcvbuf;
	int64_t		 wait_ms;
	unsigned	 port;
};

static volatile sig_atomic_t stop_flag;
static struct conn conns[MAXCONN];
static unsigned n_ok, n_fail, n_closed;
static uint64_t t_sent, t_rcvd;

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

/* Byte i of connection seed's stream, as progs/churn makes it. */
static unsigned char
pattern(uint32_t seed, uint64_t i)
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

/* Close with a reset instead of a FIN. */
static void
reset(int fd)
{
	struct linger l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)close(fd);
}

/*
 * End connection c: ok or failed (saying why on stderr), closed or reset
 * unless the mode's reset did it already (fd -1).
 */
static void
finish(struct conn *c, const struct opts *o, int ok, const char *why)
{
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	c->state = C_DONE;
	if (ok) {
		n_ok++;
		return;
	}
	n_fail++;
	fprintf(stderr, "hostile: %s port %u: %s (sent %llu, received %llu)\n",
	    modes[o->mode].name, c->port, why, (unsigned long long)c->sent,
	    (unsigned long long)c->rcvd);
}

/* The mode's reset, which is its success. */
static void
reset_ok(struct conn *c, const struct opts *o)
{
	reset(c->fd);
	c->fd = -1;
	finish(c, o, 1, "");
}

/* The peer ended c, with err (0: EOF), where the mode did not expect it. */
static void
peer_ended(struct conn *c, const struct opts *o, int err)
{
	char why[64];

	n_closed++;
	if (o->mode == M_ZEROWIN && (err == ECONNRESET || err == EPIPE)) {
		finish(c, o, 1, "");
		return;
	}
	(void)snprintf(why, sizeof(why), "the peer ended it: %s",
	    err == 0 ? "EOF" : errname(err));
	finish(c, o, 0, why);
}

static void
start(struct conn *c, const struct opts *o, uint32_t seed)
{
	struct sockaddr_in sin;

	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		perror("hostile: socket");
		exit(1);
	}
	/* Before connect(), so that the window offered in the SYN is small. */
	if (o->rcvbuf > 0 && setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF,
	    &o->rcvbuf, sizeof(o->rcvbuf)) == -1) {
		perror("hostile: SO_RCVBUF");
		exit(1);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)o->port);
	c->state = C_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS)
		finish(c, o, 0, errname(errno));
}

/* What each mode does once its connection is up. */
static void
begin(struct conn *c, const struct opts *o, int64_t now)
{
	int one = 1;

	c->state = C_ACTIVE;
	switch (o->mode) {
	case M_TRICKLE:
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		c->at = now;
		break;
	case M_RST_QUEUED:
		reset_ok(c, o);
		break;
	case M_RST_CONNECT:
		c->at = now + o->ms;
		break;
	case M_RST_DRAIN:
		c->inq_since = now;
		c->at = now + INQ_POLL_MS;
		break;
	default:
		break;
	}
}

static void
connected(struct conn *c, const struct opts *o, int64_t now)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		finish(c, o, 0, errname(err));
		return;
	}
	memset(&sin, 0, sizeof(sin));
	len = sizeof(sin);
	if (getsockname(c->fd, (struct sockaddr *)&sin, &len) == 0)
		c->port = ntohs(sin.sin_port);
	begin(c, o, now);
}

/* How many bytes c may send now, at most one buffer's worth. */
static size_t
may_send(const struct conn *c, const struct opts *o)
{
	uint64_t left;

	switch (o->mode) {
	case M_ZEROWIN:
	case M_RST_MID:
		return CHUNK;
	case M_HALFFLOOD_UP:
		if (!c->eof)
			return 0;
		/* FALLTHROUGH */
	case M_HALFFLOOD:
	case M_RST_DRAIN:
		left = o->bytes - c->sent;
		return left < CHUNK ? (size_t)left : CHUNK;
	default:
		return 0;	/* trickle sends on its timer */
	}
}

/* Send n bytes of c's pattern (n <= CHUNK); 0, or -1 once c has ended. */
static int
send_some(struct conn *c, const struct opts *o, size_t n)
{
	unsigned char buf[CHUNK];
	ssize_t w;
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = pattern(c->seed, c->sent + i);
	w = send(c->fd, buf, n, MSG_NOSIGNAL);
	if (w == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (w == -1) {
		peer_ended(c, o, errno);
		return -1;
	}
	c->sent += (size_t)w;
	t_sent += (size_t)w;
	return 0;
}

/*
 * Shut down writing once everything was sent, where the mode does;
 * halfflood-up then waits on its timer for the peer's ACK.
 */
static void
maybe_shut(struct conn *c, const struct opts *o, int64_t now)
{
	int fin = 0;

	if (o->mode == M_TRICKLE || o->mode == M_HALFFLOOD ||
	    o->mode == M_HALFFLOOD_UP)
		fin = c->sent == o->bytes;
	if (!fin || c->shut)
		return;
	if (shutdown(c->fd, SHUT_WR) == -1) {
		peer_ended(c, o, errno);
		return;
	}
	c->shut = 1;
	if (o->mode == M_HALFFLOOD_UP)
		c->at = now;
}

static void
do_send(struct conn *c, const struct opts *o, int64_t now)
{
	size_t n = may_send(c, o);

	if (n > 0 && send_some(c, o, n) == -1)
		return;
	maybe_shut(c, o, now);
}

/* Check bytes that came back against c's pattern; 0, or -1 on a mismatch. */
static int
check_echo(struct conn *c, const struct opts *o, const unsigned char *buf,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c->rcvd + i >= c->sent ||
		    buf[i] != pattern(c->seed, c->rcvd + i)) {
			c->rcvd += i;
			finish(c, o, 0, c->rcvd >= c->sent ? "more came back "
			    "than was sent" : "a wrong byte came back");
			return -1;
		}
	c->rcvd += n;
	return 0;
}

/* The peer's EOF: the end that trickle and halfflood wait for. */
static void
on_eof(struct conn *c, const struct opts *o)
{
	c->eof = 1;
	switch (o->mode) {
	case M_TRICKLE:
	case M_HALFFLOOD:
		n_closed++;
		if (c->shut && c->rcvd == o->bytes)
			finish(c, o, 1, "");
		else
			finish(c, o, 0, "EOF before every byte came back");
		break;
	case M_HALFFLOOD_UP:
		break;		/* the cue to send */
	default:
		peer_ended(c, o, 0);
		break;
	}
}

static void
do_recv(struct conn *c, const struct opts *o)
{
	unsigned char buf[CHUNK];
	ssize_t r;

	r = recv(c->fd, buf, sizeof(buf), 0);
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == -1) {
		peer_ended(c, o, errno);
		return;
	}
	if (r == 0) {
		on_eof(c, o);
		return;
	}
	t_rcvd += (size_t)r;
	if (o->mode != M_TRICKLE && o->mode != M_RST_MID &&
	    o->mode != M_HALFFLOOD) {
		c->rcvd += (size_t)r;
		finish(c, o, 0, "bytes came that nobody sent");
		return;
	}
	if (check_echo(c, o, buf, (size_t)r) == -1)
		return;
	if (o->mode == M_RST_MID && c->rcvd >= o->bytes)
		reset_ok(c, o);
}

/* halfflood-up, after the FIN: done once the peer acknowledged it. */
static void
fin_acked(struct conn *c, const struct opts *o, int64_t now)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int err = 0;

	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1) {
		finish(c, o, 0, "TCP_INFO");
		return;
	}
	if (ti.tcpi_state != TCP_CLOSE) {
		c->at = now + FIN_POLL_MS;
		return;
	}
	len = sizeof(err);
	(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0)
		peer_ended(c, o, err);
	else
		finish(c, o, 1, "");
}

/*
 * rst-drain: reset once echoed bytes wait unread and no more came for
 * o->ms: the window toward this client is closed, and what the proxy
 * still holds for it cannot be delivered.  Sending is no such sign: a
 * socket buffer far along the way may go on taking bytes a few at a time.
 */
static void
drained(struct conn *c, const struct opts *o, int64_t now)
{
	int inq = 0;

	if (ioctl(c->fd, FIONREAD, &inq) == -1) {
		finish(c, o, 0, "FIONREAD");
		return;
	}
	if (inq != c->inq) {
		c->inq = inq;
		c->inq_since = now;
	} else if (inq > 0 && now - c->inq_since >= o->ms) {
		reset_ok(c, o);
		return;
	}
	c->at = now + INQ_POLL_MS;
}

/* c's timer is due. */
static void
on_timer(struct conn *c, const struct opts *o, int64_t now)
{
	c->at = 0;
	switch (o->mode) {
	case M_TRICKLE:
		if (c->sent < o->bytes && send_some(c, o, 1) == -1)
			return;
		maybe_shut(c, o, now);
		if (!c->shut)
			c->at = now + o->ms;
		break;
	case M_RST_CONNECT:
		reset_ok(c, o);
		break;
	case M_RST_DRAIN:
		drained(c, o, now);
		break;
	case M_HALFFLOOD_UP:
		fin_acked(c, o, now);
		break;
	default:
		break;
	}
}

/*
 * Poll events c waits for: no POLLIN in the modes that do not read, nor
 * after the peer's EOF (halfflood-up goes on sending then).
 */
static short
interest(const struct conn *c, const struct opts *o)
{
	short ev = POLLIN;

	if (c->state == C_CONNECTING)
		return POLLOUT;
	if (c->eof || o->mode == M_ZEROWIN || o->mode == M_RST_DRAIN)
		ev = 0;		/* POLLERR and POLLHUP still come */
	if (may_send(c, o) > 0)
		ev |= POLLOUT;
	return ev;
}

/*
 * c's descriptor for poll(), or -1: after both FINs a socket is always
 * POLLHUP, so halfflood-up then waits on its timer alone.
 */
static int
polled(const struct conn *c, const struct opts *o)
{
	if (c->state == C_DONE || (o->mode == M_HALFFLOOD_UP && c->shut))
		return -1;
	return c->fd;
}

static void
serve(struct conn *c, const struct opts *o, short revents, int64_t now)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (c->state == C_CONNECTING) {
		connected(c, o, now);
		return;
	}
	if (interest(c, o) & POLLIN) {
		if (revents & (POLLIN | POLLERR | POLLHUP))
			do_recv(c, o);
	} else if (revents & (POLLERR | POLLHUP)) {
		(void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		peer_ended(c, o, err);
	}
	if (c->state == C_ACTIVE && (revents & POLLOUT))
		do_send(c, o, now);
}

/* At the deadline or a signal: synsilence's success, anyone else's end. */
static void
stop_all(const struct opts *o)
{
	unsigned i;

	for (i = 0; i < o->conns; i++) {
		struct conn *c = &conns[i];

		if (c->state == C_DONE)
			continue;
		if (c->state == C_CONNECTING)
			finish(c, o, 0, "not connected in time");
		else
			finish(c, o, o->mode == M_SYNSILENCE,
			    stop_flag ? "stopped" : "deadline");
	}
}

/* Milliseconds until the deadline or the next timer, whichever is first. */
static int
timeout(const struct opts *o, int64_t deadline, int64_t now)
{
	int64_t t = deadline;
	unsigned i;

	for (i = 0; i < o->conns; i++)
		if (conns[i].state == C_ACTIVE && conns[i].at != 0 &&
		    conns[i].at < t)
			t = conns[i].at;
	return t > now ? (int)(t - now) : 0;
}

/*
 * One poll() pass over the connections still going; their number.  The
 * signals that stop us are let in only while ppoll() waits, so none
 * arrives between the check of stop_flag and the wait.
 */
static unsigned
pass(const struct opts *o, struct pollfd *pfd, int64_t deadline,
    const sigset_t *waitmask)
{
	struct timespec ts;
	int64_t now = now_ms();
	unsigned i, busy = 0;
	int ms;

	for (i = 0; i < o->conns; i++) {
		struct conn *c = &conns[i];

		if (c->state == C_ACTIVE && c->at != 0 && now >= c->at)
			on_timer(c, o, now);
		pfd[i].fd = polled(c, o);
		pfd[i].events = pfd[i].fd == -1 ? 0 : interest(c, o);
		pfd[i].revents = 0;
		busy += c->state != C_DONE;
	}
	if (busy == 0)
		return 0;
	ms = timeout(o, deadline, now);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	if (ppoll(pfd, o->conns, &ts, waitmask) == -1) {
		if (errno == EINTR)
			return busy;
		perror("hostile: ppoll");
		exit(1);
	}
	now = now_ms();
	for (i = 0; i < o->conns; i++)
		if (conns[i].state != C_DONE && pfd[i].revents != 0)
			serve(&conns[i], o, pfd[i].revents, now);
	return busy;
}

static void
run(const struct opts *o, const sigset_t *waitmask)
{
	static struct pollfd pfd[MAXCONN];
	int64_t deadline = now_ms() + o->wait_ms;
	unsigned i;

	for (i = 0; i < o->conns; i++)
		start(&conns[i], o, (uint32_t)getpid() * 1000u + i + 1);
	while (!stop_flag && now_ms() < deadline)
		if (pass(o, pfd, deadline, waitmask) == 0)
			return;
	stop_all(o);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: hostile [-n conns] [-s bytes] [-i ms] "
	    "[-r rcvbuf] [-w secs] mode port\n"
	    "modes: trickle zerowin rst-queued rst-connect rst-mid "
	    "rst-drain synsilence\n"
	    "       halfflood halfflood-up\n");
	exit(2);
}

/* The number s, in [min, max]; a usage error otherwise. */
static unsigned long long
number(const char *s, unsigned long long min, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

static void
parse(int argc, char *argv[], struct opts *o)
{
	long long bytes = -1, ms = -1, rcvbuf = -1;
	int ch, i;

	o->conns = 1;
	o->wait_ms = 30000;
	while ((ch = getopt(argc, argv, "n:s:i:r:w:")) != -1) {
		switch (ch) {
		case 'n':
			o->conns = (unsigned)number(optarg, 1, MAXCONN);
			break;
		case 's':
			bytes = (long long)number(optarg, 1, 1ULL << 40);
			break;
		case 'i':
			ms = (long long)number(optarg, 1, 3600000);
			break;
		case 'r':
			rcvbuf = (long long)number(optarg, 1, 1 << 30);
			break;
		case 'w':
			o->wait_ms = (int64_t)number(optarg, 1, 3600) * 1000;
			break;
		default:
			usage();
		}
	}
	if (optind + 2 != argc)
		usage();
	for (i = 0; i < M_NMODES && strcmp(argv[optind], modes[i].name) != 0;
	    i++)
		continue;
	if (i == M_NMODES)
		usage();
	o->mode = (enum mode)i;
	o->bytes = bytes != -1 ? (uint64_t)bytes : modes[i].bytes;
	o->ms = ms != -1 ? ms : modes[i].ms;
	o->rcvbuf = rcvbuf != -1 ? (int)rcvbuf : modes[i].rcvbuf;
	o->port = (unsigned)number(argv[optind + 1], 1, 65535);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct sigaction sa;
	sigset_t stops, waitmask;
	int64_t t0 = now_ms(), ms;

	memset(&o, 0, sizeof(o));
	parse(argc, argv, &o);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &stops, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	run(&o, &waitmask);
	ms = now_ms() - t0;
	printf("%s conns=%u ok=%u fail=%u closed=%u sent=%llu rcvd=%llu "
	    "secs=%lld.%03lld\n", modes[o.mode].name, o.conns, n_ok, n_fail,
	    n_closed, (unsigned long long)t_sent, (unsigned long long)t_rcvd,
	    (long long)(ms / 1000), (long long)(ms % 1000));
	return n_fail == 0 ? 0 : 1;
}
