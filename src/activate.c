/*
 * activate.c: sockets handed to us instead of opened by us.
 *   systemd  LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, read by hand as
 *            sd_listen_fds(3) describes: descriptors 3 to 3+LISTEN_FDS-1,
 *            listening (Accept=no) or one connected (Accept=yes);
 *   inetd    standard input: listening ("wait") or connected ("nowait").
 * Every inherited descriptor is checked before use: open, a stream socket
 * of a family we can relay, and either listening or connected.  The
 * variables are unset in every mode, so that nothing we start takes them
 * for its own.  Runs before any fork, so problems end the program with
 * one line (err(3)).  Calls netio to format addresses, log to sanitise,
 * util to parse the variables.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netio.h"
#include "util.h"
#include "activate.h"

#define SD_LISTEN_FDS_START	3

/* What one inherited descriptor is. */
enum fd_role { FD_LISTENING, FD_CONNECTED };

static int
sockopt_int(int fd, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, SOL_SOCKET, opt, val, &len);
}

/*
 * Check fd (named by what, e.g. "descriptor 4 from LISTEN_FDS") and say
 * whether it listens or is connected; exit with the reason otherwise.
 */
static enum fd_role
check_fd(int fd, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;
	int type, domain, listening;

	if (fcntl(fd, F_GETFD) == -1)
		errx(1, "%s is not open", what);
	if (fstat(fd, &st) == -1)
		err(1, "%s", what);
	if (!S_ISSOCK(st.st_mode))
		errx(1, "%s is not a socket", what);
	if (sockopt_int(fd, SO_TYPE, &type) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		err(1, "%s", what);
	domain = ss.ss_family;
	if (type != SOCK_STREAM)
		errx(1, "%s is a %s socket, not a stream%s socket", what,
		    type != SOCK_DGRAM ? "non-stream" : domain == AF_UNIX ?
		    "unix datagram" : "datagram (UDP)",
		    domain == AF_UNIX ? "" : " (TCP)");
	if (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX)
		errx(1, "%s is not an IP or unix-domain socket", what);
	if (sockopt_int(fd, SO_ACCEPTCONN, &listening) == -1)
		err(1, "%s", what);
	if (listening)
		return FD_LISTENING;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		errx(1, "%s is neither listening nor connected", what);
	return FD_CONNECTED;
}

/* The port of fd's local address, 0 for a unix-domain socket. */
static unsigned
local_port(int fd, char *name, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		name[0] = '\0';
		return 0;
	}
	netio_fmtaddr((struct sockaddr *)&ss, len, name, size);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/*
 * A listen port on the command line is optional here; given, it must be
 * the port of every passed socket.  -l cannot be checked short of
 * resolving it, so it is refused rather than silently ignored.
 */
static void
agree(const struct config *cfg, const struct activation *a)
{
	char name[NETIO_ADDRSTRLEN];
	unsigned want;
	int i;

	if (cfg->nlisten_addr > 0)
		errx(1, "--listen-address does not apply: the socket%s came "
		    "from %s", a->nfd > 1 ? "s" : "", a->source);
	if (cfg->listen_port == NULL)
		return;
	want = (unsigned)strtoul(cfg->listen_port, NULL, 10);
	for (i = 0; i < a->nfd; i++)
		if (local_port(a->fds[i], name, sizeof(name)) != want)
			errx(1, "listen port %u contradicts the socket passed "
			    "by %s (%s); leave the port out or make them "
			    "agree", want, a->source, name);
}

/* Sort the checked descriptors into one mode, or refuse the mixture. */
static void
classify(struct activation *a, const enum fd_role *role)
{
	int i, nconn = 0;

	for (i = 0; i < a->nfd; i++)
		if (role[i] == FD_CONNECTED)
			nconn++;
	if (nconn == 0) {
		a->kind = ACT_LISTEN;
		return;
	}
	if (a->nfd > 1)
		errx(1, "%s passed %d sockets and %d of them %s connected: "
		    "expected listening sockets (Accept=no) or a single "
		    "connection (Accept=yes)", a->source, a->nfd, nconn,
		    nconn == 1 ? "is" : "are");
	a->kind = ACT_CONNECTED;
}

static void
unset_env(void)
{
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
}

static void
from_systemd(struct activation *a)
{
	const char *pids = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	enum fd_role role[LISTEN_MAX];
	char what[64], safe[64];
	uint64_t pid, n;
	int i, fd;

	a->source = "systemd";
	if (fds == NULL)
		errx(1, "--systemd: LISTEN_FDS is not set; no socket was "
		    "passed");
	log_sanitize(safe, sizeof(safe), fds);
	if (util_parse_uint(fds, 0, UINT32_MAX, &n) != UTIL_OK)
		errx(1, "LISTEN_FDS='%s' is not a number", safe);
	if (n == 0)
		errx(1, "LISTEN_FDS=0: no socket was passed");
	if (n > LISTEN_MAX)
		errx(1, "LISTEN_FDS=%s: at most %d sockets are supported",
		    safe, LISTEN_MAX);
	if (pids == NULL)
		errx(1, "LISTEN_FDS is set but LISTEN_PID is not");
	log_sanitize(safe, sizeof(safe), pids);
	if (util_parse_uint(pids, 1, UINT32_MAX, &pid) != UTIL_OK)
		errx(1, "LISTEN_PID='%s' is not a process ID", safe);
	if ((pid_t)pid != getpid())
		errx(1, "LISTEN_PID=%s is another process (this is %ld): the "
		    "sockets were not passed to us", safe, (long)getpid());
	for (i = 0; i < (int)n; i++) {
		fd = SD_LISTEN_FDS_START + i;
		(void)snprintf(what, sizeof(what), "descriptor %d (LISTEN_FDS"
		    "=%d)", fd, (int)n);
		role[i] = check_fd(fd, what);
		a->fds[i] = fd;
	}
	a->nfd = (int)n;
	if (names != NULL)
		log_sanitize(a->names, sizeof(a->names), names);
	classify(a, role);
}

static void
from_inetd(struct activation *a)
{
	struct stat in, st;
	enum fd_role role;

	a->source = "inetd";
	role = check_fd(STDIN_FILENO, "standard input (inetd mode)");
	a->fds[0] = STDIN_FILENO;
	a->nfd = 1;
	classify(a, &role);
	/*
	 * inetd makes the socket stdout too (stderr is seen to first thing,
	 * by log_stdio_inetd()): the socket must close when we do.
	 */
	if (fstat(STDIN_FILENO, &in) == 0 &&
	    fstat(STDOUT_FILENO, &st) == 0 && st.st_dev == in.st_dev &&
	    st.st_ino == in.st_ino) {
		(void)close(STDOUT_FILENO);
		if (open("/dev/null", O_WRONLY) != STDOUT_FILENO)
			errx(1, "cannot put /dev/null on standard output");
	}
}

/* Standard input is a socket: how inetd starts its servers. */
static int
stdin_is_socket(void)
{
	struct stat st;

	return fstat(STDIN_FILENO, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * activate: the sockets we are handed, if any.
 */
void
activate(const struct config *cfg, struct activation *a)
{
	enum cli_mode mode = cfg->mode;
	int i;

	memset(a, 0, sizeof(*a));
	a->kind = ACT_NONE;
	/*
	 * Automatic: systemd's variables win; inetd's socket on stdin counts
	 * only when no listen port was given, so that a proxy started with
	 * a socket for stdin (from socat, say) still listens as asked.
	 */
	if (mode == CLI_MODE_AUTO) {
		if (getenv("LISTEN_FDS") != NULL)
			mode = CLI_MODE_SYSTEMD;
		else if (cfg->listen_port == NULL && stdin_is_socket())
			mode = CLI_MODE_INETD;
		else
			mode = CLI_MODE_STANDALONE;
	}
	if (mode == CLI_MODE_SYSTEMD)
		from_systemd(a);
	unset_env();
	if (mode == CLI_MODE_INETD)
		from_inetd(a);
	if (a->kind == ACT_NONE)
		return;
	agree(cfg, a);
	for (i = 0; i < a->nfd; i++) {
		/* systemd passes them inheritable; we never exec anyway. */
		(void)fcntl(a->fds[i], F_SETFD, FD_CLOEXEC);
		if (netio_fd_ok(a->fds[i]) == -1)
			errx(1, "descriptor %d is too high for select()",
			    a->fds[i]);
		/*
		 * One listener: children block in accept(), which a socket
		 * left non-blocking (NonBlocking=yes) would turn into a
		 * spin.  Several are made non-blocking by the pool, and a
		 * connected client always is.
		 */
		if (netio_nonblock(a->fds[i], a->kind == ACT_CONNECTED) == -1)
			err(1, "descriptor %d", a->fds[i]);
	}
}
