/*
 * cli_shield.h: keep getopt from taking negative numbers for options.
 */
#ifndef TCPPROXY_CLI_SHIELD_H
#define TCPPROXY_CLI_SHIELD_H

#include <getopt.h>

/*
 * Before getopt_long() with longopts and shortopts: swap every "-N" that
 * stands where an operand may be for &marks[i] (marks: argc zeroed bytes),
 * keeping it in saved[i] (argc pointers).
 */
void	cli_shield(int argc, char **argv, const struct option *longopts,
	    const char *shortopts, char *marks, char **saved);

/* After getopt_long(): put back what cli_shield() swapped. */
void	cli_unshield(int argc, char **argv, const char *marks, char **saved);

#endif /* TCPPROXY_CLI_SHIELD_H */
