/*
 * notify.h: readiness and status for systemd (sd_notify(3), by hand).
 */
#ifndef TCPPROXY_NOTIFY_H
#define TCPPROXY_NOTIFY_H

/*
 * Take NOTIFY_SOCKET from the environment (and unset it, so that nothing
 * started later talks to systemd for us).  Without it, notify() does
 * nothing.
 */
void	notify_init(void);

/*
 * Connect a socket now and use it for every later message: the path may
 * be out of reach after --chroot.  A child closes it first thing.
 */
void	notify_hold(void);
void	notify_child_close(void);

/* 1 if there is a socket to notify. */
int	notify_enabled(void);

/*
 * Send one datagram of "KEY=value" lines, e.g. "READY=1\nSTATUS=...".
 * Never blocks; a notification that cannot be sent is dropped.
 */
void	notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* TCPPROXY_NOTIFY_H */
