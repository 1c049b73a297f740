/*
 * sandbox_test.c: the sandbox of a child.  Its filters, run by a small
 * classic-BPF interpreter, agree with the table on every call number and
 * turn away an unlisted call in a few steps.  Applied in forked processes:
 * what a stage allows (moving bytes on open descriptors, logging, the
 * title, exiting; an idle child's TCP socket) still works, and each call
 * it forbids (open, execve, fork; a new pipe or socket once relaying; mmap
 * of code, setsockopt beyond SOL_SOCKET) kills the process with SIGSYS.
 * Skips where this build has no sandbox.  Output is TAP (tap.h).  Calls
 * sandbox.c.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#endif

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "tap.h"

/* The filters themselves are checked where sandbox.c builds them. */
#if defined(__linux__) && defined(__x86_64__)
#define TEST_ARCH	AUDIT_ARCH_X86_64
#elif defined(__linux__) && defined(__aarch64__)
#define TEST_ARCH	AUDIT_ARCH_AARCH64
#endif

/* What a sandboxed process tries. */
enum try { T_RELAY, T_OPEN, T_SOCKET, T_EXECVE, T_FORK, T_PIPE, T_EXEC_MAP,
	T_TCP_OPT, T_UNIX_SOCKET };

/* Lock down as an idle child, as a relaying one, or both in turn. */
enum how { IDLE = 1, PAIR = 2, BOTH = 3 };

/* In a forked child: sandbox, try it, exit 0; the wait status. */
static int
sandboxed_as(enum how how, enum try what)
{
	static char *const argv[] = { "/bin/true", NULL };
	char buf[8];
	int fds[2], st, one = 1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1 ||
	    (pid = fork()) == -1)
		abort();
	if (pid == 0) {
		if ((how & IDLE) && sandbox_idle() == -1)
			_exit(99);
		if ((how & PAIR) && sandbox_pair() == -1)
			_exit(98);
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
			if (socket(AF_INET6, SOCK_STREAM, 0) == -1)
				_exit(2);
			break;
		case T_UNIX_SOCKET:
			(void)socket(AF_UNIX, SOCK_STREAM, 0);
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
sandboxed(enum try what)
{
	return sandboxed_as(BOTH, what);
}

static int
exited_0(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int
killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void
t_relay_still_works(void)
{
	CHECK(exited_0(sandboxed(T_RELAY)));
	CHECK(exited_0(sandboxed_as(PAIR, T_RELAY)));
	CHECK(exited_0(sandboxed_as(IDLE, T_RELAY)));
}

static void
t_idle_child(void)
{
	CHECK(exited_0(sandboxed_as(IDLE, T_SOCKET)));
	CHECK(exited_0(sandboxed_as(IDLE, T_PIPE)));
	CHECK(exited_0(sandboxed_as(IDLE, T_TCP_OPT)));
	CHECK(killed_by_sigsys(sandboxed_as(IDLE, T_UNIX_SOCKET)));
	CHECK(killed_by_sigsys(sandboxed_as(IDLE, T_OPEN)));
	CHECK(killed_by_sigsys(sandboxed_as(IDLE, T_EXECVE)));
	CHECK(killed_by_sigsys(sandboxed_as(IDLE, T_FORK)));
	CHECK(killed_by_sigsys(sandboxed_as(IDLE, T_EXEC_MAP)));
}

#ifdef TEST_ARCH
/*
 * Classic BPF as seccomp runs it, for the instructions a filter may hold;
 * the verdict, and in *steps how many instructions ran.
 */
static uint32_t
run_bpf(const struct sock_filter *f, int len, const struct seccomp_data *d,
    int *steps)
{
	uint32_t a = 0, k;
	int pc = 0;

	for (*steps = 0; pc < len; pc++) {
		++*steps;
		k = f[pc].k;
		switch (f[pc].code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k % 4 != 0 || k >= sizeof(*d))
				return 0xdead;
			memcpy(&a, (const char *)d + k, sizeof(a));
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == k ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= k ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & k) ? f[pc].jt : f[pc].jf;
			break;
		case BPF_RET | BPF_K:
			return k;
		default:
			return 0xbad;
		}
	}
	return 0xe0d;
}

/* The argument values that the table's rows test, and some that miss. */
static const uint64_t probe[] = { 0, 1, 2, 3, 4, 10, 15, 16, 38,
	SOL_SOCKET, IPPROTO_TCP, PROT_READ | PROT_WRITE, PROT_EXEC,
	PROT_READ | PROT_EXEC, AF_UNIX, AF_INET, AF_INET6, 0x100000000ULL,
	0x100000000ULL | AF_INET, 0xffffffffULL };

#define NPROBE	(sizeof(probe) / sizeof(probe[0]))

/* For every call number and probe: the filter says what the table says. */
static void
t_filter_is_the_table(void)
{
	static const enum sandbox_stage stages[] = { SANDBOX_IDLE,
	    SANDBOX_PAIR };
	struct sock_filter f[256];
	struct seccomp_data d;
	uint64_t args[6];
	uint32_t want, got;
	int len, s, steps, worst, wrong, nr, arg;
	size_t v;

	for (s = 0; s < 2; s++) {
		len = sandbox_build(stages[s], f, 256);
		CHECK(len > 0);
		if (len <= 0)
			continue;
		wrong = worst = 0;
		for (nr = 0; nr < 1024; nr++)
			for (arg = 0; arg < 3; arg++)
				for (v = 0; v < NPROBE; v++) {
					memset(&d, 0, sizeof(d));
					d.arch = TEST_ARCH;
					d.nr = nr;
					d.args[arg] = probe[v];
					memset(args, 0, sizeof(args));
					args[arg] = probe[v];
					want = sandbox_allows(stages[s], nr,
					    args) ? SECCOMP_RET_ALLOW :
					    SECCOMP_RET_KILL_PROCESS;
					got = run_bpf(f, len, &d, &steps);
					wrong += got != want;
					if (want != SECCOMP_RET_ALLOW &&
					    steps > worst)
						worst = steps;
				}
		printf("# stage %d: %d instructions; an unlisted call is "
		    "turned away in %d steps at most\n", stages[s], len, worst);
		CHECK(wrong == 0);
		/* A list of 40 calls would take 80 and more. */
		CHECK(worst <= 16);

		/* x32's numbers, another architecture: killed. */
		memset(&d, 0, sizeof(d));
		d.arch = TEST_ARCH;
		d.nr = 0x40000000 | SYS_read;
		CHECK(run_bpf(f, len, &d, &steps) == SECCOMP_RET_KILL_PROCESS);
		d.nr = SYS_read;
		CHECK(run_bpf(f, len, &d, &steps) == SECCOMP_RET_ALLOW);
		d.arch = AUDIT_ARCH_I386;
		CHECK(run_bpf(f, len, &d, &steps) == SECCOMP_RET_KILL_PROCESS);
	}
}

/* Too small a buffer: a refusal, never a write past it. */
static void
t_build_bounded(void)
{
	struct sock_filter f[300];

	memset(f, 0xa5, sizeof(f));
	CHECK(sandbox_build(SANDBOX_PAIR, f, 20) == -1);
	CHECK(((unsigned char *)&f[20])[0] == 0xa5);
}
#endif

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
#ifdef TEST_ARCH
	{ "each stage's filter says what the table says, in a few steps",
	    t_filter_is_the_table },
	{ "a filter is never built past its buffer", t_build_bounded },
#endif
	{ "relaying, logging and exiting still work", t_relay_still_works },
	{ "idle: a TCP socket, a pipe, any option; no file, program, "
	    "process, unix socket", t_idle_child },
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
