/*
 * srclim_test.c: unit tests for srclim.c, the --max-per-source table, in
 * one process: which clients count as one source, that the limit holds,
 * and that counts given back in any order leave the table consistent
 * (against a model, over random takes and reaps).  Output is TAP (tap.h).
 * Calls srclim.c only.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srclim.h"
#include "tap.h"

#define NSLOTS	64

/* Take for slot the client at text (IPv4 or IPv6), with limit. */
static int
take(unsigned slot, const char *text, unsigned limit)
{
	struct sockaddr_storage ss;
	socklen_t len = tap_addr(text, &ss);

	return srclim_take(slot, (struct sockaddr *)&ss, len, limit);
}

static void
t_sources(void)
{
	/* One /64 is one source; an IPv4-mapped client is its IPv4. */
	CHECK(take(0, "2001:db8::1", 2) == 1);
	CHECK(take(1, "2001:db8::ffff:1", 2) == 1);
	CHECK(take(2, "2001:db8::2", 2) == 0);
	CHECK(take(3, "2001:db8:0:1::1", 2) == 1);
	CHECK(take(4, "192.0.2.1", 1) == 1);
	CHECK(take(5, "::ffff:192.0.2.1", 1) == 0);
	CHECK(take(6, "192.0.2.2", 1) == 1);
	srclim_release(0);
	CHECK(take(7, "2001:db8::3", 2) == 1);
	srclim_release(4);
	CHECK(take(8, "::ffff:192.0.2.1", 1) == 1);
	/* A slot that counted nothing gives nothing back. */
	srclim_release(2);
	CHECK(take(9, "2001:db8::4", 2) == 0);
	for (unsigned i = 0; i < 10; i++)
		srclim_release(i);
}

static void
t_random_against_a_model(void)
{
	int held[NSLOTS];	/* source index a slot holds, or -1 */
	unsigned count[200] = { 0 }, limit = 2, slot, src;
	char text[32];
	int i, bad = 0, got;

	for (i = 0; i < NSLOTS; i++)
		held[i] = -1;
	for (i = 0; i < 200000 && bad == 0; i++) {
		slot = tap_rand() % NSLOTS;
		if (held[slot] != -1) {
			srclim_release(slot);
			count[held[slot]]--;
			held[slot] = -1;
			continue;
		}
		src = tap_rand() % 200;
		(void)snprintf(text, sizeof(text), "10.%u.0.%u", src % 7,
		    src);
		got = take(slot, text, limit);
		bad += got != (count[src] < limit);
		if (got) {
			count[src]++;
			held[slot] = (int)src;
		}
	}
	if (bad != 0)
		printf("# step %d disagreed with the model\n", i);
	CHECK(bad == 0);
}

static const struct tap_test tests[] = {
	{ "what counts as one source", t_sources },
	{ "random takes and reaps agree with a model",
	    t_random_against_a_model },
};

int
main(void)
{
	if (srclim_create(NSLOTS) == -1)
		abort();
	return TAP_RUN(tests);
}
