/*
 * sig.c: the self-pipe.  Owns the pipe and the set of recorded signals;
 * handlers do nothing but record and wake (no logging, no allocation,
 * errno preserved).  The master and each child use it the same way: a
 * child closes the master's pipe right after fork() and makes its own.
 * Calls nothing of the project.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sig.h"

/* Only signals below 32 fit the mask; every one we catch does. */
static volatile sig_atomic_t	pending[32];
static int			sigpipe[2] = { -1, -1 };

static void
handler(int sig)
{
	int save = errno;

	if (sig > 0 && sig < 32)
		pending[sig] = 1;
	/* Full pipe: a wake-up is already queued, dropping this is fine. */
	if (sigpipe[1] != -1)
		(void)write(sigpipe[1], "", 1);
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
 * sig_init: create the pipe, forget recorded signals, catch those in mask.
 */
int
sig_init(unsigned mask)
{
	int s;

	if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	for (s = 1; s < 32; s++)
		pending[s] = 0;
	if (set_disposition(SIGPIPE, SIG_IGN) == -1)
		return -1;
	for (s = 1; s < 32; s++)
		if ((mask & SIGBIT(s)) && set_disposition(s, handler) == -1)
			return -1;
	return sigpipe[0];
}

int
sig_fd(void)
{
	return sigpipe[0];
}

/*
 * sig_take: drain the pipe, then read and clear the recorded signals.
 * Draining first means a signal that arrives in between leaves both its
 * flag and a byte behind, so it is seen now or on the next wake-up.
 */
unsigned
sig_take(void)
{
	char buf[64];
	unsigned mask = 0;
	ssize_t n;
	int s;

	if (sigpipe[0] != -1)
		do
			n = read(sigpipe[0], buf, sizeof(buf));
		while (n > 0 || (n == -1 && errno == EINTR));
	for (s = 1; s < 32; s++)
		if (pending[s]) {
			pending[s] = 0;
			mask |= SIGBIT(s);
		}
	return mask;
}

/*
 * sig_close: close the pipe; the handlers stay and only record.
 */
void
sig_close(void)
{
	if (sigpipe[0] != -1)
		(void)close(sigpipe[0]);
	if (sigpipe[1] != -1)
		(void)close(sigpipe[1]);
	sigpipe[0] = sigpipe[1] = -1;
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
