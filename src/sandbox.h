/*
 * sandbox.h: a relaying child locks itself down (Linux: seccomp).
 */
#ifndef TCPPROXY_SANDBOX_H
#define TCPPROXY_SANDBOX_H

/*
 * From now on this process can only relay on the descriptors it has, log
 * and exit: no new descriptor, file, socket, process or program.  Any
 * other system call kills it (SIGSYS).  0, or -1 with errno (ENOSYS where
 * there is no sandbox for this system or build); the process is then as
 * it was.  Call it once everything the pair needs is open.
 */
int	sandbox_pair(void);

/* 1 if this build can sandbox pairs at all. */
int	sandbox_available(void);

#endif /* TCPPROXY_SANDBOX_H */
