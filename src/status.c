/*
 * status.c: `tcpproxy --status`, a reader of another process's
 * scoreboard.  Finds the master (a process named tcpproxy that holds the
 * scoreboard memfd), maps the board read-only, checks its layout and
 * prints a consistent copy of each busy slot.  Runs in its own short-lived
 * process, never in the pool.  Calls scoreboard (for the layout) and util.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scoreboard.h"
#include "util.h"
#include "status.h"

/* The scoreboard descriptor of process pid, opened for reading, or -1. */
static int
open_board(long pid)
{
	char path[320], link[128];
	struct dirent *de;
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
	return fd;
}

/* Processes named tcpproxy that hold a scoreboard: the masters. */
static int
find_masters(long *pids, int max)
{
	char path[64], comm[32];
	struct dirent *de;
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
		if ((fd = open_board(pid)) == -1)
			continue;
		(void)close(fd);
		if (n < max)
			pids[n] = pid;
		n++;
	}
	(void)closedir(d);
	return n;
}

/* A consistent copy of a slot a child may be writing at this moment. */
static int
read_slot(const struct sb_slot *s, struct sb_slot *out)
{
	uint32_t a, b;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (a & 1)
			continue;
		memcpy(out, (const void *)s, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		b = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
		if (a == b) {
			out->pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
			out->client[SB_ADDRLEN - 1] = '\0';
			out->upstream[SB_ADDRLEN - 1] = '\0';
			return 0;
		}
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
 * The scoreboard of master pid, mapped read-only with its layout checked:
 * the header, or NULL after one line on stderr.
 */
static const struct sb_header *
map_board(long pid)
{
	const struct sb_header *h;
	struct stat st;
	void *p;
	int fd;

	if ((fd = open_board(pid)) == -1) {
		fprintf(stderr, "tcpproxy: --status: process %ld is not a "
		    "tcpproxy master (or not allowed to look)\n", pid);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || (size_t)st.st_size < sb_size(0) ||
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		fprintf(stderr, "tcpproxy: --status: cannot read the "
		    "scoreboard of process %ld\n", pid);
		(void)close(fd);
		return NULL;
	}
	(void)close(fd);
	h = p;
	if (memcmp(h->magic, SB_MAGIC, sizeof(SB_MAGIC)) != 0 ||
	    h->slot_size != sizeof(struct sb_slot) ||
	    sb_size(h->nslots) > (size_t)st.st_size) {
		fprintf(stderr, "tcpproxy: --status: process %ld runs another "
		    "version of tcpproxy\n", pid);
		return NULL;
	}
	return h;
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
	const struct sb_header *h;
	const struct sb_slot *slots;
	struct sb_slot s;
	long pids[8];
	int64_t now;
	unsigned i;
	int n;

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
	if ((h = map_board(pids[0])) == NULL)
		return 1;
	slots = (const struct sb_slot *)(h + 1);
	now = util_now_ms();
	printf("pid state client upstream up down age idle\n");
	for (i = 0; i < h->nslots; i++) {
		if (read_slot(&slots[i], &s) == -1 || s.pid <= 0 ||
		    s.state < SB_CONNECTING || s.state >= SB_NSTATES)
			continue;
		printf("%ld %s %s %s %llu %llu", (long)s.pid,
		    sb_state_name(s.state), s.client,
		    s.upstream[0] != '\0' ? s.upstream : "-",
		    (unsigned long long)s.up, (unsigned long long)s.down);
		print_secs(now - s.start);
		print_secs(now - s.progress);
		putchar('\n');
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
