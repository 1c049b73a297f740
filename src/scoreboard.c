/*
 * scoreboard.c: the shared view of the pool, after Apache's prefork
 * scoreboard.  A header and a slot per child in one MAP_SHARED mapping,
 * made by the master before the first fork, so that every child inherits
 * it and writes into it without a copy-on-write.  The master's slot table
 * (pool.c) stays the authority; here the master only mirrors a slot's pid
 * and its idle/free state, and each child writes only its own slot: its
 * client, upstream, counters and state, under a sequence counter so that
 * a reader never takes half an update for a whole one.
 *
 * On Linux the mapping is a memfd the master keeps open, which is how
 * `tcpproxy --status` finds it: through /proc/PID/fd of the master, with
 * the permissions of kill(1).  Calls util.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "scoreboard.h"

#define SB_MAGIC	"tcpproxy-sb-1"
#define SB_NAME		"tcpproxy-scoreboard"

struct sb_header {
	char		 magic[16];
	uint32_t	 slot_size;
	uint32_t	 nslots;
	int32_t		 master;
	uint32_t	 pad[9];
};

static struct sb_header	*sb_head;
static struct sb_slot	*sb_slots;
static unsigned		 sb_n;
static int		 sb_fd = -1;

static size_t
sb_size(unsigned nslots)
{
	return sizeof(struct sb_header) + (size_t)nslots *
	    sizeof(struct sb_slot);
}

/*
 * sb_create: the mapping, zeroed, so every slot starts SB_FREE.  Pages
 * are only touched as slots are used.
 */
int
sb_create(unsigned nslots)
{
	size_t size = sb_size(nslots);
	void *p;
	int fd = -1;

#if defined(__linux__) && defined(MFD_CLOEXEC)
	if ((fd = memfd_create(SB_NAME, MFD_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, (off_t)size) == -1) {
		(void)close(fd);
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
#else
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
#endif
	if (p == MAP_FAILED) {
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	sb_head = p;
	sb_slots = (struct sb_slot *)(sb_head + 1);
	sb_n = nslots;
	sb_fd = fd;
	memcpy(sb_head->magic, SB_MAGIC, sizeof(SB_MAGIC));
	sb_head->slot_size = sizeof(struct sb_slot);
	sb_head->nslots = nslots;
	sb_head->master = (int32_t)getpid();
	return 0;
}

struct sb_slot *
sb_slot(unsigned i)
{
	return sb_slots != NULL && i < sb_n ? &sb_slots[i] : NULL;
}

/*
 * A child has nothing to do with the descriptor, only with the mapping.
 * sb_fd is left as it is: writing it would copy a page of .data.
 */
void
sb_child_close(void)
{
	if (sb_fd != -1)
		(void)close(sb_fd);
}

/*
 * sb_master_set: slot i's pid and, unless state is SB_NSTATES, its state.
 * The master writes the state before a child exists (idle) and after it
 * is gone (free), never while the child may be writing it.
 */
void
sb_master_set(unsigned i, int32_t pid, enum sb_state state)
{
	struct sb_slot *s = sb_slot(i);

	if (s == NULL)
		return;
	if (state == SB_IDLE) {		/* nothing left from the last one */
		s->seq = 0;	/* even: a child killed mid-update left it odd */
		s->up = s->down = 0;
		s->client[0] = s->upstream[0] = '\0';
	}
	if (state != SB_NSTATES)
		__atomic_store_n(&s->state, (uint32_t)state, __ATOMIC_RELEASE);
	__atomic_store_n(&s->pid, pid, __ATOMIC_RELEASE);
}

void
sb_master_counts(unsigned i, uint64_t *up, uint64_t *down)
{
	struct sb_slot *s = sb_slot(i);

	*up = s != NULL ? __atomic_load_n(&s->up, __ATOMIC_ACQUIRE) : 0;
	*down = s != NULL ? __atomic_load_n(&s->down, __ATOMIC_ACQUIRE) : 0;
}

static void
wbegin(struct sb_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
wend(struct sb_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

/* Copy a string, cut to fit. */
static void
put(char *dst, const char *src)
{
	dst[util_append(dst, SB_ADDRLEN, 0, src)] = '\0';
}

void
sb_client(struct sb_slot *s, const char *client, int64_t now)
{
	if (s == NULL)
		return;
	wbegin(s);
	put(s->client, client);
	s->upstream[0] = '\0';
	s->start = s->progress = now;
	s->up = s->down = 0;
	s->state = SB_CONNECTING;
	wend(s);
}

void
sb_upstream(struct sb_slot *s, const char *upstream)
{
	if (s == NULL)
		return;
	wbegin(s);
	put(s->upstream, upstream);
	s->state = SB_RELAYING;
	wend(s);
}

void
sb_state(struct sb_slot *s, enum sb_state state)
{
	if (s == NULL)
		return;
	wbegin(s);
	s->state = state;
	wend(s);
}

void
sb_counts(struct sb_slot *s, uint64_t up, uint64_t down, int64_t progress)
{
	if (s == NULL)
		return;
	wbegin(s);
	s->up = up;
	s->down = down;
	s->progress = progress;
	wend(s);
}

const char *
sb_state_name(uint32_t st)
{
	static const char *const names[SB_NSTATES] = {
		"free", "idle", "connecting", "relaying", "draining"
	};

	return st < SB_NSTATES ? names[st] : "?";
}

/* ---- tcpproxy --status ---- */

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
 * sb_print_status: the table of live pairs, one line each after a header:
 *   pid state client upstream up down age idle
 * age: seconds since the client was accepted; idle: seconds since the
 * last write progress in either direction (or since accepted).
 */
int
sb_print_status(long pid)
{
	const struct sb_header *h;
	const struct sb_slot *slots;
	struct sb_slot s;
	struct stat st;
	long pids[8];
	int64_t now;
	unsigned i;
	void *p;
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
	if ((fd = open_board(pids[0])) == -1) {
		fprintf(stderr, "tcpproxy: --status: process %ld is not a "
		    "tcpproxy master (or not allowed to look)\n", pids[0]);
		return 1;
	}
	if (fstat(fd, &st) == -1 || (size_t)st.st_size < sb_size(0) ||
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		fprintf(stderr, "tcpproxy: --status: cannot read the "
		    "scoreboard of process %ld\n", pids[0]);
		(void)close(fd);
		return 1;
	}
	(void)close(fd);
	h = p;
	if (memcmp(h->magic, SB_MAGIC, sizeof(SB_MAGIC)) != 0 ||
	    h->slot_size != sizeof(struct sb_slot) ||
	    sb_size(h->nslots) > (size_t)st.st_size) {
		fprintf(stderr, "tcpproxy: --status: process %ld runs another "
		    "version of tcpproxy\n", pids[0]);
		return 1;
	}
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
