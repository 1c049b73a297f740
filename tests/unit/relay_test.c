/*
 * relay_test.c: unit tests for relay.c, driven by scripted events.
 *
 * Each test builds a struct relay, reports reads, writes, EOFs, errors,
 * shutdowns and clock readings to it and checks what relay_wants() asks
 * for and why the pair ended.  No sockets, no clock.  Output is TAP
 * (tap.h).  Calls relay.c only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "relay.h"
#include "relay_check.h"
#include "tap.h"

#define CAP	8		/* buffer size used by most tests */
#define STALL	100		/* stall_ms used by most tests */

/* 1 if w asks for nothing at all: the state of an ended pair. */
static int
wants_nothing(const struct relay_wants *w)
{
	int d;

	for (d = 0; d < RELAY_NDIR; d++)
		if (w->read[d] || w->write[d] || w->shut[d])
			return 0;
	return w->deadline == -1;
}

/* 1 if the spans of d are consistent with its offset and length. */
static int
spans_ok(const struct relay *r, int d)
{
	const char *why = relay_check_spans(r, d);

	if (why != NULL)
		printf("# spans of direction %d: %s\n", d, why);
	return why == NULL;
}

static void
t_init(void)
{
	struct relay r;
	struct relay_wants w;
	int d;

	relay_init(&r, CAP, STALL);
	CHECK(r.end == END_NONE);
	CHECK(!relay_done(&r));
	CHECK(r.end_dir == -1);
	CHECK(r.end_err == 0);
	CHECK(r.stall_ms == STALL);
	relay_wants(&r, &w);
	for (d = 0; d < RELAY_NDIR; d++) {
		CHECK(r.dir[d].cap == CAP);
		CHECK(r.dir[d].off == 0 && r.dir[d].len == 0);
		CHECK(!r.dir[d].eof && !r.dir[d].shut && r.dir[d].rerr == 0);
		CHECK(r.dir[d].nin == 0 && r.dir[d].nout == 0);
		CHECK(w.read[d] == 1);
		CHECK(w.write[d] == 0);
		CHECK(w.shut[d] == 0);
		CHECK(spans_ok(&r, d));
	}
	CHECK(w.deadline == -1);
}

static void
t_read_interest_while_room(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, CAP - 1, 0);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 1);
	relay_on_read(&r, RELAY_UP, 1, 0);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 0);
	CHECK(w.read[RELAY_DOWN] == 1);
	relay_on_write(&r, RELAY_UP, 1, 1);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 1);
}

static void
t_read_interest_stops_at_eof(void)
{
	struct relay r;
	struct relay_wants w;
	struct relay_span sp[2];

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 3, 0);
	relay_on_eof(&r, RELAY_DOWN, 0);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_DOWN] == 0);
	CHECK(w.read[RELAY_UP] == 1);
	CHECK(relay_free_spans(&r, RELAY_DOWN, sp) == 0);
	/* Room made by draining does not bring the read interest back. */
	relay_on_write(&r, RELAY_DOWN, 3, 1);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_DOWN] == 0);
	CHECK(relay_free_spans(&r, RELAY_DOWN, sp) == 0);
}

static void
t_write_interest_only_with_data(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_wants(&r, &w);
	CHECK(w.write[RELAY_UP] == 0 && w.write[RELAY_DOWN] == 0);
	relay_on_read(&r, RELAY_UP, 2, 0);
	relay_wants(&r, &w);
	CHECK(w.write[RELAY_UP] == 1);
	CHECK(w.write[RELAY_DOWN] == 0);
	relay_on_write(&r, RELAY_UP, 1, 1);
	relay_wants(&r, &w);
	CHECK(w.write[RELAY_UP] == 1);
	relay_on_write(&r, RELAY_UP, 1, 2);
	relay_wants(&r, &w);
	CHECK(w.write[RELAY_UP] == 0);
}

static void
t_spans_empty_and_full(void)
{
	struct relay r;
	struct relay_span sp[2];

	relay_init(&r, CAP, STALL);
	CHECK(relay_data_spans(&r, RELAY_UP, sp) == 0);
	CHECK(relay_free_spans(&r, RELAY_UP, sp) == 1);
	CHECK(sp[0].off == 0 && sp[0].len == CAP);
	relay_on_read(&r, RELAY_UP, CAP, 0);
	CHECK(relay_free_spans(&r, RELAY_UP, sp) == 0);
	CHECK(relay_data_spans(&r, RELAY_UP, sp) == 1);
	CHECK(sp[0].off == 0 && sp[0].len == CAP);
	CHECK(spans_ok(&r, RELAY_UP));
}

static void
t_spans_wrap_around(void)
{
	struct relay r;
	struct relay_span sp[2];

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 6, 0);
	relay_on_write(&r, RELAY_DOWN, 4, 1);
	CHECK(r.dir[RELAY_DOWN].off == 4 && r.dir[RELAY_DOWN].len == 2);
	/* Data [4, 6): one span; free space wraps: [6, 8) then [0, 4). */
	CHECK(relay_data_spans(&r, RELAY_DOWN, sp) == 1);
	CHECK(sp[0].off == 4 && sp[0].len == 2);
	CHECK(relay_free_spans(&r, RELAY_DOWN, sp) == 2);
	CHECK(sp[0].off == 6 && sp[0].len == 2);
	CHECK(sp[1].off == 0 && sp[1].len == 4);
	/* Data now wraps: [4, 8) then [0, 3); free space [3, 4). */
	relay_on_read(&r, RELAY_DOWN, 5, 2);
	CHECK(relay_data_spans(&r, RELAY_DOWN, sp) == 2);
	CHECK(sp[0].off == 4 && sp[0].len == 4);
	CHECK(sp[1].off == 0 && sp[1].len == 3);
	CHECK(relay_free_spans(&r, RELAY_DOWN, sp) == 1);
	CHECK(sp[0].off == 3 && sp[0].len == 1);
	/* Writing the first span moves the offset to 0, one span left. */
	relay_on_write(&r, RELAY_DOWN, 4, 3);
	CHECK(r.dir[RELAY_DOWN].off == 0 && r.dir[RELAY_DOWN].len == 3);
	CHECK(relay_data_spans(&r, RELAY_DOWN, sp) == 1);
	CHECK(sp[0].off == 0 && sp[0].len == 3);
	CHECK(spans_ok(&r, RELAY_DOWN));
}

/* Walk every (off, len) a ring of 5 bytes can reach: spans always add up. */
static void
t_spans_sum_to_cap(void)
{
	struct relay r;
	size_t cap = 5, off, len;

	for (off = 0; off < cap; off++) {
		for (len = 1; len <= cap; len++) {
			relay_init(&r, cap, STALL);
			/* Reach offset off with 1 byte left, then fill. */
			relay_on_read(&r, RELAY_UP, off + 1, 0);
			if (off > 0)
				relay_on_write(&r, RELAY_UP, off, 0);
			CHECK(r.dir[RELAY_UP].off == off);
			if (len > 1)
				relay_on_read(&r, RELAY_UP, len - 1, 0);
			CHECK(r.dir[RELAY_UP].len == len);
			CHECK(spans_ok(&r, RELAY_UP));
			relay_on_write(&r, RELAY_UP, 1, 0);
			CHECK(spans_ok(&r, RELAY_UP));
		}
	}
}

static void
t_offset_resets_when_emptied(void)
{
	struct relay r;
	struct relay_span sp[2];

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 7, 0);
	relay_on_write(&r, RELAY_UP, 5, 1);
	CHECK(r.dir[RELAY_UP].off == 5);
	relay_on_write(&r, RELAY_UP, 2, 2);
	CHECK(r.dir[RELAY_UP].len == 0);
	CHECK(r.dir[RELAY_UP].off == 0);
	/* The next read gets the whole ring in one span. */
	CHECK(relay_free_spans(&r, RELAY_UP, sp) == 1);
	CHECK(sp[0].off == 0 && sp[0].len == CAP);
}

static void
t_eof_shut_after_drain(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 4, 0);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_UP] == 0);
	CHECK(w.write[RELAY_UP] == 1);
	relay_on_write(&r, RELAY_UP, 3, 1);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_UP] == 0);
	relay_on_write(&r, RELAY_UP, 1, 2);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_UP] == 1);
	CHECK(w.write[RELAY_UP] == 0);
	CHECK(w.shut[RELAY_DOWN] == 0);
	relay_on_shut(&r, RELAY_UP);
	CHECK(r.dir[RELAY_UP].shut == 1);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_UP] == 0);
	/* Once: later events in the other direction do not ask again. */
	relay_on_read(&r, RELAY_DOWN, 2, 3);
	relay_on_write(&r, RELAY_DOWN, 2, 4);
	relay_on_time(&r, 5);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_UP] == 0);
	CHECK(!relay_done(&r));
}

static void
t_eof_empty_shut_at_once(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_eof(&r, RELAY_DOWN, 0);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_DOWN] == 1);
	CHECK(w.shut[RELAY_UP] == 0);
	CHECK(w.read[RELAY_DOWN] == 0 && w.write[RELAY_DOWN] == 0);
	CHECK(w.deadline == -1);
}

static void
t_other_direction_flows(void)
{
	struct relay r;
	struct relay_wants w;
	struct relay_span sp[2];

	relay_init(&r, CAP, STALL);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_on_shut(&r, RELAY_UP);
	relay_wants(&r, &w);
	CHECK(!relay_done(&r));
	CHECK(w.read[RELAY_DOWN] == 1);
	relay_on_read(&r, RELAY_DOWN, CAP, 10);
	relay_wants(&r, &w);
	CHECK(w.write[RELAY_DOWN] == 1);
	CHECK(w.read[RELAY_DOWN] == 0);
	CHECK(w.deadline == 10 + STALL);
	CHECK(relay_data_spans(&r, RELAY_DOWN, sp) == 1);
	relay_on_write(&r, RELAY_DOWN, CAP, 20);
	relay_on_read(&r, RELAY_DOWN, 1, 30);
	relay_wants(&r, &w);
	CHECK(w.write[RELAY_DOWN] == 1 && w.read[RELAY_DOWN] == 1);
	CHECK(w.read[RELAY_UP] == 0 && w.write[RELAY_UP] == 0);
	CHECK(w.shut[RELAY_UP] == 0);
	CHECK(r.dir[RELAY_DOWN].nin == CAP + 1);
	CHECK(r.dir[RELAY_DOWN].nout == CAP);
	CHECK(!relay_done(&r));
}

static void
t_end_eof_after_both_shut(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 2, 0);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_on_eof(&r, RELAY_DOWN, 0);
	CHECK(!relay_done(&r));
	relay_on_shut(&r, RELAY_UP);
	CHECK(!relay_done(&r));
	CHECK(r.end == END_NONE);
	relay_on_write(&r, RELAY_DOWN, 2, 1);
	CHECK(!relay_done(&r));
	relay_on_shut(&r, RELAY_DOWN);
	CHECK(relay_done(&r));
	CHECK(r.end == END_EOF);
	CHECK(r.end_dir == -1);
	CHECK(r.end_err == 0);
	relay_wants(&r, &w);
	CHECK(wants_nothing(&w));
}

static void
t_read_error_like_eof(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 3, 0);
	relay_on_eof(&r, RELAY_UP, ECONNRESET);
	CHECK(r.dir[RELAY_UP].eof == 1);
	CHECK(r.dir[RELAY_UP].rerr == ECONNRESET);
	CHECK(!relay_done(&r));
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 0);
	CHECK(w.write[RELAY_UP] == 1);
	CHECK(w.shut[RELAY_UP] == 0);
	CHECK(w.read[RELAY_DOWN] == 1);
	/* A later EOF report does not wipe out the error. */
	relay_on_eof(&r, RELAY_UP, 0);
	CHECK(r.dir[RELAY_UP].rerr == ECONNRESET);
	relay_on_write(&r, RELAY_UP, 3, 1);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_UP] == 1);
	relay_on_shut(&r, RELAY_UP);
	relay_on_eof(&r, RELAY_DOWN, 0);
	CHECK(r.dir[RELAY_DOWN].rerr == 0);
	relay_on_shut(&r, RELAY_DOWN);
	/* Both finished, one by a read error: a reset, blamed on its side. */
	CHECK(r.end == END_RESET);
	CHECK(r.end_side == RELAY_CLIENT);
	CHECK(r.end_err == ECONNRESET);
	CHECK(r.end_dir == -1);
	CHECK(r.dir[RELAY_UP].rerr == ECONNRESET);
}

static void
t_write_error_blames_the_read_error(void)
{
	struct relay r;

	/*
	 * The upstream reset: its read saw ECONNRESET first, and the write
	 * to it then failed with EPIPE.  The read's errno explains it.
	 */
	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 3, 0);
	relay_on_eof(&r, RELAY_DOWN, ECONNRESET);
	relay_on_write_error(&r, RELAY_UP, EPIPE);
	CHECK(r.end == END_RESET);
	CHECK(r.end_dir == RELAY_UP);
	CHECK(r.end_side == RELAY_UPSTREAM);
	CHECK(r.end_err == ECONNRESET);

	/* A read error of the other side does not explain this one. */
	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 3, 0);
	relay_on_eof(&r, RELAY_UP, ETIMEDOUT);
	relay_on_write_error(&r, RELAY_UP, EPIPE);
	CHECK(r.end_side == RELAY_UPSTREAM);
	CHECK(r.end_err == EPIPE);
}

static void
t_write_error_ends_at_once(void)
{
	struct relay r;
	struct relay_wants w;
	struct relay_span sp[2];

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 3, 0);
	relay_on_read(&r, RELAY_DOWN, 5, 0);
	relay_on_write_error(&r, RELAY_DOWN, EPIPE);
	CHECK(relay_done(&r));
	CHECK(r.end == END_RESET);
	CHECK(r.end_dir == RELAY_DOWN);
	CHECK(r.end_side == RELAY_CLIENT);
	CHECK(r.end_err == EPIPE);
	relay_wants(&r, &w);
	CHECK(wants_nothing(&w));
	CHECK(relay_free_spans(&r, RELAY_UP, sp) == 0);
	CHECK(relay_free_spans(&r, RELAY_DOWN, sp) == 0);
	/* Still nothing once the clock runs past any deadline. */
	relay_on_time(&r, 1000000);
	relay_wants(&r, &w);
	CHECK(wants_nothing(&w));
	CHECK(r.end == END_RESET);
}

static void
t_write_error_when_idle(void)
{
	struct relay r;
	struct relay_wants w;

	/* A failed shutdown(SHUT_WR) is reported the same way. */
	relay_init(&r, CAP, STALL);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_on_write_error(&r, RELAY_UP, ENOTCONN);
	CHECK(r.end == END_RESET);
	CHECK(r.end_dir == RELAY_UP);
	CHECK(r.end_err == ENOTCONN);
	relay_wants(&r, &w);
	CHECK(wants_nothing(&w));
}

static void
t_deadline_of_buffered_direction(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 1, 1000);
	relay_wants(&r, &w);
	CHECK(w.deadline == 1000 + STALL);
	relay_on_write(&r, RELAY_DOWN, 1, 1010);
	relay_wants(&r, &w);
	CHECK(w.deadline == -1);
}

static void
t_deadline_earliest_of_two(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 1, 1030);
	relay_on_read(&r, RELAY_UP, 1, 1050);
	relay_wants(&r, &w);
	CHECK(w.deadline == 1030 + STALL);
	relay_on_write(&r, RELAY_DOWN, 1, 1060);
	relay_wants(&r, &w);
	CHECK(w.deadline == 1050 + STALL);
	relay_on_read(&r, RELAY_DOWN, 1, 1070);
	relay_wants(&r, &w);
	CHECK(w.deadline == 1050 + STALL);
	relay_on_write(&r, RELAY_UP, 1, 1080);
	relay_wants(&r, &w);
	CHECK(w.deadline == 1070 + STALL);
}

static void
t_stall_at_deadline(void)
{
	struct relay r;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 4, 1000);
	relay_on_time(&r, 1000);
	relay_on_time(&r, 1000 + STALL - 1);
	CHECK(!relay_done(&r));
	CHECK(r.end_dir == -1);
	relay_on_time(&r, 1000 + STALL);
	CHECK(relay_done(&r));
	CHECK(r.end == END_STALL);
	CHECK(r.end_dir == RELAY_UP);
	CHECK(r.end_err == 0);
}

static void
t_stall_after_deadline(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 4, 0);
	relay_on_time(&r, 5000);
	CHECK(r.end == END_STALL);
	CHECK(r.end_dir == RELAY_DOWN);
	relay_wants(&r, &w);
	CHECK(wants_nothing(&w));
}

static void
t_stall_after_eof(void)
{
	struct relay r;

	/* Data left behind an EOF must still move. */
	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 2, 0);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_on_time(&r, STALL);
	CHECK(r.end == END_STALL);
	CHECK(r.end_dir == RELAY_UP);
}

static void
t_progress_restarts_clock(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 4, 0);
	relay_on_write(&r, RELAY_UP, 1, 90);
	relay_wants(&r, &w);
	CHECK(w.deadline == 90 + STALL);
	relay_on_time(&r, STALL);
	relay_on_time(&r, 90 + STALL - 1);
	CHECK(!relay_done(&r));
	relay_on_write(&r, RELAY_UP, 1, 150);
	relay_on_time(&r, 90 + STALL);
	relay_on_time(&r, 150 + STALL - 1);
	CHECK(!relay_done(&r));
	relay_on_time(&r, 150 + STALL);
	CHECK(r.end == END_STALL);
	CHECK(r.end_dir == RELAY_UP);
}

static void
t_idle_never_stalls(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_time(&r, 0);
	relay_on_time(&r, STALL);
	relay_on_time(&r, INT64_MAX / 2);
	CHECK(!relay_done(&r));
	relay_wants(&r, &w);
	CHECK(w.deadline == -1);
	/* Data that came and went leaves nothing to stall on. */
	relay_on_read(&r, RELAY_UP, 3, 10);
	relay_on_write(&r, RELAY_UP, 3, 20);
	relay_on_time(&r, 20 + 1000 * STALL);
	CHECK(!relay_done(&r));
	/* Nor does a half-closed, drained direction. */
	relay_on_eof(&r, RELAY_DOWN, 0);
	relay_on_shut(&r, RELAY_DOWN);
	relay_on_time(&r, INT64_MAX / 2);
	CHECK(!relay_done(&r));
	relay_wants(&r, &w);
	CHECK(w.deadline == -1);
}

static void
t_clock_starts_at_arrival(void)
{
	struct relay r;
	struct relay_wants w;

	/* Idle since 0, the first byte comes at 5000. */
	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 1, 5000);
	relay_wants(&r, &w);
	CHECK(w.deadline == 5000 + STALL);
	relay_on_time(&r, 5000 + STALL - 1);
	CHECK(!relay_done(&r));
	/* Drained at 5010, idle, then data at 9000. */
	relay_on_write(&r, RELAY_UP, 1, 5010);
	relay_on_read(&r, RELAY_UP, 2, 9000);
	relay_wants(&r, &w);
	CHECK(w.deadline == 9000 + STALL);
	relay_on_time(&r, 9000 + STALL - 1);
	CHECK(!relay_done(&r));
	relay_on_time(&r, 9000 + STALL);
	CHECK(r.end == END_STALL);
}

static void
t_more_data_keeps_clock(void)
{
	struct relay r;
	struct relay_wants w;

	/* Reads into a non-empty buffer are not progress. */
	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 2, 0);
	relay_on_read(&r, RELAY_DOWN, 2, 50);
	relay_wants(&r, &w);
	CHECK(w.deadline == STALL);
	relay_on_time(&r, STALL);
	CHECK(r.end == END_STALL);
	CHECK(r.end_dir == RELAY_DOWN);
}

static void
t_full_buffer(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, CAP / 2, 0);
	relay_on_read(&r, RELAY_UP, CAP / 2, 40);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 0);
	CHECK(w.write[RELAY_UP] == 1);
	CHECK(w.deadline == STALL);
	relay_on_time(&r, 60);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 0);
	CHECK(w.deadline == STALL);
	relay_on_write(&r, RELAY_UP, 1, 70);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 1);
	CHECK(w.deadline == 70 + STALL);
	relay_on_read(&r, RELAY_UP, 1, 80);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP] == 0);
	CHECK(w.deadline == 70 + STALL);
}

static void
t_abort(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 2, 0);
	relay_end(&r, END_SHORT, ENOMEM);
	CHECK(relay_done(&r));
	CHECK(r.end == END_SHORT);
	CHECK(r.end_dir == -1);
	CHECK(r.end_side == -1);
	CHECK(r.end_err == ENOMEM);
	relay_wants(&r, &w);
	CHECK(wants_nothing(&w));
	relay_end(&r, END_SIGNAL, 0);
	CHECK(r.end == END_SHORT);
	CHECK(r.end_err == ENOMEM);
}

static void
t_first_end_wins(void)
{
	struct relay r;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 1, 0);
	relay_on_time(&r, STALL);
	CHECK(r.end == END_STALL);
	relay_on_write_error(&r, RELAY_UP, EPIPE);
	relay_end(&r, END_SIGNAL, 0);
	CHECK(r.end == END_STALL);
	CHECK(r.end_dir == RELAY_DOWN);
	CHECK(r.end_err == 0);

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 1, 0);
	relay_on_write_error(&r, RELAY_UP, ECONNRESET);
	relay_on_write_error(&r, RELAY_DOWN, EPIPE);
	relay_on_time(&r, 10 * STALL);
	relay_end(&r, END_SIGNAL, 0);
	CHECK(r.end == END_RESET);
	CHECK(r.end_dir == RELAY_UP);
	CHECK(r.end_err == ECONNRESET);

	relay_init(&r, CAP, STALL);
	relay_end(&r, END_SIGNAL, 0);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_on_eof(&r, RELAY_DOWN, 0);
	relay_on_shut(&r, RELAY_UP);
	relay_on_shut(&r, RELAY_DOWN);
	CHECK(r.end == END_SIGNAL);
	CHECK(r.end_dir == -1);

	relay_init(&r, CAP, STALL);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_on_eof(&r, RELAY_DOWN, 0);
	relay_on_shut(&r, RELAY_UP);
	relay_on_shut(&r, RELAY_DOWN);
	relay_on_write_error(&r, RELAY_UP, EPIPE);
	relay_end(&r, END_SIGNAL, 0);
	CHECK(r.end == END_EOF);
	CHECK(r.end_dir == -1);
	CHECK(r.end_side == -1);
	CHECK(r.end_err == 0);
}

static void
t_byte_counters(void)
{
	struct relay r;
	int i;

	relay_init(&r, CAP, STALL);
	for (i = 0; i < 10; i++) {
		relay_on_read(&r, RELAY_UP, 5, i);
		relay_on_write(&r, RELAY_UP, 3, i);
		relay_on_write(&r, RELAY_UP, 2, i);
		if (i % 2 == 0)
			relay_on_read(&r, RELAY_DOWN, 1, i);
	}
	CHECK(r.dir[RELAY_UP].nin == 50);
	CHECK(r.dir[RELAY_UP].nout == 50);
	CHECK(r.dir[RELAY_DOWN].nin == 5);
	CHECK(r.dir[RELAY_DOWN].nout == 0);
	relay_on_write(&r, RELAY_DOWN, 4, 20);
	CHECK(r.dir[RELAY_DOWN].nout == 4);
	CHECK(r.dir[RELAY_DOWN].len == 1);
	CHECK(r.dir[RELAY_DOWN].nin - r.dir[RELAY_DOWN].nout ==
	    r.dir[RELAY_DOWN].len);
	CHECK(r.dir[RELAY_UP].nin == 50);
}

static void
t_cap_one(void)
{
	struct relay r;
	struct relay_wants w;
	struct relay_span sp[2];
	int i;

	relay_init(&r, 1, STALL);
	for (i = 0; i < 3; i++) {
		relay_wants(&r, &w);
		CHECK(w.read[RELAY_UP] == 1 && w.write[RELAY_UP] == 0);
		CHECK(relay_free_spans(&r, RELAY_UP, sp) == 1);
		CHECK(sp[0].off == 0 && sp[0].len == 1);
		relay_on_read(&r, RELAY_UP, 1, i);
		relay_wants(&r, &w);
		CHECK(w.read[RELAY_UP] == 0 && w.write[RELAY_UP] == 1);
		CHECK(w.deadline == i + STALL);
		CHECK(relay_free_spans(&r, RELAY_UP, sp) == 0);
		CHECK(relay_data_spans(&r, RELAY_UP, sp) == 1);
		CHECK(sp[0].off == 0 && sp[0].len == 1);
		relay_on_write(&r, RELAY_UP, 1, i);
		CHECK(r.dir[RELAY_UP].off == 0 && r.dir[RELAY_UP].len == 0);
		CHECK(spans_ok(&r, RELAY_UP));
	}
	CHECK(r.dir[RELAY_UP].nin == 3 && r.dir[RELAY_UP].nout == 3);
	relay_on_read(&r, RELAY_UP, 1, 10);
	relay_on_eof(&r, RELAY_UP, 0);
	relay_on_write(&r, RELAY_UP, 1, 11);
	relay_on_eof(&r, RELAY_DOWN, 0);
	relay_wants(&r, &w);
	CHECK(w.shut[RELAY_UP] == 1 && w.shut[RELAY_DOWN] == 1);
	relay_on_shut(&r, RELAY_DOWN);
	relay_on_shut(&r, RELAY_UP);
	CHECK(r.end == END_EOF);
}

/*
 * Both directions overdue at once (the caller slept past the deadline):
 * the direction named must be the one whose deadline relay_wants()
 * reported, the earliest, not simply the lower-numbered one.
 */
static void
t_stall_names_earliest(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_DOWN, 1, 0);
	relay_on_read(&r, RELAY_UP, 1, 50);
	relay_wants(&r, &w);
	CHECK(w.deadline == STALL);
	relay_on_time(&r, 50 + 2 * STALL);
	CHECK(r.end == END_STALL);
	CHECK(r.end_dir == RELAY_DOWN);
}

/*
 * A splice pipe can run out of slots before cap bytes: relay_on_full()
 * stops read interest (so select() cannot spin on a readable source)
 * until a write makes room, and changes nothing else: the stall clock,
 * write interest and the other direction go on.
 */
static void
t_full_before_cap(void)
{
	struct relay r;
	struct relay_wants w;
	struct relay_span sp[2];

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 3, 10);
	relay_on_full(&r, RELAY_UP);
	relay_wants(&r, &w);
	CHECK(!w.read[RELAY_UP]);
	CHECK(w.read[RELAY_DOWN]);
	CHECK(w.write[RELAY_UP]);
	CHECK(w.deadline == 10 + STALL);
	CHECK(relay_free_spans(&r, RELAY_UP, sp) == 0);
	relay_on_time(&r, 10 + STALL);
	CHECK(r.end == END_STALL && r.end_dir == RELAY_UP);

	relay_init(&r, CAP, STALL);
	relay_on_read(&r, RELAY_UP, 3, 10);
	relay_on_full(&r, RELAY_UP);
	relay_on_write(&r, RELAY_UP, 1, 20);
	relay_wants(&r, &w);
	CHECK(w.read[RELAY_UP]);
	CHECK(relay_free_spans(&r, RELAY_UP, sp) > 0);
	CHECK(relay_check_sum(sp, relay_free_spans(&r, RELAY_UP, sp)) == CAP - 2);
}

static void
t_idle_timeout(void)
{
	struct relay r;
	struct relay_wants w;

	relay_init(&r, CAP, STALL);
	relay_set_idle(&r, 500, 1000);
	relay_wants(&r, &w);
	CHECK(w.deadline == 1500);		/* nothing buffered, yet a timer */
	relay_on_time(&r, 1499);
	CHECK(!relay_done(&r));
	/* A read or a write either way is activity. */
	relay_on_read(&r, RELAY_DOWN, 2, 1200);
	relay_on_write(&r, RELAY_DOWN, 2, 1300);
	relay_wants(&r, &w);
	CHECK(w.deadline == 1800);
	relay_on_time(&r, 1700);
	CHECK(!relay_done(&r));
	relay_on_time(&r, 1800);
	CHECK(r.end == END_IDLE);
	CHECK(r.end_dir == -1 && r.end_side == -1 && r.end_err == 0);
	relay_wants(&r, &w);
	CHECK(wants_nothing(&w));
}

static void
t_stall_before_idle(void)
{
	struct relay r;
	struct relay_wants w;

	/* Buffered data that cannot be written: the stall rule comes first. */
	relay_init(&r, CAP, STALL);
	relay_set_idle(&r, STALL, 0);
	relay_on_read(&r, RELAY_UP, 1, 0);
	relay_wants(&r, &w);
	CHECK(w.deadline == STALL);
	relay_on_time(&r, STALL);
	CHECK(r.end == END_STALL);
	/* Without idle_ms an idle pair never ends by time. */
	relay_init(&r, CAP, STALL);
	relay_on_time(&r, INT64_MAX / 2);
	CHECK(!relay_done(&r));
}

static const struct tap_test tests[] = {
	{ "init", t_init },
	{ "read interest while room", t_read_interest_while_room },
	{ "read interest stops at eof", t_read_interest_stops_at_eof },
	{ "write interest only with data", t_write_interest_only_with_data },
	{ "spans empty and full", t_spans_empty_and_full },
	{ "spans wrap around", t_spans_wrap_around },
	{ "spans sum to cap", t_spans_sum_to_cap },
	{ "offset resets when emptied", t_offset_resets_when_emptied },
	{ "eof: shut after drain, once", t_eof_shut_after_drain },
	{ "eof on empty buffer: shut at once", t_eof_empty_shut_at_once },
	{ "other direction flows after shut", t_other_direction_flows },
	{ "end eof only after both shut", t_end_eof_after_both_shut },
	{ "read error behaves like eof", t_read_error_like_eof },
	{ "write error ends at once", t_write_error_ends_at_once },
	{ "write error blames the sink's read error",
	    t_write_error_blames_the_read_error },
	{ "write error with nothing buffered", t_write_error_when_idle },
	{ "deadline of the buffered direction",
	    t_deadline_of_buffered_direction },
	{ "deadline is the earliest of two", t_deadline_earliest_of_two },
	{ "stall at the deadline, not before", t_stall_at_deadline },
	{ "stall after the deadline", t_stall_after_deadline },
	{ "stall with data behind eof", t_stall_after_eof },
	{ "write progress restarts the clock", t_progress_restarts_clock },
	{ "idle pair never stalls", t_idle_never_stalls },
	{ "clock starts when data arrives", t_clock_starts_at_arrival },
	{ "more data does not restart the clock", t_more_data_keeps_clock },
	{ "full buffer", t_full_buffer },
	{ "the caller's own end", t_abort },
	{ "first end reason wins", t_first_end_wins },
	{ "byte counters", t_byte_counters },
	{ "cap of one byte", t_cap_one },
	{ "full before cap: no read until a write", t_full_before_cap },
	{ "stall names the earliest overdue direction",
	    t_stall_names_earliest },
	{ "the idle timeout, when asked for", t_idle_timeout },
	{ "stall before idle; no idle timeout unless asked",
	    t_stall_before_idle },
};

int
main(void)
{
	return TAP_RUN(tests);
}
