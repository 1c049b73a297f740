/*
 * sandbox.h: a child locks itself down (Linux: seccomp), in two stages.
 */
#ifndef TCPPROXY_SANDBOX_H
#define TCPPROXY_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* The stages, as bits of the table's rows. */
enum sandbox_stage {
	SANDBOX_IDLE = 1,	/* waiting for a client, then connecting */
	SANDBOX_PAIR = 2	/* relaying */
};

/*
 * sandbox_idle: from now on this process can only do what a child does
 * until it relays: accept and refuse clients, connect a TCP socket and
 * make the pair's pipes, tune sockets, log, and lock itself down further.
 * No file, program or process.
 * sandbox_pair: from now on it can only relay on the descriptors it has,
 * log and exit: no new descriptor of any kind.
 * Any other system call kills the process (SIGSYS).  0, or -1 with errno
 * (ENOSYS where there is no sandbox for this system or build); the
 * process is then as it was.
 */
int	sandbox_idle(void);
int	sandbox_pair(void);

/*
 * Build both filters now, so that children that lock themselves down
 * later share them: 0, or -1 with errno.  The calls above build them when
 * this was not called.
 */
int	sandbox_init(void);

/* 1 if this build can sandbox children at all. */
int	sandbox_available(void);

/*
 * The filter of stage into out (max instructions): how many it holds, or
 * -1 if the table cannot be built (a test's concern, never the field's).
 * sandbox_allows: the table itself, read in plain C: 1 if stage allows
 * call nr with args.  The filter must agree with it on every call.
 * Where there is no sandbox, sandbox_build() is -1 (ENOSYS) and
 * everything is allowed.
 */
struct sock_filter;
int	sandbox_build(enum sandbox_stage stage, struct sock_filter *out,
	    size_t max);
int	sandbox_allows(enum sandbox_stage stage, long nr,
	    const uint64_t args[6]);

#endif /* TCPPROXY_SANDBOX_H */
