/*
 * main.c: parse the command line, find or open the listening sockets,
 * resolve, and hand off: to the pool, or for a single connection passed
 * by systemd (Accept=yes) or inetd (nowait) straight to the child code.
 * Nothing else happens here.  Calls cli, status, activate, listen, dest,
 * priv, pool, child, acl, log, notify and title.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activate.h"
#include "child.h"
#include "cli.h"
#include "dest.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "pool.h"
#include "priv.h"
#include "status.h"
#include "title.h"

/*
 * Descriptors 0, 1 and 2 that are closed at start are opened on /dev/null,
 * before anything else: else the next socket would take one of them, and
 * a log line written to stderr would go to a client.
 */
static void
stdio_fill(void)
{
	int fd;

	/* In order: the lowest free descriptor is the one being filled. */
	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != fd)
			exit(1);	/* no stderr to say so on */
}

int
main(int argc, char **argv)
{
	struct activation act;
	struct config cfg;
	struct dest dest;
	char host[256];
	int lfds[LISTEN_MAX], nlfd = 0, rc, inetd_stdio;

#ifdef __GLIBC__
	/* err(3) says "tcpproxy:" like every other message, whatever the
	 * binary is called (tcpproxy-asan, a renamed copy). */
	program_invocation_short_name = "tcpproxy";
#endif
	stdio_fill();
	inetd_stdio = log_stdio_inetd();	/* before any message */
	title_init(argc, argv);		/* before anything keeps argv */
	cli_parse(argc, argv, &cfg);
	if (cfg.status)
		return status_print(cfg.status_pid,
		    (enum status_format)cfg.status_format);
	/* Passed descriptors first: the log may open one (a FIFO on stderr). */
	activate(&cfg, &act);
	log_init(cfg.loglevel);
	if (act.kind == ACT_NONE && cfg.listen_port == NULL)
		cli_usage_error("missing listen-port, and no socket was passed "
		    "by systemd or inetd");
	/* inetd's stderr was the client: syslog, or no log at all. */
	if ((cfg.syslog || inetd_stdio) &&
	    log_syslog_open() == -1 && cfg.syslog)
		err(1, "cannot log to syslog (/dev/log)");
	notify_init();
	if ((rc = dest_resolve(cfg.dest_host, cfg.dest_port, &dest)) != 0) {
		log_sanitize(host, sizeof(host), cfg.dest_host);
		errx(1, "cannot resolve destination '%s': %s", host,
		    dest_strerror(rc));
	}
	if (act.kind == ACT_NONE && (nlfd = listen_open(cfg.listen_addr,
	    cfg.nlisten_addr, cfg.listen_port, cfg.reuseport, lfds)) == -1)
		exit(1);
	switch (act.kind) {
	case ACT_CONNECTED:
		priv_apply(&cfg);
		child_single(&cfg, &dest, act.fds[0]);
		/* NOTREACHED */
	case ACT_LISTEN:
		log_msg(LOGL_DEBUG, "using %d socket(s) passed by %s%s%s%s",
		    act.nfd, act.source, act.names[0] != '\0' ? " (" : "",
		    act.names, act.names[0] != '\0' ? ")" : "");
		memcpy(lfds, act.fds, sizeof(lfds));
		nlfd = act.nfd;
		break;
	case ACT_NONE:
		break;
	}
	rc = pool_run(&cfg, &dest, lfds, nlfd, act.kind == ACT_NONE);
	acl_free(&cfg.acl);
	acl_free(&cfg.proxy_from);
	return rc;
}
