/*
 * relay_check.h: the span invariants of relay.c, shared by the unit tests
 * (relay_test.c) and the fuzzer (tests/fuzz/relay_fuzz.c).  Header-only.
 */
#ifndef TCPPROXY_RELAY_CHECK_H
#define TCPPROXY_RELAY_CHECK_H

#include <stddef.h>

#include "relay.h"

static size_t
relay_check_sum(const struct relay_span *sp, int n)
{
	size_t sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += sp[i].len;
	return sum;
}

/* NULL if 0..2 spans are non-empty runs inside the ring, wrapping at cap. */
static const char *
relay_check_runs(const struct relay_span *sp, int n, size_t cap)
{
	int i;

	if (n < 0 || n > 2)
		return "0 to 2 spans";
	for (i = 0; i < n; i++)
		if (sp[i].len == 0 || sp[i].off >= cap ||
		    sp[i].len > cap - sp[i].off)
			return "each span non-empty and inside the ring";
	if (n == 2 && (sp[0].off + sp[0].len != cap || sp[1].off != 0))
		return "a second span only after the first reaches cap";
	return NULL;
}

/*
 * NULL if the spans of direction d agree with its offset and length: the
 * data starts at off and sums to len, the free space follows the data,
 * none once the direction has ended (or its buffer is full), and free
 * plus data cover the whole ring while it runs; else the rule broken.
 */
static const char *
relay_check_spans(const struct relay *r, int d)
{
	const struct relay_dir *dp = &r->dir[d];
	struct relay_span fs[2], ds[2];
	const char *why;
	int nf, nd;

	nf = relay_free_spans(r, d, fs);
	nd = relay_data_spans(r, d, ds);
	if ((why = relay_check_runs(fs, nf, dp->cap)) != NULL ||
	    (why = relay_check_runs(ds, nd, dp->cap)) != NULL)
		return why;
	if (relay_check_sum(ds, nd) != dp->len)
		return "the data spans hold len bytes";
	if (nd > 0 && ds[0].off != dp->off)
		return "the data starts at off";
	if (r->end != END_NONE || dp->eof || dp->full)
		return nf == 0 ? NULL : "no free span once ended or full";
	if (nf > 0 && fs[0].off != (dp->off + dp->len) % dp->cap)
		return "the free space follows the data";
	if (relay_check_sum(fs, nf) + relay_check_sum(ds, nd) != dp->cap)
		return "free and data spans cover the ring";
	return NULL;
}

#endif /* TCPPROXY_RELAY_CHECK_H */
