/*
 * sig.c: signals as flags.  Owns the recorded flags and the set of caught
 * signals.  Handlers only record (no logging, no allocation, errno kept).
 * The master and a busy child keep the caught signals blocked and let
 * them in only inside pselect(); an idle child blocked in accept() leaves
 * them unblocked, so that accept() returns EINTR.
 * Calls util for signal names.
 */
#include <sys/mman.h>

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "util.h"
#include "sig.h"

/*
 * The recorded signals.  Only signals below 32 fit the mask; every one we
 * catch does.  On Linux they live in a page that a child gets wiped to
 * zeros rather than shared: the master writes its flags all the time, and
 * a shared page would stay behind as a private copy in every child
 * (README, "Pages", rule 1).
 */
#define NPENDING	32
static volatile sig_atomic_t	 pending_static[NPENDING];
static volatile sig_atomic_t	*pending;
static sigset_t			 waitmask;	/* empty: all deliverable */

static void
handler(int sig)
{
	int save = errno;

	if (sig > 0 && sig < NPENDING)
		pending[sig] = 1;
	errno = save;
}

/* Once, in the first process; children inherit the (wiped) mapping. */
static void
pending_alloc(void)
{
	void *p = MAP_FAILED;

#ifdef MADV_WIPEONFORK
	p = mmap(NULL, sizeof(pending_static), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED && madvise(p, sizeof(pending_static),
	    MADV_WIPEONFORK) == -1) {
		(void)munmap(p, sizeof(pending_static));
		p = MAP_FAILED;
	}
#endif
	pending = p != MAP_FAILED ? p : pending_static;
	sigemptyset(&waitmask);
}

static void
mask_set(unsigned mask, sigset_t *set)
{
	int s;

	sigemptyset(set);
	for (s = 1; s < NPENDING; s++)
		if (mask & SIGBIT(s))
			sigaddset(set, s);
}

static int
set_disposition(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupt accept(), select() */
	return sigaction(sig, &sa, NULL);
}

/*
 * sig_init: catch the signals in mask, block them or not.  In a child it
 * writes no memory it shares with the master: the flags it inherits are
 * zero (wiped, or taken by the master before it forked).
 */
int
sig_init(unsigned mask, int block)
{
	sigset_t set;
	int s;

	if (pending == NULL)
		pending_alloc();
	for (s = 1; s < NPENDING; s++)
		if (pending[s])
			pending[s] = 0;
	for (s = 1; s < NPENDING; s++)
		if ((mask & SIGBIT(s)) && set_disposition(s, handler) == -1)
			return -1;
	if (set_disposition(SIGPIPE, SIG_IGN) == -1)
		return -1;
	mask_set(block ? mask : 0, &set);
	return sigprocmask(SIG_SETMASK, &set, NULL);
}

/*
 * sig_block_caught: block the signals in mask (those sig_init caught).
 */
void
sig_block_caught(unsigned mask)
{
	sigset_t set;

	mask_set(mask, &set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
}

const sigset_t *
sig_waitmask(void)
{
	return &waitmask;
}

/*
 * sig_take: read and clear the recorded signals.  Where the caught ones
 * are blocked, nothing can change them meanwhile; in an idle child, a
 * signal that lands in between is seen on the next call.
 */
unsigned
sig_take(void)
{
	unsigned mask = 0;
	int s;

	for (s = 1; s < NPENDING; s++)
		if (pending[s]) {
			pending[s] = 0;
			mask |= SIGBIT(s);
		}
	return mask;
}

/*
 * sig_poll: open the mask for a moment, so that a caught signal pending
 * behind it is delivered, then read and clear them all as sig_take().
 */
unsigned
sig_poll(void)
{
	sigset_t old;

	if (sigprocmask(SIG_SETMASK, &waitmask, &old) == 0)
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return sig_take();
}

void
sig_ignore(int sig)
{
	(void)set_disposition(sig, SIG_IGN);
}

void
sig_default(int sig)
{
	(void)set_disposition(sig, SIG_DFL);
}

void
sig_block(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, old);
}

void
sig_restore(const sigset_t *old)
{
	(void)sigprocmask(SIG_SETMASK, old, NULL);
}

#define S(x)	{ x, #x }
static const struct util_name signames[] = {
	S(SIGHUP), S(SIGINT), S(SIGQUIT), S(SIGILL), S(SIGABRT), S(SIGFPE),
	S(SIGKILL), S(SIGSEGV), S(SIGPIPE), S(SIGALRM), S(SIGTERM),
	S(SIGUSR1), S(SIGUSR2), S(SIGCHLD), S(SIGBUS), S(SIGSYS), S(SIGXCPU),
	S(SIGXFSZ),
};
#undef S

/*
 * sig_name: "SIGTERM" for SIGTERM, for log lines.  Not for use in a
 * handler.
 */
const char *
sig_name(int sig)
{
	return util_name(signames, sizeof(signames) / sizeof(signames[0]),
	    sig, "signal ");
}
