/*
 * sandbox_test.c: the sandbox of a relaying child, applied in forked
 * processes: what it allows (moving bytes on open descriptors, logging,
 * the title, exiting) still works, and each call it forbids (open, socket,
 * execve, fork, a new pipe; mmap of code, setsockopt beyond SOL_SOCKET)
 * kills the process with SIGSYS.  Skips where this build has no sandbox.
 * Output is TAP (tap.h).  Calls sandbox.c.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "tap.h"

/* What a sandboxed process tries. */
enum try { T_RELAY, T_OPEN, T_SOCKET, T_EXECVE, T_FORK, T_PIPE, T_EXEC_MAP,
	T_TCP_OPT };

/* In a forked child: sandbox, try it, exit 0; the wait status. */
static int
sandboxed(enum try what)
{
	static char *const argv[] = { "/bin/true", NULL };
	char buf[8];
	int fds[2], st, one = 1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1 ||
	    (pid = fork()) == -1)
		abort();
	if (pid == 0) {
		if (sandbox_pair() == -1)
			_exit(99);
		switch (what) {
		case T_RELAY:
			if (write(fds[0], "ab", 2) != 2 ||
			    read(fds[1], buf, sizeof(buf)) != 2 ||
			    shutdown(fds[0], SHUT_WR) == -1 ||
			    close(fds[1]) == -1)
				_exit(1);
#ifdef __linux__
			(void)prctl(PR_SET_NAME, "tcpproxy: relay");
#endif
			free(malloc(1 << 20));	/* mmap, munmap */
			break;
		case T_OPEN:
			(void)open("/etc/passwd", O_RDONLY);
			break;
		case T_SOCKET:
			(void)socket(AF_INET, SOCK_STREAM, 0);
			break;
		case T_EXECVE:
			(void)execve(argv[0], argv, NULL);
			break;
		case T_FORK:
			(void)fork();
			break;
		case T_PIPE:
			(void)pipe(fds);
			break;
		case T_EXEC_MAP:	/* mmap, but executable */
			(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case T_TCP_OPT:		/* setsockopt, but not SOL_SOCKET */
			(void)setsockopt(fds[0], IPPROTO_TCP, 1, &one,
			    sizeof(one));
			break;
		}
		_exit(0);
	}
	(void)close(fds[0]);
	(void)close(fds[1]);
	while (waitpid(pid, &st, 0) == -1)
		;
	return st;
}

static int
killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void
t_relay_still_works(void)
{
	int st = sandboxed(T_RELAY);

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
t_forbidden_calls_kill(void)
{
	CHECK(killed_by_sigsys(sandboxed(T_OPEN)));
	CHECK(killed_by_sigsys(sandboxed(T_SOCKET)));
	CHECK(killed_by_sigsys(sandboxed(T_EXECVE)));
	CHECK(killed_by_sigsys(sandboxed(T_FORK)));
	CHECK(killed_by_sigsys(sandboxed(T_PIPE)));
}

static void
t_arguments_are_checked(void)
{
	CHECK(killed_by_sigsys(sandboxed(T_EXEC_MAP)));
	CHECK(killed_by_sigsys(sandboxed(T_TCP_OPT)));
}

static const struct tap_test tests[] = {
	{ "relaying, logging and exiting still work", t_relay_still_works },
	{ "open, socket, execve, fork, pipe: killed by SIGSYS",
	    t_forbidden_calls_kill },
	{ "mmap with PROT_EXEC, setsockopt beyond SOL_SOCKET: killed",
	    t_arguments_are_checked },
};

int
main(void)
{
	if (!sandbox_available()) {
		printf("1..0 # SKIP no sandbox in this build or system\n");
		return 0;
	}
	return TAP_RUN(tests);
}
