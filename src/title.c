/*
 * title.c: process titles.  On Linux, ps(1) reads a process's command
 * line from the memory its argv strings were in, so writing there (and
 * into the environment strings right after them, once both are copied
 * away) renames the process; PR_SET_NAME sets the short name top(1) and
 * pgrep(1) use.  Elsewhere titles are not set.
 *
 * Owns the title area.  A child writing its title copies one page, the
 * one holding the area; nothing else is touched.  Calls util.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <linux/prctl.h>
#include <fcntl.h>
#endif

#include "util.h"
#include "title.h"

extern char	**environ;

/*
 * Set once, before the first fork, and only read afterwards: a child
 * that wrote a static here would copy a page of .bss for it (README,
 * "Pages", rule 3).
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

#if defined(__linux__) && defined(PR_SET_MM_MAP)
/* Fields 26-28 and 45-51 of /proc/self/stat: where the kernel thinks
 * the process's code, data, stack, arguments and environment are. */
static int
mm_fields(unsigned long long *f)
{
	char line[1024], *p, *end;
	ssize_t n;
	int fd, i;

	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, line, sizeof(line) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	/* The name may hold spaces and parentheses: fields follow the last. */
	if ((p = strrchr(line, ')')) == NULL)
		return -1;
	p += 2;
	for (i = 3; i <= 51; i++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return -1;
		f[i] = strtoull(p, &end, 10);
		p = end;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return 0;
}
#endif

/*
 * title_move: make [buf, buf + len) the command line ps(1) shows, with
 * PR_SET_MM_MAP (no privilege needed, unlike PR_SET_MM_ARG_START); -1 if
 * the kernel says no, and titles stay where title_init() put them.
 */
int
title_move(char *buf, size_t len)
{
#if defined(__linux__) && defined(PR_SET_MM_MAP)
	struct prctl_mm_map m;
	unsigned long long f[52];

	if (buf == NULL || len < 2 || mm_fields(f) == -1)
		return -1;
	memset(&m, 0, sizeof(m));
	m.start_code = f[26];
	m.end_code = f[27];
	m.start_stack = f[28];
	m.start_data = f[45];
	m.end_data = f[46];
	m.start_brk = f[47];
	m.brk = (uintptr_t)sbrk(0);
	m.arg_start = (uintptr_t)buf;
	m.arg_end = (uintptr_t)buf + len;
	m.env_start = f[50];
	m.env_end = f[51];
	m.exe_fd = (uint32_t)-1;
	memset(buf, 0, len);
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&m, sizeof(m),
	    0) == -1)
		return -1;
	area = buf;
	area_len = len;
	return 0;
#else
	(void)buf;
	(void)len;
	return -1;
#endif
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
	n = util_append(name, sizeof(name), 0, "tcpproxy");
	if (strlen(role) <= 5) {
		n = util_append(name, sizeof(name), n, ": ");
		n = util_append(name, sizeof(name), n, role);
	}
	name[n] = '\0';
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
	if (area == NULL || area_len < 2) {
		errno = save;
		return;
	}
	n = util_append(area, area_len, 0, "tcpproxy: ");
	n = util_append(area, area_len, n, role);
	va_start(ap, role);
	if ((s = va_arg(ap, const char *)) != NULL)
		n = util_append(area, area_len, n, " ");
	for (; s != NULL; s = va_arg(ap, const char *))
		n = util_append(area, area_len, n, s);
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
