/*
 * spawn.c: how the master creates children, and on which stack it runs,
 * so that an idle pair costs as few private pages as possible.
 *
 * After fork() every page is shared until one side writes it; a page the
 * master writes afterwards stays mapped in the child as the child's own
 * copy.  The master's stack is rewritten on every loop, so on Linux:
 *   - the master's loop runs on a stack that children never get
 *     (MADV_DONTFORK), and
 *   - each child starts, through clone(), on a stack of its own at the top
 *     of a region the master never touches except to write the child's
 *     context there.
 * The top bytes of that region hold process titles (title.c), so a title
 * costs no page either.  A child then owns its stack page and its TLS
 * page, and nothing the master does later adds to that (the rules: see
 * README, "Pages").  Elsewhere, or in sanitizer and valgrind builds
 * (which do not follow a switch of stacks), it is plain fork().
 *
 * Owns the two stack mappings.  Calls nothing but libc.
 */
#include <sys/mman.h>
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define SPAWN_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_SANITIZED 1
#endif
/*
 * Valgrind takes the master's move to a stack of its own for a frame too
 * large to be one ("client switching stacks?") and does not follow it as
 * a stack: memcheck's view of what is live there would be wrong (make
 * valgrind).
 */
#if defined(TCPPROXY_VALGRIND)
#define SPAWN_SANITIZED 1
#endif

#if defined(__linux__) && defined(__GLIBC__) && defined(MADV_DONTFORK) && \
    !defined(SPAWN_SANITIZED)
#define SPAWN_CLONE 1
#include <sched.h>
#include <ucontext.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#include <sys/syscall.h>
#endif
#endif

#ifdef SPAWN_CLONE
/*
 * Sizes: the master resolves names on SIGHUP, and the resolver may put
 * tens of KiB on the stack; a child only logs and relays.  Pages are
 * touched on demand, so a size costs address space, not memory.
 */
#define MASTER_STACK	(1024 * 1024)
#define CHILD_STACK	(256 * 1024)
#define GUARD		(64 * 1024)

static char	*child_top;		/* the highest byte of the child stack */
static int	 switched;		/* the master runs on its own stack */

/* Reserve size bytes of stack below a guard region; NULL if we cannot. */
static char *
stack_map(size_t size, int dontfork)
{
	char *p;

	p = mmap(NULL, size + GUARD, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p, GUARD, PROT_NONE) == -1 ||
	    (dontfork && madvise(p, size + GUARD, MADV_DONTFORK) == -1)) {
		(void)munmap(p, size + GUARD);
		return NULL;
	}
	return p + GUARD;
}

/*
 * glibc registers each thread's restartable-sequence area with the kernel,
 * and the kernel rewrites that area whenever the thread is scheduled.  A
 * child inherits the registration, so the kernel's first write copies the
 * page of the area: a page per child, next to the one that holds errno.
 * The master is single-threaded and does not use rseq (sched_getcpu(),
 * the only user in glibc, falls back to the system call), so it drops the
 * registration before the first fork.  glibc registers 32 bytes, and
 * publishes the offset and the size in use (<sys/rseq.h>).
 */
static void
rseq_drop(void)
{
#if defined(RSEQ_SIG) && defined(SYS_rseq)
	char *area;

	if (__rseq_size == 0)
		return;
	area = (char *)__builtin_thread_pointer() + __rseq_offset;
	if (syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) == -1)
		(void)syscall(SYS_rseq, area, __rseq_size,
		    RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
#endif
}

static ucontext_t	 caller, loop;
static int		(*loop_fn)(void *);
static void		*loop_arg;
static int		 loop_rc;

static void
trampoline(void)
{
	loop_rc = loop_fn(loop_arg);
}

/* The children's stack region, made once; its highest byte + 1. */
static char *
child_stack(void)
{
	char *cstack;

	if (child_top == NULL && (cstack = stack_map(CHILD_STACK, 0)) != NULL)
		child_top = cstack + CHILD_STACK;
	return child_top;
}

/*
 * spawn_title_area: the top SPAWN_TITLE_MAX bytes of the children's
 * stack, which every child writes anyway: a process title kept there
 * costs a child no page of its own.
 */
char *
spawn_title_area(void)
{
	return child_stack() != NULL ? child_top - SPAWN_TITLE_MAX : NULL;
}

int
spawn_run(int (*fn)(void *), void *arg)
{
	char *mstack;

	if ((mstack = stack_map(MASTER_STACK, 1)) == NULL ||
	    child_stack() == NULL || getcontext(&loop) == -1)
		return fn(arg);		/* correct, only less lean */
	loop.uc_stack.ss_sp = mstack;
	loop.uc_stack.ss_size = MASTER_STACK;
	loop.uc_link = &caller;
	loop_fn = fn;
	loop_arg = arg;
	makecontext(&loop, trampoline, 0);
	rseq_drop();
	switched = 1;
	if (swapcontext(&caller, &loop) == -1)
		return fn(arg);
	return loop_rc;
}

/* At the top of a child's stack: what to run; its context follows. */
struct start {
	void	(*fn)(const void *);
};

static int
child_start(void *p)
{
	struct start *s = p;

	s->fn((const char *)p + SPAWN_ALIGN(sizeof(*s)));
	_exit(127);		/* fn does not return */
}

pid_t
spawn_child(void (*fn)(const void *), const void *ctx, size_t size)
{
	struct start *s;
	char *top;
	pid_t pid;

	if (!switched)
		goto plain;
	/* The context sits below the title, the child's frames below it. */
	s = (struct start *)(child_top - SPAWN_TITLE_MAX -
	    SPAWN_ALIGN(sizeof(*s)) - SPAWN_ALIGN(size));
	s->fn = fn;
	memcpy((char *)s + SPAWN_ALIGN(sizeof(*s)), ctx, size);
	top = (char *)s - 64;
	/*
	 * Without CLONE_VM this is fork(), minus glibc's fork handlers
	 * (nothing to repair: the master is single-threaded and holds no
	 * lock) and minus its write of the child's TID, another page.
	 */
	return clone(child_start, top, SIGCHLD, s);
plain:
	/* POSIX.1-2024's _Fork(), for the same reason as above. */
	if ((pid = _Fork()) == 0) {
		fn(ctx);
		_exit(127);
	}
	return pid;
}

#else /* !SPAWN_CLONE */

char *
spawn_title_area(void)
{
	return NULL;
}

int
spawn_run(int (*fn)(void *), void *arg)
{
	return fn(arg);
}

pid_t
spawn_child(void (*fn)(const void *), const void *ctx, size_t size)
{
	pid_t pid;

	(void)size;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	pid = _Fork();
#else
	pid = fork();
#endif
	if (pid == 0) {
		fn(ctx);
		_exit(127);
	}
	return pid;
}

#endif /* SPAWN_CLONE */

/*
 * spawn_private: pages the master writes after a fork would otherwise stay
 * behind, as a private copy, in every child forked before the write.
 */
void *
spawn_private(size_t size)
{
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_DONTFORK
	(void)madvise(p, size, MADV_DONTFORK);
#endif
	return p;
}
