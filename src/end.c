/*
 * end.c: the table of end_reason (see end.h).  Owns no state.  Calls
 * netio to sort resource errors from bugs.
 */
#include "netio.h"
#include "end.h"

#define CLOSE	0		/* an orderly close */
#define RESET	1		/* a reset (SO_LINGER 0) */
#define INFO	0
#define WARN	1

static const struct end_info table[END_NREASONS] = {
	/* reason             name        close  level  detail  exit status */
	[END_NONE] =        { "none",        CLOSE, WARN, END_DETAIL_NONE,
				END_EXIT_PEER },
	[END_EOF] =         { "eof",         CLOSE, INFO, END_DETAIL_NONE,
				END_EXIT_SERVED },
	[END_RESET] =       { "reset",       CLOSE, INFO, END_DETAIL_SIDE,
				END_EXIT_PEER },
	[END_STALL] =       { "stall",       RESET, INFO, END_DETAIL_DIR,
				END_EXIT_PEER },
	[END_REFUSED] =     { "refused",     CLOSE, INFO, END_DETAIL_ERRNO,
				END_EXIT_PEER },
	[END_UNREACHABLE] = { "unreachable", CLOSE, INFO, END_DETAIL_ERRNO,
				END_EXIT_PEER },
	[END_TIMEOUT] =     { "timeout",     CLOSE, INFO, END_DETAIL_ERRNO,
				END_EXIT_PEER },
	[END_SIGNAL] =      { "signal",      RESET, INFO, END_DETAIL_NONE,
				END_EXIT_SERVED },
	[END_MAXTIME] =     { "max-time",    RESET, INFO, END_DETAIL_NONE,
				END_EXIT_SERVED },
	[END_MAXBYTES] =    { "max-bytes",   RESET, INFO, END_DETAIL_NONE,
				END_EXIT_SERVED },
	[END_IDLE] =        { "idle",        RESET, INFO, END_DETAIL_NONE,
				END_EXIT_SERVED },
	[END_DENIED] =      { "denied",      RESET, INFO, END_DETAIL_NONE,
				END_EXIT_SERVED },
	[END_LIMIT] =       { "limit",       RESET, INFO, END_DETAIL_NONE,
				END_EXIT_SERVED },
	[END_BAD_HEADER] =  { "bad-header",  RESET, INFO, END_DETAIL_ERRNO,
				END_EXIT_PEER },
	/* Both are "internal"; only the master's back-off tells them apart. */
	[END_SHORT] =       { "internal",    CLOSE, WARN, END_DETAIL_ERRNO,
				END_EXIT_SICK },
	[END_INTERNAL] =    { "internal",    CLOSE, WARN, END_DETAIL_ERRNO,
				END_EXIT_PEER },
};

/*
 * end_info: the table's line for reason.
 */
const struct end_info *
end_info(enum end_reason reason)
{
	return &table[(unsigned)reason < END_NREASONS ? reason : END_INTERNAL];
}

/*
 * end_internal: a failure of our own, sorted by what the master should
 * do about it.
 */
enum end_reason
end_internal(int err)
{
	return netio_resource_err(err) ? END_SHORT : END_INTERNAL;
}
