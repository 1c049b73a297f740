/*
 * main.c: parse the command line, resolve, listen, hand off to the pool.
 * Nothing else happens here.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>

#include "cli.h"
#include "dest.h"
#include "listen.h"
#include "log.h"
#include "pool.h"

int
main(int argc, char **argv)
{
	struct config cfg;
	struct dest dest;
	char host[256];
	int lfds[LISTEN_MAX], nlfd, rc;

#ifdef __GLIBC__
	/* err(3) says "tcpproxy:" like every other message, whatever the
	 * binary is called (tcpproxy-asan, a renamed copy). */
	program_invocation_short_name = "tcpproxy";
#endif
	cli_parse(argc, argv, &cfg);
	log_init(cfg.loglevel);
	if ((rc = dest_resolve(cfg.dest_host, cfg.dest_port, &dest)) != 0) {
		log_sanitize(host, sizeof(host), cfg.dest_host);
		errx(1, "cannot resolve destination '%s': %s", host,
		    dest_strerror(rc));
	}
	if ((nlfd = listen_open(cfg.listen_addr, cfg.listen_port, lfds)) == -1)
		exit(1);
	return pool_run(&cfg, &dest, lfds, nlfd);
}
