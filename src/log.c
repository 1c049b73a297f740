/*
 * log.c: the log sink.  Owns the level, the choice of sink and format,
 * and the syslog socket.  Every line after start-up goes through
 * log_msg() as one write(2) on stderr or one datagram to syslog, so lines
 * from many children never interleave mid-line.  Never logs payload;
 * strings from outside pass through log_sanitize() first.
 * Calls util for the clock.
 */
#ifdef __linux__
#include <sys/prctl.h>
/* What PR_GET_SECCOMP answers in a filtered process (linux/seccomp.h). */
#define SECCOMP_MODE_FILTER_NR	2
#endif
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "log.h"

#define SYSLOG_PATH	"/dev/log"
#define SYSLOG_DAEMON	(3 << 3)	/* the "daemon" facility */

static enum log_level	log_level = LOGL_INFO;
static int		log_journal;	/* stderr is journald's stream */
static int		log_to_syslog;	/* the sink is syslog, not stderr */
static int		log_syslog = -1; /* its socket; -1: connect first */
static enum { ERR_OTHER, ERR_PIPE, ERR_SOCKET } log_errkind;
static int		log_errfd = STDERR_FILENO; /* ERR_PIPE: non-blocking */

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd gave us as stderr. */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/*
 * log_init: choose the format and the level.
 */
void
log_init(enum log_level level)
{
	struct stat st;

	log_level = level;
	/*
	 * The time zone now, not at the first syslog line: a sandboxed
	 * child may not open /etc/localtime.
	 */
	tzset();
	log_journal = stderr_is_journal();
	log_errkind = ERR_OTHER;
	if (fstat(STDERR_FILENO, &st) == 0) {
		if (S_ISFIFO(st.st_mode))
			log_errkind = ERR_PIPE;
		else if (S_ISSOCK(st.st_mode))
			log_errkind = ERR_SOCKET;
	}
	/*
	 * A pipe or FIFO is opened again, non-blocking, through /proc: a
	 * descriptor of our own, so the O_NONBLOCK we need does not change
	 * the one we share with whoever started us.
	 */
	if (log_errkind == ERR_PIPE && (log_errfd = open("/proc/self/fd/2",
	    O_WRONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		log_errfd = STDERR_FILENO;
}

/*
 * One line to stderr without waiting: a child must not hang because
 * whoever reads its stderr (a pipe, journald's socket) has stopped
 * reading; the line is dropped instead.  Lines are shorter than PIPE_BUF,
 * so a pipe takes all of one or none of it.  A terminal or a file is
 * written as usual, and so is a pipe where /proc is missing.
 */
static ssize_t
write_nowait(const char *buf, size_t len)
{
	ssize_t n;

	if (log_errkind == ERR_SOCKET) {
		n = send(STDERR_FILENO, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n != -1 || errno != ENOTSOCK)
			return n;
		log_errkind = ERR_OTHER;
	}
	if (log_errkind == ERR_PIPE)
		return write(log_errfd, buf, len);
	return write(STDERR_FILENO, buf, len);
}

/* A non-blocking datagram socket connected to syslog, or -1. */
static int
syslog_connect(void)
{
	struct sockaddr_un sun;
	int fd, save;

#if defined(__linux__) && defined(PR_GET_SECCOMP)
	/* A sandboxed child may open nothing: drop its lines instead. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == SECCOMP_MODE_FILTER_NR) {
		errno = EPERM;
		return -1;
	}
#endif
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, SYSLOG_PATH, sizeof(SYSLOG_PATH));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		save = errno;
		(void)close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

/*
 * log_syslog_open: send lines to syslog(3)'s socket from now on.  Our own
 * non-blocking client rather than syslog(3), whose blocking send() would
 * stall a child behind a slow syslog daemon: a line that does not fit in
 * the socket's queue is dropped instead.
 */
int
log_syslog_open(void)
{
	if (log_syslog == -1 && (log_syslog = syslog_connect()) == -1)
		return -1;
	log_to_syslog = 1;
	log_journal = 0;
	return 0;
}

/*
 * log_stdio_inetd: inetd hands a server the connection as stdin, stdout
 * and stderr.  Anything written to stderr would then reach the client, so
 * before anything can be, stderr becomes a datagram socket to syslog
 * (/dev/null if there is none), line-buffered so that each message of
 * err(3) or a usage error is one datagram.  Returns 1 if it did so.
 */
int
log_stdio_inetd(void)
{
	struct stat in, er;
	int fd;

	if (fstat(STDIN_FILENO, &in) == -1 || !S_ISSOCK(in.st_mode) ||
	    fstat(STDERR_FILENO, &er) == -1 || in.st_dev != er.st_dev ||
	    in.st_ino != er.st_ino)
		return 0;
	if ((fd = syslog_connect()) == -1)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd != -1 && fd != STDERR_FILENO) {
		(void)dup2(fd, STDERR_FILENO);
		(void)close(fd);
	}
	(void)setvbuf(stderr, NULL, _IOLBF, 0);
	return 1;
}

/*
 * One line to syslog.  A daemon that was restarted refuses the old
 * socket: connect again, once per line, and drop the line if that fails.
 */
static void
syslog_send(const char *buf, size_t len)
{
	ssize_t n;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (log_syslog == -1 && (log_syslog = syslog_connect()) == -1)
			return;
		do
			n = send(log_syslog, buf, len, MSG_DONTWAIT |
			    MSG_NOSIGNAL);
		while (n == -1 && errno == EINTR);
		if (n != -1 || (errno != ECONNREFUSED && errno != ENOTCONN))
			return;		/* sent, or dropped (EAGAIN: full) */
		(void)close(log_syslog);
		log_syslog = -1;
	}
}

/* Timestamp or priority, then "tcpproxy[pid]: ". */
/* "tcpproxy[PID]: " after n bytes of buf. */
static size_t
pid_tag(char *buf, size_t size, size_t n)
{
	n = util_append(buf, size, n, "tcpproxy[");
	n = util_append_num(buf, size, n, (uint64_t)getpid(), 1);
	return util_append(buf, size, n, "]: ");
}

/* "2026-12-01T21:24:35.282Z " (UTC, milliseconds) into buf. */
static size_t
append_time(char *buf, size_t size, const struct tm *tm, long ms)
{
	static const char sep[] = "--T::.";
	const int v[] = { tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
	    tm->tm_hour, tm->tm_min, tm->tm_sec, (int)ms };
	char s[2] = { 0, 0 };
	size_t n = 0;
	int i;

	for (i = 0; i < 7; i++) {
		n = util_append_num(buf, size, n, (uint64_t)v[i],
		    i == 0 ? 4 : i == 6 ? 3 : 2);
		s[0] = i < 6 ? sep[i] : 'Z';
		n = util_append(buf, size, n, s);
	}
	return util_append(buf, size, n, " ");
}

static size_t
prefix(char *buf, size_t size, enum log_level level)
{
	/* syslog priorities: err, warning, info, debug */
	static const int prio[] = { 3, 4, 6, 7 };
	struct timespec ts;
	struct tm tm;
	int n;

	if (log_to_syslog) {
		/* RFC 3164, as syslog(3) sends it: local time, no year. */
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		(void)localtime_r(&ts.tv_sec, &tm);
		n = snprintf(buf, size, "<%d>", SYSLOG_DAEMON + prio[level]);
		if (n > 0 && (size_t)n < size)
			n += (int)strftime(buf + n, size - (size_t)n,
			    "%b %e %H:%M:%S ", &tm);
		if (n > 0 && (size_t)n < size)
			n += snprintf(buf + n, size - (size_t)n,
			    "tcpproxy[%ld]: ", (long)getpid());
	} else if (log_journal) {
		n = (int)util_append(buf, size, 0, "<");
		n = (int)util_append_num(buf, size, (size_t)n,
		    (uint64_t)prio[level], 1);
		n = (int)util_append(buf, size, (size_t)n, ">");
		n = (int)pid_tag(buf, size, (size_t)n);
	} else {
		/* By hand, not snprintf(): see util_append_num(). */
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		(void)gmtime_r(&ts.tv_sec, &tm);
		n = (int)append_time(buf, size, &tm, ts.tv_nsec / 1000000);
		n = (int)pid_tag(buf, size, (size_t)n);
	}
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* Send the line in buf[0..len), cut to fit with its newline. */
static void
emit(char *buf, size_t len)
{
	ssize_t n;

	if (len > LOG_LINE_MAX - 2)
		len = LOG_LINE_MAX - 2;
	if (log_to_syslog) {
		syslog_send(buf, len);
		return;
	}
	buf[len++] = '\n';
	/* One write keeps the line whole; a failed log line is dropped. */
	do
		n = write_nowait(buf, len);
	while (n == -1 && errno == EINTR);
}

static void __attribute__((format(printf, 2, 0)))
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t len;
	int n2, save = errno;

	len = prefix(buf, sizeof(buf), level);
	n2 = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (n2 < 0)
		n2 = 0;
	len += (size_t)n2;
	emit(buf, len);
	errno = save;
}

/*
 * log_msg: one line at level.
 */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/*
 * log_line: a line made already, without printf (see util_append_num()).
 */
void
log_line(enum log_level level, const char *line)
{
	char buf[LOG_LINE_MAX];
	size_t len;
	int save = errno;

	if (level > log_level)
		return;
	len = prefix(buf, sizeof(buf), level);
	len = util_append(buf, sizeof(buf), len, line);
	emit(buf, len);
	errno = save;
}

/*
 * log_limited: like log_msg, at most once per interval_ms per *last.
 */
void
log_limited(int64_t *last, int64_t interval_ms, enum log_level level,
    const char *fmt, ...)
{
	int64_t now = util_now_ms();
	va_list ap;

	if (level > log_level)
		return;
	if (*last != 0 && now - *last < interval_ms)
		return;
	*last = now;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/*
 * log_sanitize: printable ASCII only, cut to size - 1 characters.
 */
void
log_sanitize(char *dst, size_t size, const char *src)
{
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}
