/*
 * sockpass: a socket activator for the tests, for what Debian's
 * systemd-socket-activate cannot make: inetd's descriptors, sockets that
 * are wrong on purpose, a foreign LISTEN_PID, and a socket held across
 * restarts of the service.
 *
 * Usage: sockpass [-lnr] [-L PID] [-k KIND] [-p PORT] [-d FD[,FD...]]
 *                 [-w FILE] -- COMMAND [ARGS...]
 *   -k KIND   what to put on the descriptors:
 *               listen  a TCP socket listening on 127.0.0.1:PORT (default)
 *               conn    the first connection accepted on 127.0.0.1:PORT;
 *                       the listener is closed before COMMAND runs
 *               tcp     a TCP socket neither listening nor connected
 *               udp     a UDP socket bound to 127.0.0.1:PORT
 *               unixdgram  one end of a unix datagram socket pair
 *               file    /dev/null, open for reading and writing
 *               closed  nothing: the descriptors are closed
 *   -p PORT   the port for listen, conn and udp (default 0: the kernel's
 *             choice)
 *   -d FDS    the descriptors to put it on, comma-separated (default 3;
 *             inetd uses 0,1,2)
 *   -w FILE   once the socket is bound (and listening), write its port
 *             and a newline to FILE; FILE appears complete or not at all
 *   -l        set LISTEN_PID to the pid COMMAND runs as
 *   -L PID    set LISTEN_PID to PID instead (a foreign process)
 *   -n        make the socket non-blocking (systemd's NonBlocking=yes)
 *   -r        restart mode: keep the socket, run COMMAND as a child, and
 *             run it again on each SIGUSR1 that comes while none runs;
 *             SIGTERM and SIGINT are passed on to the running COMMAND and
 *             sockpass then exits with its status (0 if none runs).  Says
 *             "sockpass: started PID" and "sockpass: PID exited with
 *             status N" (or "killed by signal N") on stderr.
 * Without -r, COMMAND replaces sockpass (same pid), as with
 * systemd-socket-activate.  Every descriptor from 3 up that is not one of
 * FDS is closed first, as systemd does.  LISTEN_FDS and LISTEN_FDNAMES
 * are left as the caller's environment has them.  Exit 2 on bad usage,
 * 1 when the socket cannot be made, 127 when COMMAND cannot be run.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXFDS		16
#define HIGH_FD		100	/* where the socket waits until placed */
#define CLOSE_MAX	65536	/* close descriptors below this at most */
#define BACKLOG		128

enum kind { K_LISTEN, K_CONN, K_TCP, K_UDP, K_UNIXDGRAM, K_FILE, K_CLOSED };

static const char *const kind_name[] = {
	[K_LISTEN] = "listen",
	[K_CONN] = "conn",
	[K_TCP] = "tcp",
	[K_UDP] = "udp",
	[K_UNIXDGRAM] = "unixdgram",
	[K_FILE] = "file",
	[K_CLOSED] = "closed",
};

struct opts {
	enum kind	 kind;
	unsigned	 port;
	int		 fds[MAXFDS];
	int		 nfd;
	const char	*portfile;
	int		 own_pid;	/* -l */
	int		 nonblock;	/* -n */
	const char	*pid;		/* -L */
	int		 restart;
	char		**argv;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: sockpass [-lnr] [-L pid] [-k listen|conn|tcp|"
	    "udp|file|closed] [-p port] [-d fd,...] [-w file] -- command "
	    "[args...]\n");
	exit(2);
}

static void
parse_fds(char *s, struct opts *o)
{
	char *tok, *end;
	long v;

	o->nfd = 0;
	for (tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
		v = strtol(tok, &end, 10);
		if (*end != '\0' || v < 0 || v >= HIGH_FD || o->nfd == MAXFDS)
			usage();
		o->fds[o->nfd++] = (int)v;
	}
	if (o->nfd == 0)
		usage();
}

static void
parse(int argc, char **argv, struct opts *o)
{
	char *end;
	size_t k;
	int ch;

	memset(o, 0, sizeof(*o));
	o->fds[0] = 3;
	o->nfd = 1;
	while ((ch = getopt(argc, argv, "d:k:lL:np:rw:")) != -1) {
		switch (ch) {
		case 'd':
			parse_fds(optarg, o);
			break;
		case 'k':
			for (k = 0; k < sizeof(kind_name) /
			    sizeof(kind_name[0]); k++)
				if (strcmp(optarg, kind_name[k]) == 0)
					break;
			if (k == sizeof(kind_name) / sizeof(kind_name[0]))
				usage();
			o->kind = (enum kind)k;
			break;
		case 'l':
			o->own_pid = 1;
			break;
		case 'L':
			o->pid = optarg;
			break;
		case 'n':
			o->nonblock = 1;
			break;
		case 'p':
			o->port = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->port > 65535)
				usage();
			break;
		case 'r':
			o->restart = 1;
			break;
		case 'w':
			o->portfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || (o->own_pid && o->pid != NULL))
		usage();
	o->argv = argv + optind;
}

static void
loopback(struct sockaddr_in *sin, unsigned port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* Write "PORT\n" to a temporary file and rename it into place. */
static void
write_port(const char *file, int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char tmp[4096];
	FILE *f;

	if (getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		err(1, "getsockname");
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((f = fopen(tmp, "w")) == NULL)
		err(1, "%s", tmp);
	fprintf(f, "%u\n", (unsigned)ntohs(sin.sin_port));
	if (fclose(f) == EOF || rename(tmp, file) == -1)
		err(1, "%s", file);
}

/* A bound socket of type on 127.0.0.1:port, listening if a stream. */
static int
bound(int type, const struct opts *o)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if ((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	loopback(&sin, o->port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind 127.0.0.1:%u", o->port);
	if (type == SOCK_STREAM && listen(fd, BACKLOG) == -1)
		err(1, "listen");
	if (o->portfile != NULL)
		write_port(o->portfile, fd);
	return fd;
}

static int
accept_one(int lfd)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd == -1 && (errno == EINTR || errno == ECONNABORTED));
	if (fd == -1)
		err(1, "accept");
	(void)close(lfd);
	return fd;
}

/* The descriptor to pass, close-on-exec, at HIGH_FD; -1 for "closed". */
static int
make(const struct opts *o)
{
	int fd = -1, high, pair[2];

	switch (o->kind) {
	case K_LISTEN:
		fd = bound(SOCK_STREAM, o);
		break;
	case K_CONN:
		fd = accept_one(bound(SOCK_STREAM, o));
		break;
	case K_TCP:
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			err(1, "socket");
		break;
	case K_UDP:
		fd = bound(SOCK_DGRAM, o);
		break;
	case K_UNIXDGRAM:
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) ==
		    -1)
			err(1, "socketpair");
		fd = pair[0];	/* pair[1] stays open, unused */
		break;
	case K_FILE:
		if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
			err(1, "/dev/null");
		break;
	case K_CLOSED:
		return -1;
	}
	/* Out of the way of the targets, so that dup2() is never a no-op. */
	if ((high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD)) == -1)
		err(1, "fcntl");
	if (o->nonblock && fcntl(high, F_SETFL, fcntl(high, F_GETFL) |
	    O_NONBLOCK) == -1)
		err(1, "fcntl O_NONBLOCK");
	(void)close(fd);
	return high;
}

static int
is_target(const struct opts *o, int fd)
{
	int i;

	for (i = 0; i < o->nfd; i++)
		if (o->fds[i] == fd)
			return 1;
	return 0;
}

/* Put sock on the target descriptors, close the rest, set LISTEN_PID. */
static void
place(const struct opts *o, int sock)
{
	struct rlimit rl;
	char pid[32];
	int fd, max = CLOSE_MAX, i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < CLOSE_MAX)
		max = (int)rl.rlim_cur;
	for (fd = 3; fd < max; fd++)
		if (fd != sock && !is_target(o, fd))
			(void)close(fd);
	for (i = 0; i < o->nfd; i++) {
		if (sock == -1)
			(void)close(o->fds[i]);
		else if (dup2(sock, o->fds[i]) == -1)
			err(1, "dup2");
	}
	if (o->own_pid) {
		(void)snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		if (setenv("LISTEN_PID", pid, 1) == -1)
			err(1, "setenv");
	} else if (o->pid != NULL && setenv("LISTEN_PID", o->pid, 1) == -1)
		err(1, "setenv");
}

static void __attribute__((noreturn))
run(const struct opts *o, int sock)
{
	place(o, sock);
	execvp(o->argv[0], o->argv);
	/* stderr may be the socket now; say it anyway, inetd would too. */
	warn("cannot run %s", o->argv[0]);
	_exit(127);
}

static void
on_signal(int sig)
{
	(void)sig;
}

/* The signals supervise() takes, and their dispositions. */
static const int handled[] = { SIGCHLD, SIGUSR1, SIGTERM, SIGINT };

static void
set_handlers(void (*fn)(int))
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = fn;
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		if (sigaction(handled[i], &sa, NULL) == -1)
			err(1, "sigaction");
}

static pid_t
start(const struct opts *o, int sock, const sigset_t *orig)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		set_handlers(SIG_DFL);
		(void)sigprocmask(SIG_SETMASK, orig, NULL);
		run(o, sock);
	}
	fprintf(stderr, "sockpass: started %ld\n", (long)pid);
	return pid;
}

/* Reap the child if it ended; 1 if it did, with its exit code in *code. */
static int
reaped(pid_t pid, int *code)
{
	int st;

	if (waitpid(pid, &st, WNOHANG) != pid)
		return 0;
	if (WIFEXITED(st)) {
		*code = WEXITSTATUS(st);
		fprintf(stderr, "sockpass: %ld exited with status %d\n",
		    (long)pid, *code);
	} else {
		*code = 128 + WTERMSIG(st);
		fprintf(stderr, "sockpass: %ld killed by signal %d\n",
		    (long)pid, WTERMSIG(st));
	}
	return 1;
}

/*
 * Restart mode: the signals are blocked and taken one at a time with
 * sigwaitinfo(), so that nothing runs in a handler.
 */
static void __attribute__((noreturn))
supervise(const struct opts *o, int sock)
{
	sigset_t set, orig;
	pid_t pid;
	size_t i;
	int sig, code = 0, stopping = 0;

	sigemptyset(&set);
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(&set, handled[i]);
	if (sigprocmask(SIG_BLOCK, &set, &orig) == -1)
		err(1, "sigprocmask");
	/* Handlers, so that none of them is discarded as ignored. */
	set_handlers(on_signal);
	pid = start(o, sock, &orig);
	for (;;) {
		if ((sig = sigwaitinfo(&set, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "sigwaitinfo");
		}
		if (sig == SIGCHLD && pid != 0 && reaped(pid, &code)) {
			pid = 0;
			if (stopping)
				exit(code);
		} else if (sig == SIGUSR1 && pid == 0 && !stopping)
			pid = start(o, sock, &orig);
		else if (sig == SIGTERM || sig == SIGINT) {
			if (pid == 0)
				exit(0);
			stopping = 1;
			(void)kill(pid, sig);
		}
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	int sock;

	parse(argc, argv, &o);
	sock = make(&o);
	if (o.restart)
		supervise(&o, sock);
	run(&o, sock);
}
