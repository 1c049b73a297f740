/*
 * status.c: `tcpproxy --status`, a reader of another process's
 * scoreboard.  Finds the master (a process named tcpproxy that holds the
 * scoreboard memfd), checks that the board belongs to this user or to
 * root, and reads it with pread(2), never through a mapping, so that a
 * board that shrinks meanwhile ends the listing instead of faulting.  What
 * the board says is checked and made printable before it is shown:
 * another process may have written anything there.  Runs in its own
 * short-lived process, never in the pool.  Prints a table, or with the
 * pool's totals JSON or Prometheus's text format.  Calls scoreboard (for
 * the layout), end (the reasons' names), log (to sanitise) and util.
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

#include "end.h"
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

/* lead, then ms as seconds with three decimals (never negative). */
static void
print_secs(const char *lead, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	printf("%s%lld.%03lld", lead, (long long)(ms / 1000),
	    (long long)(ms % 1000));
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
	print_secs(" ", now - s->start);
	print_secs(" ", now - s->progress);
	putchar('\n');
}

/* Each live slot of the board on fd, read whole, to fn; how many. */
static unsigned
each_live(int fd, const struct sb_header *h,
    void (*fn)(const struct sb_slot *, int64_t, unsigned, void *), void *arg)
{
	static struct sb_slot chunk[STATUS_CHUNK];
	struct sb_slot s;
	int64_t now = util_now_ms();
	unsigned i, k, n = 0;
	ssize_t got;

	/*
	 * Slots a chunk at a time; a busy one again, alone and consistent.
	 * A board shorter than its header says ends the list there.
	 */
	for (i = 0; i < h->nslots; i += STATUS_CHUNK) {
		got = pread(fd, chunk, sizeof(chunk), (off_t)sb_size(i));
		for (k = 0; got > 0 && k < (size_t)got / sizeof(chunk[0]) &&
		    i + k < h->nslots; k++) {
			if (chunk[k].state < SB_CONNECTING ||
			    read_slot(fd, i + k, &s) == -1)
				continue;
			s.client[SB_ADDRLEN - 1] = '\0';
			s.upstream[SB_ADDRLEN - 1] = '\0';
			if (s.pid <= 0 || s.state < SB_CONNECTING ||
			    s.state >= SB_NSTATES)
				continue;
			if (fn != NULL)
				fn(&s, now, n, arg);
			n++;
		}
		if (got < (ssize_t)sizeof(chunk))
			break;
	}
	return n;
}

static void
text_slot(const struct sb_slot *s, int64_t now, unsigned n, void *arg)
{
	(void)n;
	(void)arg;
	print_slot(s, now);
}

/* A string of the board as a JSON string: printable, quotes escaped. */
static void
json_str(const char *raw)
{
	char safe[SB_ADDRLEN];
	const char *p;

	log_sanitize(safe, sizeof(safe), raw);
	putchar('"');
	for (p = safe; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
	putchar('"');
}

static void
json_slot(const struct sb_slot *s, int64_t now, unsigned n, void *arg)
{
	(void)arg;
	printf("%s\n    {\"pid\": %ld, \"state\": \"%s\", \"client\": ",
	    n > 0 ? "," : "", (long)s->pid, sb_state_name(s->state));
	json_str(s->client);
	printf(", \"upstream\": ");
	if (s->upstream[0] != '\0')
		json_str(s->upstream);
	else
		printf("null");
	printf(", \"up\": %llu, \"down\": %llu", (unsigned long long)s->up,
	    (unsigned long long)s->down);
	print_secs(", \"age\": ", now - s->start);
	print_secs(", \"idle\": ", now - s->progress);
	putchar('}');
}

/*
 * The count of end reason r's name: reasons that share a name (both
 * kinds of "internal") are one; 0 is returned, and nothing counted, for
 * all but the first of them.
 */
static int
reason_total(const struct sb_totals *t, int r, uint64_t *total)
{
	const char *name = end_info((enum end_reason)r)->name;
	int k;

	for (k = 1; k < r; k++)
		if (strcmp(end_info((enum end_reason)k)->name, name) == 0)
			return 0;
	*total = 0;
	for (k = r; k < END_NREASONS; k++)
		if (strcmp(end_info((enum end_reason)k)->name, name) == 0)
			*total += t->pairs[k];
	return 1;
}

static void
print_json(int fd, const struct sb_header *h, long pid)
{
	const struct sb_totals *t = &h->totals;
	uint64_t total;
	int r, first = 1;

	printf("{\n  \"master\": %ld,\n  \"totals\": {\n    \"pairs\": {",
	    pid);
	for (r = 1; r < END_NREASONS; r++)
		if (reason_total(t, r, &total)) {
			printf("%s\"%s\": %llu", first ? "" : ", ",
			    end_info((enum end_reason)r)->name,
			    (unsigned long long)total);
			first = 0;
		}
	printf("},\n    \"bytes\": {\"up\": %llu, \"down\": %llu},\n"
	    "    \"children\": {\"idle\": %u, \"busy\": %u},\n"
	    "    \"clients_waiting\": ", (unsigned long long)t->up,
	    (unsigned long long)t->down, t->idle, t->busy);
	if (t->waiting >= 0)
		printf("%d", (int)t->waiting);
	else
		printf("null");
	printf(",\n    \"forks\": %llu,\n    \"fork_failures\": %llu\n  },\n"
	    "  \"pairs\": [", (unsigned long long)t->forks,
	    (unsigned long long)t->fork_failed);
	printf("%s]\n}\n", each_live(fd, h, json_slot, NULL) > 0 ? "\n  " : "");
}

/* One metric's HELP and TYPE lines. */
static void
prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP tcpproxy_%s %s\n# TYPE tcpproxy_%s %s\n", name, help,
	    name, type);
}

static void
print_prometheus(int fd, const struct sb_header *h)
{
	const struct sb_totals *t = &h->totals;
	uint64_t total;
	int r;

	prom_head("pairs_total", "counter",
	    "Pairs ended, and clients refused, by reason.");
	for (r = 1; r < END_NREASONS; r++)
		if (reason_total(t, r, &total))
			printf("tcpproxy_pairs_total{reason=\"%s\"} %llu\n",
			    end_info((enum end_reason)r)->name,
			    (unsigned long long)total);
	prom_head("bytes_total", "counter",
	    "Bytes relayed by the pairs that ended, by direction.");
	printf("tcpproxy_bytes_total{direction=\"up\"} %llu\n"
	    "tcpproxy_bytes_total{direction=\"down\"} %llu\n",
	    (unsigned long long)t->up, (unsigned long long)t->down);
	prom_head("open_pairs", "gauge", "Pairs open now.");
	printf("tcpproxy_open_pairs %u\n", each_live(fd, h, NULL, NULL));
	prom_head("children", "gauge", "Children of the pool, by state.");
	printf("tcpproxy_children{state=\"idle\"} %u\n"
	    "tcpproxy_children{state=\"busy\"} %u\n", t->idle, t->busy);
	if (t->waiting >= 0) {
		prom_head("clients_waiting", "gauge",
		    "Clients waiting in the listen queue for a child.");
		printf("tcpproxy_clients_waiting %d\n", (int)t->waiting);
	}
	prom_head("forks_total", "counter", "Children forked.");
	printf("tcpproxy_forks_total %llu\n", (unsigned long long)t->forks);
	prom_head("fork_failures_total", "counter", "Forks that failed.");
	printf("tcpproxy_fork_failures_total %llu\n",
	    (unsigned long long)t->fork_failed);
}

/*
 * status_print: the live pairs, one line each after a header:
 *   pid state client upstream up down age idle
 * age: seconds since the client was accepted; idle: seconds since the
 * last write progress in either direction (or since accepted).  Or, with
 * the totals, as JSON or Prometheus's text format.
 */
int
status_print(long pid, enum status_format format)
{
	struct sb_header h;
	long pids[8];
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
	switch (format) {
	case STATUS_JSON:
		print_json(fd, &h, pids[0]);
		break;
	case STATUS_PROMETHEUS:
		print_prometheus(fd, &h);
		break;
	default:
		printf("pid state client upstream up down age idle\n");
		(void)each_live(fd, &h, text_slot, NULL);
		break;
	}
	(void)close(fd);
	return fflush(stdout) == 0 ? 0 : 1;
}
