/*
 * path_test.c: when a direction copies and when it splices (relay_path.c):
 * it copies first; a run of reads that fill the copy buffer moves it to
 * splicing, one full read does not; a run of small splices moves it back;
 * it never switches with bytes held; and the relay's bookkeeping follows a
 * switch (relay_set_cap()).  Output is TAP (tap.h).  Calls relay_path.c
 * and relay.c.
 */
#include <stdio.h>
#include <string.h>

#include "relay.h"
#include "relay_path.h"
#include "tap.h"

#define SMALL	16384

static void
t_starts_copying(void)
{
	struct relay_path p;

	relay_path_init(&p, SMALL);
	CHECK(p.mode == RELAY_PATH_COPY);
	CHECK(relay_path_switch(&p, 0) == 0);
	/* Request/reply: small reads never move it. */
	for (int i = 0; i < 1000; i++) {
		relay_path_on_read(&p, SMALL, 64 + (size_t)i % 900);
		CHECK(relay_path_switch(&p, 0) == 0);
	}
	CHECK(p.mode == RELAY_PATH_COPY);
}

static void
t_stream_splices(void)
{
	struct relay_path p;

	relay_path_init(&p, SMALL);
	/* One full read is a large request, not a stream. */
	relay_path_on_read(&p, SMALL, SMALL);
	CHECK(relay_path_switch(&p, 0) == 0);
	relay_path_on_read(&p, SMALL, 100);
	relay_path_on_read(&p, SMALL, SMALL);
	CHECK(relay_path_switch(&p, 0) == 0);
	/* Reads that keep filling it: a stream. */
	relay_path_on_read(&p, SMALL, SMALL);
	CHECK(p.want == RELAY_PATH_SPLICE);
	/* Not while bytes are held: they leave by the path they came in. */
	CHECK(relay_path_switch(&p, 1) == 0);
	CHECK(p.mode == RELAY_PATH_COPY);
	CHECK(relay_path_switch(&p, 0) == 1);
	CHECK(p.mode == RELAY_PATH_SPLICE);
	/* A full read of what room was left counts as full too. */
	relay_path_init(&p, SMALL);
	relay_path_on_read(&p, 300, 300);
	relay_path_on_read(&p, SMALL, SMALL);
	CHECK(relay_path_switch(&p, 0) == 1);
}

static void
t_back_to_copying(void)
{
	struct relay_path p;
	int i;

	relay_path_init(&p, SMALL);
	relay_path_on_read(&p, SMALL, SMALL);
	relay_path_on_read(&p, SMALL, SMALL);
	CHECK(relay_path_switch(&p, 0) == 1);
	/* A stream that slows down now and then keeps splicing. */
	for (i = 0; i < 100; i++) {
		relay_path_on_read(&p, 65536, i % 3 == 1 ? 1000 : 65536);
		CHECK(relay_path_switch(&p, 0) == 0);
	}
	/* Splices of at most half a copy buffer, RELAY_PATH_TO_COPY times. */
	for (i = 1; i < RELAY_PATH_TO_COPY; i++) {
		relay_path_on_read(&p, 65536, SMALL / 2);
		CHECK(relay_path_switch(&p, 0) == 0);
	}
	relay_path_on_read(&p, 65536, SMALL / 2);
	CHECK(relay_path_switch(&p, 4096) == 0);
	CHECK(relay_path_switch(&p, 0) == 1);
	CHECK(p.mode == RELAY_PATH_COPY);
	/* ... and a stream moves it over again. */
	relay_path_on_read(&p, SMALL, SMALL);
	relay_path_on_read(&p, SMALL, SMALL);
	CHECK(relay_path_switch(&p, 0) == 1);
	CHECK(p.mode == RELAY_PATH_SPLICE);
}

static void
t_relay_follows(void)
{
	struct relay r;
	struct relay_span sp[2];
	int n;

	relay_init(&r, 65536, 10000);
	relay_set_cap(&r, RELAY_UP, SMALL);
	n = relay_free_spans(&r, RELAY_UP, sp);
	CHECK(n == 1 && sp[0].off == 0 && sp[0].len == SMALL);
	relay_on_read(&r, RELAY_UP, SMALL, 1);
	{
		struct relay_wants w;

		relay_wants(&r, &w);
		CHECK(w.read[RELAY_UP] == 0 && w.write[RELAY_UP] == 1);
	}
	relay_on_write(&r, RELAY_UP, SMALL, 2);
	/* Empty again: the switch gives it the whole bound back. */
	relay_set_cap(&r, RELAY_UP, 65536);
	n = relay_free_spans(&r, RELAY_UP, sp);
	CHECK(n == 1 && sp[0].off == 0 && sp[0].len == 65536);
	CHECK(r.dir[RELAY_UP].nin == SMALL && r.dir[RELAY_UP].nout == SMALL);
	/* The other direction is untouched. */
	n = relay_free_spans(&r, RELAY_DOWN, sp);
	CHECK(n == 1 && sp[0].len == 65536);
}

static const struct tap_test tests[] = {
	{ "a direction copies first, and request/reply keeps it so",
	    t_starts_copying },
	{ "reads that keep filling the copy buffer make it splice, once empty",
	    t_stream_splices },
	{ "small splices in a row make it copy again", t_back_to_copying },
	{ "relay_set_cap(): the relay's bound follows the path",
	    t_relay_follows },
};

int
main(void)
{
	return TAP_RUN(tests);
}
