/*
 * sig.h: signals through a self-pipe.  Handlers only record the signal
 * and write a byte to a non-blocking pipe; the main loop selects on the
 * pipe's read end, so a signal that lands just before select() still
 * wakes it.
 */
#ifndef TCPPROXY_SIG_H
#define TCPPROXY_SIG_H

#include <signal.h>

/* A set of signals as a bit mask: SIGBIT(SIGTERM) and so on. */
#define SIGBIT(s)	(1u << (s))

/*
 * Create the pipe, clear every recorded signal and catch the signals in
 * mask (without SA_RESTART, so that a blocking call returns EINTR).
 * SIGPIPE is ignored.  Returns the pipe's read end, or -1 with errno.
 */
int		sig_init(unsigned mask);

/* The pipe's read end, or -1 before sig_init(). */
int		sig_fd(void);

/* Drain the pipe; return and clear the signals recorded since last time. */
unsigned	sig_take(void);

/* Close the pipe (a fresh child calls this before its own sig_init()). */
void		sig_close(void);

/* Set sig's disposition to SIG_IGN or SIG_DFL. */
void		sig_ignore(int sig);
void		sig_default(int sig);

/* "SIGTERM" for SIGTERM; "signal 40" for one this table does not name. */
const char	*sig_name(int sig);

/* Block every signal, saving the old mask; and put it back. */
void		sig_block(sigset_t *old);
void		sig_restore(const sigset_t *old);

#endif /* TCPPROXY_SIG_H */
