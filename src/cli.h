/*
 * cli.h: the command line, turned into one read-only configuration.
 */
#ifndef TCPPROXY_CLI_H
#define TCPPROXY_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "log.h"

/* Defaults and limits of every tunable, named once here. */
#define CLI_BUFSZ_DEF		(64 * 1024)
#define CLI_BUFSZ_MIN		1024
#define CLI_BUFSZ_MAX		(64 * 1024 * 1024)
#define CLI_STALL_MS_DEF	(10 * 1000)
#define CLI_CONNECT_MS_DEF	(10 * 1000)
#define CLI_DRAIN_MS_DEF	(60 * 1000)
#define CLI_SECS_MAX_MS		(86400LL * 1000)
#define CLI_CONNECT_MS_MAX	(3600LL * 1000)
#define CLI_SPARE_DEF		8
#define CLI_MAXCHILD_DEF	4096
#define CLI_LISTEN_MAX		16	/* -l given this often at most */
#define CLI_MAXCHILD_MAX	1000000
#define CLI_PAIRBYTES_MAX	(1ULL << 50)	/* 1048576g */
/* --keepalive without values: a silent peer is probed after a minute, and
 * given up after six unanswered probes ten seconds apart. */
#define CLI_KA_IDLE_DEF		60
#define CLI_KA_INTVL_DEF	10
#define CLI_KA_CNT_DEF		6
#define CLI_KA_SECS_MAX		32767	/* what Linux takes */
#define CLI_KA_CNT_MAX		127

/* Where the listening socket comes from. */
enum cli_mode {
	CLI_MODE_AUTO = 0,	/* systemd's variables, else inetd's stdin
				   when no listen port is given, else our own */
	CLI_MODE_STANDALONE,	/* --standalone: listen on listen-port */
	CLI_MODE_SYSTEMD,	/* --systemd: LISTEN_FDS */
	CLI_MODE_INETD		/* --inetd: standard input */
};

struct config {
	const char	*dest_host;	/* destination name or address */
	const char	*dest_port;	/* numeric, validated */
	const char	*listen_port;	/* numeric, validated; NULL: none */
	const char	*listen_addr[CLI_LISTEN_MAX]; /* -l, in order */
	int		 nlisten_addr;	/* 0: every address */
	size_t		 bufsize;	/* bytes per direction */
	int64_t		 stall_ms;	/* no write progress: abort the pair */
	int64_t		 connect_ms;	/* per destination address */
	int64_t		 drain_ms;	/* SIGTERM: then end open pairs; 0: never */
	int64_t		 pair_max_ms;	/* a pair's longest life; 0: no limit */
	int64_t		 idle_ms;	/* nothing moves: end the pair; 0: never */
	int64_t		 resolve_ms;	/* --resolve-every; 0: only on SIGHUP */
	uint64_t	 pair_max_bytes; /* a pair's most bytes; 0: no limit */
	unsigned	 spare;		/* idle children kept waiting */
	unsigned	 max_children;	/* idle and busy together */
	int		 splice;	/* --splice: a relay_io_path */
	unsigned	 pairs_per_child; /* then the child exits; 0: never */
	int		 sandbox;	/* lock each relaying child down */
	int		 syslog;	/* log to syslog, not stderr */
	int		 reuseport;	/* SO_REUSEPORT on our listeners */
	enum cli_mode	 mode;
	int		 status;	/* --status: print the scoreboard */
	long		 status_pid;	/* --status=PID, or 0 */
	int		 status_format;	/* --format: STATUS_TEXT, ... */
	enum log_level	 loglevel;
	struct acl	 acl;		/* --allow, --deny */
	int		 send_proxy;	/* --send-proxy: version 1 or 2; 0: no */
	int		 accept_proxy;	/* --accept-proxy */
	struct acl	 proxy_from;	/* --accept-proxy-from: allow rules */
	struct sockaddr_storage source;	/* --source, port 0 */
	socklen_t	 sourcelen;	/* 0: the kernel chooses */
	unsigned	 max_per_source; /* live pairs per source; 0: any */
	const char	*user, *group;	/* --user, --group: drop to them */
	const char	*chroot;	/* --chroot: the new root */
	int		 keepalive;	/* --keepalive: on both sockets */
	int		 ka_idle, ka_intvl, ka_cnt;	/* its timers */
};

/*
 * Parse argv into *cfg.  On --help or --version print and exit 0; on bad
 * input print one line naming the problem and the value, a hint, and exit
 * 2.  Strings in *cfg point into argv.
 */
void	cli_parse(int argc, char **argv, struct config *cfg);

/* A usage error found after parsing: one line, the hint, exit 2. */
void	cli_usage_error(const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));

#endif /* TCPPROXY_CLI_H */
