/*
 * relay.c: the rules of one relayed pair, as a pure state machine.
 *
 * Owns the per-direction bookkeeping (ring offset and length, EOF seen,
 * shutdown done, the stall clock) and the reason the pair ended.  It makes
 * no system call, reads no clock and allocates nothing, so a test can drive
 * it with scripted events.  The rules it enforces:
 *  - read from a source only while its buffer has room and no EOF was seen;
 *  - wait for a sink only while its buffer holds data;
 *  - after EOF (or a read error) and once the buffer is empty, shut the
 *    sink down for writing; the other direction goes on;
 *  - end when both directions are shut down, or at once on a write error;
 *  - end when buffered data saw no write progress for stall_ms;
 *  - end, if asked to, when nothing moved either way for idle_ms;
 *  - blame a reset on the side whose read failed first, if one did.
 * Calls nothing.
 */
#include <assert.h>
#include <string.h>

#include "relay.h"

/*
 * relay_init: both directions get a buffer of cap bytes (cap > 0).
 */
void
relay_init(struct relay *r, size_t cap, int64_t stall_ms)
{
	int d;

	assert(cap > 0);
	memset(r, 0, sizeof(*r));
	for (d = 0; d < RELAY_NDIR; d++)
		r->dir[d].cap = cap;
	r->stall_ms = stall_ms;
	r->end = END_NONE;
	r->end_dir = r->end_side = -1;
}

/*
 * relay_set_idle: the operator's idle timeout, from now.
 */
void
relay_set_idle(struct relay *r, int64_t idle_ms, int64_t now)
{
	r->idle_ms = idle_ms;
	r->active = now;
}

/* Split [start, start + n) of a ring of cap bytes into at most two spans. */
static int
ring_spans(size_t cap, size_t start, size_t n, struct relay_span sp[2])
{
	size_t first;

	if (n == 0)
		return 0;
	start %= cap;
	first = cap - start;
	if (first >= n) {
		sp[0].off = start;
		sp[0].len = n;
		return 1;
	}
	sp[0].off = start;
	sp[0].len = first;
	sp[1].off = 0;
	sp[1].len = n - first;
	return 2;
}

/*
 * relay_free_spans: where the next read into direction d may go.
 */
int
relay_free_spans(const struct relay *r, int d, struct relay_span sp[2])
{
	const struct relay_dir *dp = &r->dir[d];

	if (r->end != END_NONE || dp->eof || dp->full)
		return 0;
	return ring_spans(dp->cap, dp->off + dp->len, dp->cap - dp->len, sp);
}

/*
 * relay_data_spans: where the next write from direction d comes from.
 */
int
relay_data_spans(const struct relay *r, int d, struct relay_span sp[2])
{
	const struct relay_dir *dp = &r->dir[d];

	return ring_spans(dp->cap, dp->off, dp->len, sp);
}

/*
 * relay_on_read: n > 0 bytes were read from the source of d.  Data that
 * lands in an empty buffer starts that direction's stall clock.
 */
void
relay_on_read(struct relay *r, int d, size_t n, int64_t now)
{
	struct relay_dir *dp = &r->dir[d];

	assert(n > 0 && n <= dp->cap - dp->len && !dp->eof);
	if (dp->len == 0)
		dp->progress = now;
	dp->len += n;
	dp->nin += n;
	r->active = now;
}

/*
 * relay_set_cap: direction d, empty, takes cap bytes from now on (its
 * path changed, and with it the buffer behind it).
 */
void
relay_set_cap(struct relay *r, int d, size_t cap)
{
	struct relay_dir *dp = &r->dir[d];

	assert(cap > 0 && dp->len == 0);
	dp->cap = cap;
	dp->off = 0;
	dp->full = 0;
}

/*
 * relay_on_full: the buffer of d is full at its current length.  A splice
 * pipe holds at most one page per slot, so small segments can fill it
 * long before cap bytes; asking select() to read then would spin.
 */
void
relay_on_full(struct relay *r, int d)
{
	assert(r->dir[d].len > 0);	/* else nothing would clear it */
	r->dir[d].full = 1;
}

/*
 * relay_on_eof: the source of d is done, by EOF (err == 0) or by a read
 * error.  Either way what is buffered is still delivered, then the sink is
 * shut down for writing.
 */
void
relay_on_eof(struct relay *r, int d, int err)
{
	struct relay_dir *dp = &r->dir[d];

	if (dp->eof)
		return;
	dp->eof = 1;
	dp->rerr = err;
}

/*
 * relay_on_write: n > 0 bytes of d were written.  Any progress restarts
 * the stall clock; an emptied buffer starts again at offset 0 so that the
 * next read gets one contiguous span.
 */
void
relay_on_write(struct relay *r, int d, size_t n, int64_t now)
{
	struct relay_dir *dp = &r->dir[d];

	assert(n > 0 && n <= dp->len);
	dp->len -= n;
	dp->nout += n;
	dp->off = dp->len == 0 ? 0 : (dp->off + n) % dp->cap;
	dp->progress = now;
	dp->full = 0;
	r->active = now;
}

static void
finish(struct relay *r, enum end_reason end, int d, int side, int err)
{
	if (r->end != END_NONE)
		return;
	r->end = end;
	r->end_dir = d;
	r->end_side = side;
	r->end_err = err;
}

/*
 * relay_on_write_error: the sink of d is broken; the pair ends at once.
 * A side that reset shows it first to a read, and only then to the write
 * (EPIPE) or shutdown (ENOTCONN) that ended the pair: the read's errno,
 * where there was one, is the one that explains it.
 */
void
relay_on_write_error(struct relay *r, int d, int err)
{
	int side = 1 - d, rerr = r->dir[side].rerr;

	finish(r, END_RESET, d, side, rerr != 0 ? rerr : err);
}

/*
 * relay_on_shut: the sink of d was shut down for writing.  The pair ends
 * once both sinks are: eof, or reset if a source ended by a read error.
 */
void
relay_on_shut(struct relay *r, int d)
{
	struct relay_dir *dp = &r->dir[d];
	int s;

	assert(dp->eof && dp->len == 0);
	dp->shut = 1;
	if (!r->dir[RELAY_UP].shut || !r->dir[RELAY_DOWN].shut)
		return;
	/* Both finished, but one of them by a read error: a reset. */
	for (s = 0; s < RELAY_NDIR; s++)
		if (r->dir[s].rerr != 0)
			finish(r, END_RESET, -1, s, r->dir[s].rerr);
	finish(r, END_EOF, -1, -1, 0);
}

/*
 * relay_on_time: a direction whose buffered data saw no write progress for
 * stall_ms ends the pair.  An empty direction never stalls.  If both are
 * overdue (a late wake-up), the one whose deadline came first is blamed.
 */
void
relay_on_time(struct relay *r, int64_t now)
{
	int d, worst = -1;

	for (d = 0; d < RELAY_NDIR; d++) {
		const struct relay_dir *dp = &r->dir[d];

		if (dp->len > 0 && now - dp->progress >= r->stall_ms &&
		    (worst == -1 || dp->progress < r->dir[worst].progress))
			worst = d;
	}
	if (worst != -1)
		finish(r, END_STALL, worst, -1, 0);
	else if (r->idle_ms > 0 && now - r->active >= r->idle_ms)
		finish(r, END_IDLE, -1, -1, 0);
}

/*
 * relay_end: the caller ends the pair for a reason of its own.
 */
void
relay_end(struct relay *r, enum end_reason end, int err)
{
	finish(r, end, -1, -1, err);
}

/*
 * relay_end_side: ... and blames side (RELAY_CLIENT, RELAY_UPSTREAM).
 */
void
relay_end_side(struct relay *r, enum end_reason end, int side, int err)
{
	finish(r, end, -1, side, err);
}

/*
 * relay_wants: what to wait for and do next.  Only events that can happen
 * are asked for: no read interest with a full buffer or after EOF, no
 * write interest without data, so a select() on the answer never spins.
 */
void
relay_wants(const struct relay *r, struct relay_wants *w)
{
	int d;

	memset(w, 0, sizeof(*w));
	w->deadline = -1;
	if (r->end != END_NONE)
		return;
	for (d = 0; d < RELAY_NDIR; d++) {
		const struct relay_dir *dp = &r->dir[d];

		w->read[d] = !dp->eof && dp->len < dp->cap && !dp->full;
		w->write[d] = dp->len > 0;
		w->shut[d] = dp->eof && dp->len == 0 && !dp->shut;
		if (dp->len > 0) {
			int64_t t = dp->progress + r->stall_ms;

			if (w->deadline == -1 || t < w->deadline)
				w->deadline = t;
		}
	}
	if (r->idle_ms > 0 && (w->deadline == -1 ||
	    r->active + r->idle_ms < w->deadline))
		w->deadline = r->active + r->idle_ms;
}

/*
 * relay_done: 1 once the pair has ended.
 */
int
relay_done(const struct relay *r)
{
	return r->end != END_NONE;
}
