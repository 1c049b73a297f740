/*
 * end.h: how a child ends.  Why a pair ended is one enum, and one table
 * says for each reason its name in the pair's log line, whether both
 * sockets are closed with a reset or in order, what the log line adds as
 * detail, and the exit status the master reads.  A new reason is one
 * line in that table (end.c) and one here.
 */
#ifndef TCPPROXY_END_H
#define TCPPROXY_END_H

/*
 * A child's exit status tells the master how to go on: the contract
 * between the two, whether a pair ended or the child never had one.
 */
enum end_exit {
	END_EXIT_SERVED = 0,	/* served a client, or retired while idle */
	END_EXIT_PEER = 3,	/* the client or destination failed: normal */
	END_EXIT_SICK = 4,	/* short of resources: slow spawning down */
	END_EXIT_FATAL = 5	/* the listener can never work: stop */
};

/* Why a pair ended; END_NONE while it has not. */
enum end_reason {
	END_NONE = 0,
	END_EOF,		/* both directions finished and were delivered */
	END_RESET,		/* a side failed: write error, or read error */
	END_STALL,		/* buffered data saw no write progress */
	END_REFUSED,		/* destination refused every connect */
	END_UNREACHABLE,	/* destination could not be reached */
	END_TIMEOUT,		/* connecting took longer than --connect-timeout */
	END_SIGNAL,		/* SIGTERM or SIGINT ended the pair */
	END_MAXTIME,		/* --pair-max-seconds */
	END_MAXBYTES,		/* --pair-max-bytes */
	END_IDLE,		/* --idle-timeout: nothing moved either way */
	END_DENIED,		/* --allow/--deny refused the client */
	END_LIMIT,		/* --max-per-source: its source has enough */
	END_BAD_HEADER,		/* --accept-proxy: no good header in time */
	END_SHORT,		/* this process ran short of a resource */
	END_INTERNAL,		/* a bug of ours (EBADF, EINVAL, ...) */
	END_NREASONS
};

/* What the log line says after reason=NAME. */
enum end_detail {
	END_DETAIL_NONE = 0,
	END_DETAIL_ERRNO,	/* detail=ENAME */
	END_DETAIL_SIDE,	/* detail=ENAME side=client|upstream */
	END_DETAIL_DIR		/* detail=up|down */
};

struct end_info {
	const char	*name;		/* reason=NAME in the log line */
	int		 abort;		/* close with a reset, not in order */
	int		 warn;		/* log at warning level, not info */
	enum end_detail	 detail;
	enum end_exit	 exit;		/* the child's exit status */
};

/* The table's line for reason (END_INTERNAL's for one out of range). */
const struct end_info *end_info(enum end_reason);

/* END_SHORT for an errno that means "out of resources", else END_INTERNAL. */
enum end_reason	end_internal(int err);

#endif /* TCPPROXY_END_H */
