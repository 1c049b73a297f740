/*
 * log.h: the one place that writes log lines after start-up.
 */
#ifndef TCPPROXY_LOG_H
#define TCPPROXY_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN,
	LOGL_INFO,
	LOGL_DEBUG
};

/* Longest line written; longer ones are cut. */
#define LOG_LINE_MAX	1024

/*
 * Choose the sink: stderr, with "<N>" priority prefixes and no timestamp
 * when it is journald's stream (JOURNAL_STREAM matches stderr), else with
 * a UTC timestamp.  Lines above level are dropped.
 */
void	log_init(enum log_level level);

/*
 * From now on, log to the local syslog daemon (/dev/log), facility
 * daemon, without blocking.  -1 with errno if it cannot be reached.
 */
int	log_syslog_open(void);

/*
 * If stderr is the socket on stdin (inetd), point it at syslog before
 * anything is written there; 1 if so.  Call first thing.
 */
int	log_stdio_inetd(void);

/* One line at level; a trailing newline is added. */
void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The same, for a line without conversions. */
void	log_line(enum log_level, const char *line);

/* At most one line per interval_ms for *last (a caller-owned clock). */
void	log_limited(int64_t *last, int64_t interval_ms, enum log_level,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Copy src into dst (size > 0) as printable ASCII, cut to fit. */
void	log_sanitize(char *dst, size_t size, const char *src);

#endif /* TCPPROXY_LOG_H */
