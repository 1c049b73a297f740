/*
 * relay_fuzz.c: libFuzzer target for relay.c.
 *
 * Decodes the input as a relay setup and a sequence of events, applies
 * only the events relay.h allows in the current state, and after each one
 * checks relay.c's state against its invariants and against a small
 * reference model; any mismatch is an abort().  The bytes themselves are
 * simulated too: each direction has a real ring of cap bytes filled
 * through relay_free_spans() and emptied through relay_data_spans(), and a
 * shadow FIFO that says which bytes must come out, in which order.
 *
 * Input: byte 0 picks cap (1..CAP_MAX), byte 1 stall_ms (0..STALL_MAX - 1);
 * each further byte is one event: bits 0-2 the kind, bit 3 the direction,
 * bits 4-7 an argument (0..15).
 * Calls relay.c only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "../unit/relay_check.h"

#define CAP_MAX		32	/* largest buffer tried */
#define STALL_MAX	40	/* stall_ms is below this */
#define BIGSTEP		1000	/* clock step for argument 15 */

enum ev {
	EV_READ, EV_WRITE, EV_EOF, EV_SHUT, EV_WERR, EV_TICK, EV_JUMP, EV_ABORT
};

/* The expected state of one direction, and its bytes. */
struct model {
	size_t		 len;
	int		 eof;
	int		 rerr;
	int		 shut;
	int		 full;		/* relay_on_full() until a write */
	int64_t		 progress;
	uint64_t	 nin;
	uint64_t	 nout;
	unsigned char	 ring[CAP_MAX];	/* the buffer relay.c describes */
	unsigned char	 fifo[CAP_MAX];	/* bytes read and not yet written */
	unsigned char	 next;		/* value of the next byte read */
};

struct sim {
	struct relay	 r;
	struct model	 m[RELAY_NDIR];
	size_t		 cap;
	int64_t		 now;
	enum end_reason	 end;
	int		 end_dir;
	int		 end_side;
	int		 end_err;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define INV(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: invariant %s violated\n",	\
		    __FILE__, __LINE__, #e);				\
		abort();						\
	}								\
} while (0)

/* The ring, read through the data spans, holds exactly the shadow FIFO. */
static void
check_bytes(const struct sim *s, int d)
{
	const struct model *m = &s->m[d];
	struct relay_span sp[2];
	size_t k = 0, j;
	int n, i;

	n = relay_data_spans(&s->r, d, sp);
	for (i = 0; i < n; i++)
		for (j = 0; j < sp[i].len; j++)
			INV(m->ring[sp[i].off + j] == m->fifo[k++]);
	INV(k == m->len);
}

static void
check_dir(const struct sim *s, int d)
{
	const struct relay_dir *dp = &s->r.dir[d];
	const struct model *m = &s->m[d];

	INV(dp->cap == s->cap);
	INV(dp->len <= dp->cap);
	INV(dp->off < dp->cap);
	INV(dp->len > 0 || dp->off == 0);
	INV(dp->nin - dp->nout == dp->len);
	INV(dp->len == m->len && dp->nin == m->nin && dp->nout == m->nout);
	INV(dp->eof == m->eof && dp->rerr == m->rerr && dp->shut == m->shut);
	INV(dp->full == m->full);
	INV(!dp->full || dp->len > 0);
	INV(dp->len == 0 || dp->progress == m->progress);
	INV(!dp->shut || (dp->eof && dp->len == 0));
	INV(relay_check_spans(&s->r, d) == NULL);
	check_bytes(s, d);
}

static void
check_wants(const struct sim *s)
{
	struct relay_wants w;
	int64_t deadline = -1, t;
	int d;

	relay_wants(&s->r, &w);
	if (s->r.end != END_NONE) {
		for (d = 0; d < RELAY_NDIR; d++)
			INV(!w.read[d] && !w.write[d] && !w.shut[d]);
		INV(w.deadline == -1);
		return;
	}
	for (d = 0; d < RELAY_NDIR; d++) {
		const struct relay_dir *dp = &s->r.dir[d];

		INV(w.read[d] == (!dp->eof && dp->len < dp->cap &&
		    !dp->full));
		INV(w.write[d] == (dp->len > 0));
		INV(w.shut[d] == (dp->eof && dp->len == 0 && !dp->shut));
		if (dp->len > 0) {
			t = s->m[d].progress + s->r.stall_ms;
			if (deadline == -1 || t < deadline)
				deadline = t;
		}
	}
	INV(w.deadline == deadline);
	INV((w.deadline == -1) == (s->r.dir[0].len == 0 &&
	    s->r.dir[1].len == 0));
}

static void
check_all(const struct sim *s)
{
	int d;

	for (d = 0; d < RELAY_NDIR; d++)
		check_dir(s, d);
	INV(s->r.end == s->end);
	INV(s->r.end_dir == s->end_dir);
	INV(s->r.end_side == s->end_side);
	INV(s->r.end_err == s->end_err);
	INV(relay_done(&s->r) == (s->end != END_NONE));
	if (s->r.end == END_EOF)
		INV(s->r.dir[0].shut && s->r.dir[1].shut);
	check_wants(s);
}

/* The model's side of finish(): the first reason sticks. */
static void
model_end(struct sim *s, enum end_reason end, int d, int side, int err)
{
	if (s->end != END_NONE)
		return;
	s->end = end;
	s->end_dir = d;
	s->end_side = side;
	s->end_err = err;
}

static void
ev_read(struct sim *s, int d, unsigned arg)
{
	struct model *m = &s->m[d];
	struct relay_wants w;
	struct relay_span sp[2];
	size_t n, left, j;
	int ns, i;

	relay_wants(&s->r, &w);
	if (!w.read[d])
		return;
	ns = relay_free_spans(&s->r, d, sp);
	INV(ns > 0);
	n = 1 + arg % relay_check_sum(sp, ns);
	left = n;
	for (i = 0; i < ns && left > 0; i++)
		for (j = 0; j < sp[i].len && left > 0; j++, left--) {
			m->ring[sp[i].off + j] = m->next;
			m->fifo[m->len + n - left] = m->next++;
		}
	relay_on_read(&s->r, d, n, s->now);
	if (m->len == 0)
		m->progress = s->now;
	m->len += n;
	m->nin += n;
}

static void
ev_write(struct sim *s, int d, unsigned arg)
{
	struct model *m = &s->m[d];
	struct relay_wants w;
	struct relay_span sp[2];
	size_t n, left, j, k = 0;
	int ns, i;

	relay_wants(&s->r, &w);
	if (!w.write[d])
		return;
	ns = relay_data_spans(&s->r, d, sp);
	n = 1 + arg % m->len;
	left = n;
	for (i = 0; i < ns && left > 0; i++)
		for (j = 0; j < sp[i].len && left > 0; j++, left--)
			INV(m->ring[sp[i].off + j] == m->fifo[k++]);
	INV(k == n);
	memmove(m->fifo, m->fifo + n, m->len - n);
	relay_on_write(&s->r, d, n, s->now);
	m->len -= n;
	m->nout += n;
	m->progress = s->now;
	m->full = 0;
}

/* A pipe out of slots: legal only with data buffered (relay.h). */
static void
ev_full(struct sim *s, int d)
{
	if (s->end != END_NONE || s->m[d].len == 0)
		return;
	relay_on_full(&s->r, d);
	s->m[d].full = 1;
}

static void
ev_eof(struct sim *s, int d, unsigned arg)
{
	struct model *m = &s->m[d];
	int err = arg & 1 ? (arg & 2 ? ECONNRESET : EIO) : 0;

	if (s->r.end != END_NONE || m->eof)
		return;
	relay_on_eof(&s->r, d, err);
	m->eof = 1;
	m->rerr = err;
}

static void
ev_shut(struct sim *s, int d)
{
	struct relay_wants w;

	relay_wants(&s->r, &w);
	if (!w.shut[d])
		return;
	relay_on_shut(&s->r, d);
	s->m[d].shut = 1;
	if (!s->m[0].shut || !s->m[1].shut)
		return;
	/* A direction that ended by a read error makes it a reset. */
	if (s->m[0].rerr != 0)
		model_end(s, END_RESET, -1, RELAY_CLIENT, s->m[0].rerr);
	else if (s->m[1].rerr != 0)
		model_end(s, END_RESET, -1, RELAY_UPSTREAM, s->m[1].rerr);
	model_end(s, END_EOF, -1, -1, 0);
}

/*
 * A write or shutdown fails only while one is asked for; once the pair
 * ended a late report (the other socket of the same select() round) may
 * still come and must change nothing.  Half the arguments do nothing, so
 * that runs live long enough to reach other states.
 */
static void
ev_werr(struct sim *s, int d, unsigned arg)
{
	struct relay_wants w;

	if (arg < 8)
		return;
	relay_wants(&s->r, &w);
	if (s->r.end == END_NONE && !w.write[d] && !w.shut[d])
		return;
	relay_on_write_error(&s->r, d, (int)arg);
	/* The sink's side; its own read error explains it, if it had one. */
	model_end(s, END_RESET, d, 1 - d, s->m[1 - d].rerr != 0 ?
	    s->m[1 - d].rerr : (int)arg);
}

/* The clock reads s->now: the direction that stalled first ends it. */
static void
ev_time(struct sim *s)
{
	int64_t first = 0;
	int d, dfirst = -1;

	relay_on_time(&s->r, s->now);
	for (d = 0; d < RELAY_NDIR; d++) {
		const struct model *m = &s->m[d];

		if (m->len == 0 || s->now - m->progress < s->r.stall_ms)
			continue;
		if (dfirst == -1 || m->progress < first) {
			dfirst = d;
			first = m->progress;
		}
	}
	if (dfirst != -1)
		model_end(s, END_STALL, dfirst, -1, 0);
}

/* Wake up at the deadline asked for, or 1 ms before it. */
static void
ev_jump(struct sim *s, unsigned arg)
{
	struct relay_wants w;

	relay_wants(&s->r, &w);
	if (w.deadline != -1 && w.deadline - (int64_t)(arg & 1) > s->now)
		s->now = w.deadline - (arg & 1);
	ev_time(s);
}

static void
event(struct sim *s, uint8_t b)
{
	int d = (b >> 3) & 1;
	unsigned arg = b >> 4;

	switch (b & 7) {
	case EV_READ:
		ev_read(s, d, arg);
		break;
	case EV_WRITE:
		ev_write(s, d, arg);
		break;
	case EV_EOF:
		ev_eof(s, d, arg);
		break;
	case EV_SHUT:
		ev_shut(s, d);
		break;
	case EV_WERR:
		ev_werr(s, d, arg);
		break;
	case EV_TICK:
		s->now += arg == 15 ? BIGSTEP : arg;
		ev_time(s);
		break;
	case EV_JUMP:
		ev_jump(s, arg);
		break;
	case EV_ABORT:
		/* Rare, or most runs would end early. */
		if (arg == 15 && d == 1) {
			relay_end(&s->r, END_SIGNAL, EINTR);
			model_end(s, END_SIGNAL, -1, -1, EINTR);
		} else if (arg < 8)
			ev_full(s, d);
		else
			ev_time(s);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim s;
	size_t i;

	if (size < 2)
		return 0;
	memset(&s, 0, sizeof(s));
	s.cap = 1 + data[0] % CAP_MAX;
	s.end = END_NONE;
	s.end_dir = s.end_side = -1;
	relay_init(&s.r, s.cap, data[1] % STALL_MAX);
	check_all(&s);
	for (i = 2; i < size; i++) {
		event(&s, data[i]);
		check_all(&s);
	}
	return 0;
}
