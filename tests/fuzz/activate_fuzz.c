/*
 * activate_fuzz.c: libFuzzer target for the activation environment
 * (activate.c): LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES as a service
 * manager, a shell or an attacker may set them, over descriptors of every
 * kind.
 *
 * Before the first input, descriptors 3 to 3 + LISTEN_MAX - 1 are made
 * into a zoo: TCP listeners (IPv4 and IPv6), a UDP socket, a connected
 * and a listening unix-domain socket, a TCP socket that neither listens
 * nor is connected, a connected TCP socket, a plain file, and gaps.
 *
 * The input is three words separated by NUL bytes (LISTEN_PID, LISTEN_FDS,
 * LISTEN_FDNAMES; a missing word leaves that variable unset, a LISTEN_PID
 * of "$" is our own pid) after one byte that chooses the mode, the listen
 * port the command line gives, whether it gave -l, and whether FD0 is the
 * listener or, for this input, the connected socket (Accept=yes).
 *
 * activate.c is compiled for this target with err() and errx() both
 * renamed to fuzz_err(), which checks the message and jumps back here.
 * Each outcome is checked:
 *   - refused: one printable line;
 *   - accepted: listening sockets only, or exactly one connected socket,
 *     descriptors 3 on in order, their count within LISTEN_MAX, the names
 *     printable, the listen port (if given) theirs, no -l, and the three
 *     variables gone from the environment;
 * anything else is an abort().
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activate.h"

#define FD0	3

void	fuzz_err(int, const char *, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));

static jmp_buf	back;
static int	refused;
static char	port_text[8];	/* the port of the listener on FD0 */
static int	listener0 = -1;	/* a copy of it, while FD0 is connected */

static void __attribute__((format(printf, 1, 0)))
check_line(const char *fmt, va_list ap)
{
	char line[1024];
	const char *p;

	(void)vsnprintf(line, sizeof(line), fmt, ap);
	if (line[0] == '\0')
		abort();
	for (p = line; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

/* err() and errx() both: the message is checked, not printed. */
void
fuzz_err(int st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_line(fmt, ap);
	va_end(ap);
	refused = st;
	longjmp(back, 1);
}

static int
tcp_listener(int family)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	int fd;

	if ((fd = socket(family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (family == AF_INET) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)) == -1)
			return -1;
	} else {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		s6.sin6_addr = in6addr_loopback;
		if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == -1) {
			close(fd);
			return tcp_listener(AF_INET);	/* no IPv6 here */
		}
	}
	return listen(fd, 8) == -1 ? -1 : fd;
}

/* Put fd (above the zoo) at descriptor want, in place of a stand-in. */
static void
place(int fd, int want)
{
	if (fd < FD0 + LISTEN_MAX || dup2(fd, want) != want)
		abort();
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in s4;
	struct sockaddr_un su;
	socklen_t len = sizeof(s4);
	int sp[2], fd, c;

	(void)argc, (void)argv;
	/*
	 * systemd's descriptors start at 3: whatever this process inherited
	 * there (from make, a shell) gives way to the zoo.
	 */
	for (fd = FD0; fd < FD0 + LISTEN_MAX; fd++)
		(void)close(fd);
	/* Stand-ins, so that every new descriptor lands above the zoo. */
	for (fd = FD0; fd < FD0 + LISTEN_MAX; fd++)
		if (open("/dev/null", O_RDONLY) != fd)
			abort();
	/* Standard input is no socket: "auto" must not find inetd's. */
	if ((fd = open("/dev/null", O_RDONLY)) == -1 || dup2(fd, 0) == -1)
		abort();
	close(fd);
	place(tcp_listener(AF_INET), FD0);
	place(tcp_listener(AF_INET6), FD0 + 1);
	place(tcp_listener(AF_INET), FD0 + 2);
	place(socket(AF_INET, SOCK_DGRAM, 0), FD0 + 3);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1)
		abort();
	place(sp[0], FD0 + 4);
	place(open("/dev/null", O_RDWR), FD0 + 5);
	place(socket(AF_INET, SOCK_STREAM, 0), FD0 + 7);
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	(void)snprintf(su.sun_path + 1, sizeof(su.sun_path) - 1,
	    "tcpproxy-fuzz-%ld", (long)getpid());
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&su, sizeof(su)) == -1 ||
	    listen(fd, 8) == -1)
		abort();
	place(fd, FD0 + 8);
	/* A connected TCP socket, its peer accepted and kept. */
	if (getsockname(FD0 + 2, (struct sockaddr *)&s4, &len) == -1 ||
	    (c = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(c, (struct sockaddr *)&s4, len) == -1)
		abort();
	place(c, FD0 + 9);
	place(accept(FD0 + 2, NULL, NULL), FD0 + 10);
	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) == -1)
		fd = socket(AF_INET, SOCK_DGRAM, 0);
	place(fd, FD0 + 11);
	len = sizeof(s4);
	if (getsockname(FD0, (struct sockaddr *)&s4, &len) == -1)
		abort();
	(void)snprintf(port_text, sizeof(port_text), "%u",
	    ntohs(s4.sin_port));
	if ((listener0 = fcntl(FD0, F_DUPFD, FD0 + LISTEN_MAX)) == -1)
		abort();
	close(FD0 + 6);		/* gaps */
	for (fd = FD0 + 12; fd < FD0 + LISTEN_MAX; fd++)
		close(fd);
	return 0;
}

/* The i-th word of the input, or NULL. */
static const char *
word(const char *text, size_t len, int i)
{
	size_t at = 0;

	while (i-- > 0) {
		at += strlen(text + at) + 1;
		if (at > len)
			return NULL;
	}
	return at > len ? NULL : text + at;
}

static void
setvar(const char *name, const char *value)
{
	char pid[24];

	if (value == NULL) {
		(void)unsetenv(name);
		return;
	}
	if (strcmp(value, "$") == 0) {
		(void)snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		value = pid;
	}
	if (setenv(name, value, 1) == -1)
		abort();
}

static void
check_accepted(const struct activation *a, const struct config *cfg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, listening, type;
	const char *p;

	if (a->kind == ACT_NONE)
		return;
	if (a->nfd < 1 || a->nfd > LISTEN_MAX || cfg->nlisten_addr != 0 ||
	    (a->kind == ACT_CONNECTED && a->nfd != 1) ||
	    getenv("LISTEN_FDS") != NULL || getenv("LISTEN_PID") != NULL ||
	    getenv("LISTEN_FDNAMES") != NULL)
		abort();
	for (p = a->names; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	for (i = 0; i < a->nfd; i++) {
		len = sizeof(int);
		if (a->fds[i] != FD0 + i ||
		    getsockopt(a->fds[i], SOL_SOCKET, SO_TYPE, &type,
		    &len) == -1 || type != SOCK_STREAM)
			abort();
		len = sizeof(int);
		if (getsockopt(a->fds[i], SOL_SOCKET, SO_ACCEPTCONN,
		    &listening, &len) == -1 ||
		    listening != (a->kind == ACT_LISTEN))
			abort();
		len = sizeof(ss);
		if (getsockname(a->fds[i], (struct sockaddr *)&ss, &len) == -1 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6 &&
		    ss.ss_family != AF_UNIX))
			abort();
		/* As the pool expects them: see activate(). */
		if (((fcntl(a->fds[i], F_GETFL) & O_NONBLOCK) != 0) !=
		    (a->kind == ACT_CONNECTED))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *ports[] = { NULL, port_text, "1", "65535" };
	static char text[512];
	static struct activation a;
	static struct config cfg;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = (data[0] & 1) ? CLI_MODE_SYSTEMD : CLI_MODE_AUTO;
	cfg.listen_port = ports[(data[0] >> 1) & 3];
	if (data[0] & 8) {
		cfg.listen_addr[0] = "127.0.0.1";
		cfg.nlisten_addr = 1;
	}
	if (dup2((data[0] & 16) ? FD0 + 9 : listener0, FD0) != FD0)
		abort();
	setvar("LISTEN_PID", word(text, n, 0));
	setvar("LISTEN_FDS", word(text, n, 1));
	setvar("LISTEN_FDNAMES", word(text, n, 2));

	refused = -1;
	if (setjmp(back) == 0) {
		activate(&cfg, &a);
		check_accepted(&a, &cfg);
		if (cfg.listen_port == ports[2] && a.kind != ACT_NONE &&
		    a.fds[0] == FD0)
			abort();	/* port 1 is not FD0's */
	} else if (refused != 1) {
		abort();
	}
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return 0;
}
