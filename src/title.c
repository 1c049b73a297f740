/*
 * title.c: process titles.  On Linux, ps(1) reads a process's command
 * line from the memory its argv strings were in, so writing there (and
 * into the environment strings right after them, once both are copied
 * away) renames the process; PR_SET_NAME sets the short name top(1) and
 * pgrep(1) use.  Elsewhere titles are not set.
 *
 * Owns the title area.  A child writing its title copies one page, the
 * one holding the area; nothing else is touched.  Calls nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "title.h"

extern char	**environ;

/*
 * Set once, before the first fork, and only read afterwards: a child
 * that wrote a static here would copy a page of .bss for it.
 */
static char	*area;		/* the old argv and environment strings */
static size_t	 area_len;
/* The copies, still reachable once unsetenv() drops them from environ. */
static char	**env_copies;

/*
 * title_init: copy argv and the environment to the heap and keep the
 * memory they were in, as long as the strings lie end to end.
 */
void
title_init(int argc, char **argv)
{
#ifdef __linux__
	char *start, *end, **env, **args;
	int i, n;

	if (argc < 1 || argv[0] == NULL)
		return;
	start = end = argv[0];
	for (i = 0; i < argc && argv[i] == end; i++)
		end += strlen(argv[i]) + 1;
	for (n = 0; environ[n] != NULL; n++)
		if (environ[n] == end)
			end += strlen(environ[n]) + 1;
	env = calloc((size_t)n + 1, sizeof(*env));
	args = calloc((size_t)argc, sizeof(*args));
	if (env == NULL || args == NULL)
		return;			/* no titles, no harm */
	if ((env_copies = calloc((size_t)n + 1, sizeof(*env))) == NULL)
		return;
	for (i = 0; i < n; i++)
		if ((env[i] = env_copies[i] = strdup(environ[i])) == NULL)
			return;
	for (i = 0; i < argc; i++)
		if ((args[i] = strdup(argv[i])) == NULL)
			return;
	environ = env;
	for (i = 0; i < argc; i++)
		argv[i] = args[i];
	free(args);
#ifdef __GLIBC__
	program_invocation_name = argv[0];
#endif
	area = start;
	area_len = (size_t)(end - start);
	memset(area, 0, area_len);	/* a title ends at the first NUL */
#else
	(void)argc;
	(void)argv;
#endif
}

static size_t
append(char *buf, size_t size, size_t n, const char *s)
{
	while (*s != '\0' && n + 1 < size)
		buf[n++] = *s++;
	return n;
}

/*
 * title_set: "tcpproxy: role ..." as the title, "tcpproxy: role" as the
 * name (just "tcpproxy" for a long role).
 */
void
title_set(const char *role, ...)
{
#ifdef __linux__
	char name[16];
	const char *s;
	va_list ap;
	size_t n, k;
	int save = errno;

	/* The name is 15 bytes: a role longer than "relay" is left out. */
	n = append(name, sizeof(name), 0, "tcpproxy");
	if (strlen(role) <= 5) {
		n = append(name, sizeof(name), n, ": ");
		n = append(name, sizeof(name), n, role);
	}
	name[n] = '\0';
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
	if (area == NULL || area_len < 2) {
		errno = save;
		return;
	}
	n = append(area, area_len, 0, "tcpproxy: ");
	n = append(area, area_len, n, role);
	va_start(ap, role);
	if ((s = va_arg(ap, const char *)) != NULL)
		n = append(area, area_len, n, " ");
	for (; s != NULL; s = va_arg(ap, const char *))
		n = append(area, area_len, n, s);
	va_end(ap);
	/* NULs after it, as far as the last (longer) title reached. */
	for (k = n; k < area_len && area[k] != '\0'; k++)
		area[k] = '\0';
	area[n] = '\0';
	errno = save;
#else
	(void)role;
#endif
}
