/*
 * title.h: what each process says it is, in ps(1) and top(1).
 */
#ifndef TCPPROXY_TITLE_H
#define TCPPROXY_TITLE_H

/*
 * Claim the argv and environment strings as room for titles: both are
 * copied to the heap first (argv[] is updated to the copies, so call this
 * before anything keeps a pointer into argv).
 */
void	title_init(int argc, char **argv);

/*
 * Keep titles in [buf, buf + len) from now on, in place of the argv area;
 * -1 if the system does not allow it.  Before the first fork.
 */
int	title_move(char *buf, size_t len);

/*
 * Title "tcpproxy: ROLE ABC" (the strings after role until NULL are
 * appended after a space, cut to what fits) and process name "tcpproxy:
 * ROLE", or "tcpproxy" for a role longer than 5 bytes.  Uses no printf:
 * children call it, and it must not cost them a page of stack.
 */
void	title_set(const char *role, ...);

#endif /* TCPPROXY_TITLE_H */
