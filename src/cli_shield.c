/*
 * cli_shield.c: negative numbers among the operands.  No option is a
 * digit, so "-5" where an operand stands is a negative number, which
 * getopt would call an unknown option.  Each such element is swapped for
 * its own stand-in, a distinct empty string that getopt leaves alone, and
 * swapped back afterwards, so that what the user reads is "invalid listen
 * port '-5': out of range".  Owns no state; calls nothing of the project.
 */
#include <getopt.h>
#include <string.h>

#include "cli_shield.h"

/* 1 if argv element a is an option whose value is the next element. */
static int
takes_next(const char *a, const struct option *longopts,
    const char *shortopts)
{
	const struct option *o;
	const char *p, *s;
	size_t len;

	if (a[0] != '-' || a[1] == '\0')
		return 0;
	if (a[1] == '-') {
		if (strchr(a, '=') != NULL)
			return 0;
		len = strlen(a + 2);
		for (o = longopts; o->name != NULL; o++)
			if (len > 0 && strncmp(o->name, a + 2, len) == 0)
				return o->has_arg == required_argument;
		return 0;
	}
	for (p = a + 1; *p != '\0'; p++)
		if (*p != ':' && (s = strchr(shortopts, *p)) != NULL &&
		    s[1] == ':')
			return p[1] == '\0';
	return 0;
}

/*
 * cli_shield: swap each negative number among the operands for its stand-in.
 */
void
cli_shield(int argc, char **argv, const struct option *longopts,
    const char *shortopts, char *marks, char **saved)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i - 1], "--") != 0; i++)
		if (argv[i][0] == '-' && argv[i][1] >= '0' &&
		    argv[i][1] <= '9' && !takes_next(argv[i - 1], longopts,
		    shortopts)) {
			saved[i] = argv[i];
			argv[i] = &marks[i];
		}
}

/*
 * cli_unshield: put the numbers back.
 */
void
cli_unshield(int argc, char **argv, const char *marks, char **saved)
{
	int i;

	for (i = 1; i < argc; i++)
		if (argv[i] >= marks && argv[i] < marks + argc)
			argv[i] = saved[argv[i] - marks];
}
