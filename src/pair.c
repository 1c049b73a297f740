/*
 * pair.c: one pair's life after accept(): connect to the destination, run
 * the relay, then end through drop_pair(), the one way out, which closes
 * both sides as the reason says, writes the summary line and returns the
 * status the master reads, for the child to exit with (or to go on to
 * another pair).  Owns the two connected sockets, the child's title and
 * its scoreboard slot; never resolves names (the master did).  Sends the destination a PROXY header first if asked.  Locks
 * itself down (sandbox) once it relays.  Calls upstream, relay_io, relay,
 * end, proxyhdr, sandbox, netio, scoreboard, title, sig, log and util.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "end.h"
#include "log.h"
#include "netio.h"
#include "proxyhdr.h"
#include "relay_io.h"
#include "sandbox.h"
#include "sig.h"
#include "title.h"
#include "upstream.h"
#include "util.h"
#include "pair.h"

_Static_assert(END_NREASONS <= SB_NREASONS, "the scoreboard counts every end");

static const char *const side_name[] = { "client", "upstream" };
static const char *const dir_name[] = { "up", "down" };

struct pair {
	char		 client[NETIO_ADDRSTRLEN];
	char		 upstream[NETIO_ADDRSTRLEN];
	int64_t		 start;
	int		 fd[2];		/* by side; -1: not open */
	struct sb_slot	*sb;
	uint64_t	 shown;		/* bytes the scoreboard has */
	int		 draining;	/* title and scoreboard say so */
	const struct config *cfg;
	int		 reuse;		/* the process serves more pairs */
	const struct dest *dest;	/* while connecting */
	struct relay	 relay;		/* its end: why the pair ended */
};

/* " detail=..." as the reason's table line asks, into buf. */
static void
fmt_detail(const struct relay *r, enum end_detail kind, char *buf,
    size_t size)
{
	size_t n = 0;

	if (kind != END_DETAIL_NONE)
		n = util_append(buf, size, n, " detail=");
	if (kind == END_DETAIL_DIR && r->end_dir != -1)
		n = util_append(buf, size, n, dir_name[r->end_dir]);
	else if (kind != END_DETAIL_NONE)
		n = util_append(buf, size, n, util_errname(r->end_err));
	if (kind == END_DETAIL_SIDE && r->end_side != -1) {
		n = util_append(buf, size, n, " side=");
		n = util_append(buf, size, n, side_name[r->end_side]);
	}
	buf[n] = '\0';
}

static void
summary(const struct pair *p, const struct end_info *e)
{
	int64_t ms = util_now_ms() - p->start;
	char line[LOG_LINE_MAX / 2];
	size_t n;

	n = util_append(line, sizeof(line), 0, "pair client=");
	n = util_append(line, sizeof(line), n, p->client);
	n = util_append(line, sizeof(line), n, " upstream=");
	n = util_append(line, sizeof(line), n, p->upstream);
	n = util_append(line, sizeof(line), n, " up=");
	n = util_append_num(line, sizeof(line), n,
	    p->relay.dir[RELAY_UP].nout, 1);
	n = util_append(line, sizeof(line), n, " down=");
	n = util_append_num(line, sizeof(line), n,
	    p->relay.dir[RELAY_DOWN].nout, 1);
	n = util_append(line, sizeof(line), n, " duration=");
	n = util_append_num(line, sizeof(line), n, (uint64_t)(ms / 1000), 1);
	n = util_append(line, sizeof(line), n, ".");
	n = util_append_num(line, sizeof(line), n, (uint64_t)(ms % 1000), 3);
	n = util_append(line, sizeof(line), n, "s reason=");
	n = util_append(line, sizeof(line), n, e->name);
	fmt_detail(&p->relay, e->detail, line + n, sizeof(line) - n);
	/* One line, made without printf: see util_append_num(). */
	log_line(e->warn ? LOGL_WARN : LOGL_INFO, line);
}

/*
 * Close what is open, with a reset if the reason says so, and log the
 * summary: the table's line for the pair's end.
 */
static const struct end_info *
close_pair(struct pair *p)
{
	const struct end_info *e = end_info(p->relay.end);
	int s;

	for (s = 0; s < 2; s++) {
		if (p->fd[s] == -1)
			continue;
		if (e->abort)
			netio_abort(p->fd[s]);
		else
			(void)close(p->fd[s]);
	}
	summary(p, e);
	sb_count_end((unsigned)p->relay.end, p->relay.dir[RELAY_UP].nout,
	    p->relay.dir[RELAY_DOWN].nout);
	return e;
}

/* The one way out of a pair, after spiped's dropconn(). */
static void
drop_pair(struct pair *p, struct pair_result *res)
{
	res->exit = close_pair(p)->exit;
	res->reason = p->relay.end;
	res->up = p->relay.dir[RELAY_UP].nout;
	res->down = p->relay.dir[RELAY_DOWN].nout;
}

/* A pair with client cfd from peer, before anything is done with it. */
static void
pair_open(struct pair *p, const struct config *cfg, int cfd,
    const struct sockaddr *peer, socklen_t peerlen, struct sb_slot *sb)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->start = util_now_ms();
	p->fd[RELAY_CLIENT] = cfd;
	p->fd[RELAY_UPSTREAM] = -1;
	p->sb = sb;
	relay_init(&p->relay, cfg->bufsize, cfg->stall_ms);
	netio_fmtaddr(peer, peerlen, p->client, sizeof(p->client));
	p->upstream[0] = '-';	/* no snprintf(): see netio_fmtaddr() */
}

/*
 * pair_refuse: end the client cfd at once for reason, with its log line,
 * and return.
 */
void
pair_refuse(const struct config *cfg, int cfd, const struct sockaddr *peer,
    socklen_t peerlen, int64_t since, enum end_reason reason, int err)
{
	struct pair p;

	pair_open(&p, cfg, cfd, peer, peerlen, NULL);
	if (since != 0)
		p.start = since;
	relay_end(&p.relay, reason, err);
	(void)close_pair(&p);
}

/* What a failed connect()'s errno means for the summary. */
static enum end_reason
connect_reason(int err)
{
	if (err == ECONNREFUSED)
		return END_REFUSED;
	if (err == ETIMEDOUT)
		return END_TIMEOUT;
	if (netio_resource_err(err))
		return END_SHORT;
	return END_UNREACHABLE;
}

/* upstream_connect()'s news: the address tried now names the upstream. */
static void
trying(void *arg, int idx)
{
	struct pair *p = arg;
	const struct dest_addr *a = &p->dest->addr[idx];

	netio_fmtaddr((const struct sockaddr *)&a->ss, a->len, p->upstream,
	    sizeof(p->upstream));
}

static void
failed(void *arg, int idx, int err)
{
	struct pair *p = arg;
	const struct dest_addr *a = &p->dest->addr[idx];
	char name[NETIO_ADDRSTRLEN];

	netio_fmtaddr((const struct sockaddr *)&a->ss, a->len, name,
	    sizeof(name));
	log_msg(LOGL_DEBUG, "connect to %s: %s", name, strerror(err));
}

/*
 * Connect to the destination (upstream.c races its addresses).  Returns 0
 * with p->fd[RELAY_UPSTREAM] connected, or -1 with the reason recorded in
 * p->relay.
 */
static int
connect_upstream(const struct config *cfg, const struct dest *dest,
    struct pair *p)
{
	struct upstream u;

	memset(&u, 0, sizeof(u));
	u.dest = dest;
	u.src = (const struct sockaddr *)&cfg->source;
	u.srclen = cfg->sourcelen;
	u.connect_ms = cfg->connect_ms;
	/* --pair-max-seconds counts from the client's arrival, connect too. */
	u.end_at = cfg->pair_max_ms != 0 ? p->start + cfg->pair_max_ms : 0;
	u.waitmask = sig_waitmask();
	u.signals = PAIR_SIGNALS;
	u.client = p->fd[RELAY_CLIENT];
	u.trying = trying;
	u.failed = failed;
	u.arg = p;
	p->dest = dest;
	switch (upstream_connect(&u)) {
	case UPSTREAM_OK:
		p->fd[RELAY_UPSTREAM] = u.fd;
		trying(p, u.idx);
		return 0;
	case UPSTREAM_SIGNAL:
		relay_end(&p->relay, END_SIGNAL, 0);
		break;
	case UPSTREAM_MAXTIME:
		relay_end(&p->relay, END_MAXTIME, 0);
		break;
	case UPSTREAM_CLIENT_GONE:
		relay_end_side(&p->relay, END_RESET, RELAY_CLIENT, u.err);
		break;
	case UPSTREAM_FAILED:
		relay_end(&p->relay, connect_reason(u.err), u.err);
		break;
	}
	return -1;
}

/*
 * relay_io's ready callback: the pair has all it needs open; from here on
 * it can only relay (sandbox.c).
 */
static void
lockdown(void *arg)
{
	const struct pair *p = arg;

	/* A child that goes back to accept() stays in the idle stage. */
	if (p->cfg->sandbox && !p->reuse && sandbox_pair() == -1 &&
	    errno != ENOSYS)
		log_msg(LOGL_WARN, "pair client=%s: no sandbox: %s",
		    p->client, strerror(errno));
}

/* relay_io's progress callback: the scoreboard and title, on change. */
static void
progress(void *arg, const struct relay *r, int64_t now)
{
	struct pair *p = arg;
	uint64_t up = r->dir[RELAY_UP].nout, down = r->dir[RELAY_DOWN].nout;

	if (up + down != p->shown) {
		p->shown = up + down;
		sb_counts(p->sb, up, down, now);
	}
	if (!p->draining && (r->dir[RELAY_UP].eof || r->dir[RELAY_DOWN].eof)) {
		p->draining = 1;
		sb_state(p->sb, SB_DRAINING);
		title_set("drain", p->client, " > ", p->upstream,
		    (const char *)NULL);
	}
}

/* The socket options of either side of a pair. */
static void
tune(const struct config *cfg, int fd)
{
	netio_nodelay(fd);
	if (cfg->keepalive)
		netio_keepalive(fd, cfg->ka_idle, cfg->ka_intvl, cfg->ka_cnt);
}

static void
relay(const struct config *cfg, struct pair *p)
{
	struct relay_io_cfg rc;

	tune(cfg, p->fd[RELAY_UPSTREAM]);
	sb_upstream(p->sb, p->upstream);
	title_set("relay", p->client, " > ", p->upstream, (const char *)NULL);
	rc.path = (enum relay_io_path)cfg->splice;
	rc.end_at = cfg->pair_max_ms != 0 ? p->start + cfg->pair_max_ms : 0;
	rc.max_bytes = cfg->pair_max_bytes;
	rc.signals = PAIR_SIGNALS;
	rc.release = p->reuse;
	rc.progress = progress;
	rc.ready = lockdown;
	rc.arg = p;
	if (cfg->idle_ms > 0)
		relay_set_idle(&p->relay, cfg->idle_ms, util_now_ms());
	relay_io_run(p->fd, &rc, &p->relay);
}

/*
 * --send-proxy: the client's PROXY header to the destination before any
 * of its bytes; 0, or -1 with the pair's end recorded.
 */
static int
send_header(const struct config *cfg, struct pair *p,
    const struct pair_client *c)
{
	struct sockaddr_storage local;
	const struct sockaddr *dst = (const struct sockaddr *)&c->local;
	socklen_t len = sizeof(local);
	int64_t deadline = util_now_ms() + cfg->connect_ms;
	int err;

	if (c->locallen == 0) {
		if (getsockname(p->fd[RELAY_CLIENT], (struct sockaddr *)&local,
		    &len) == -1)
			local.ss_family = AF_UNSPEC;
		dst = (const struct sockaddr *)&local;
	}
	if (proxyhdr_send(p->fd[RELAY_UPSTREAM], cfg->send_proxy,
	    (const struct sockaddr *)&c->addr, dst, deadline,
	    sig_waitmask()) == 0)
		return 0;
	err = errno;
	if (err == EINTR && (sig_take() & PAIR_SIGNALS))
		relay_end(&p->relay, END_SIGNAL, 0);
	else
		relay_end_side(&p->relay, END_RESET, RELAY_UPSTREAM, err);
	return -1;
}

/*
 * pair_serve: relay the connected client cfd to the destination and log
 * the summary.
 */
void
pair_serve(const struct config *cfg, const struct dest *dest, int cfd,
    const struct pair_client *c, struct sb_slot *sb, int reuse,
    struct pair_result *res)
{
	struct pair p;

	pair_open(&p, cfg, cfd, (const struct sockaddr *)&c->addr, c->addrlen,
	    sb);
	p.reuse = reuse;
	sb_client(sb, p.client, p.start);
	title_set("connect", p.client, (const char *)NULL);
	if (netio_fd_ok(cfd) == -1)
		relay_end(&p.relay, end_internal(errno), errno);
	/*
	 * A SIGTERM that came between accept() and blocking the signals ran
	 * its handler already: no later pselect() will report it.
	 */
	else if (sig_take() & PAIR_SIGNALS)
		relay_end(&p.relay, END_SIGNAL, 0);
	else {
		tune(cfg, cfd);
		if (connect_upstream(cfg, dest, &p) == 0 &&
		    (cfg->send_proxy == 0 || send_header(cfg, &p, c) == 0))
			relay(cfg, &p);
	}
	drop_pair(&p, res);
}
