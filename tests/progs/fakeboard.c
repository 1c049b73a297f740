/*
 * fakeboard: a process that pretends to be a tcpproxy master to
 * `tcpproxy --status`: it calls itself "tcpproxy" and holds a memfd named
 * like the scoreboard, with the real layout (src/scoreboard.h) and slots
 * of its own making.
 *
 *   fakeboard [-e] [-s]
 *   -e   the live slots' client and upstream hold terminal escape
 *        sequences and other control bytes
 *   -s   shrink: the board is cut to its header and grown back, over and
 *        over, for as long as the process lives
 *
 * Prints its pid and a newline once the board is ready, then runs until
 * killed.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scoreboard.h"

#define NSLOTS	64
/* Where slot i starts (sb_size() without linking scoreboard.c). */
#define SLOT_OFF(i)	(sizeof(struct sb_header) + (i) * sizeof(struct sb_slot))

static void
fill(int fd, int escapes)
{
	struct sb_header h;
	struct sb_slot s;
	unsigned i;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SB_MAGIC, sizeof(SB_MAGIC));
	h.slot_size = sizeof(struct sb_slot);
	h.nslots = NSLOTS;
	h.master = (int32_t)getpid();
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		err(1, "pwrite");
	for (i = 0; i < NSLOTS; i++) {
		memset(&s, 0, sizeof(s));
		s.state = SB_RELAYING;
		s.pid = (int32_t)(100000 + i);
		s.up = s.down = i;
		if (escapes) {
			(void)strcpy(s.client, "\033[2J\033]0;owned\007\r\n");
			memset(s.upstream, '\033', sizeof(s.upstream));
		} else {
			(void)strcpy(s.client, "192.0.2.1:1");
			(void)strcpy(s.upstream, "192.0.2.2:2");
		}
		if (pwrite(fd, &s, sizeof(s), (off_t)SLOT_OFF(i)) !=
		    (ssize_t)sizeof(s))
			err(1, "pwrite");
	}
}

int
main(int argc, char **argv)
{
	int c, escapes = 0, shrink = 0, fd;

	while ((c = getopt(argc, argv, "es")) != -1)
		switch (c) {
		case 'e':
			escapes = 1;
			break;
		case 's':
			shrink = 1;
			break;
		default:
			fprintf(stderr, "usage: fakeboard [-e] [-s]\n");
			return 2;
		}
	if (prctl(PR_SET_NAME, "tcpproxy") == -1)
		err(1, "prctl");
	if ((fd = memfd_create(SB_NAME, MFD_CLOEXEC)) == -1)
		err(1, "memfd_create");
	fill(fd, escapes);
	printf("%ld\n", (long)getpid());
	(void)fflush(stdout);
	for (;;) {
		if (!shrink) {
			pause();
			continue;
		}
		if (ftruncate(fd, (off_t)SLOT_OFF(0)) == -1 ||
		    ftruncate(fd, (off_t)SLOT_OFF(NSLOTS)) == -1)
			err(1, "ftruncate");
		fill(fd, escapes);
	}
}
