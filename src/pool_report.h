/*
 * pool_report.h: what the master tells: systemd's STATUS= (and READY=1,
 * RELOADING=1, STOPPING=1), and its own log lines at start, reload,
 * SIGUSR1 and exit.
 */
#ifndef TCPPROXY_POOL_REPORT_H
#define TCPPROXY_POOL_REPORT_H

#include <stdint.h>

#include "cli.h"
#include "dest.h"
#include "pool_slots.h"

/* systemd STATUS= updates at most this often. */
#define REPORT_STATUS_MS	1000

/* The last STATUS= sent, so that only changes are. */
struct report {
	int64_t		 status_at;	/* no STATUS= before this */
	int		 status_due;	/* counts changed since the last one */
	unsigned	 busy, idle;
	uint64_t	 ended;		/* served + failed */
	int		 sent_waiting;
	/*
	 * Set by the caller: clients waiting in the listen queues while
	 * every child is busy (--max-children); -1 when not at the limit,
	 * -2 at the limit with the number unknown.
	 */
	int		 waiting;
};

/*
 * Send state ("READY=1\n", "STOPPING=1\n", ... or "") with a STATUS= line
 * of the counts in s, now; stopping adds "stopping; ".
 */
void	report_tell(struct report *, const char *state, const struct slots *,
	    int stopping, int64_t now);
/* Send STATUS= if the counts changed and REPORT_STATUS_MS has passed. */
void	report_check(struct report *, const struct slots *, int stopping,
	    int64_t now);
/* At --max-children: clients in the listen queues lfds, for r->waiting. */
int	report_waiting(const int *lfds, int nlfd);
/* When report_check() has a STATUS= to send, or -1. */
int64_t	report_wake(const struct report *);

/* The start-up line, with the spare count in use, and the master's title. */
void	report_start(const struct config *, unsigned spare,
	    const struct dest *, const int *lfds, int nlfd);
/* The outcome of a reload: rc from dest_resolve(), changed or not. */
void	report_reload(const struct config *, const struct dest *, int rc,
	    int changed);
/* SIGUSR1: the pool and what its children did. */
void	report_counts(const struct slots *);

#endif /* TCPPROXY_POOL_REPORT_H */
