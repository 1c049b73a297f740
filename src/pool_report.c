/*
 * pool_report.c: what the master tells systemd and the log about the
 * pool.  Owns the memory of the last STATUS= sent.  Counts are sent as
 * they change, at most once per REPORT_STATUS_MS, so that busy pools do
 * not flood systemd and idle ones are never woken.  Calls notify, title,
 * dest (for its error strings), netio and log.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "netio.h"
#include "notify.h"
#include "title.h"
#include "pool_report.h"

/*
 * report_tell: systemd's view: state (READY=1, STOPPING=1, ...) with a
 * STATUS= line.
 */
void
report_tell(struct report *r, const char *state, const struct slots *s,
    int stopping, int64_t now)
{
	if (!notify_enabled())
		return;
	char limit[96] = "";

	r->busy = s->count[SLOT_BUSY];
	r->idle = s->count[SLOT_IDLE];
	r->ended = s->served + s->failed;
	r->sent_waiting = r->waiting;
	r->status_at = now + REPORT_STATUS_MS;
	r->status_due = 0;
	if (r->waiting >= 0)
		(void)snprintf(limit, sizeof(limit), "; all children in use "
		    "(--max-children), %d client(s) waiting", r->waiting);
	else if (r->waiting == -2)
		(void)snprintf(limit, sizeof(limit), "; all children in use "
		    "(--max-children), clients wait");
	notify("%sSTATUS=%s%u open pair(s), %u idle children; %llu served, "
	    "%llu failed%s", state, stopping ? "stopping; " : "", r->busy,
	    r->idle, (unsigned long long)s->served,
	    (unsigned long long)s->failed, limit);
}

void
report_check(struct report *r, const struct slots *s, int stopping,
    int64_t now)
{
	if (!notify_enabled())
		return;
	if (s->count[SLOT_BUSY] == r->busy && s->count[SLOT_IDLE] == r->idle &&
	    s->served + s->failed == r->ended && r->waiting == r->sent_waiting) {
		r->status_due = 0;	/* changed and changed back */
		return;
	}
	if (now >= r->status_at)
		report_tell(r, "", s, stopping, now);
	else
		r->status_due = 1;
}

/*
 * report_waiting: the clients in the listen queues, for STATUS= (-2 if
 * unknown); nothing is asked when nobody is told.
 */
int
report_waiting(const int *lfds, int nlfd)
{
	int i, n, sum = 0;

	if (!notify_enabled())
		return -1;
	for (i = 0; i < nlfd; i++) {
		if ((n = netio_queued(lfds[i])) < 0)
			return -2;
		sum += n;
	}
	return sum;
}

int64_t
report_wake(const struct report *r)
{
	return r->status_due ? r->status_at : -1;
}

/* The destination's addresses, space-separated. */
static void
fmt_dest(const struct dest *dest, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < dest->n && len + 2 < size; i++) {
		if (i > 0)
			buf[len++] = ' ';
		netio_fmtaddr((const struct sockaddr *)&dest->addr[i].ss,
		    dest->addr[i].len, buf + len, size - len);
		len = strlen(buf);
	}
}

/* The listening sockets' addresses, space-separated. */
static void
fmt_listeners(const int *lfds, int nlfd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < nlfd && n + 2 < size; i++) {
		len = sizeof(ss);
		if (getsockname(lfds[i], (struct sockaddr *)&ss, &len) == -1)
			continue;
		if (n > 0)
			buf[n++] = ' ';
		netio_fmtaddr((struct sockaddr *)&ss, len, buf + n, size - n);
		n = strlen(buf);
	}
}

/*
 * report_start: "listening on ..., forwarding to ..." and the title
 * "master LISTENERS > HOST:PORT".
 */
void
report_start(const struct config *cfg, unsigned spare,
    const struct dest *dest, const int *lfds, int nlfd)
{
	char host[256], addrs[512], names[512];
	int v6;

	fmt_listeners(lfds, nlfd, names, sizeof(names));
	log_sanitize(host, sizeof(host), cfg->dest_host);
	fmt_dest(dest, addrs, sizeof(addrs));
	log_msg(LOGL_INFO, "listening on %s, forwarding to %s port %s (%s); "
	    "%u spare, at most %u children", names, host, cfg->dest_port,
	    addrs, spare, cfg->max_children);
	v6 = strchr(host, ':') != NULL;	/* an IPv6 literal, bracketed */
	title_set("master", names, " > ", v6 ? "[" : "", host, v6 ? "]" : "",
	    ":", cfg->dest_port, (const char *)NULL);
}

void
report_reload(const struct config *cfg, const struct dest *dest, int rc,
    int changed)
{
	char host[256], addrs[512];

	log_sanitize(host, sizeof(host), cfg->dest_host);
	if (rc != 0)
		log_msg(LOGL_WARN, "reload: cannot resolve '%s': %s; keeping "
		    "the old addresses", host, dest_strerror(rc));
	else if (changed) {
		fmt_dest(dest, addrs, sizeof(addrs));
		log_msg(LOGL_INFO, "reload: %s now resolves to %s", host,
		    addrs);
	} else
		log_msg(LOGL_INFO, "reload: %s unchanged", host);
}

void
report_counts(const struct slots *s)
{
	log_msg(LOGL_INFO, "pool: %u idle, %u busy, %u retiring; %llu pairs "
	    "served, %llu failed; %llu bytes up, %llu down in ended pairs; "
	    "%llu children forked, %llu fork failures",
	    s->count[SLOT_IDLE], s->count[SLOT_BUSY], s->count[SLOT_RETIRING],
	    (unsigned long long)s->served, (unsigned long long)s->failed,
	    (unsigned long long)s->bytes_up, (unsigned long long)s->bytes_down,
	    (unsigned long long)s->spawned, (unsigned long long)s->fork_failed);
}
