/*
 * relay.h: the decisions of one relayed pair, as a pure state machine.
 *
 * A pair has two sides, the client and the upstream, and two directions,
 * each named by the side it reads from: RELAY_UP carries client bytes to
 * the upstream, RELAY_DOWN carries upstream bytes to the client.  So the
 * source of direction d is side d and its sink is side 1 - d.
 *
 * relay.c never touches a descriptor, a clock or memory of its own: the
 * caller reports what happened (bytes read, EOF, bytes written, a write
 * error, a shutdown done, the time) and asks what to wait for next.  It
 * keeps, per direction, the bookkeeping of a bounded buffer of cap bytes:
 * a ring (offset, length) for the copying path, or just a count for the
 * splice path, where a pipe holds the bytes.
 */
#ifndef TCPPROXY_RELAY_H
#define TCPPROXY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "end.h"

enum relay_side { RELAY_CLIENT = 0, RELAY_UPSTREAM = 1 };
enum relay_dirid { RELAY_UP = 0, RELAY_DOWN = 1, RELAY_NDIR = 2 };

struct relay_dir {
	size_t	 cap;		/* buffer capacity, bytes */
	size_t	 off;		/* ring offset of the first buffered byte */
	size_t	 len;		/* bytes buffered */
	int	 eof;		/* source is done: EOF or a read error */
	int	 rerr;		/* errno of that read error, 0 for EOF */
	int	 shut;		/* shutdown(SHUT_WR) of the sink is done */
	int	 full;		/* buffer took no more before len == cap */
	int64_t	 progress;	/* ms: last write progress while len > 0 */
	uint64_t nin;		/* bytes read from the source */
	uint64_t nout;		/* bytes written to the sink */
};

/*
 * Why the pair ended, with what explains it.  relay.c decides eof, reset
 * and stall by its rules; the caller records its own reasons (a signal, a
 * limit, a failed connect, a bug) with relay_end().
 */
struct relay {
	struct relay_dir dir[RELAY_NDIR];
	int64_t	 stall_ms;	/* no write progress for this long: abort */
	int64_t	 idle_ms;	/* nothing moved for this long: end; 0: off */
	int64_t	 active;	/* ms: a byte last moved either way */
	enum end_reason end;	/* END_NONE while the pair runs */
	int	 end_dir;	/* the direction that ended it, or -1 */
	int	 end_side;	/* the side a reset is blamed on, or -1 */
	int	 end_err;	/* the errno that explains it, or 0 */
};

/* A contiguous run of the ring: [off, off + len). */
struct relay_span {
	size_t	 off;
	size_t	 len;
};

/* What the caller should do next.  deadline is -1 when no time can end it. */
struct relay_wants {
	int	 read[RELAY_NDIR];	/* wait for the source to be readable */
	int	 write[RELAY_NDIR];	/* wait for the sink to be writable */
	int	 shut[RELAY_NDIR];	/* shutdown(SHUT_WR) the sink now */
	int64_t	 deadline;		/* ms, when relay_on_time() ends it */
};

/* Both directions get a buffer of cap bytes (cap > 0). */
void	relay_init(struct relay *, size_t cap, int64_t stall_ms);

/*
 * End the pair (END_IDLE) once no byte was read or written either way for
 * idle_ms (> 0), counting from now.  Off unless called: the forwarding
 * rules never time an idle pair out by themselves.
 */
void	relay_set_idle(struct relay *, int64_t idle_ms, int64_t now);

/*
 * Where the next read into direction d may go (free space), and where the
 * next write from it comes from (buffered data): 0, 1 or 2 spans, in ring
 * order.  The free spans are empty once the direction has ended.
 */
int	relay_free_spans(const struct relay *, int d, struct relay_span[2]);
int	relay_data_spans(const struct relay *, int d, struct relay_span[2]);

/*
 * Direction d, which holds no byte, has a buffer of cap (> 0) bytes from
 * now on: the caller moved it to another path (relay_path.h).
 */
void	relay_set_cap(struct relay *, int d, size_t cap);

/* n > 0 bytes were read from the source of d into its free spans. */
void	relay_on_read(struct relay *, int d, size_t n, int64_t now);
/*
 * The buffer of d took nothing although len < cap (a pipe whose slots are
 * used up by partial pages): no read interest until the next write.
 */
void	relay_on_full(struct relay *, int d);
/* The source of d hit EOF (err == 0) or a read error other than EAGAIN. */
void	relay_on_eof(struct relay *, int d, int err);
/* n > 0 bytes of d were written from the start of its data spans. */
void	relay_on_write(struct relay *, int d, size_t n, int64_t now);
/*
 * Writing to (or shutting down) the sink of d failed: end at once, with
 * reason reset, blamed on the sink's side.
 */
void	relay_on_write_error(struct relay *, int d, int err);
/* shutdown(SHUT_WR) of the sink of d is done. */
void	relay_on_shut(struct relay *, int d);
/* The clock reads now: end the pair if a direction stalled, or it idled. */
void	relay_on_time(struct relay *, int64_t now);
/*
 * The caller ends the pair for its own reason (a signal, a limit, a failed
 * connect, a bug), with the errno behind it or 0.  A pair that has ended
 * already keeps its first reason.
 */
void	relay_end(struct relay *, enum end_reason, int err);
/* ... blaming side (RELAY_CLIENT, RELAY_UPSTREAM) for it. */
void	relay_end_side(struct relay *, enum end_reason, int side, int err);

/* Fill *w with what to wait for and do; nothing once the pair ended. */
void	relay_wants(const struct relay *, struct relay_wants *w);

/* 1 once the pair has ended, with r->end saying why (see struct relay). */
int	relay_done(const struct relay *);

#endif /* TCPPROXY_RELAY_H */
