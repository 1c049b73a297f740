/*
 * sig_test.c: unit tests for sig.c, the signals-as-flags layer, in one
 * process with a pipe and raise(); no sockets.  Output is TAP (tap.h).
 * Calls sig.c and util.c.
 */
#include <sys/select.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sig.h"
#include "tap.h"

static void
t_blocked_until_pselect(void)
{
	struct timespec zero = { 0, 0 };

	CHECK(sig_init(SIGBIT(SIGHUP) | SIGBIT(SIGUSR1), 1) == 0);
	(void)raise(SIGHUP);
	CHECK(sig_take() == 0);		/* blocked: still pending */
	CHECK(pselect(0, NULL, NULL, NULL, &zero, sig_waitmask()) == -1);
	CHECK(sig_take() == SIGBIT(SIGHUP));
	CHECK(sig_take() == 0);
}

/*
 * The reason for sig_poll(): with a descriptor ready, pselect() returns
 * it and leaves the signal pending behind the mask.
 */
static void
t_poll_finds_what_pselect_leaves(void)
{
	struct timespec zero = { 0, 0 };
	fd_set rset;
	int fds[2];

	CHECK(sig_init(SIGBIT(SIGHUP) | SIGBIT(SIGUSR1), 1) == 0);
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "x", 1) == 1);
	(void)raise(SIGUSR1);
	FD_ZERO(&rset);
	FD_SET(fds[0], &rset);
	CHECK(pselect(fds[0] + 1, &rset, NULL, NULL, &zero,
	    sig_waitmask()) == 1);
	CHECK(sig_take() == 0);
	CHECK(sig_poll() == SIGBIT(SIGUSR1));
	CHECK(sig_poll() == 0);
	(void)close(fds[0]);
	(void)close(fds[1]);
}

static const struct tap_test tests[] = {
	{ "caught signals wait for pselect()", t_blocked_until_pselect },
	{ "sig_poll() finds what a ready pselect() left pending",
	    t_poll_finds_what_pselect_leaves },
};

int
main(void)
{
	return TAP_RUN(tests);
}
