/*
 * status.h: tcpproxy --status, the scoreboard's reader.
 */
#ifndef TCPPROXY_STATUS_H
#define TCPPROXY_STATUS_H

enum status_format { STATUS_TEXT, STATUS_JSON, STATUS_PROMETHEUS };

/*
 * Print the live pairs of the running instance (the only one, or master
 * pid if not 0) on stdout, as a table (text) or with the pool's totals
 * (json, prometheus), and return the exit status: 0, or 1 with one line
 * on stderr.
 */
int	status_print(long pid, enum status_format);

#endif /* TCPPROXY_STATUS_H */
