/*
 * sandbox.c: the sandbox of a child, after OpenSSH's
 * sandbox-seccomp-filter.c and vsftpd's seccompsandbox.c, written from
 * <linux/seccomp.h> and <linux/filter.h> alone.  Two stages, one table:
 * an idle child locks itself down before it waits in accept() to what its
 * next steps need (accept, connect, make pipes, log); once it relays it
 * locks itself down again, to moving bytes on the descriptors it has,
 * logging and exiting, with limits that forbid new descriptors and
 * processes.  Each stage sets PR_SET_NO_NEW_PRIVS and a BPF filter that
 * checks the architecture and then allows exactly the calls the table
 * gives that stage; anything else kills the process.
 *
 * The filter is a binary search over the call numbers, not a list: when
 * a filter is attached the kernel runs it once for every call number to
 * learn which ones it may allow without running it again (its action
 * cache), inside the fork-to-exit path of every child, and a list is
 * walked to its end for every call it does not name.  A tree keeps that
 * walk to about ten steps; measured, it is what made the sandbox cheap
 * enough to be on by default (README, "Security").
 *
 * Elsewhere, and in sanitizer and valgrind builds (whose runtime makes
 * calls of its own), there is no sandbox: the calls say ENOSYS.  Owns the
 * two filters, built once.  Calls nothing of the project.
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

/* Little-endian only: an argument's low 32 bits are its first word. */
#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif
#endif

#ifdef SANDBOX_ARCH
#define ARG(n)	(offsetof(struct seccomp_data, args) + (n) * sizeof(__u64))
#define NR	offsetof(struct seccomp_data, nr)

enum test { ANY, EQ, NOTSET };

/* Stage(s) may make call nr; with EQ or NOTSET, when its argument arg (its
 * low 32 bits) is val, or has none of the bits of val.  Rows of one call
 * and stage either include an ANY or all test the same argument; several
 * EQ rows allow several values. */
struct rule {
	long		nr;
	unsigned	stages;
	int		arg;
	enum test	test;
	uint32_t	val;
};

#define I	SANDBOX_IDLE
#define P	SANDBOX_PAIR

/*
 * The one table.  Both stages move bytes (read, readv, splice, sendmsg,
 * write), wait (pselect6, and the signal mask around it), shut down,
 * close and reset sockets (setsockopt SO_LINGER), fall back to buffers
 * (brk, mmap without PROT_EXEC), name themselves (prctl PR_SET_NAME) and
 * log (write, sendto, getpid, the clock).  An idle child also accepts
 * (accept4; select with several listeners), reads a PROXY header
 * (recvfrom, to peek), refuses (getpeername),
 * counts its source (futex: srclim's mutex), connects a TCP socket
 * (from --source: bind),
 * tunes it (fcntl, any setsockopt), makes the pair's pipes (pipe2),
 * changes its signals (rt_sigaction) and enters the next stage (prctl,
 * prlimit64 on itself).
 */
static const struct rule table[] = {
	{ __NR_read,		I|P, 0, ANY, 0 },
	{ __NR_readv,		I|P, 0, ANY, 0 },
	{ __NR_write,		I|P, 0, ANY, 0 },
	{ __NR_writev,		I|P, 0, ANY, 0 },
	{ __NR_sendto,		I|P, 0, ANY, 0 },
	{ __NR_sendmsg,		I|P, 0, ANY, 0 },
	{ __NR_splice,		I|P, 0, ANY, 0 },
	{ __NR_pselect6,	I|P, 0, ANY, 0 },
	{ __NR_shutdown,	I|P, 0, ANY, 0 },
	{ __NR_close,		I|P, 0, ANY, 0 },
	{ __NR_setsockopt,	I,   0, ANY, 0 },
	{ __NR_setsockopt,	P,   1, EQ, SOL_SOCKET },
	{ __NR_getsockopt,	I|P, 0, ANY, 0 },
	{ __NR_rt_sigprocmask,	I|P, 0, ANY, 0 },
	{ __NR_rt_sigreturn,	I|P, 0, ANY, 0 },
	{ __NR_restart_syscall,	I|P, 0, ANY, 0 },
	{ __NR_clock_gettime,	I|P, 0, ANY, 0 },
	{ __NR_gettimeofday,	I|P, 0, ANY, 0 },
	{ __NR_getpid,		I|P, 0, ANY, 0 },
	{ __NR_brk,		I|P, 0, ANY, 0 },
	{ __NR_mmap,		I|P, 2, NOTSET, PROT_EXEC },
	{ __NR_munmap,		I|P, 0, ANY, 0 },
	{ __NR_mremap,		I|P, 0, ANY, 0 },
	{ __NR_madvise,		I|P, 0, ANY, 0 },
	{ __NR_prctl,		I|P, 0, EQ, PR_SET_NAME },
	{ __NR_prctl,		I|P, 0, EQ, PR_GET_SECCOMP },
	{ __NR_prctl,		I,   0, EQ, PR_SET_NO_NEW_PRIVS },
	{ __NR_prctl,		I,   0, EQ, PR_SET_SECCOMP },
	{ __NR_prlimit64,	I,   0, EQ, 0 },
	{ __NR_accept4,		I,   0, ANY, 0 },
	{ __NR_recvfrom,	I,   0, ANY, 0 },
#ifdef __NR_select
	{ __NR_select,		I,   0, ANY, 0 },
#endif
	{ __NR_getpeername,	I,   0, ANY, 0 },
	{ __NR_getsockname,	I,   0, ANY, 0 },
	{ __NR_futex,		I,   0, ANY, 0 },
	{ __NR_socket,		I,   0, EQ, AF_INET },
	{ __NR_socket,		I,   0, EQ, AF_INET6 },
	{ __NR_connect,		I,   0, ANY, 0 },
	{ __NR_bind,		I,   0, ANY, 0 },
	{ __NR_fcntl,		I,   0, ANY, 0 },
	{ __NR_pipe2,		I,   0, ANY, 0 },
	{ __NR_rt_sigaction,	I,   0, ANY, 0 },
	{ __NR_getppid,		I,   0, ANY, 0 },
	{ __NR_exit,		I|P, 0, ANY, 0 },
	{ __NR_exit_group,	I|P, 0, ANY, 0 },
};

#undef I
#undef P

#define NRULES	(sizeof(table) / sizeof(table[0]))
#define MAXLEN	256		/* instructions; the tables need about 80 */
#define RUN	4		/* calls tested one by one at a leaf */

/* One call of one stage: its rules, and where its argument tests start. */
struct call {
	long		nr;
	int		any;
	int		arg;
	enum test	test;
	uint32_t	val[4];
	int		nval;
	size_t		args_at;
};

/*
 * Jumps go forward to places not yet written: the shared ALLOW and KILL
 * at the end, or a call's argument tests after the tree.  Each is written
 * when its place is known.
 */
enum target { T_KILL, T_ALLOW, T_ARGS };

struct fixup {
	size_t		at;
	int		jt;		/* the true branch, or the false */
	enum target	to;
	int		call;		/* T_ARGS: which */
};

struct prog {
	struct sock_filter *f;
	size_t		 n, max;
	struct fixup	 fix[NRULES * 4 + 4];
	int		 nfix;
	int		 bad;
};

static size_t
emit(struct prog *p, uint16_t code, uint32_t k)
{
	if (p->n < p->max)
		p->f[p->n] = (struct sock_filter)BPF_STMT(code, k);
	else
		p->bad = 1;
	return p->n++;
}

/* Set the jt or jf of the jump at "at" to reach instruction "to". */
static void
aim(struct prog *p, size_t at, int jt, size_t to)
{
	size_t off = to - at - 1;

	if (to <= at || off > 255 || at >= p->max) {
		p->bad = 1;
		return;
	}
	if (jt)
		p->f[at].jt = (uint8_t)off;
	else
		p->f[at].jf = (uint8_t)off;
}

/* The jump at "at", true or false branch, goes to "to", later. */
static void
later(struct prog *p, size_t at, int jt, enum target to, int call)
{
	struct fixup *x;

	if (p->nfix == (int)(sizeof(p->fix) / sizeof(p->fix[0]))) {
		p->bad = 1;
		return;
	}
	x = &p->fix[p->nfix++];
	x->at = at;
	x->jt = jt;
	x->to = to;
	x->call = call;
}

#define JEQ	(BPF_JMP | BPF_JEQ | BPF_K)
#define JGE	(BPF_JMP | BPF_JGE | BPF_K)
#define JSET	(BPF_JMP | BPF_JSET | BPF_K)
#define LOAD	(BPF_LD | BPF_W | BPF_ABS)
#define RET	(BPF_RET | BPF_K)

/*
 * Calls [lo, hi) of the sorted calls, the call's number loaded: a binary
 * search down to runs of RUN calls, one instruction per call.
 */
static void
emit_tree(struct prog *p, struct call *calls, int lo, int hi)
{
	size_t at;
	int i, mid;

	if (hi - lo <= RUN) {
		for (i = lo; i < hi; i++) {
			at = emit(p, JEQ, (uint32_t)calls[i].nr);
			later(p, at, 1, calls[i].any ? T_ALLOW : T_ARGS, i);
			if (i == hi - 1)
				later(p, at, 0, T_KILL, 0);
		}
		if (lo == hi)		/* a stage that allows nothing */
			emit(p, RET, SECCOMP_RET_KILL_PROCESS);
		return;
	}
	mid = lo + (hi - lo) / 2;
	at = emit(p, JGE, (uint32_t)calls[mid].nr);
	emit_tree(p, calls, lo, mid);
	aim(p, at, 1, p->n);
	emit_tree(p, calls, mid, hi);
}

/* A call's argument tests. */
static void
emit_args(struct prog *p, struct call *c)
{
	size_t at;
	int i;

	c->args_at = p->n;
	emit(p, LOAD, ARG(c->arg));
	if (c->test == NOTSET) {
		at = emit(p, JSET, c->val[0]);
		later(p, at, 1, T_KILL, 0);
		later(p, at, 0, T_ALLOW, 0);
		return;
	}
	for (i = 0; i < c->nval; i++) {
		at = emit(p, JEQ, c->val[i]);
		later(p, at, 1, T_ALLOW, 0);
		if (i == c->nval - 1)
			later(p, at, 0, T_KILL, 0);
	}
}

/* The table's rows for stage, one per call, sorted; -1 if inconsistent. */
static int
gather(enum sandbox_stage stage, struct call *calls)
{
	const struct rule *r;
	struct call *c, t;
	size_t i;
	int n = 0, j, k;

	for (i = 0; i < NRULES; i++) {
		r = &table[i];
		if (!(r->stages & stage))
			continue;
		for (j = 0; j < n && calls[j].nr != r->nr; j++)
			;
		c = &calls[j];
		if (j == n) {
			n++;
			c->nr = r->nr;
			c->any = 0;
			c->arg = r->arg;
			c->test = r->test;
			c->nval = 0;
		}
		if (r->test == ANY) {
			c->any = 1;
			continue;
		}
		if (c->arg != r->arg || c->test != r->test ||
		    c->nval == (int)(sizeof(c->val) / sizeof(c->val[0])) ||
		    (r->test == NOTSET && c->nval > 0))
			return -1;
		c->val[c->nval++] = r->val;
	}
	for (j = 1; j < n; j++)		/* insertion sort: a few dozen */
		for (k = j; k > 0 && calls[k - 1].nr > calls[k].nr; k--) {
			t = calls[k];
			calls[k] = calls[k - 1];
			calls[k - 1] = t;
		}
	return n;
}

/*
 * The architecture, then the search over the calls, then the argument
 * tests of the calls that have some, then one KILL and one ALLOW that
 * every branch ends in.  No test of x86-64's x32 bit of its own: such a
 * number is above every number in the table and matches none.
 */
int
sandbox_build(enum sandbox_stage stage, struct sock_filter *out, size_t max)
{
	struct call calls[NRULES];
	struct prog p;
	struct fixup *x;
	size_t kill_at, allow_at;
	int n, i;

	p.f = out;
	p.n = 0;
	p.max = max;
	p.nfix = 0;
	p.bad = 0;
	if ((n = gather(stage, calls)) < 0) {
		errno = EINVAL;
		return -1;
	}
	emit(&p, LOAD, offsetof(struct seccomp_data, arch));
	later(&p, emit(&p, JEQ, SANDBOX_ARCH), 0, T_KILL, 0);
	emit(&p, LOAD, NR);
	emit_tree(&p, calls, 0, n);
	for (i = 0; i < n; i++)
		if (!calls[i].any)
			emit_args(&p, &calls[i]);
	kill_at = emit(&p, RET, SECCOMP_RET_KILL_PROCESS);
	allow_at = emit(&p, RET, SECCOMP_RET_ALLOW);
	for (i = 0; i < p.nfix && !p.bad; i++) {
		x = &p.fix[i];
		aim(&p, x->at, x->jt, x->to == T_KILL ? kill_at :
		    x->to == T_ALLOW ? allow_at : calls[x->call].args_at);
	}
	if (p.bad) {
		errno = EINVAL;
		return -1;
	}
	return (int)p.n;
}

int
sandbox_allows(enum sandbox_stage stage, long nr, const uint64_t args[6])
{
	const struct rule *r;
	uint32_t a;
	size_t i;

	for (i = 0; i < NRULES; i++) {
		r = &table[i];
		if (r->nr != nr || !(r->stages & stage))
			continue;
		a = (uint32_t)args[r->arg];
		if (r->test == ANY || (r->test == EQ && a == r->val) ||
		    (r->test == NOTSET && (a & r->val) == 0))
			return 1;
	}
	return 0;
}

/*
 * The filters, built once by the master before it forks: a child only
 * reads them, so it shares their page, and building them (some pages of
 * stack) would cost every child memory of its own.
 */
static struct sock_filter built[2][MAXLEN];
static int builtlen[2];

int
sandbox_init(void)
{
	int s, n;

	for (s = 0; s < 2; s++) {
		if (builtlen[s] > 0)
			continue;
		if ((n = sandbox_build(s == 0 ? SANDBOX_IDLE : SANDBOX_PAIR,
		    built[s], MAXLEN)) == -1)
			return -1;
		builtlen[s] = n;
	}
	return 0;
}

static int
apply(enum sandbox_stage stage)
{
	struct sock_fprog prog;
	struct rlimit none = { 0, 0 };
	int s = stage == SANDBOX_IDLE ? 0 : 1;

	if (sandbox_init() == -1)
		return -1;
	prog.len = (unsigned short)builtlen[s];
	prog.filter = built[s];
	/*
	 * No new process in either stage (the filter forbids it too); no new
	 * descriptor once relaying.  An idle child still needs a few.
	 */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    setrlimit(RLIMIT_NPROC, &none) == -1 ||
	    (stage == SANDBOX_PAIR && setrlimit(RLIMIT_NOFILE, &none) == -1))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int
sandbox_idle(void)
{
	return apply(SANDBOX_IDLE);
}

int
sandbox_pair(void)
{
	return apply(SANDBOX_PAIR);
}

int
sandbox_available(void)
{
	return 1;
}

#else /* !SANDBOX_ARCH */

int
sandbox_init(void)
{
	errno = ENOSYS;
	return -1;
}

int
sandbox_idle(void)
{
	errno = ENOSYS;
	return -1;
}

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

int
sandbox_build(enum sandbox_stage stage, struct sock_filter *out, size_t max)
{
	(void)stage;
	(void)out;
	(void)max;
	errno = ENOSYS;
	return -1;
}

int
sandbox_allows(enum sandbox_stage stage, long nr, const uint64_t args[6])
{
	(void)stage;
	(void)nr;
	(void)args;
	return 1;
}

#endif /* SANDBOX_ARCH */
