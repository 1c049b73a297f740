/*
 * scoreboard.c: the shared view of the pool, after Apache's prefork
 * scoreboard.  A header and a slot per child in one MAP_SHARED mapping,
 * made by the master before the first fork, so that every child inherits
 * it and writes into it without a copy-on-write.  The master's slot table
 * (pool.c) stays the authority; here the master only mirrors a slot's pid
 * and its idle/free state, and each child writes only its own slot: its
 * client, upstream, counters and state, under a sequence counter so that
 * a reader never takes half an update for a whole one.  The header holds
 * the pool's totals: every process adds its pair's end to them with one
 * atomic add per counter, the master sets its gauges.
 *
 * On Linux the mapping is a memfd the master keeps open, which is how
 * `tcpproxy --status` (status.c) finds it: through /proc/PID/fd of the
 * master, with the permissions of kill(1).  Calls util.
 */
#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "scoreboard.h"

static struct sb_header	*sb_head;
static struct sb_slot	*sb_slots;
static unsigned		 sb_n;
static int		 sb_fd = -1;

/*
 * sb_size: the mapping's size for nslots slots.
 */
size_t
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
 * sb_fd is left as it is: writing it would copy a page of .data (README,
 * "Pages", rule 3).
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

void
sb_idle(struct sb_slot *s)
{
	if (s == NULL)
		return;
	wbegin(s);
	s->client[0] = s->upstream[0] = '\0';
	s->up = s->down = 0;
	s->start = s->progress = 0;
	s->state = SB_IDLE;
	wend(s);
}

void
sb_master_gen(uint32_t gen, int stopping)
{
	if (sb_head == NULL)
		return;
	__atomic_store_n(&sb_head->gen, gen, __ATOMIC_RELEASE);
	__atomic_store_n(&sb_head->stopping, (uint32_t)stopping,
	    __ATOMIC_RELEASE);
}

int
sb_gen_current(uint32_t gen)
{
	return sb_head != NULL &&
	    !__atomic_load_n(&sb_head->stopping, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&sb_head->gen, __ATOMIC_ACQUIRE) == gen;
}

int
sb_stopping(void)
{
	return sb_head != NULL &&
	    __atomic_load_n(&sb_head->stopping, __ATOMIC_ACQUIRE);
}

void
sb_count_end(unsigned reason, uint64_t up, uint64_t down)
{
	struct sb_totals *t;

	if (sb_head == NULL || reason >= SB_NREASONS)
		return;
	t = &sb_head->totals;
	__atomic_fetch_add(&t->pairs[reason], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->up, up, __ATOMIC_RELAXED);
	__atomic_fetch_add(&t->down, down, __ATOMIC_RELAXED);
}

void
sb_master_totals(uint64_t forks, uint64_t fork_failed, unsigned idle,
    unsigned busy, int waiting)
{
	struct sb_totals *t;

	if (sb_head == NULL)
		return;
	t = &sb_head->totals;
	__atomic_store_n(&t->forks, forks, __ATOMIC_RELAXED);
	__atomic_store_n(&t->fork_failed, fork_failed, __ATOMIC_RELAXED);
	__atomic_store_n(&t->idle, idle, __ATOMIC_RELAXED);
	__atomic_store_n(&t->busy, busy, __ATOMIC_RELAXED);
	__atomic_store_n(&t->waiting, waiting, __ATOMIC_RELAXED);
}

const char *
sb_state_name(uint32_t st)
{
	static const char *const names[SB_NSTATES] = {
		"free", "idle", "connecting", "relaying", "draining"
	};

	return st < SB_NSTATES ? names[st] : "?";
}
