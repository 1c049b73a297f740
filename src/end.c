/*
 * end.c: the table of end_reason (see end.h).  Owns no state.  Calls
 * netio to sort resource errors from bugs.
 */
#include "netio.h"
#include "end.h"

static const struct end_info table[END_NREASONS] = {
	/*                 name           abort warn detail            exit */
	[END_NONE] =     { "none",          0, 1, END_DETAIL_NONE,  END_EXIT_PEER },
	[END_EOF] =      { "eof",           0, 0, END_DETAIL_NONE,  END_EXIT_SERVED },
	[END_RESET] =    { "reset",         0, 0, END_DETAIL_SIDE,  END_EXIT_PEER },
	[END_STALL] =    { "stall",         1, 0, END_DETAIL_DIR,   END_EXIT_PEER },
	[END_REFUSED] =  { "refused",       0, 0, END_DETAIL_ERRNO, END_EXIT_PEER },
	[END_UNREACHABLE] = { "unreachable", 0, 0, END_DETAIL_ERRNO, END_EXIT_PEER },
	[END_TIMEOUT] =  { "timeout",       0, 0, END_DETAIL_ERRNO, END_EXIT_PEER },
	[END_SIGNAL] =   { "signal",        1, 0, END_DETAIL_NONE,  END_EXIT_SERVED },
	[END_MAXTIME] =  { "max-time",      1, 0, END_DETAIL_NONE,  END_EXIT_SERVED },
	[END_MAXBYTES] = { "max-bytes",     1, 0, END_DETAIL_NONE,  END_EXIT_SERVED },
	/* Both log as "internal"; only the master's back-off tells them apart. */
	[END_SHORT] =    { "internal",      0, 1, END_DETAIL_ERRNO, END_EXIT_SICK },
	[END_INTERNAL] = { "internal",      0, 1, END_DETAIL_ERRNO, END_EXIT_PEER },
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
