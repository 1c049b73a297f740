/*
 * srclim.c: the per-source table of --max-per-source.  One MAP_SHARED
 * mapping made by the master before the first fork: a process-shared,
 * robust mutex, an open-addressing hash table of source addresses and
 * their counts, and a record per slot of what its child counted.  A child
 * counts its client under the mutex, and records it in its slot in the
 * same critical section; the master gives the count back when it reaps
 * the child, so that a child killed at any moment leaks nothing.  The
 * mutex is robust: a child that dies holding it (only SIGKILL can, in a
 * few instructions) leaves it to the next taker instead of hanging every
 * process.  Calls nothing of the project.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "srclim.h"

/* A source: an IPv4 address, or the first SRCLIM_V6_BITS of an IPv6 one. */
struct key {
	uint8_t		 family;	/* 0: none */
	uint8_t		 addr[SRCLIM_V6_BITS / 8];
};

struct bucket {
	struct key	 key;		/* family 0: empty */
	uint32_t	 count;		/* live pairs from it */
};

struct hold {
	uint32_t	 counted;	/* the child counted key */
	struct key	 key;
};

struct table {
	pthread_mutex_t	 lock;
	unsigned	 nbuckets;	/* a power of two, > 2 * nslots */
	unsigned	 nslots;
};

static struct table	*T;		/* set before the first fork */
static struct bucket	*B;
static struct hold	*H;

int
srclim_create(unsigned nslots)
{
	pthread_mutexattr_t ma;
	unsigned nb = 16;
	size_t size;
	char *p;

	while (nb <= 2 * (size_t)nslots)
		nb *= 2;
	size = sizeof(*T) + nb * sizeof(*B) + (size_t)nslots * sizeof(*H);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		return -1;
	T = (struct table *)p;
	B = (struct bucket *)(p + sizeof(*T));
	H = (struct hold *)(p + sizeof(*T) + nb * sizeof(*B));
	T->nbuckets = nb;
	T->nslots = nslots;
	if ((errno = pthread_mutexattr_init(&ma)) != 0 ||
	    (errno = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED))
	    != 0 ||
	    (errno = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST)) !=
	    0 || (errno = pthread_mutex_init(&T->lock, &ma)) != 0) {
		(void)munmap(p, size);
		T = NULL;
		return -1;
	}
	(void)pthread_mutexattr_destroy(&ma);
	return 0;
}

/* The source of sa; 0 if it has none (not IP). */
static int
key_of(const struct sockaddr *sa, socklen_t len, struct key *k)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		k->family = AF_INET;
		memcpy(k->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(*s6) &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		k->family = AF_INET;
		memcpy(k->addr, &s6->sin6_addr.s6_addr[12], 4);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(*s6)) {
		k->family = AF_INET6;
		memcpy(k->addr, s6->sin6_addr.s6_addr, sizeof(k->addr));
	}
	return k->family != 0;
}

static unsigned
hash(const struct key *k)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	h = (h ^ k->family) * 16777619u;
	for (i = 0; i < sizeof(k->addr); i++)
		h = (h ^ k->addr[i]) * 16777619u;
	return h & (T->nbuckets - 1);
}

/* The bucket of k, or the empty one where it would go. */
static unsigned
find(const struct key *k)
{
	unsigned i = hash(k);

	while (B[i].key.family != 0 && memcmp(&B[i].key, k, sizeof(*k)) != 0)
		i = (i + 1) & (T->nbuckets - 1);
	return i;
}

/* Empty bucket i, and move up the ones its key pushed down the chain. */
static void
unlink_bucket(unsigned i)
{
	unsigned j = i, home, mask = T->nbuckets - 1;

	for (;;) {
		memset(&B[i], 0, sizeof(B[i]));
		do {
			j = (j + 1) & mask;
			if (B[j].key.family == 0)
				return;
			home = hash(&B[j].key);
		} while (i <= j ? (i < home && home <= j) :
		    (i < home || home <= j));
		B[i] = B[j];
		i = j;
	}
}

static void
lock(void)
{
	if (pthread_mutex_lock(&T->lock) == EOWNERDEAD)
		(void)pthread_mutex_consistent(&T->lock);
}

int
srclim_take(unsigned slot, const struct sockaddr *sa, socklen_t len,
    unsigned limit)
{
	struct key k;
	unsigned i;
	int ok = 1;

	if (T == NULL || slot >= T->nslots || !key_of(sa, len, &k))
		return 1;
	lock();
	i = find(&k);
	if (B[i].key.family != 0 && B[i].count >= limit)
		ok = 0;
	else {
		H[slot].key = k;
		H[slot].counted = 1;
		if (B[i].key.family == 0) {
			B[i].key = k;
			B[i].count = 0;
		}
		B[i].count++;
	}
	(void)pthread_mutex_unlock(&T->lock);
	return ok;
}

void
srclim_release(unsigned slot)
{
	unsigned i;

	if (T == NULL || slot >= T->nslots || !H[slot].counted)
		return;
	lock();
	i = find(&H[slot].key);
	if (B[i].key.family != 0 && --B[i].count == 0)
		unlink_bucket(i);
	H[slot].counted = 0;
	(void)pthread_mutex_unlock(&T->lock);
}
