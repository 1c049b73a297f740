/*
 * priv.h: giving up root once what needs it is open.
 */
#ifndef TCPPROXY_PRIV_H
#define TCPPROXY_PRIV_H

struct config;

/*
 * What --chroot, --user and --group ask for, once all that may need root
 * is open: the new root, then the user (a name or a number; its primary
 * group unless --group is given) and group, with no supplementary groups,
 * for good: setgroups, setgid, setuid in that order, then a check that
 * root cannot be had back.  Exits with one line (err(3)) on any failure.
 */
void	priv_apply(const struct config *);

/* Neither given and running as root: say so, once. */
void	priv_warn_root(const struct config *);

#endif /* TCPPROXY_PRIV_H */
