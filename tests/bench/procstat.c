/*
 * procstat: account for, or signal, every process of one session.
 *
 *   procstat stat SID [MINSTART]
 *                          one line: procs, zombies, threads, CPU ticks
 *                          (utime+stime+cutime+cstime, so children the
 *                          session reaped still count), Pss and private
 *                          KiB (smaps_rollup), context switches (voluntary
 *                          and involuntary, summed over every thread)
 *   procstat start PID     the start time of PID (clock ticks after boot)
 *   procstat kill SIG SID MINSTART
 *                          send SIG to each process of session SID that
 *                          started at or after MINSTART and is not a
 *                          zombie; print how many
 *
 * The benchmark starts every candidate with setsid(1), so its session id
 * is the pid it started, and all that the candidate forks stays in it.
 * MINSTART guards against a recycled pid: a process older than the session
 * leader cannot be one of its descendants.  Reads /proc only; the one
 * thing it changes is the signals it is asked to send.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STAT_BUFSZ	1024

struct pinfo {
	char		 state;
	long		 session;
	unsigned long long ticks;	/* utime+stime+cutime+cstime */
	long		 threads;
	unsigned long long start;	/* field 22 */
};

struct totals {
	long		 procs, zombies, threads;
	unsigned long long ticks, pss_kib, priv_kib, csw;
};

static int
read_file(const char *path, char *buf, size_t size)
{
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* Parse /proc/PID/stat; -1 if the process is gone. */
static int
read_stat(long pid, struct pinfo *pi)
{
	char path[64], buf[STAT_BUFSZ], *p;
	unsigned long long ut, st, cut, cst;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (read_file(path, buf, sizeof(buf)) == -1)
		return -1;
	/* The command name may hold spaces and parentheses: skip past it. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 2, "%c %*d %*d %ld %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %llu %llu %*d %*d %ld %*d %llu", &pi->state,
	    &pi->session, &ut, &st, &cut, &cst, &pi->threads,
	    &pi->start) != 8)
		return -1;
	pi->ticks = ut + st + cut + cst;
	return 0;
}

/* The value of the first line of path starting with key, in its units. */
static unsigned long long
field(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	unsigned long long v = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0) {
			v = strtoull(line + klen, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static unsigned long long
ctx_switches(long pid)
{
	char path[96];
	struct dirent *d;
	unsigned long long sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/status",
		    pid, d->d_name);
		sum += field(path, "voluntary_ctxt_switches:");
		sum += field(path, "nonvoluntary_ctxt_switches:");
	}
	closedir(dir);
	return sum;
}

static void
add_process(long pid, const struct pinfo *pi, struct totals *t)
{
	char path[64];

	t->procs++;
	t->ticks += pi->ticks;
	if (pi->state == 'Z') {
		t->zombies++;
		return;
	}
	t->threads += pi->threads;
	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	t->pss_kib += field(path, "Pss:");
	t->priv_kib += field(path, "Private_Clean:");
	t->priv_kib += field(path, "Private_Dirty:");
	t->csw += ctx_switches(pid);
}

/*
 * Call fn for every process of session sid that started at or after
 * minstart.
 */
static void
each_member(long sid, unsigned long long minstart,
    void (*fn)(long, const struct pinfo *, void *), void *arg)
{
	struct dirent *d;
	struct pinfo pi;
	DIR *dir;
	long pid;

	if ((dir = opendir("/proc")) == NULL)
		err(1, "/proc");
	while ((d = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = strtol(d->d_name, NULL, 10);
		if (read_stat(pid, &pi) == 0 && pi.session == sid &&
		    pi.start >= minstart)
			fn(pid, &pi, arg);
	}
	closedir(dir);
}

static void
stat_one(long pid, const struct pinfo *pi, void *arg)
{
	add_process(pid, pi, arg);
}

struct killing {
	int	 sig;
	long	 sent;
};

static void
kill_one(long pid, const struct pinfo *pi, void *arg)
{
	struct killing *k = arg;

	if (pi->state == 'Z')
		return;		/* dead, waiting for its parent */
	if (kill((pid_t)pid, k->sig) == 0)
		k->sent++;
	else if (errno != ESRCH)
		warn("kill %ld", pid);
}

static long
number(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0)
		errx(2, "invalid %s '%s'", what, s);
	return v;
}

static long
session(const char *s)
{
	long sid = number(s, "session");

	/* 0 is the kernel threads' session, 1 is init's: never ours. */
	if (sid <= 1)
		errx(2, "refusing session %ld", sid);
	return sid;
}

static void
usage(void)
{
	fprintf(stderr, "usage: procstat stat SID [MINSTART]\n"
	    "       procstat start PID\n"
	    "       procstat kill SIG SID MINSTART\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct totals t;
	struct killing k;
	struct pinfo pi;

	if ((argc == 3 || argc == 4) && strcmp(argv[1], "stat") == 0) {
		memset(&t, 0, sizeof(t));
		each_member(session(argv[2]), argc == 4 ?
		    (unsigned long long)number(argv[3], "start time") : 0,
		    stat_one, &t);
		printf("procs=%ld zombies=%ld threads=%ld ticks=%llu "
		    "pss_kib=%llu priv_kib=%llu csw=%llu\n", t.procs,
		    t.zombies, t.threads, t.ticks, t.pss_kib, t.priv_kib,
		    t.csw);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "start") == 0) {
		if (read_stat(number(argv[2], "pid"), &pi) == -1)
			return 1;
		printf("%llu\n", pi.start);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "kill") == 0) {
		k.sig = (int)number(argv[2], "signal");
		k.sent = 0;
		each_member(session(argv[3]),
		    (unsigned long long)number(argv[4], "start time"),
		    kill_one, &k);
		printf("%ld\n", k.sent);
		return 0;
	}
	usage();
	return 2;
}
