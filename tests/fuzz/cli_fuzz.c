/*
 * cli_fuzz.c: libFuzzer target for the command line (cli.c and what it
 * calls: the option table, the shield for negative numbers, the value
 * parsers, the access rules).
 *
 * The input is argv, its words separated by NUL bytes (at most ARGS_MAX
 * of them).  cli.c is compiled for this target with exit() renamed to
 * fuzz_exit(), which records the status and jumps back here, and with
 * standard output and error going to memory, so that each outcome can be
 * checked:
 *   - accepted: the configuration holds what the rest of the program
 *     trusts (ports numeric and in range, every limit within its bounds,
 *     spares not above the maximum, an absolute chroot, ...);
 *   - status 2: exactly the usage error's two lines, the first printable
 *     (what the user typed cannot reach the terminal raw);
 *   - status 0: --help or --version printed something, and nothing went
 *     to standard error;
 *   - anything else is an abort().
 * A usage error leaves the program, so memory cli_parse() held at that
 * moment is not freed: run with -detect_leaks=0.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "cli.h"

#define ARGS_MAX	24
#define USAGE_TAIL	"\nTry 'tcpproxy --help' for more information.\n"

void	fuzz_exit(int) __attribute__((noreturn));

static jmp_buf	back;
static int	status;
static struct config cfg;

void
fuzz_exit(int st)
{
	status = st;
	longjmp(back, 1);
}

static int
numeric_port(const char *s)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	v = strtoul(s, &end, 10);
	return *end == '\0' && v >= 1 && v <= 65535;
}

static void
check_config(void)
{
	if (cfg.status) {
		if (cfg.status_pid < 0)
			abort();
		return;
	}
	if (cfg.dest_host == NULL || cfg.dest_host[0] == '\0' ||
	    !numeric_port(cfg.dest_port) ||
	    (cfg.listen_port != NULL && !numeric_port(cfg.listen_port)) ||
	    (cfg.mode == CLI_MODE_STANDALONE && cfg.listen_port == NULL))
		abort();
	if (cfg.bufsize < CLI_BUFSZ_MIN || cfg.bufsize > CLI_BUFSZ_MAX ||
	    cfg.stall_ms < 1 || cfg.stall_ms > CLI_SECS_MAX_MS ||
	    cfg.connect_ms < 1 || cfg.connect_ms > CLI_CONNECT_MS_MAX ||
	    cfg.drain_ms < 0 || cfg.drain_ms > CLI_SECS_MAX_MS ||
	    cfg.pair_max_ms < 0 || cfg.pair_max_ms > CLI_SECS_MAX_MS ||
	    cfg.idle_ms < 0 || cfg.idle_ms > CLI_SECS_MAX_MS ||
	    cfg.resolve_ms < 0 || cfg.resolve_ms > CLI_SECS_MAX_MS ||
	    cfg.pair_max_bytes > CLI_PAIRBYTES_MAX)
		abort();
	if (cfg.max_children < 1 || cfg.max_children > CLI_MAXCHILD_MAX ||
	    cfg.spare > cfg.max_children)
		abort();
	if (cfg.nlisten_addr < 0 || cfg.nlisten_addr > CLI_LISTEN_MAX ||
	    (cfg.proxy_from.n > 0 && !cfg.accept_proxy) ||
	    (cfg.chroot != NULL && cfg.chroot[0] != '/') ||
	    (cfg.send_proxy != 0 && cfg.send_proxy != 1 &&
	    cfg.send_proxy != 2))
		abort();
	if (cfg.keepalive && (cfg.ka_idle < 1 || cfg.ka_idle > CLI_KA_SECS_MAX ||
	    cfg.ka_intvl < 1 || cfg.ka_intvl > CLI_KA_SECS_MAX ||
	    cfg.ka_cnt < 1 || cfg.ka_cnt > CLI_KA_CNT_MAX))
		abort();
}

/* "tcpproxy: " and one printable line, then the hint, and nothing more. */
static void
check_usage(const char *err, size_t len)
{
	size_t tail = sizeof(USAGE_TAIL) - 1, i;

	if (len < 10 + tail || strncmp(err, "tcpproxy: ", 10) != 0 ||
	    strcmp(err + len - tail, USAGE_TAIL) != 0)
		abort();
	for (i = 10; i < len - tail; i++)
		if (err[i] < 0x20 || err[i] >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[4096];
	char *argv[ARGS_MAX + 2], *outbuf = NULL, *errbuf = NULL;
	size_t outlen = 0, errlen = 0, n, i;
	FILE *out, *errf, *saved_out = stdout, *saved_err = stderr;
	int argc = 0;

	n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	argv[argc++] = "tcpproxy";
	for (i = 0; i <= n && argc <= ARGS_MAX; i += strlen(text + i) + 1)
		argv[argc++] = text + i;
	argv[argc] = NULL;

	if ((out = open_memstream(&outbuf, &outlen)) == NULL ||
	    (errf = open_memstream(&errbuf, &errlen)) == NULL)
		abort();
	stdout = out;
	stderr = errf;
	optind = 0;		/* getopt starts afresh */
	status = -1;
	if (setjmp(back) == 0) {
		cli_parse(argc, argv, &cfg);
		status = -2;	/* returned */
	}
	stdout = saved_out;
	stderr = saved_err;
	fclose(out);
	fclose(errf);

	switch (status) {
	case -2:
		if (errlen != 0 || outlen != 0)
			abort();
		check_config();
		break;
	case 0:
		if (outlen == 0 || errlen != 0)
			abort();
		break;
	case 2:
		if (outlen != 0)
			abort();
		check_usage(errbuf, errlen);
		break;
	default:
		abort();
	}
	acl_free(&cfg.acl);
	acl_free(&cfg.proxy_from);
	free(outbuf);
	free(errbuf);
	return 0;
}
