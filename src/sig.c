/*
 * sig.c: signals as flags.  Owns the recorded flags and the set of caught
 * signals.  Handlers only record (no logging, no allocation, errno kept).
 * The master and a busy child keep the caught signals blocked and let
 * them in only inside pselect(); an idle child blocked in accept() leaves
 * them unblocked, so that accept() returns EINTR.
 * Calls nothing of the project.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sig.h"

/* Only signals below 32 fit the mask; every one we catch does. */
static volatile sig_atomic_t	pending[32];
static sigset_t			caught;
static sigset_t			waitmask;	/* empty: all deliverable */

static void
handler(int sig)
{
	int save = errno;

	if (sig > 0 && sig < 32)
		pending[sig] = 1;
	errno = save;
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
 * sig_init: forget recorded signals, catch those in mask, block them or
 * not.
 */
int
sig_init(unsigned mask, int block)
{
	sigset_t none;
	int s;

	sigemptyset(&caught);
	sigemptyset(&waitmask);
	for (s = 1; s < 32; s++) {
		pending[s] = 0;
		if (mask & SIGBIT(s)) {
			sigaddset(&caught, s);
			if (set_disposition(s, handler) == -1)
				return -1;
		}
	}
	if (set_disposition(SIGPIPE, SIG_IGN) == -1)
		return -1;
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, block ? &caught : &none, NULL);
}

void
sig_block_caught(void)
{
	(void)sigprocmask(SIG_SETMASK, &caught, NULL);
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

	for (s = 1; s < 32; s++)
		if (pending[s]) {
			pending[s] = 0;
			mask |= SIGBIT(s);
		}
	return mask;
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
static const struct {
	int		 sig;
	const char	*name;
} signames[] = {
	S(SIGHUP), S(SIGINT), S(SIGQUIT), S(SIGILL), S(SIGABRT), S(SIGFPE),
	S(SIGKILL), S(SIGSEGV), S(SIGPIPE), S(SIGALRM), S(SIGTERM),
	S(SIGUSR1), S(SIGUSR2), S(SIGCHLD), S(SIGBUS), S(SIGSYS), S(SIGXCPU),
	S(SIGXFSZ),
};
#undef S

/*
 * sig_name: the symbolic name of a signal, for log lines.  Not for use
 * in a handler (unknown numbers share a static buffer).
 */
const char *
sig_name(int sig)
{
	static char buf[16];
	size_t i;

	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (signames[i].sig == sig)
			return signames[i].name;
	(void)snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}
