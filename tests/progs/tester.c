/*
 * tester: the classic automated tester of a TCP proxy assignment, replayed
 * against the real binary, one phase per run:
 *
 *	tester [--stall SECS] [--verbose] PHASE -- PROXY_CMD [ARGS...]
 *
 * It plays both ends.  It listens on 127.0.0.1:0 as the server, starts
 * "PROXY_CMD ARGS... 127.0.0.1 SERVERPORT PROXYPORT" in a process group of
 * its own, connects through it as the client, runs the phase, then stops
 * the proxy with SIGTERM and checks that it exits 0 and leaves no child
 * behind.  One "ok:" or "FAIL:" line per check on stdout ("note:" for what
 * is worth knowing but not a failure); exit 0 only if no check failed.
 *
 * Owns: its sockets, the proxy's process group, the caught-signal flag.
 * Never blocks anywhere but in ppoll() with the signals unblocked, so the
 * watchdog alarm, SIGINT and SIGTERM always get through, and the proxy's
 * whole group is killed however the tester ends.  Every socket is
 * non-blocking: with dozens of connections chained through the proxy, one
 * blocking write would deadlock the tester against itself.
 */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_STALL_SEC	10.0	/* the proxy's own default */
#define WATCHDOG_SEC		120	/* plus twice the stall time */
#define START_TRIES		3	/* the picked port may be taken */
#define START_WAIT_SEC		10.0
#define START_RETRY_SEC		0.02
#define PROBE_CONNECT_SEC	1.0
#define IO_TIMEOUT_SEC		10.0	/* any one expected event */
#define BULK_TIMEOUT_SEC	60.0
#define TERM_WAIT_SEC		15.0
#define REAP_GRACE_SEC		2.0	/* for exits still in flight */
#define POLL_STEP_SEC		0.05
#define TERM_STEP_SEC		0.01	/* exit time is reported */
#define SERVER_BACKLOG		128

#define NMSG			10
#define MSGLEN			4
#define CHAIN_TWO		2
#define CHAIN_TWENTY		20
#define BULK_SIZE		(2 * 1024 * 1024)
#define BULK_SEED		UINT64_C(0x7463707072787931)
#define BULK_TAIL		4096	/* mix: sent after the abort */
#define ACTIVE_MSGS		9	/* at 0, 3, ..., 24 s */
#define ACTIVE_GAP_SEC		3.0
#define EARLY_WRITES		6
#define EARLY_GAP_SEC		1.0
#define LAZY_SLACK_SEC		20.0	/* closed by stall + this */
#define LAZY_MIN_FRAC		0.5	/* not before stall * this */
#define DRAIN_TIMEOUT_SEC	5.0
#define FLOOD_BLOCK_SEC		5.0
#define FLOOD_BURST		64	/* sends per wake-up */
#define PUMP_BUFSZ		65536

static const char LOCALHOST[] = "127.0.0.1";
static const int caught_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };

/*
 * The only mutable state outside struct tester: what the signal handler
 * sets, the mask ppoll() runs with, and the group to kill when the tester
 * has to give up from deep inside a phase.
 */
static volatile sig_atomic_t caught;
static sigset_t waitmask;
static pid_t proxy_pgid;

/* What a flooding writer never needs to vary: the bytes it writes. */
static const unsigned char junk[PUMP_BUFSZ];

struct tester {
	double		 stall;		/* the proxy's -t */
	int		 verbose;
	char		**argv;		/* proxy command and args */
	/* The last three entries of argv point into these. */
	char		 host[sizeof(LOCALHOST)];
	char		 sport_s[8];
	char		 pport_s[8];
	int		 lfd;		/* our server's listener */
	int		 sport;
	int		 pport;		/* where the proxy listens */
	pid_t		 pid;		/* proxy master, its group */
	int		 exited;	/* master reaped; status is valid */
	int		 status;
	int		 failures;
};

/* Our client end c0 of a chain: what we send and check coming back. */
struct stream {
	int		 fd;
	const unsigned char *data;
	size_t		 size;
	size_t		 allow;		/* may send [0, allow) */
	size_t		 sent;
	size_t		 rcvd;		/* checked against data */
	int		 want_shut;	/* SHUT_WR once all sent */
	int		 shut;
	int		 eof;
	int		 err;		/* errno of a hard error */
};

/* One direction the tester relays between two of its own sockets. */
struct pump {
	int		 from;
	int		 to;		/* == from: the echo */
	char		 name[40];
	size_t		 off;
	size_t		 len;
	int		 eof;
	int		 shut;
	unsigned char	 buf[PUMP_BUFSZ];
};

/* A writer that never stops while its peer never reads. */
struct flood {
	int		 fd;		/* -1 when unused */
	size_t		 sent;
	double		 blocked_at;	/* first EAGAIN; 0 before */
	double		 closed_at;	/* hard error; 0 before */
	int		 err;
	int		 more;		/* burst ended before EAGAIN */
};

/*
 * n connection pairs through the proxy: c[i] (our client end) is relayed to
 * s[i] (our server end).  The tester copies s[i] -> c[i+1] and c[i+1] ->
 * s[i], and s[n-1] echoes, so bytes written to c[0] cross the proxy 2n
 * times and come back on c[0].
 */
struct chain {
	int		 n;
	int		*c;
	int		*s;
	struct pump	*pump;
	int		 npump;
	struct stream	 st;
	struct flood	 fl;
	struct pollfd	*pfd;
	char		 why[256];	/* first failure seen */
};

enum until {
	UNTIL_ECHOED,		/* all allowed bytes came back */
	UNTIL_EOF,		/* c0 read EOF */
	UNTIL_BLOCKED,		/* the flood blocked or broke */
	UNTIL_TIME		/* only the deadline */
};

struct phase {
	const char	*name;
	void		(*run)(struct tester *);
	const char	*what;
};

static void	ok(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	note(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	fail(struct tester *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	debug(const struct tester *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	fatal(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
static void	chain_fail(struct chain *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
ok(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ok: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void
note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("note: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void
fail(struct tester *t, const char *fmt, ...)
{
	va_list ap;

	t->failures++;
	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

static void
debug(const struct tester *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->verbose)
		return;
	va_start(ap, fmt);
	fputs("debug: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

/*
 * Kill the proxy's whole group and reap it.  Only async-signal-safe calls
 * and nanosleep(): it also runs on the way out of emergency(), where going
 * back into xpoll() would re-enter emergency() for the same signal.
 */
static void
kill_group(void)
{
	struct timespec step = { 0, (long)(TERM_STEP_SEC * 1e9) };
	int i;

	if (proxy_pgid <= 0)
		return;
	(void)kill(-proxy_pgid, SIGKILL);
	for (i = 0; i < (int)(REAP_GRACE_SEC / TERM_STEP_SEC); i++) {
		/* As subreaper we also inherit the group's orphans. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			continue;
		if (kill(-proxy_pgid, 0) == -1 && errno == ESRCH)
			break;
		(void)nanosleep(&step, NULL);
	}
	proxy_pgid = 0;
}

/* A failure of the tester itself: report it, take the proxy down, exit. */
static void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	fputs("FAIL: tester: ", stdout);
	vprintf(fmt, ap);
	printf(": %s\n", strerror(saved));
	va_end(ap);
	kill_group();
	exit(1);
}

static void
emergency(void)
{
	if (caught == SIGALRM)
		printf("FAIL: watchdog: the phase did not end in time\n");
	else
		printf("FAIL: interrupted by signal %d (%s)\n", (int)caught,
		    strsignal(caught));
	kill_group();
	exit(1);
}

static void
on_signal(int sig)
{
	caught = sig;
}

static double
now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The tester's only blocking call.  The signals we catch are blocked
 * everywhere else and unblocked only inside ppoll(), so one that arrives
 * between a check and the wait is not lost: it ends the wait with EINTR.
 * Returns the number of ready entries, 0 on timeout or a harmless EINTR.
 */
static int
xpoll(struct pollfd *pfd, nfds_t n, double timeout)
{
	struct timespec ts;
	int r;

	if (timeout < 0)
		timeout = 0;
	ts.tv_sec = (time_t)timeout;
	ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
	r = ppoll(pfd, n, &ts, &waitmask);
	if (r == -1) {
		if (errno != EINTR)
			fatal("ppoll");
		if (caught != 0)
			emergency();
		r = 0;
	}
	return r;
}

static void
sleep_for(double sec)
{
	double end = now() + sec, left;

	while ((left = end - now()) > 0)
		(void)xpoll(NULL, 0, left);
}

static void
setup_signals(void)
{
	struct sigaction sa;
	sigset_t block;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		err(1, "sigaction SIGPIPE");
	sa.sa_handler = on_signal;
	sigemptyset(&block);
	for (i = 0; i < sizeof(caught_sigs) / sizeof(caught_sigs[0]); i++) {
		if (sigaction(caught_sigs[i], &sa, NULL) == -1)
			err(1, "sigaction %d", caught_sigs[i]);
		sigaddset(&block, caught_sigs[i]);
	}
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) == -1)
		err(1, "sigprocmask");
	for (i = 0; i < sizeof(caught_sigs) / sizeof(caught_sigs[0]); i++)
		sigdelset(&waitmask, caught_sigs[i]);
}

/* In the proxy's child before exec: dispositions and mask as at birth. */
static void
reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGPIPE, &sa, NULL);
	for (i = 0; i < sizeof(caught_sigs) / sizeof(caught_sigs[0]); i++)
		(void)sigaction(caught_sigs[i], &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
loopback(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int
tcp_socket(void)
{
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	return fd;
}

/* Bind fd to 127.0.0.1:0 and return the port the kernel chose. */
static int
bind_any_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	loopback(&sin, 0);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fatal("bind 127.0.0.1:0");
	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		fatal("getsockname");
	return ntohs(sin.sin_port);
}

static int
pick_port(void)
{
	int fd, port;

	fd = tcp_socket();
	port = bind_any_port(fd);
	(void)close(fd);
	return port;
}

static void
open_server(struct tester *t)
{
	t->lfd = tcp_socket();
	t->sport = bind_any_port(t->lfd);
	if (listen(t->lfd, SERVER_BACKLOG) == -1)
		fatal("listen");
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

/* Connect to 127.0.0.1:port; the fd, or -1 with errno set. */
static int
try_connect(int port, double timeout)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	socklen_t len;
	double end = now() + timeout, left;
	int fd, e;

	fd = tcp_socket();
	loopback(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto bad;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
		if ((left = end - now()) <= 0) {
			errno = ETIMEDOUT;
			goto bad;
		}
	} while (xpoll(&pfd, 1, left) == 0);
	len = sizeof(e);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		goto bad;
	if (e == 0)
		return fd;
	errno = e;
bad:
	e = errno;
	(void)close(fd);
	errno = e;
	return -1;
}

static int
connect_proxy(const struct tester *t)
{
	return try_connect(t->pport, IO_TIMEOUT_SEC);
}

/* Accept one connection on our server socket; -1 on timeout. */
static int
accept_one(const struct tester *t, double timeout)
{
	struct pollfd pfd;
	double end = now() + timeout, left;
	int fd;

	pfd.fd = t->lfd;
	pfd.events = POLLIN;
	for (;;) {
		fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1)
			return fd;
		/* A client that gave up before accept is not our problem. */
		if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
			fatal("accept");
		if ((left = end - now()) <= 0)
			return -1;
		(void)xpoll(&pfd, 1, left);
	}
}

/*
 * Read fd until EOF, keeping the first cap bytes in buf (may be NULL) and
 * counting all in *got.  0 on EOF, -1 on a read error (errno set), 1 if
 * the deadline passed first, even with data still flowing.
 */
static int
read_until_eof(int fd, char *buf, size_t cap, size_t *got, double timeout)
{
	char tmp[PUMP_BUFSZ];
	struct pollfd pfd;
	double end = now() + timeout, left;
	ssize_t n;
	size_t k;

	*got = 0;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if ((left = end - now()) <= 0)
			return 1;
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n == 0)
			return 0;
		if (n > 0) {
			if (buf != NULL && *got < cap) {
				k = cap - *got < (size_t)n ? cap - *got :
				    (size_t)n;
				memcpy(buf + *got, tmp, k);
			}
			*got += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		(void)xpoll(&pfd, 1, left);
	}
}

static const char *
status_str(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "wait status %#x", (unsigned)st);
	return buf;
}

/* Has the proxy master exited?  Reaps it and records its status. */
static int
proxy_gone(struct tester *t)
{
	if (!t->exited && waitpid(t->pid, &t->status, WNOHANG) == t->pid)
		t->exited = 1;
	return t->exited;
}

static void
spawn_proxy(struct tester *t)
{
	pid_t pid;
	int fd;

	snprintf(t->sport_s, sizeof(t->sport_s), "%d", t->sport);
	snprintf(t->pport_s, sizeof(t->pport_s), "%d", t->pport);
	/* Or the child's copy of unflushed output appears twice. */
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		(void)setpgid(0, 0);
		reset_signals();
		fd = open("/dev/null", O_RDONLY);
		if (fd == -1 || dup2(fd, STDIN_FILENO) == -1) {
			dprintf(STDERR_FILENO, "tester: /dev/null: %s\n",
			    strerror(errno));
			_exit(127);
		}
		if (fd != STDIN_FILENO)
			(void)close(fd);
		execvp(t->argv[0], t->argv);
		dprintf(STDERR_FILENO, "tester: cannot run %s: %s\n",
		    t->argv[0], strerror(errno));
		_exit(127);
	}
	/* Both sides set the group, so it exists whichever runs first. */
	(void)setpgid(pid, pid);
	t->pid = pid;
	t->exited = 0;
	proxy_pgid = pid;
}

/*
 * The readiness probe is relayed like any client: take its server end
 * and read it to EOF, so that the phase sees only its own connections.
 * 0 when done, -1 after reporting a failure.
 */
static int
absorb_probe(struct tester *t, int probe)
{
	size_t got;
	int s, r, e;

	s = accept_one(t, IO_TIMEOUT_SEC);
	close_fd(&probe);
	if (s == -1) {
		fail(t, "startup: probe connection not relayed to the server "
		    "within %.0f s", IO_TIMEOUT_SEC);
		return -1;
	}
	r = read_until_eof(s, NULL, 0, &got, IO_TIMEOUT_SEC);
	e = errno;
	close_fd(&s);
	if (r != 0) {
		fail(t, "startup: relayed probe connection did not end in EOF "
		    "(%s, %zu bytes)", r == 1 ? "timeout" : strerror(e), got);
		return -1;
	}
	return 0;
}

/* 0 ready, -1 the proxy exited first, 1 timeout, 2 probe failed. */
static int
wait_ready(struct tester *t)
{
	double end = now() + START_WAIT_SEC;
	int fd;

	for (;;) {
		if (proxy_gone(t))
			return -1;
		if ((fd = try_connect(t->pport, PROBE_CONNECT_SEC)) != -1)
			break;
		if (now() >= end)
			return 1;
		sleep_for(START_RETRY_SEC);
	}
	return absorb_probe(t, fd) == 0 ? 0 : 2;
}

static int
start_proxy(struct tester *t)
{
	char desc[64];
	int try, r;

	for (try = 1; try <= START_TRIES; try++) {
		t->pport = pick_port();
		spawn_proxy(t);
		r = wait_ready(t);
		if (r == 0) {
			ok("proxy ready on %s:%d, relaying to %s:%d", LOCALHOST,
			    t->pport, LOCALHOST, t->sport);
			return 0;
		}
		if (r != -1)
			break;
		note("proxy ended (%s) before listening on port %d "
		    "(try %d of %d)", status_str(t->status, desc, sizeof(desc)),
		    t->pport, try, START_TRIES);
	}
	if (r == 1)
		fail(t, "startup: proxy not accepting on port %d within %.0f s",
		    t->pport, START_WAIT_SEC);
	else if (r == -1)
		fail(t, "startup: proxy did not start in %d tries",
		    START_TRIES);
	return -1;
}

/* Zombie and live children of pid, from /proc. */
static int
count_children(pid_t pid, int *live)
{
	char path[sizeof("/proc//stat") + 256], buf[512], *p, state;
	struct dirent *de;
	DIR *d;
	ssize_t n;
	int fd, ppid, zombies = 0;

	*live = 0;
	if ((d = opendir("/proc")) == NULL)
		fatal("opendir /proc");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		/* Gone since readdir(): fine, it is not a child any more. */
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* The command name may hold anything, even ") ". */
		if ((p = strrchr(buf, ')')) == NULL)
			continue;
		if (sscanf(p + 1, " %c %d", &state, &ppid) != 2 || ppid != pid)
			continue;
		if (state == 'Z')
			zombies++;
		else
			(*live)++;
	}
	(void)closedir(d);
	return zombies;
}

static void
check_zombies(struct tester *t)
{
	double end = now() + REAP_GRACE_SEC;
	int zombies, live;

	while ((zombies = count_children(t->pid, &live)) > 0 && now() < end)
		sleep_for(POLL_STEP_SEC);
	if (zombies == 0)
		ok("proxy has no unreaped children at the end of the phase "
		    "(%d live)", live);
	else
		fail(t, "proxy left %d zombie children unreaped for %.0f s "
		    "(%d live)", zombies, REAP_GRACE_SEC, live);
}

/* After the master exited: nothing of its group may be left running. */
static void
check_leftovers(struct tester *t)
{
	double end = now() + REAP_GRACE_SEC;

	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			continue;
		if (kill(-t->pid, 0) == -1 && errno == ESRCH) {
			ok("no process of the proxy's group outlived it");
			proxy_pgid = 0;
			return;
		}
		if (now() >= end)
			break;
		sleep_for(POLL_STEP_SEC);
	}
	fail(t, "processes of the proxy's group still running %.0f s after "
	    "it exited; killed", REAP_GRACE_SEC);
	kill_group();
}

static void
stop_proxy(struct tester *t)
{
	char desc[64];
	double t0;

	if (t->pid == 0)
		return;
	if (t->exited) {
		/* start_proxy() already said why. */
		check_leftovers(t);
		return;
	}
	if (proxy_gone(t)) {
		fail(t, "proxy ended by itself during the phase (%s)",
		    status_str(t->status, desc, sizeof(desc)));
		check_leftovers(t);
		return;
	}
	check_zombies(t);
	if (kill(t->pid, SIGTERM) == -1)
		fatal("kill SIGTERM %d", (int)t->pid);
	t0 = now();
	while (!proxy_gone(t) && now() - t0 < TERM_WAIT_SEC)
		sleep_for(TERM_STEP_SEC);
	if (!t->exited) {
		fail(t, "proxy still running %.0f s after SIGTERM; killed",
		    TERM_WAIT_SEC);
		kill_group();
		return;
	}
	if (WIFEXITED(t->status) && WEXITSTATUS(t->status) == 0)
		ok("proxy exited with status 0, %.2f s after SIGTERM",
		    now() - t0);
	else
		fail(t, "proxy ended with %s after SIGTERM, expected exit "
		    "status 0", status_str(t->status, desc, sizeof(desc)));
	check_leftovers(t);
}

/* Hard write errors that mean "the peer is gone", as opposed to bugs. */
static int
is_gone(int e)
{
	return e == EPIPE || e == ECONNRESET;
}

/*
 * Write as much as the socket takes, up to a burst; never blocks.  A
 * burst that ends before EAGAIN sets fl->more: the caller must come back
 * without waiting for POLLOUT, which may never come for the last bytes of
 * space, or the moment the writer blocks would go unseen.
 */
static void
flood_write(struct flood *fl)
{
	ssize_t n;
	int i;

	fl->more = 0;
	for (i = 0; i < FLOOD_BURST; i++) {
		n = send(fl->fd, junk, sizeof(junk), MSG_NOSIGNAL);
		if (n > 0) {
			fl->sent += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (fl->blocked_at == 0)
				fl->blocked_at = now();
		} else {
			fl->closed_at = now();
			fl->err = n == -1 ? errno : EPIPE;
		}
		return;
	}
	fl->more = 1;
}

static void
chain_fail(struct chain *ch, const char *fmt, ...)
{
	va_list ap;

	if (ch->why[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(ch->why, sizeof(ch->why), fmt, ap);
	va_end(ap);
}

static void
pump_init(struct pump *p, int from, const char *fname, int to,
    const char *tname)
{
	p->from = from;
	p->to = to;
	snprintf(p->name, sizeof(p->name), "%s->%s", fname, tname);
}

static void
pump_read(struct chain *ch, struct pump *p)
{
	ssize_t n;

	if (p->off > 0) {
		memmove(p->buf, p->buf + p->off, p->len);
		p->off = 0;
	}
	n = recv(p->from, p->buf + p->len, sizeof(p->buf) - p->len, 0);
	if (n > 0)
		p->len += (size_t)n;
	else if (n == 0)
		p->eof = 1;
	else if (errno != EAGAIN && errno != EINTR)
		chain_fail(ch, "relay %s: read: %s", p->name, strerror(errno));
}

static void
pump_write(struct chain *ch, struct pump *p)
{
	ssize_t n;

	n = send(p->to, p->buf + p->off, p->len, MSG_NOSIGNAL);
	if (n >= 0) {
		p->off += (size_t)n;
		p->len -= (size_t)n;
	} else if (errno != EAGAIN && errno != EINTR)
		chain_fail(ch, "relay %s: write: %s", p->name,
		    strerror(errno));
}

static void
stream_read(struct chain *ch)
{
	unsigned char buf[PUMP_BUFSZ];
	struct stream *st = &ch->st;
	ssize_t n;
	size_t i;

	n = recv(st->fd, buf, sizeof(buf), 0);
	if (n == 0) {
		st->eof = 1;
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			st->err = errno;
		return;
	}
	if (st->rcvd + (size_t)n > st->sent) {
		chain_fail(ch, "c0 received %zu bytes, but only %zu were sent",
		    st->rcvd + (size_t)n, st->sent);
		return;
	}
	if (memcmp(buf, st->data + st->rcvd, (size_t)n) != 0) {
		for (i = 0; buf[i] == st->data[st->rcvd + i]; i++)
			continue;
		chain_fail(ch, "c0 data differs at byte %zu: expected 0x%02x, "
		    "got 0x%02x", st->rcvd + i, st->data[st->rcvd + i],
		    buf[i]);
		return;
	}
	st->rcvd += (size_t)n;
}

static void
stream_write(struct stream *st)
{
	ssize_t n;

	n = send(st->fd, st->data + st->sent, st->allow - st->sent,
	    MSG_NOSIGNAL);
	if (n >= 0)
		st->sent += (size_t)n;
	else if (errno != EAGAIN && errno != EINTR)
		st->err = errno;
}

/* Pass on every EOF whose buffer has drained. */
static void
chain_settle(struct chain *ch)
{
	struct stream *st = &ch->st;
	struct pump *p;
	int i;

	for (i = 0; i < ch->npump; i++) {
		p = &ch->pump[i];
		if (!p->eof || p->len > 0 || p->shut)
			continue;
		p->shut = 1;
		if (shutdown(p->to, SHUT_WR) == -1)
			chain_fail(ch, "relay %s: shutdown: %s", p->name,
			    strerror(errno));
	}
	if (st->want_shut && !st->shut && st->sent == st->size) {
		st->shut = 1;
		if (shutdown(st->fd, SHUT_WR) == -1)
			chain_fail(ch, "c0: shutdown: %s", strerror(errno));
	}
}

/* A negative fd makes poll() skip the entry, and so its POLLHUP too. */
static void
watch(struct pollfd *pfd, int fd, int want, short events)
{
	pfd->fd = want ? fd : -1;
	pfd->events = events;
	pfd->revents = 0;
}

static short
stream_events(const struct stream *st)
{
	short ev = 0;

	if (st->err != 0)
		return 0;
	if (!st->eof)
		ev |= POLLIN;
	if (st->sent < st->allow)
		ev |= POLLOUT;
	return ev;
}

/* One poll round over every socket of the chain. */
static void
chain_step(struct chain *ch, double timeout)
{
	struct pollfd *pfd = ch->pfd;
	struct pump *p;
	struct flood *fl = &ch->fl;
	short sev, rev;
	nfds_t k = 0;
	int i;

	chain_settle(ch);
	for (i = 0; i < ch->npump; i++) {
		p = &ch->pump[i];
		watch(&pfd[k++], p->from, !p->eof && p->len < sizeof(p->buf),
		    POLLIN);
		watch(&pfd[k++], p->to, p->len > 0, POLLOUT);
	}
	sev = stream_events(&ch->st);
	watch(&pfd[k++], ch->st.fd, sev != 0, sev);
	watch(&pfd[k++], fl->fd, fl->fd >= 0 && fl->closed_at == 0, POLLOUT);
	if (xpoll(pfd, k, fl->more ? 0 : timeout) <= 0 && !fl->more)
		return;
	k = 0;
	for (i = 0; i < ch->npump; i++) {
		p = &ch->pump[i];
		if (pfd[k++].revents != 0)
			pump_read(ch, p);
		if (pfd[k++].revents != 0)
			pump_write(ch, p);
	}
	rev = pfd[k++].revents;
	if ((rev & (POLLIN | POLLHUP | POLLERR)) != 0 && (sev & POLLIN) != 0)
		stream_read(ch);
	if ((rev & (POLLOUT | POLLHUP | POLLERR)) != 0 &&
	    ch->st.sent < ch->st.allow && ch->st.err == 0)
		stream_write(&ch->st);
	if (pfd[k].revents != 0 || (fl->more && fl->closed_at == 0))
		flood_write(fl);
}

static int
chain_reached(const struct chain *ch, enum until until)
{
	switch (until) {
	case UNTIL_ECHOED:
		return ch->st.rcvd == ch->st.allow;
	case UNTIL_EOF:
		return ch->st.eof;
	case UNTIL_BLOCKED:
		return ch->fl.blocked_at > 0 || ch->fl.closed_at > 0;
	case UNTIL_TIME:
		break;
	}
	return 0;
}

/*
 * Relay until the condition holds (0), the deadline passes (1; 0 for
 * UNTIL_TIME) or something breaks (-1, reason in ch->why).
 */
static int
chain_wait(struct chain *ch, enum until until, double deadline)
{
	double tn;

	for (;;) {
		if (ch->why[0] != '\0')
			return -1;
		if (chain_reached(ch, until))
			return 0;
		if (ch->st.err != 0) {
			chain_fail(ch, "c0: %s", strerror(ch->st.err));
			return -1;
		}
		if (ch->st.eof && until != UNTIL_EOF) {
			chain_fail(ch, "c0: unexpected EOF from the proxy "
			    "(%zu of %zu bytes back)", ch->st.rcvd,
			    ch->st.sent);
			return -1;
		}
		if ((tn = now()) >= deadline)
			return until == UNTIL_TIME ? 0 : 1;
		chain_step(ch, deadline - tn);
	}
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n, size)) == NULL)
		fatal("calloc %zu x %zu", n, size);
	return p;
}

static void
chain_pumps(struct chain *ch)
{
	char sname[16], cname[16];
	int i, k = 0;

	for (i = 0; i + 1 < ch->n; i++) {
		snprintf(sname, sizeof(sname), "s%d", i);
		snprintf(cname, sizeof(cname), "c%d", i + 1);
		pump_init(&ch->pump[k++], ch->s[i], sname, ch->c[i + 1], cname);
		pump_init(&ch->pump[k++], ch->c[i + 1], cname, ch->s[i], sname);
	}
	snprintf(sname, sizeof(sname), "s%d", ch->n - 1);
	pump_init(&ch->pump[k++], ch->s[ch->n - 1], sname, ch->s[ch->n - 1],
	    sname);
	ch->npump = k;
}

/*
 * Connect n pairs through the proxy, one at a time so that the i-th
 * connection accepted by our server is the i-th client's.  On -1 the
 * failure is reported and the chain still has to be closed.
 */
static int
chain_open(struct tester *t, struct chain *ch, int n,
    const unsigned char *data, size_t size)
{
	int i;

	memset(ch, 0, sizeof(*ch));
	ch->n = n;
	ch->c = xcalloc((size_t)n, sizeof(*ch->c));
	ch->s = xcalloc((size_t)n, sizeof(*ch->s));
	ch->pump = xcalloc((size_t)(2 * n - 1), sizeof(*ch->pump));
	ch->pfd = xcalloc((size_t)(2 * (2 * n - 1) + 2), sizeof(*ch->pfd));
	ch->fl.fd = -1;
	for (i = 0; i < n; i++)
		ch->c[i] = ch->s[i] = -1;
	for (i = 0; i < n; i++) {
		if ((ch->c[i] = connect_proxy(t)) == -1) {
			fail(t, "connection %d: connect to the proxy: %s", i,
			    strerror(errno));
			return -1;
		}
		if ((ch->s[i] = accept_one(t, IO_TIMEOUT_SEC)) == -1) {
			fail(t, "connection %d: not relayed to the server "
			    "within %.0f s", i, IO_TIMEOUT_SEC);
			return -1;
		}
	}
	debug(t, "%d connection pairs established", n);
	chain_pumps(ch);
	ch->st.fd = ch->c[0];
	ch->st.data = data;
	ch->st.size = size;
	return 0;
}

static void
chain_close(struct chain *ch)
{
	int i;

	for (i = 0; i < ch->n; i++) {
		close_fd(&ch->c[i]);
		close_fd(&ch->s[i]);
	}
	close_fd(&ch->fl.fd);
	free(ch->c);
	free(ch->s);
	free(ch->pump);
	free(ch->pfd);
}

/* Shut c0 down for writing: the EOF must travel the chain and come back. */
static void
chain_end(struct tester *t, struct chain *ch)
{
	int r;

	ch->st.want_shut = 1;
	r = chain_wait(ch, UNTIL_EOF, now() + IO_TIMEOUT_SEC);
	if (r == 0 && ch->st.rcvd == ch->st.size)
		ok("clean close: c0's shutdown came back as EOF through %d "
		    "proxy hops", 2 * ch->n);
	else if (r == 0)
		fail(t, "EOF on c0 after only %zu of %zu bytes", ch->st.rcvd,
		    ch->st.size);
	else if (r == 1)
		fail(t, "no EOF back on c0 within %.0f s of its shutdown",
		    IO_TIMEOUT_SEC);
	else
		fail(t, "closing: %s", ch->why);
}

static void
make_msg(unsigned char *m, int k)
{
	m[0] = '<';
	m[1] = (unsigned char)('0' + k % 10);
	m[2] = (unsigned char)('a' + k % 26);
	m[3] = '>';
}

/*
 * count messages of MSGLEN bytes down a chain of n, each back before the
 * next is sent, the next sent gap seconds after the previous one.
 */
static void
run_messages(struct tester *t, int n, int count, double gap)
{
	struct chain ch;
	unsigned char *data;
	double start, sent_at, back_at = 0, slowest = 0;
	int k, r;

	data = xcalloc((size_t)count, MSGLEN);
	for (k = 0; k < count; k++)
		make_msg(data + k * MSGLEN, k);
	if (chain_open(t, &ch, n, data, (size_t)count * MSGLEN) == -1)
		goto out;
	start = now();
	for (k = 0; k < count; k++) {
		if (k > 0 && gap > 0 &&
		    chain_wait(&ch, UNTIL_TIME, start + k * gap) != 0) {
			fail(t, "idle connection broken %.2f s after echo %d "
			    "(stall timeout %g s): %s", now() - back_at, k,
			    t->stall, ch.why);
			goto out;
		}
		ch.st.allow += MSGLEN;
		sent_at = now();
		r = chain_wait(&ch, UNTIL_ECHOED, sent_at + IO_TIMEOUT_SEC);
		if (r == 1) {
			fail(t, "message %d of %d not back within %.0f s "
			    "(%zu of %zu bytes back)", k + 1, count,
			    IO_TIMEOUT_SEC, ch.st.rcvd, ch.st.allow);
			goto out;
		}
		if (r == -1) {
			fail(t, "message %d of %d: %s", k + 1, count, ch.why);
			goto out;
		}
		back_at = now();
		if (back_at - sent_at > slowest)
			slowest = back_at - sent_at;
		debug(t, "message %d back after %.3f s (at %.1f s)", k + 1,
		    back_at - sent_at, back_at - start);
	}
	ok("%d messages of %d bytes came back intact through %d proxy hops, "
	    "each before the next was sent (slowest %.3f s)", count, MSGLEN,
	    2 * n, slowest);
	if (gap > 0)
		ok("connection stayed open across %d idle gaps of %.0f s over "
		    "%.1f s (stall timeout %g s)", count - 1, gap,
		    now() - start, t->stall);
	chain_end(t, &ch);
out:
	chain_close(&ch);
	free(data);
}

static void
fill_random(unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t x = seed;
	size_t i;

	/* xorshift64*: cheap, seeded, and any bad byte shows its offset. */
	for (i = 0; i < len; i++) {
		if (i % 8 == 0) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
		}
		p[i] = (unsigned char)((x * UINT64_C(2685821657736338717)) >>
		    (8 * (i % 8)));
	}
}

/* Connect one pair; 0, or -1 after reporting a failure. */
static int
open_pair(struct tester *t, int *c, int *s)
{
	*c = *s = -1;
	if ((*c = connect_proxy(t)) == -1) {
		fail(t, "connect to the proxy: %s", strerror(errno));
		return -1;
	}
	if ((*s = accept_one(t, IO_TIMEOUT_SEC)) == -1) {
		fail(t, "connection not relayed to the server within %.0f s",
		    IO_TIMEOUT_SEC);
		return -1;
	}
	return 0;
}

/* Did the writer of a lazy pair see EOF or a reset?  -1 on surprise. */
static int
lazy_read(struct tester *t, int fd, const char *who, int *how)
{
	char buf[256];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n == 0) {
		*how = 0;
		return 1;
	}
	if (n > 0) {
		fail(t, "%s got %zd bytes that nobody sent", who, n);
		return -1;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (is_gone(errno)) {
		*how = errno;
		return 1;
	}
	fail(t, "%s read: %s", who, strerror(errno));
	return -1;
}

/*
 * Flood fl->fd until the proxy ends the pair or the deadline (stall +
 * slack after the first EAGAIN) passes.  Unless idle is -1, it is the
 * pair's end that never reads: watched, never read, and *idle_at set when
 * it is first seen closed.  1 closed (how: errno, 0 for EOF), 0 deadline,
 * -1 after reporting a failure.
 */
static int
lazy_flood(struct tester *t, struct flood *fl, const char *who, int *how,
    int idle, double *idle_at)
{
	struct pollfd pfd[2];
	double start = now(), end, tn;
	int r;

	for (;;) {
		/* Checked on entry too: a flood beside a chain may be over. */
		if (fl->closed_at > 0) {
			*how = fl->err;
			if (is_gone(fl->err))
				return 1;
			fail(t, "%s write: %s", who, strerror(fl->err));
			return -1;
		}
		end = (fl->blocked_at > 0 ? fl->blocked_at : start) +
		    t->stall + LAZY_SLACK_SEC;
		if ((tn = now()) >= end)
			return 0;
		watch(&pfd[0], fl->fd, 1, POLLIN | POLLOUT);
		/* A closed end stays ready: watching it on would spin. */
		watch(&pfd[1], idle, idle >= 0 && *idle_at == 0, POLLRDHUP);
		if (xpoll(pfd, 2, fl->more ? 0 : end - tn) == 0 && !fl->more)
			continue;
		if (pfd[1].revents != 0)
			*idle_at = now();
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    (r = lazy_read(t, fl->fd, who, how)) != 0) {
			if (r == 1)
				fl->closed_at = now();
			return r;
		}
		if ((pfd[0].revents & POLLOUT) != 0 || fl->more)
			flood_write(fl);
	}
}

/*
 * One ok or fail line: did what happen at time at, within the window
 * after the writer who first blocked?  Not before LAZY_MIN_FRAC of the
 * stall timeout, not after it plus LAZY_SLACK_SEC.  more ends an ok line.
 */
static void
lazy_window(struct tester *t, const struct flood *fl, double at,
    const char *what, const char *who, const char *more)
{
	double took = at - fl->blocked_at, lo = LAZY_MIN_FRAC * t->stall;
	double hi = t->stall + LAZY_SLACK_SEC;

	if (took < lo)
		fail(t, "%s %.2f s after the %s blocked: earlier than %.2f s "
		    "(stall timeout %g s)", what, took, who, lo, t->stall);
	else if (took > hi)
		fail(t, "%s %.2f s after the %s blocked: later than %.2f s "
		    "(stall timeout %g s)", what, took, who, hi, t->stall);
	else
		ok("%s %.2f s after the %s blocked (stall timeout %g s, "
		    "allowed %.2f..%.2f s)%s", what, took, who, t->stall, lo,
		    hi, more);
}

static void
lazy_judge(struct tester *t, const struct flood *fl, const char *who,
    int how)
{
	char more[160];

	if (fl->blocked_at == 0) {
		fail(t, "pair closed (%s) before the %s ever blocked: data "
		    "was still moving (%zu bytes written)",
		    how == 0 ? "EOF" : strerror(how), who, fl->sent);
		return;
	}
	snprintf(more, sizeof(more), "; the %s saw %s after %zu bytes", who,
	    how == 0 ? "EOF" : strerror(how), fl->sent);
	lazy_window(t, fl, fl->closed_at, "pair aborted", who, more);
}

/*
 * The end that never read must be closed too, once its buffer drains.
 * 0 if it was, -1 after reporting that it was not.
 */
static int
lazy_other_end(struct tester *t, int fd, const char *who)
{
	size_t got;
	int r, e;

	r = read_until_eof(fd, NULL, 0, &got, DRAIN_TIMEOUT_SEC);
	e = r == -1 ? errno : 0;
	if (r == 0 || is_gone(e)) {
		ok("the %s's end was closed too (%s after draining %zu "
		    "bytes)", who, r == 0 ? "EOF" : strerror(e), got);
		return 0;
	}
	if (r == -1)
		fail(t, "the %s's end: read: %s", who, strerror(e));
	else
		fail(t, "the %s's end still open %.0f s after the other end "
		    "was closed (%zu bytes drained)", who, DRAIN_TIMEOUT_SEC,
		    got);
	return -1;
}

/*
 * Flood fl->fd until the proxy aborts the pair, then judge when; idle and
 * idle_at as for lazy_flood().  0 once the writer's end was closed, in
 * time or not; -1 after reporting that it was not closed at all.
 */
static int
lazy_abort(struct tester *t, struct flood *fl, const char *who, int idle,
    double *idle_at)
{
	int how = 0, r;

	r = lazy_flood(t, fl, who, &how, idle, idle_at);
	if (r == 0 && fl->blocked_at == 0)
		fail(t, "the %s never blocked (%zu bytes written): does the "
		    "proxy buffer without bound?", who, fl->sent);
	else if (r == 0)
		fail(t, "pair still open %.1f s after the %s blocked (stall "
		    "timeout %g s; %zu bytes written)", now() - fl->blocked_at,
		    who, t->stall, fl->sent);
	if (r != 1)
		return -1;
	lazy_judge(t, fl, who, how);
	return 0;
}

static void
report_blocked_pair(const struct tester *t, const struct flood *fl)
{
	if (fl->closed_at > 0 && fl->blocked_at > 0)
		note("blocked pair: aborted by the proxy %.2f s after its "
		    "writer blocked (%s, %zu bytes written; stall timeout "
		    "%g s)", fl->closed_at - fl->blocked_at,
		    strerror(fl->err), fl->sent, t->stall);
	else if (fl->closed_at > 0)
		note("blocked pair: aborted by the proxy before its writer "
		    "ever blocked (%s, %zu bytes written)", strerror(fl->err),
		    fl->sent);
	else
		note("blocked pair: still open when the bulk transfer ended "
		    "(%zu bytes written)", fl->sent);
}

/* Flood the blocked pair until its writer blocks; -1 after a failure. */
static int
block_pair(struct tester *t, struct chain *ch)
{
	int r;

	r = chain_wait(ch, UNTIL_BLOCKED, now() + FLOOD_BLOCK_SEC);
	if (r == -1) {
		fail(t, "before the bulk transfer: %s", ch->why);
		return -1;
	}
	if (r == 1)
		note("blocked pair: writer not blocked after %.0f s (%zu "
		    "bytes written)", FLOOD_BLOCK_SEC, ch->fl.sent);
	else
		debug(t, "blocked pair: writer blocked after %zu bytes",
		    ch->fl.sent);
	return 0;
}

/* BULK_SIZE bytes out and back; 0, or -1 after reporting a failure. */
static int
bulk_transfer(struct tester *t, struct chain *ch, int blocked)
{
	double t0 = now();
	int r;

	ch->st.allow = BULK_SIZE;
	r = chain_wait(ch, UNTIL_ECHOED, t0 + BULK_TIMEOUT_SEC);
	if (r == 0)
		ok("%d bytes (seed %#llx) went out and came back intact "
		    "through %d proxy hops in %.2f s%s", BULK_SIZE,
		    (unsigned long long)BULK_SEED, 2 * ch->n, now() - t0,
		    blocked ? ", beside the blocked pair" : "");
	else if (r == 1)
		fail(t, "bulk: only %zu of %d bytes back (%zu sent) after "
		    "%.0f s", ch->st.rcvd, BULK_SIZE, ch->st.sent,
		    BULK_TIMEOUT_SEC);
	else
		fail(t, "bulk: %s (%zu of %d bytes back)", ch->why,
		    ch->st.rcvd, BULK_SIZE);
	return r == 0 ? 0 : -1;
}

/*
 * After the bulk the blocked pair is judged like a lazy one: flooded until
 * the proxy aborts it, and both its ends closed within the window after
 * its writer first blocked.  Its server end is watched, never read, so
 * that its own close is timed, until the client's end is closed.
 */
static void
blocked_abort(struct tester *t, struct flood *fl, int sb)
{
	static const char writer[] = "flooding client";
	double idle_at = 0;

	if (lazy_abort(t, fl, writer, sb, &idle_at) == -1 ||
	    lazy_other_end(t, sb, "silent server") == -1 ||
	    fl->blocked_at == 0)
		return;
	/* Not seen before the client's end: reading it showed the close. */
	if (idle_at == 0)
		idle_at = now();
	lazy_window(t, fl, idle_at, "the silent server's end closed", writer,
	    "");
}

/*
 * The chain sat idle beside the blocked pair while the proxy aborted that
 * pair: the rest of its data must still go out and back through every
 * hop.  0, or -1 after reporting a failure.
 */
static int
chain_undisturbed(struct tester *t, struct chain *ch)
{
	size_t from = ch->st.allow;
	int r;

	ch->st.allow = ch->st.size;
	r = chain_wait(ch, UNTIL_ECHOED, now() + IO_TIMEOUT_SEC);
	if (r == 0)
		ok("bulk chain undisturbed: %zu more bytes went out and came "
		    "back intact through %d proxy hops after the blocked pair "
		    "was aborted", ch->st.size - from, 2 * ch->n);
	else if (r == 1)
		fail(t, "bulk chain after the blocked pair's abort: only %zu "
		    "of %zu bytes back after %.0f s", ch->st.rcvd, ch->st.size,
		    IO_TIMEOUT_SEC);
	else
		fail(t, "bulk chain after the blocked pair's abort: %s",
		    ch->why);
	return r == 0 ? 0 : -1;
}

/*
 * BULK_SIZE bytes out and back through a chain of CHAIN_TWENTY.  With
 * blocked, first open a pair whose server end never reads and flood it,
 * so that the bulk runs beside a pair that cannot move; once the bulk is
 * back, that pair must be aborted on time, and the chain, idle meanwhile,
 * must still carry BULK_TAIL more bytes and close cleanly.
 */
static void
run_bulk(struct tester *t, int blocked)
{
	struct chain ch;
	unsigned char *data;
	size_t size = BULK_SIZE + (blocked ? BULK_TAIL : 0);
	int cb = -1, sb = -1;

	data = xcalloc(1, size);
	fill_random(data, size, BULK_SEED);
	memset(&ch, 0, sizeof(ch));
	ch.fl.fd = -1;
	if (blocked && open_pair(t, &cb, &sb) == -1)
		goto out;
	if (chain_open(t, &ch, CHAIN_TWENTY, data, size) == -1)
		goto out;
	if (blocked) {
		ch.fl.fd = cb;
		cb = -1;
		if (block_pair(t, &ch) == -1)
			goto out;
	}
	if (bulk_transfer(t, &ch, blocked) == -1) {
		if (blocked)
			report_blocked_pair(t, &ch.fl);
		goto out;
	}
	if (blocked) {
		blocked_abort(t, &ch.fl, sb);
		if (chain_undisturbed(t, &ch) == -1)
			goto out;
	}
	chain_end(t, &ch);
out:
	chain_close(&ch);
	close_fd(&cb);
	close_fd(&sb);
	free(data);
}

static void
phase_single(struct tester *t)
{
	run_messages(t, 1, NMSG, 0);
}

static void
phase_two(struct tester *t)
{
	run_messages(t, CHAIN_TWO, NMSG, 0);
}

static void
phase_twenty(struct tester *t)
{
	run_messages(t, CHAIN_TWENTY, NMSG, 0);
}

static void
phase_bulk(struct tester *t)
{
	run_bulk(t, 0);
}

static void
phase_mix(struct tester *t)
{
	run_bulk(t, 1);
}

static void
phase_active(struct tester *t)
{
	run_messages(t, 1, ACTIVE_MSGS, ACTIVE_GAP_SEC);
}

static void
phase_halfclose(struct tester *t)
{
	static const char hello[] = "half-close";
	const size_t len = sizeof(hello) - 1;
	char buf[64];
	size_t got;
	int c, s, r;

	if (open_pair(t, &c, &s) == -1)
		goto out;
	/* A few bytes always fit a fresh socket's buffer. */
	if (send(c, hello, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    shutdown(c, SHUT_WR) == -1) {
		fail(t, "client write and shutdown: %s", strerror(errno));
		goto out;
	}
	r = read_until_eof(s, buf, sizeof(buf), &got, IO_TIMEOUT_SEC);
	if (r != 0) {
		fail(t, "server: no EOF after the client's shutdown (%s; %zu "
		    "bytes read)", r == 1 ? "timeout" : strerror(errno), got);
		goto out;
	}
	if (got != len || memcmp(buf, hello, len) != 0) {
		fail(t, "server got %zu bytes '%.*s' before EOF, expected "
		    "%zu '%s'", got, (int)(got < sizeof(buf) ? got :
		    sizeof(buf)), buf, len, hello);
		goto out;
	}
	ok("server got the client's %zu bytes, then EOF", len);
	/* The proxy must keep the other direction open after the EOF. */
	if (send(s, "X", 1, MSG_NOSIGNAL) != 1 || shutdown(s, SHUT_WR) == -1) {
		fail(t, "server write after EOF: %s", strerror(errno));
		goto out;
	}
	r = read_until_eof(c, buf, sizeof(buf), &got, IO_TIMEOUT_SEC);
	if (r == 0 && got == 1 && buf[0] == 'X')
		ok("client, after its own shutdown, got the server's byte, "
		    "then EOF");
	else if (r == 0)
		fail(t, "client got %zu bytes before EOF, expected the one "
		    "byte 'X'", got);
	else
		fail(t, "client: no EOF after the server's byte (%s; %zu "
		    "bytes read)", r == 1 ? "timeout" : strerror(errno), got);
out:
	close_fd(&c);
	close_fd(&s);
}

/* Accept and close at once whatever reached our server; the count. */
static int
refuse_all(const struct tester *t)
{
	int fd, n = 0;

	while ((fd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		(void)close(fd);
		n++;
	}
	if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
		fatal("accept");
	return n;
}

/*
 * The client end of earlyclose: 0 while open, 1 once closed, with the
 * errno seen (0 for EOF) in *how; -1 after reporting a failure.
 */
static int
early_read(struct tester *t, int c, int *how)
{
	char buf[256];
	ssize_t n;

	n = recv(c, buf, sizeof(buf), 0);
	if (n == 0) {
		*how = 0;
		return 1;
	}
	if (n > 0) {
		fail(t, "client got %zd bytes that nobody sent", n);
		return -1;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (is_gone(errno)) {
		*how = errno;
		return 1;
	}
	fail(t, "client read: %s", strerror(errno));
	return -1;
}

static void
phase_earlyclose(struct tester *t)
{
	struct pollfd pfd[2];
	double start, next, end, tn, closed_at = 0, refused_at = 0;
	ssize_t n;
	int c, how = 0, writes = 0, accepted = 0, r = 0;

	if ((c = connect_proxy(t)) == -1) {
		fail(t, "connect to the proxy: %s", strerror(errno));
		return;
	}
	start = next = now();
	end = start + EARLY_WRITES * EARLY_GAP_SEC;
	while (r == 0 && (tn = now()) < end) {
		if (writes < EARLY_WRITES && tn >= next) {
			n = send(c, "ping", 4, MSG_NOSIGNAL);
			if (n == -1 && is_gone(errno)) {
				how = errno;
				r = 1;
				break;
			}
			if (n == -1 && errno != EAGAIN) {
				fail(t, "client write: %s", strerror(errno));
				goto out;
			}
			writes++;
			next += EARLY_GAP_SEC;
			continue;
		}
		pfd[0].fd = t->lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = c;
		pfd[1].events = POLLIN;
		if (xpoll(pfd, 2, (writes < EARLY_WRITES ? next : end) - tn) ==
		    0)
			continue;
		if (pfd[0].revents != 0 && (accepted += refuse_all(t)) > 0 &&
		    refused_at == 0)
			refused_at = now();
		if (pfd[1].revents != 0 && (r = early_read(t, c, &how)) == -1)
			goto out;
	}
	closed_at = now();
	if (accepted == 0)
		fail(t, "the proxy never connected to the server");
	else if (r == 0)
		fail(t, "client still open %.1f s after the server closed its "
		    "end (%d writes accepted)", closed_at - refused_at, writes);
	else
		ok("proxy closed the client (%s) %.2f s after the server "
		    "closed its end, after %d client write(s)",
		    how == 0 ? "EOF" : strerror(how), closed_at - refused_at,
		    writes);
out:
	close_fd(&c);
}

/*
 * One end writes as fast as it can, the other never reads: the proxy must
 * abort the pair about one stall timeout after the data stopped moving.
 */
static void
run_lazy(struct tester *t, int client_writes)
{
	struct flood fl;
	const char *writer = client_writes ? "client writer" : "server writer";
	const char *idle = client_writes ? "server" : "client";
	int c, s;

	memset(&fl, 0, sizeof(fl));
	if (open_pair(t, &c, &s) == -1)
		goto out;
	fl.fd = client_writes ? c : s;
	if (lazy_abort(t, &fl, writer, -1, NULL) == 0)
		(void)lazy_other_end(t, client_writes ? s : c, idle);
out:
	close_fd(&c);
	close_fd(&s);
}

static void
phase_lazy_client(struct tester *t)
{
	run_lazy(t, 0);
}

static void
phase_lazy_server(struct tester *t)
{
	run_lazy(t, 1);
}

static const struct phase phases[] = {
	{ "single", phase_single,
	    "10 messages through one echo connection" },
	{ "two", phase_two, "10 messages through a chain of 2 connections" },
	{ "twenty", phase_twenty,
	    "10 messages through a chain of 20 connections" },
	{ "bulk", phase_bulk, "2 MB both ways through a chain of 20" },
	{ "mix", phase_mix,
	    "bulk beside a pair whose server never reads, then its abort" },
	{ "halfclose", phase_halfclose,
	    "client shuts down writing, still gets the reply" },
	{ "earlyclose", phase_earlyclose,
	    "server closes at once, the client must be closed" },
	{ "active", phase_active,
	    "echo every 3 s for 25 s: idle gaps are not stalls" },
	{ "lazy-client", phase_lazy_client,
	    "client never reads: the pair must be aborted" },
	{ "lazy-server", phase_lazy_server,
	    "server never reads: the pair must be aborted" },
};

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: tester [--stall SECS] [--verbose] PHASE -- "
	    "PROXY_CMD [ARGS...]\n"
	    "  runs PROXY_CMD ARGS... 127.0.0.1 SERVERPORT PROXYPORT\n"
	    "  --stall SECS  stall timeout the proxy was given (default "
	    "%g)\nphases:\n", DEFAULT_STALL_SEC);
	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		fprintf(stderr, "  %-12s %s\n", phases[i].name,
		    phases[i].what);
	exit(2);
}

static const struct phase *
find_phase(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
		if (strcmp(phases[i].name, name) == 0)
			return &phases[i];
	return NULL;
}

static double
parse_stall(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v <= 0 || v > 86400)
		errx(2, "invalid --stall value '%s': expected 0 < SECS <= "
		    "86400", s);
	return v;
}

/* The proxy's argv: the user's command, then host and both ports. */
static void
build_argv(struct tester *t, char **cmd, int ncmd)
{
	int i;

	t->argv = xcalloc((size_t)ncmd + 4, sizeof(*t->argv));
	for (i = 0; i < ncmd; i++)
		t->argv[i] = cmd[i];
	memcpy(t->host, LOCALHOST, sizeof(LOCALHOST));
	t->argv[ncmd] = t->host;
	t->argv[ncmd + 1] = t->sport_s;
	t->argv[ncmd + 2] = t->pport_s;
	t->argv[ncmd + 3] = NULL;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "stall", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct tester t;
	const struct phase *ph;
	int ch;

	memset(&t, 0, sizeof(t));
	t.stall = DEFAULT_STALL_SEC;
	t.lfd = -1;
	/* "+": stop at PHASE, so the proxy's own options stay its own. */
	while ((ch = getopt_long(argc, argv, "+s:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			t.stall = parse_stall(optarg);
			break;
		case 'v':
			t.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") != 0)
		usage();
	if ((ph = find_phase(argv[optind])) == NULL) {
		warnx("unknown phase '%s'", argv[optind]);
		usage();
	}
	build_argv(&t, argv + optind + 2, argc - optind - 2);

	setvbuf(stdout, NULL, _IOLBF, 0);
	setup_signals();
	/* Orphans of the proxy come to us, to be seen and reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		warn("prctl PR_SET_CHILD_SUBREAPER");
	alarm((unsigned)(WATCHDOG_SEC + 2 * t.stall));
	open_server(&t);
	printf("phase %s: %s (stall timeout %g s)\n", ph->name, ph->what,
	    t.stall);
	if (start_proxy(&t) == 0)
		ph->run(&t);
	stop_proxy(&t);
	close_fd(&t.lfd);
	free(t.argv);
	if (t.failures > 0) {
		printf("FAIL: phase %s: %d check(s) failed\n", ph->name,
		    t.failures);
		return 1;
	}
	printf("PASS: phase %s\n", ph->name);
	return 0;
}
