/*
 * cli_opts.c: the option table: every option's names and code for
 * getopt_long(), and the --help text that describes them (the man page
 * says the same at length; a test holds the two together).  Owns only
 * constant data.  Calls nothing of the project.
 */
#include <getopt.h>
#include <stddef.h>

#include "cli_opts.h"

const char cli_usage_text[] =
"usage: tcpproxy [options] destination-host destination-port [listen-port]\n"
"\n"
"Accept TCP connections on listen-port and relay each one to\n"
"destination-host:destination-port, both ways, until both sides are done.\n"
"Under systemd or inetd the listening (or connected) socket is passed in,\n"
"and listen-port may be left out.\n"
"\n"
"Options:\n"
"      --accept-proxy          every client starts with a PROXY protocol\n"
"                              header (v1 or v2); its address is the client\n"
"      --accept-proxy-from=CIDR\n"
"                              only peers in CIDR may send one (repeatable;\n"
"                              the balancers); others are refused\n"
"      --allow=CIDR            let clients from CIDR connect (repeatable;\n"
"                              with any, a client no rule names is refused)\n"
"  -b, --buffer-size=BYTES     buffer per direction of a pair (default 64k;\n"
"                              1k to 64m, suffix k or m)\n"
"      --chroot=DIR            change the root to DIR once the sockets and\n"
"                              the log are open (names are resolved again\n"
"                              there on SIGHUP: see tcpproxy(1))\n"
"  -c, --connect-timeout=SECS  time to connect to each destination address\n"
"                              (default 10)\n"
"      --deny=CIDR             refuse clients from CIDR (repeatable; the\n"
"                              first --allow or --deny that matches decides)\n"
"      --drain-timeout=SECS    on SIGTERM, end pairs still open after SECS\n"
"                              (default 60; 0: wait for them however long)\n"
"  -g, --group=GROUP           run as GROUP once the sockets are open\n"
"                              (default: the --user's primary group)\n"
"      --idle-timeout=SECS     end a pair after SECS with nothing moving\n"
"                              either way (default never)\n"
"      --keepalive[=IDLE[,INTVL[,CNT]]]\n"
"                              TCP keepalive on both sockets of a pair:\n"
"                              probe after IDLE s of silence, every INTVL s,\n"
"                              give up after CNT probes (default 60,10,6)\n"
"  -l, --listen-address=ADDR   listen on ADDR (repeatable; IPv6 with or\n"
"                              without brackets; default: every address)\n"
"  -m, --max-children=N        most pairs served at once; more clients wait\n"
"                              in the listen queue (default 4096)\n"
"      --max-per-source=N      most live pairs per client address (IPv4\n"
"                              address, IPv6 /64); more are refused\n"
"      --pair-max-bytes=BYTES  abort a pair once it relayed BYTES both ways\n"
"                              together (suffix k, m or g; default no limit)\n"
"      --pair-max-seconds=SECS abort a pair SECS after its client arrived\n"
"                              (default no limit)\n"
"      --pairs-per-child=N     a child serves N pairs one after the other,\n"
"                              then exits (default 1; 0: no limit)\n"
"      --no-sandbox            let children make any system call (by\n"
"                              default each is locked down: seccomp)\n"
"      --no-splice             the same as --splice=never\n"
"      --reuseport             SO_REUSEPORT on the listening sockets, so that a\n"
"                              new tcpproxy can take the port over from a\n"
"                              draining one (see tcpproxy(1))\n"
"      --resolve-every=SECS    resolve the destination again that often and\n"
"                              replace idle children when it changed\n"
"                              (default: only on SIGHUP)\n"
"      --send-proxy=v1|v2      send the destination a PROXY protocol header\n"
"                              with the client's address first\n"
"      --splice=auto|always|never\n"
"                              move bytes by splice(2) through pipes, or by\n"
"                              copying, or per direction by the traffic\n"
"                              (default auto; splice is Linux only)\n"
"      --source=ADDR           connect to the destination from ADDR (an IPv4\n"
"                              or IPv6 address of this host)\n"
"  -s, --spare=N               idle children kept ready to accept (default 8)\n"
"      --standalone            listen on listen-port; ignore passed sockets\n"
"      --status[=PID]          print the live pairs of the running tcpproxy\n"
"                              (the only one, or master PID) and exit\n"
"      --format=FORMAT         --status as text (the default), json, or\n"
"                              prometheus (with the pool's totals)\n"
"      --systemd               use the sockets systemd passes (LISTEN_FDS)\n"
"      --inetd                 use the socket inetd passes on standard input\n"
"      --syslog                log to syslog instead of standard error\n"
"  -t, --stall-timeout=SECS    abort a pair whose buffered data could not be\n"
"                              written for SECS (default 10)\n"
"  -u, --user=USER             run as USER once the sockets and the log are\n"
"                              open (a name or a number)\n"
"  -q, --quiet                 log only warnings and errors\n"
"  -v, --verbose               log pool events too\n"
"  -h, --help                  show this help and exit\n"
"  -V, --version               show the version and exit\n"
"\n"
"SECS may have up to three decimals (0.5).  See tcpproxy(1).\n";

const struct option cli_longopts[] = {
	{ "accept-proxy",	no_argument,		NULL, OPT_ACCPROXY },
	{ "accept-proxy-from",	required_argument,	NULL, OPT_PROXYFROM },
	{ "allow",		required_argument,	NULL, OPT_ALLOW },
	{ "deny",		required_argument,	NULL, OPT_DENY },
	{ "buffer-size",	required_argument,	NULL, 'b' },
	{ "chroot",		required_argument,	NULL, OPT_CHROOT },
	{ "connect-timeout",	required_argument,	NULL, 'c' },
	{ "drain-timeout",	required_argument,	NULL, OPT_DRAIN },
	{ "idle-timeout",	required_argument,	NULL, OPT_IDLE },
	{ "keepalive",		optional_argument,	NULL, OPT_KEEPALIVE },
	{ "listen-address",	required_argument,	NULL, 'l' },
	{ "max-children",	required_argument,	NULL, 'm' },
	{ "max-per-source",	required_argument,	NULL, OPT_PERSOURCE },
	{ "user",		required_argument,	NULL, 'u' },
	{ "group",		required_argument,	NULL, 'g' },
	{ "pair-max-bytes",	required_argument,	NULL, OPT_MAXBYTES },
	{ "pair-max-seconds",	required_argument,	NULL, OPT_MAXSECS },
	{ "no-splice",		no_argument,		NULL, OPT_NOSPLICE },
	{ "splice",		required_argument,	NULL, OPT_SPLICE },
	{ "pairs-per-child",	required_argument,	NULL, OPT_PERCHILD },
	{ "no-sandbox",		no_argument,		NULL, OPT_NOSANDBOX },
	{ "resolve-every",	required_argument,	NULL, OPT_RESOLVE },
	{ "reuseport",		no_argument,		NULL, OPT_REUSEPORT },
	{ "send-proxy",		required_argument,	NULL, OPT_SENDPROXY },
	{ "source",		required_argument,	NULL, OPT_SOURCE },
	{ "spare",		required_argument,	NULL, 's' },
	{ "standalone",		no_argument,		NULL, OPT_STANDALONE },
	{ "status",		optional_argument,	NULL, OPT_STATUS },
	{ "format",		required_argument,	NULL, OPT_FORMAT },
	{ "systemd",		no_argument,		NULL, OPT_SYSTEMD },
	{ "inetd",		no_argument,		NULL, OPT_INETD },
	{ "syslog",		no_argument,		NULL, OPT_SYSLOG },
	{ "stall-timeout",	required_argument,	NULL, 't' },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};
const char cli_shortopts[] = ":b:c:g:l:m:s:t:u:qvhV";

/*
 * cli_optname: the long name of option c, for messages.
 */
const char *
cli_optname(int c)
{
	const struct option *o;

	for (o = cli_longopts; o->name != NULL; o++)
		if (o->val == c)
			return o->name;
	return "?";
}
