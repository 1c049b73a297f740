/*
 * status.c: `tcpproxy --status`, a reader of another process's
 * scoreboard.  Finds the master (a process named tcpproxy that holds the
 * scoreboard memfd), checks that the board belongs to this user or to
 * root, and reads it with pread(2), never through a mapping, so that a
 * board that shrinks meanwhile ends the listing instead of faulting.  What
 * the board says is checked and made printable before it is shown:
 * another process may have written anything there.  Runs in its own
 * short-lived process, never in the pool.  Calls scoreboard (for the
 * layout), log (to sanitise) and util.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "scoreboard.h"
#include "util.h"
#include "status.h"

/* Slots read with one pread(2). */
#define STATUS_CHUNK	256

/*
 * The scoreboard descriptor of process pid, opened for reading: -1 if it
 * has none, -2 (with *owner) if it belongs to a user other than this one
 * and root, whose board this user cannot trust.
 */
static int
open_board(long pid, uid_t *owner)
{
	char path[320], link[128];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *d;
	int fd = -1;

	(void)snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (fd == -1 && (de = readdir(d)) != NULL) {
		(void)snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid,
		    de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strncmp(link, "/memfd:" SB_NAME, strlen("/memfd:" SB_NAME))
		    == 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	(void)closedir(d);
	if (fd >= 0 && (fstat(fd, &st) == -1 || (st.st_uid != getuid() &&
	    st.st_uid != 0))) {
		*owner = st.st_uid;
		(void)close(fd);
		fd = -2;
	}
	return fd;
}

/* Processes named tcpproxy that hold a board we trust: the masters. */
static int
find_masters(long *pids, int max)
{
	char path[64], comm[32];
	struct dirent *de;
	uid_t owner;
	DIR *d;
	FILE *f;
	long pid;
	int n = 0, fd;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if ((pid = strtol(de->d_name, NULL, 10)) <= 0 ||
		    pid == (long)getpid())
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) == NULL ||
		    strncmp(comm, "tcpproxy", 8) != 0) {
			(void)fclose(f);
			continue;
		}
		(void)fclose(f);
		if ((fd = open_board(pid, &owner)) < 0)
			continue;
		(void)close(fd);
		if (n < max)
			pids[n] = pid;
		n++;
	}
	(void)closedir(d);
	return n;
}

/*
 * A consistent copy of slot i, which a child may be writing at this
 * moment: 0, or -1 if it cannot be had (the board is shorter, or never
 * holds still).
 */
static int
read_slot(int fd, unsigned i, struct sb_slot *out)
{
	off_t off = (off_t)sb_size(i);
	uint32_t seq;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		if (pread(fd, out, sizeof(*out), off) != (ssize_t)sizeof(*out) ||
		    pread(fd, &seq, sizeof(seq), off + (off_t)offsetof(struct
		    sb_slot, seq)) != (ssize_t)sizeof(seq))
			return -1;
		if ((seq & 1) == 0 && seq == out->seq)
			return 0;
	}
	return -1;
}

static void
print_secs(int64_t ms)
{
	if (ms < 0)
		ms = 0;
	printf(" %lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

/*
 * The scoreboard of master pid, its header read and checked: the open
 * descriptor, or -1 after one line on stderr.
 */
static int
open_checked(long pid, struct sb_header *h)
{
	uid_t owner = 0;
	int fd;

	if ((fd = open_board(pid, &owner)) == -2) {
		fprintf(stderr, "tcpproxy: --status: the scoreboard of process "
		    "%ld belongs to uid %lu: only this user's (uid %lu) and "
		    "root's are read\n", pid, (unsigned long)owner,
		    (unsigned long)getuid());
		return -1;
	}
	if (fd == -1) {
		fprintf(stderr, "tcpproxy: --status: process %ld is not a "
		    "tcpproxy master (or not allowed to look)\n", pid);
		return -1;
	}
	if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) ||
	    memcmp(h->magic, SB_MAGIC, sizeof(SB_MAGIC)) != 0 ||
	    h->slot_size != sizeof(struct sb_slot)) {
		fprintf(stderr, "tcpproxy: --status: process %ld runs another "
		    "version of tcpproxy\n", pid);
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* One line for a live slot, with the board's strings made printable. */
static void
print_slot(const struct sb_slot *s, int64_t now)
{
	char client[SB_ADDRLEN], upstream[SB_ADDRLEN];

	log_sanitize(client, sizeof(client), s->client);
	log_sanitize(upstream, sizeof(upstream), s->upstream);
	printf("%ld %s %s %s %llu %llu", (long)s->pid, sb_state_name(s->state),
	    client, upstream[0] != '\0' ? upstream : "-",
	    (unsigned long long)s->up, (unsigned long long)s->down);
	print_secs(now - s->start);
	print_secs(now - s->progress);
	putchar('\n');
}

/*
 * status_print: the table of live pairs, one line each after a header:
 *   pid state client upstream up down age idle
 * age: seconds since the client was accepted; idle: seconds since the
 * last write progress in either direction (or since accepted).
 */
int
status_print(long pid)
{
	static struct sb_slot chunk[STATUS_CHUNK];
	struct sb_header h;
	struct sb_slot s;
	long pids[8];
	int64_t now;
	unsigned i, k;
	ssize_t got;
	int fd, n;

	if (pid != 0)
		pids[0] = pid;
	else if ((n = find_masters(pids, 8)) != 1) {
		if (n <= 0)
			fprintf(stderr, "tcpproxy: --status: no running "
			    "tcpproxy found (or not allowed to look)\n");
		else
			fprintf(stderr, "tcpproxy: --status: %d instances "
			    "are running: name one with --status=PID\n", n);
		return 1;
	}
	if ((fd = open_checked(pids[0], &h)) == -1)
		return 1;
	now = util_now_ms();
	printf("pid state client upstream up down age idle\n");
	/*
	 * Slots a chunk at a time; a busy one again, alone and consistent.
	 * A board shorter than its header says ends the list there.
	 */
	for (i = 0; i < h.nslots; i += STATUS_CHUNK) {
		got = pread(fd, chunk, sizeof(chunk), (off_t)sb_size(i));
		for (k = 0; got > 0 && k < (size_t)got / sizeof(chunk[0]) &&
		    i + k < h.nslots; k++) {
			if (chunk[k].state < SB_CONNECTING ||
			    read_slot(fd, i + k, &s) == -1)
				continue;
			s.client[SB_ADDRLEN - 1] = '\0';
			s.upstream[SB_ADDRLEN - 1] = '\0';
			if (s.pid > 0 && s.state >= SB_CONNECTING &&
			    s.state < SB_NSTATES)
				print_slot(&s, now);
		}
		if (got < (ssize_t)sizeof(chunk))
			break;
	}
	(void)close(fd);
	return fflush(stdout) == 0 ? 0 : 1;
}
