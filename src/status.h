/*
 * status.h: tcpproxy --status, the scoreboard's reader.
 */
#ifndef TCPPROXY_STATUS_H
#define TCPPROXY_STATUS_H

/*
 * Print the live pairs of the running instance (the only one, or master
 * pid if not 0) on stdout and return the exit status: 0, or 1 with one
 * line on stderr.
 */
int	status_print(long pid);

#endif /* TCPPROXY_STATUS_H */
