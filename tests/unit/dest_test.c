/*
 * dest_test.c: the order in which a child tries the destination's
 * addresses (RFC 8305): the first address's family first, then the
 * families in turn, each in the resolver's order; with --source, only
 * its family.  Output is TAP (tap.h).  Calls dest.c.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest.h"
#include "tap.h"

/* A dest from "4" and "6" letters, and the order as a string of indexes. */
static const char *
order_of(const char *fams, int family)
{
	static char out[DEST_MAX + 1];
	struct dest d;
	int order[DEST_MAX], n, i;

	memset(&d, 0, sizeof(d));
	for (i = 0; fams[i] != '\0'; i++)
		d.addr[i].ss.ss_family = fams[i] == '4' ? AF_INET : AF_INET6;
	d.n = i;
	n = dest_order(&d, family, order);
	for (i = 0; i < n; i++)
		out[i] = (char)('0' + order[i]);
	out[n] = '\0';
	return out;
}

static void
t_interleave(void)
{
	CHECK(strcmp(order_of("6644", AF_UNSPEC), "0213") == 0);
	CHECK(strcmp(order_of("4466", AF_UNSPEC), "0213") == 0);
	CHECK(strcmp(order_of("4646", AF_UNSPEC), "0123") == 0);
	CHECK(strcmp(order_of("64444", AF_UNSPEC), "01234") == 0);
	CHECK(strcmp(order_of("66664", AF_UNSPEC), "04123") == 0);
	CHECK(strcmp(order_of("4", AF_UNSPEC), "0") == 0);
	CHECK(strcmp(order_of("", AF_UNSPEC), "") == 0);
}

static void
t_one_family(void)
{
	CHECK(strcmp(order_of("6644", AF_INET), "23") == 0);
	CHECK(strcmp(order_of("6644", AF_INET6), "01") == 0);
	CHECK(strcmp(order_of("444", AF_INET6), "") == 0);
}

/* Every address once, whatever the mix. */
static void
t_each_once(void)
{
	char fams[DEST_MAX + 1], seen[DEST_MAX];
	const char *o;
	int round, n, i, bad = 0;

	for (round = 0; round < 2000; round++) {
		n = (int)(tap_rand() % (DEST_MAX + 1));
		for (i = 0; i < n; i++)
			fams[i] = tap_rand() & 1 ? '4' : '6';
		fams[n] = '\0';
		o = order_of(fams, AF_UNSPEC);
		memset(seen, 0, sizeof(seen));
		bad += (int)strlen(o) != n;
		for (i = 0; o[i] != '\0'; i++)
			bad += seen[o[i] - '0']++ != 0;
		bad += n > 0 && o[0] != '0';
	}
	CHECK(bad == 0);
}

static const struct tap_test tests[] = {
	{ "the families in turn, the first address's first", t_interleave },
	{ "with --source, only its family", t_one_family },
	{ "every address once, the first first", t_each_once },
};

int
main(void)
{
	return TAP_RUN(tests);
}
