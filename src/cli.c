/*
 * cli.c: options and arguments to a const struct config.  Every value is
 * range-checked here, so the rest of the program trusts the config.  Bad
 * input ends the program with exit status 2 and one line that names the
 * problem and the offending value, made printable.  Calls cli_opts for
 * the option table, cli_shield for negative numbers among the operands,
 * acl for the rules, util for parsing, log to sanitise.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opts.h"
#include "cli_shield.h"
#include "relay_io.h"
#include "status.h"
#include "util.h"
#include "cli.h"

#define EXIT_USAGE	2

/*
 * cli_usage_error: the message is made printable as a whole, since it
 * quotes what the user typed (an escape sequence must not reach the
 * terminal).
 */
void
cli_usage_error(const char *fmt, ...)
{
	char msg[LOG_LINE_MAX], safe[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_sanitize(safe, sizeof(safe), msg);
	fprintf(stderr, "tcpproxy: %s\nTry 'tcpproxy --help' for more "
	    "information.\n", safe);
	exit(EXIT_USAGE);
}


static void __attribute__((noreturn))
bad_value(const char *what, const char *value, enum util_perr e,
    const char *range)
{
	if (e == UTIL_NAN)
		cli_usage_error("invalid %s '%s': not a number", what, value);
	cli_usage_error("invalid %s '%s': out of range (%s)", what, value,
	    range);
}

static void
opt_value(int c, const char *arg, struct config *cfg)
{
	char what[64];
	uint64_t u;
	enum util_perr e;

	(void)snprintf(what, sizeof(what), "--%s value", cli_optname(c));
	switch (c) {
	case 'b':
		if ((e = util_parse_size(arg, CLI_BUFSZ_MIN, CLI_BUFSZ_MAX,
		    &u)) != UTIL_OK)
			bad_value(what, arg, e, "1k-64m");
		cfg->bufsize = (size_t)u;
		break;
	case 'c':
		if ((e = util_parse_secs(arg, 1, CLI_CONNECT_MS_MAX,
		    &cfg->connect_ms)) != UTIL_OK)
			bad_value(what, arg, e, "0.001-3600");
		break;
	case 't':
		if ((e = util_parse_secs(arg, 1, CLI_SECS_MAX_MS,
		    &cfg->stall_ms)) != UTIL_OK)
			bad_value(what, arg, e, "0.001-86400");
		break;
	case OPT_MAXSECS:
	case OPT_IDLE:
		if ((e = util_parse_secs(arg, 1, CLI_SECS_MAX_MS * 365,
		    c == OPT_IDLE ? &cfg->idle_ms : &cfg->pair_max_ms)) !=
		    UTIL_OK)
			bad_value(what, arg, e, "0.001-31536000");
		break;
	case OPT_MAXBYTES:
		if ((e = util_parse_size(arg, 1, CLI_PAIRBYTES_MAX,
		    &cfg->pair_max_bytes)) != UTIL_OK)
			bad_value(what, arg, e, "1-1048576g");
		break;
	case OPT_DRAIN:
		if ((e = util_parse_secs(arg, 0, CLI_SECS_MAX_MS,
		    &cfg->drain_ms)) != UTIL_OK)
			bad_value(what, arg, e, "0-86400");
		break;
	case OPT_RESOLVE:
		if ((e = util_parse_secs(arg, 1000, CLI_SECS_MAX_MS,
		    &cfg->resolve_ms)) != UTIL_OK)
			bad_value(what, arg, e, "1-86400");
		break;
	case OPT_PERCHILD:
		if ((e = util_parse_uint(arg, 0, CLI_MAXCHILD_MAX, &u)) !=
		    UTIL_OK)
			bad_value(what, arg, e, "0-1000000");
		cfg->pairs_per_child = (unsigned)u;
		break;
	case 'm':
	case 's':
	case OPT_PERSOURCE:
		if ((e = util_parse_uint(arg, 1, CLI_MAXCHILD_MAX, &u)) !=
		    UTIL_OK)
			bad_value(what, arg, e, "1-1000000");
		if (c == 'm')
			cfg->max_children = (unsigned)u;
		else if (c == 's')
			cfg->spare = (unsigned)u;
		else
			cfg->max_per_source = (unsigned)u;
		break;
	}
}

/* --allow and --deny, in the order given; --accept-proxy-from. */
static void
acl_option(int c, const char *arg, struct config *cfg)
{
	const char *why;

	if (acl_add(c == OPT_PROXYFROM ? &cfg->proxy_from : &cfg->acl, arg,
	    c != OPT_DENY, &why) == -1)
		cli_usage_error("invalid --%s value '%s': %s", cli_optname(c), arg,
		    why);
}

/*
 * --source=ADDR: a numeric address, IPv6 with or without brackets, as
 * --allow reads one, but no network.
 */
static void
source_option(const char *arg, struct config *cfg)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->source;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cfg->source;
	struct acl_rule r;
	const char *why;

	if (strchr(arg, '/') != NULL || acl_parse(arg, &r, &why) == -1)
		cli_usage_error("invalid --source value '%s': not an IPv4 or "
		    "IPv6 address", arg);
	memset(&cfg->source, 0, sizeof(cfg->source));
	if (r.family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, r.net, sizeof(sin->sin_addr));
		cfg->sourcelen = sizeof(*sin);
	} else {
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, r.net, sizeof(s6->sin6_addr));
		cfg->sourcelen = sizeof(*s6);
	}
}

/* --send-proxy=v1|v2. */
static void
send_proxy_option(const char *arg, struct config *cfg)
{
	if (strcmp(arg, "v1") == 0 || strcmp(arg, "1") == 0)
		cfg->send_proxy = 1;
	else if (strcmp(arg, "v2") == 0 || strcmp(arg, "2") == 0)
		cfg->send_proxy = 2;
	else
		cli_usage_error("invalid --send-proxy value '%s': v1 or v2",
		    arg);
}

/* --splice=auto|always|never: how the bytes of a pair move. */
static void
splice_option(const char *arg, struct config *cfg)
{
	if (strcmp(arg, "auto") == 0)
		cfg->splice = RELAY_IO_AUTO;
	else if (strcmp(arg, "always") == 0)
		cfg->splice = RELAY_IO_SPLICE;
	else if (strcmp(arg, "never") == 0)
		cfg->splice = RELAY_IO_COPY;
	else
		cli_usage_error("invalid --splice value '%s': auto, always or "
		    "never", arg);
#ifndef __linux__
	/* Only Linux has splice(2): copying is all there is. */
	cfg->splice = RELAY_IO_COPY;
#endif
}

/*
 * --keepalive[=IDLE[,INTVL[,CNT]]]: each value given replaces its default,
 * from the left.
 */
static void
keepalive_option(const char *arg, struct config *cfg)
{
	static const char *const name[] = { "IDLE", "INTVL", "CNT" };
	int *val[] = { &cfg->ka_idle, &cfg->ka_intvl, &cfg->ka_cnt };
	char part[32], what[64];
	const char *p = arg;
	enum util_perr e;
	uint64_t u, max;
	size_t len;
	int i;

	cfg->keepalive = 1;
	cfg->ka_idle = CLI_KA_IDLE_DEF;
	cfg->ka_intvl = CLI_KA_INTVL_DEF;
	cfg->ka_cnt = CLI_KA_CNT_DEF;
	for (i = 0; p != NULL && i < 3; i++) {
		len = strcspn(p, ",");
		(void)snprintf(part, sizeof(part), "%.*s", (int)len, p);
		(void)snprintf(what, sizeof(what), "--keepalive %s", name[i]);
		max = i == 2 ? CLI_KA_CNT_MAX : CLI_KA_SECS_MAX;
		if (len >= sizeof(part) ||
		    (e = util_parse_uint(part, 1, max, &u)) != UTIL_OK)
			bad_value(what, part, len >= sizeof(part) ? UTIL_NAN :
			    e, i == 2 ? "1-127" : "1-32767");
		*val[i] = (int)u;
		p = p[len] == ',' ? p + len + 1 : NULL;
	}
	if (p != NULL)
		cli_usage_error("--keepalive takes at most three values: '%s'",
		    arg);
}

/* --standalone, --systemd, --inetd: one of them at most. */
static void
set_mode(struct config *cfg, int c)
{
	static int first;
	enum cli_mode m = c == OPT_SYSTEMD ? CLI_MODE_SYSTEMD :
	    c == OPT_INETD ? CLI_MODE_INETD : CLI_MODE_STANDALONE;

	if (cfg->mode != CLI_MODE_AUTO && cfg->mode != m)
		cli_usage_error("--%s and --%s cannot be used together",
		    cli_optname(first), cli_optname(c));
	cfg->mode = m;
	first = c;
}

static const char *
port_arg(const char *what, const char *arg)
{
	uint64_t u;
	enum util_perr e;

	if ((e = util_parse_uint(arg, 1, 65535, &u)) != UTIL_OK)
		bad_value(what, arg, e, "1-65535");
	return arg;
}

/*
 * The option as the user typed it: "--foo" (up to any '='), or "-z" even
 * inside a cluster such as "-qz", where optopt is the only witness.
 */
static void __attribute__((noreturn))
bad_option(char **argv, int missing_value)
{
	char name[64];
	const char *arg = argv[optind - 1];

	if (strncmp(arg, "--", 2) == 0)
		(void)snprintf(name, sizeof(name), "%.*s",
		    (int)strcspn(arg, "="), arg);
	else
		(void)snprintf(name, sizeof(name), "-%c", optopt);
	if (missing_value)
		cli_usage_error("option '%s' needs a value", name);
	cli_usage_error("unknown option '%s'", name);
}

static void
defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->bufsize = CLI_BUFSZ_DEF;
	cfg->stall_ms = CLI_STALL_MS_DEF;
	cfg->connect_ms = CLI_CONNECT_MS_DEF;
	cfg->drain_ms = CLI_DRAIN_MS_DEF;
	cfg->spare = CLI_SPARE_DEF;
	cfg->max_children = CLI_MAXCHILD_DEF;
	cfg->loglevel = LOGL_INFO;
#ifdef __linux__
	cfg->splice = RELAY_IO_AUTO;
#else
	cfg->splice = RELAY_IO_COPY;
#endif
	cfg->pairs_per_child = 1;
	cfg->sandbox = 1;
}

/* Options that set one field as they are: 1 if c is one of them. */
static int
flag_option(int c, const char *arg, struct config *cfg)
{
	switch (c) {
	case 'q':
	case 'v':
		cfg->loglevel = c == 'q' ? LOGL_WARN : LOGL_DEBUG;
		return 1;
	case 'l':
		if (cfg->nlisten_addr == CLI_LISTEN_MAX)
			cli_usage_error("more than %d --listen-address",
			    CLI_LISTEN_MAX);
		cfg->listen_addr[cfg->nlisten_addr++] = arg;
		return 1;
	case 'u':
	case 'g':
	case OPT_CHROOT:
		*(c == 'u' ? &cfg->user : c == 'g' ? &cfg->group :
		    &cfg->chroot) = arg;
		return 1;
	case OPT_NOSPLICE:
	case OPT_NOSANDBOX:
	case OPT_SYSLOG:
	case OPT_ACCPROXY:
	case OPT_REUSEPORT:
		cfg->reuseport = c == OPT_REUSEPORT ? 1 : cfg->reuseport;
		cfg->splice = c == OPT_NOSPLICE ? RELAY_IO_COPY : cfg->splice;
		cfg->sandbox = c == OPT_NOSANDBOX ? 0 : cfg->sandbox;
		cfg->syslog = c == OPT_SYSLOG ? 1 : cfg->syslog;
		cfg->accept_proxy = c == OPT_ACCPROXY ? 1 : cfg->accept_proxy;
		return 1;
	default:
		return 0;
	}
}

/* What the options said that is not configuration itself. */
struct seen {
	const char	*status_arg;	/* --status=PID, or NULL */
	int		 spare_set;	/* --spare was given */
	const char	*format;	/* --format, or NULL */
};

/* --format's value as STATUS_TEXT, ..., or -1. */
static int
status_format(const char *arg)
{
	if (strcmp(arg, "text") == 0)
		return STATUS_TEXT;
	if (strcmp(arg, "json") == 0)
		return STATUS_JSON;
	if (strcmp(arg, "prometheus") == 0)
		return STATUS_PROMETHEUS;
	return -1;
}

/* The options, up to the first operand.  --help and --version exit. */
static void
options(int argc, char **argv, struct config *cfg, struct seen *seen)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, cli_shortopts, cli_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cli_usage_text, stdout);
			exit(0);
		case 'V':
			printf("tcpproxy %s\n", TCPPROXY_VERSION);
			exit(0);
		case OPT_STATUS:
			cfg->status = 1;
			seen->status_arg = optarg;
			break;
		case OPT_STANDALONE:
		case OPT_SYSTEMD:
		case OPT_INETD:
			set_mode(cfg, c);
			break;
		case ':':
			bad_option(argv, 1);
			/* NOTREACHED */
		case '?':
			bad_option(argv, 0);
			/* NOTREACHED */
		case 's':
			seen->spare_set = 1;
			opt_value(c, optarg, cfg);
			break;
		case OPT_ALLOW:
		case OPT_DENY:
		case OPT_PROXYFROM:
			acl_option(c, optarg, cfg);
			break;
		case OPT_SENDPROXY:
			send_proxy_option(optarg, cfg);
			break;
		case OPT_SPLICE:
			splice_option(optarg, cfg);
			break;
		case OPT_SOURCE:
			source_option(optarg, cfg);
			break;
		case OPT_FORMAT:
			seen->format = optarg;
			break;
		case OPT_KEEPALIVE:
			keepalive_option(optarg, cfg);
			break;
		default:
			if (!flag_option(c, optarg, cfg))
				opt_value(c, optarg, cfg);
			break;
		}
	}
}

/* --status[=PID] takes no operands. */
static void
status_args(int argc, char **argv, const char *status_arg,
    struct config *cfg)
{
	uint64_t u;

	if (status_arg != NULL) {
		if (util_parse_uint(status_arg, 1, 0x7fffffff, &u) != UTIL_OK)
			cli_usage_error("--status: invalid process ID '%s'",
			    status_arg);
		cfg->status_pid = (long)u;
	}
	if (argc - optind > 0)
		cli_usage_error("--status takes no arguments: '%s'",
		    argv[optind]);
}

/* destination-host destination-port [listen-port], then cross-checks. */
static void
operands(int argc, char **argv, const struct seen *seen, struct config *cfg)
{
	if (argc - optind < 2 || (argc - optind < 3 &&
	    cfg->mode == CLI_MODE_STANDALONE))
		cli_usage_error("missing arguments: expected destination-host "
		    "destination-port listen-port");
	if (argc - optind > 3)
		cli_usage_error("too many arguments: '%s'", argv[optind + 3]);
	cfg->dest_host = argv[optind];
	if (cfg->dest_host[0] == '\0')
		cli_usage_error("invalid destination host '': empty");
	cfg->dest_port = port_arg("destination port", argv[optind + 1]);
	if (argc - optind == 3)
		cfg->listen_port = port_arg("listen port", argv[optind + 2]);
	/* A small --max-children alone lowers the default spare count. */
	if (!seen->spare_set && cfg->spare > cfg->max_children)
		cfg->spare = cfg->max_children;
	if (cfg->spare > cfg->max_children)
		cli_usage_error("--spare %u is more than --max-children %u",
		    cfg->spare, cfg->max_children);
	if (cfg->proxy_from.n > 0 && !cfg->accept_proxy)
		cli_usage_error("--accept-proxy-from needs --accept-proxy");
	/* Relative to what, once the pool has started? */
	if (cfg->chroot != NULL && cfg->chroot[0] != '/')
		cli_usage_error("--chroot: '%s' is not an absolute path",
		    cfg->chroot);
}

/*
 * cli_parse: argv to *cfg, or exit.
 */
void
cli_parse(int argc, char **argv, struct config *cfg)
{
	struct seen seen = { NULL, 0, NULL };
	char *marks, **saved;

	if ((marks = calloc((size_t)argc, 1)) == NULL ||
	    (saved = calloc((size_t)argc, sizeof(*saved))) == NULL)
		err(1, "cli");
	cli_shield(argc, argv, cli_longopts, cli_shortopts, marks, saved);
	defaults(cfg);
	options(argc, argv, cfg, &seen);
	cli_unshield(argc, argv, marks, saved);
	free(saved);
	free(marks);
	if (cfg->status)
		status_args(argc, argv, seen.status_arg, cfg);
	else
		operands(argc, argv, &seen, cfg);
	if (seen.format != NULL && !cfg->status)
		cli_usage_error("--format goes with --status");
	if (seen.format != NULL &&
	    (cfg->status_format = status_format(seen.format)) == -1)
		cli_usage_error("invalid --format value '%s': text, json or "
		    "prometheus", seen.format);
}
