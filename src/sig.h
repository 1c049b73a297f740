/*
 * sig.h: signals as flags, delivered only where the program waits.
 * Handlers do nothing but record the signal.  The caught signals stay
 * blocked except inside pselect() with sig_waitmask(), so a signal that
 * arrives just before the wait interrupts it instead of waiting for
 * unrelated traffic, and no self-pipe is needed.
 */
#ifndef TCPPROXY_SIG_H
#define TCPPROXY_SIG_H

#include <signal.h>

/* A set of signals as a bit mask: SIGBIT(SIGTERM) and so on. */
#define SIGBIT(s)	(1u << (s))

/*
 * Forget recorded signals, catch those in mask (without SA_RESTART, so
 * that a blocking call returns EINTR) and ignore SIGPIPE.  The signal mask
 * becomes: the caught signals blocked if block is set, nothing blocked
 * otherwise.  Returns 0, or -1 with errno.
 */
int		 sig_init(unsigned mask, int block);

/* Block the signals in mask (those sig_init caught) from now on. */
void		 sig_block_caught(unsigned mask);

/* The mask for pselect(): every signal deliverable while it waits. */
const sigset_t	*sig_waitmask(void);

/* Return and clear the signals recorded since last time. */
unsigned	 sig_take(void);

/*
 * Like sig_take(), after letting in the caught signals pending behind the
 * mask: pselect() returns ready descriptors rather than EINTR, so a loop
 * that always finds one ready must ask for its signals itself.
 */
unsigned	 sig_poll(void);

/* Set sig's disposition to SIG_IGN or SIG_DFL. */
void		 sig_ignore(int sig);
void		 sig_default(int sig);

/* Block every signal, saving the old mask; and put it back. */
void		 sig_block(sigset_t *old);
void		 sig_restore(const sigset_t *old);

/* "SIGTERM" for SIGTERM; "signal 40" for one this table does not name. */
const char	*sig_name(int sig);

#endif /* TCPPROXY_SIG_H */
