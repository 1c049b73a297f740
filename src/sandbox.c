/*
 * sandbox.c: the sandbox of a relaying child, after OpenSSH's
 * sandbox-seccomp-filter.c and vsftpd's seccompsandbox.c, written from
 * <linux/seccomp.h> and <linux/filter.h> alone.  Once a child has its two
 * sockets and its pipes, it sets PR_SET_NO_NEW_PRIVS, limits that forbid
 * new descriptors and processes, and a BPF filter that checks the
 * architecture first and then allows exactly the calls in one table:
 * what the relay loop, its logging and its exit make.  Anything else
 * kills the process.  Elsewhere, and in sanitizer builds (whose runtime
 * makes calls of its own), there is no sandbox: sandbox_pair() says
 * ENOSYS.  Owns no state.  Calls nothing of the project.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(TCPPROXY_SANITIZED)
#define SANDBOX_SANITIZED 1
#endif

#if defined(__linux__) && !defined(SANDBOX_SANITIZED)
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif
#endif

#ifdef SANDBOX_ARCH
#define ARG(n)	(offsetof(struct seccomp_data, args) + (n) * sizeof(__u64))
#define NR	offsetof(struct seccomp_data, nr)

/* Allow system call nr. */
#define ALLOW(nr) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
/*
 * Allow nr when its argument n (its low 32 bits) passes the test op
 * against v: then jump yes instructions ahead, else no; the next rule
 * finds the call's number loaded again.
 */
#define ALLOW_WHEN(nr, n, op, v, yes, no) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(n)), \
	BPF_JUMP(BPF_JMP | (op) | BPF_K, (v), (yes), (no)), \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR)
/* ... when it is v; when none of the bits m is set in it. */
#define ALLOW_ARG(nr, n, v)	ALLOW_WHEN(nr, n, BPF_JEQ, v, 0, 1)
#define ALLOW_NOT(nr, n, m)	ALLOW_WHEN(nr, n, BPF_JSET, m, 1, 0)

/*
 * The one table.  The relay moves bytes (read, readv, splice, sendmsg,
 * write), waits (pselect6, and the signal mask around it), shuts down
 * and closes sockets, resets them (setsockopt SO_LINGER), falls back to
 * buffers (brk, mmap without PROT_EXEC), names itself (prctl
 * PR_SET_NAME) and logs (write, sendto, getpid, the clock).
 */
static const struct sock_filter filter[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR),
#ifdef __X32_SYSCALL_BIT
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, __X32_SYSCALL_BIT, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
#endif
	ALLOW(__NR_read),
	ALLOW(__NR_readv),
	ALLOW(__NR_write),
	ALLOW(__NR_writev),
	ALLOW(__NR_sendto),
	ALLOW(__NR_sendmsg),
	ALLOW(__NR_splice),
	ALLOW(__NR_pselect6),
	ALLOW(__NR_shutdown),
	ALLOW(__NR_close),
	ALLOW_ARG(__NR_setsockopt, 1, SOL_SOCKET),
	ALLOW(__NR_getsockopt),
	ALLOW(__NR_rt_sigprocmask),
	ALLOW(__NR_rt_sigreturn),
	ALLOW(__NR_restart_syscall),
	ALLOW(__NR_clock_gettime),
	ALLOW(__NR_gettimeofday),
	ALLOW(__NR_getpid),
	ALLOW(__NR_brk),
	ALLOW_NOT(__NR_mmap, 2, PROT_EXEC),
	ALLOW(__NR_munmap),
	ALLOW(__NR_mremap),
	ALLOW(__NR_madvise),
	ALLOW_ARG(__NR_prctl, 0, PR_SET_NAME),
	ALLOW_ARG(__NR_prctl, 0, PR_GET_SECCOMP),
	ALLOW(__NR_exit),
	ALLOW(__NR_exit_group),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
};

int
sandbox_pair(void)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
		.filter = (struct sock_filter *)(uintptr_t)filter,
	};
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    setrlimit(RLIMIT_NOFILE, &none) == -1 ||
	    setrlimit(RLIMIT_NPROC, &none) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int
sandbox_available(void)
{
	return 1;
}

#else /* !SANDBOX_ARCH */

int
sandbox_pair(void)
{
	errno = ENOSYS;
	return -1;
}

int
sandbox_available(void)
{
	return 0;
}

#endif /* SANDBOX_ARCH */
