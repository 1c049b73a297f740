/*
 * relay_path.c: when a direction copies and when it splices, after
 * HAProxy's "splice-auto": splice only while data comes in large amounts.
 * A copy read that fills all the room it had says the source has more
 * than the copy buffer holds; a splice that moves at most half a copy
 * buffer says a read and a write would have done.  A run of either, not
 * one read, moves the direction over, so a stream that pauses now and
 * then keeps splicing and a request that happens to fill the buffer once
 * keeps copying.  Calls nothing.
 */
#include <assert.h>

#include "relay_path.h"

/*
 * relay_path_init: copy first, through a buffer of small bytes.
 */
void
relay_path_init(struct relay_path *p, size_t small)
{
	assert(small > 0);
	p->mode = p->want = RELAY_PATH_COPY;
	p->streak = 0;
	p->small = small;
}

/*
 * relay_path_on_read: what one read says about the traffic.
 */
void
relay_path_on_read(struct relay_path *p, size_t asked, size_t got)
{
	int big;

	assert(got > 0 && got <= asked);
	if (p->mode == RELAY_PATH_COPY)
		big = got == asked;
	else
		big = got > p->small / 2;
	if (big == (p->mode == RELAY_PATH_COPY)) {
		/* This read argues for the other path. */
		if (p->streak < RELAY_PATH_TO_SPLICE + RELAY_PATH_TO_COPY)
			p->streak++;
	} else
		p->streak = 0;
	if (p->mode == RELAY_PATH_COPY)
		p->want = p->streak >= RELAY_PATH_TO_SPLICE ?
		    RELAY_PATH_SPLICE : RELAY_PATH_COPY;
	else
		p->want = p->streak >= RELAY_PATH_TO_COPY ?
		    RELAY_PATH_COPY : RELAY_PATH_SPLICE;
}

/*
 * relay_path_switch: take the path the reads argue for, but only with
 * nothing buffered: the bytes in a buffer or pipe leave by the path they
 * came in by.
 */
int
relay_path_switch(struct relay_path *p, size_t buffered)
{
	if (buffered != 0 || p->want == p->mode)
		return 0;
	p->mode = p->want;
	p->streak = 0;
	return 1;
}
