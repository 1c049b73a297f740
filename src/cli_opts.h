/*
 * cli_opts.h: the option table and the --help text.
 */
#ifndef TCPPROXY_CLI_OPTS_H
#define TCPPROXY_CLI_OPTS_H

#include <getopt.h>

/* Long options without a short form: their getopt_long() codes. */
#define OPT_NOSPLICE	256
#define OPT_SYSLOG	257
#define OPT_STANDALONE	258
#define OPT_SYSTEMD	259
#define OPT_INETD	260
#define OPT_DRAIN	261
#define OPT_MAXSECS	262
#define OPT_MAXBYTES	263
#define OPT_STATUS	264
#define OPT_ALLOW	265
#define OPT_DENY	266
#define OPT_IDLE	267
#define OPT_KEEPALIVE	268
#define OPT_PERSOURCE	269
#define OPT_NOSANDBOX	270
#define OPT_CHROOT	271
#define OPT_SENDPROXY	272
#define OPT_ACCPROXY	273
#define OPT_PROXYFROM	274
#define OPT_SOURCE	275
#define OPT_RESOLVE	276
#define OPT_REUSEPORT	277
#define OPT_FORMAT	278
#define OPT_SPLICE	279
#define OPT_PERCHILD	280

extern const struct option	cli_longopts[];
extern const char		cli_shortopts[];
extern const char		cli_usage_text[];

/* The long name of option c ("spare" for 's'), for messages. */
const char	*cli_optname(int c);

#endif /* TCPPROXY_CLI_OPTS_H */
