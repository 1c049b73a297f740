#!/usr/bin/env bats
# Goal: a hostile client costs its own pair's child and nothing more, and
# never slows the other pairs.  progs/hostile plays the client: a byte at
# a time, a window closed for good (aborted by the stall timeout), a
# reset at every stage of a pair (waiting in the listen queue, while the
# proxy connects upstream, while data moves, while the proxy drains toward
# it), connections that stay silent, a half-close followed by a flood.
# Meanwhile progs/churn's well-behaved pairs, every byte checked, all
# complete; each hostile holds exactly one child while it lasts; one that
# only waits costs no CPU; every pair it had gets its log line; and the
# pool goes back to its spares with no zombie.  The main cases run again
# with --pairs-per-child 0, where the child that served a hostile serves
# the next client.  No timing is asserted, only outcomes: time bounds are
# the timeouts the proxy is given, and a CPU bound is about 5 % of a core.

load lib/common

# busy_are N: exactly N children have a pair (connecting, relaying or
# draining).
busy_are() {
	[ "$(pgrep -P "$PROXY_PID" -f '^tcpproxy: (connect|relay|drain) ' |
	    wc -l)" -eq "$1" ]
}

# connecting_are N: exactly N children are connecting to the destination.
connecting_are() {
	[ "$(pgrep -P "$PROXY_PID" -f '^tcpproxy: connect ' | wc -l)" -eq "$1" ]
}

# queued_are N: N clients wait in the proxy's listen queue.
queued_are() {
	[ "$(ss -Hltn "sport = :$PROXY_PORT" | awk '{ print $2 }')" = "$1" ]
}

# hostile_bg NAME ARGS...: progs/hostile ARGS in the background; its
# summary goes to $BATS_TEST_TMPDIR/NAME.out, its pid to HPID[NAME].
declare -gA HPID=()
hostile_bg() {
	local name=$1
	shift
	spawn "$PROGS/hostile" "$@" >"$BATS_TEST_TMPDIR/$name.out" \
	    2>"$BATS_TEST_TMPDIR/$name.err" </dev/null
	HPID[$name]=$!
	TEST_PIDS+=("$!")
	EXTRA_LOGS+=("$BATS_TEST_TMPDIR/$name.out" "$BATS_TEST_TMPDIR/$name.err")
}

# hostile_done NAME [SECS]: wait for hostile NAME to end (its own -w
# deadline ends it first); its exit status in EXIT_STATUS.
hostile_done() {
	wait_exit "${HPID[$1]}" "${2:-40}"
	echo "$1: $(cat "$BATS_TEST_TMPDIR/$1.out")" >&2
}

# summary_has NAME REGEX: hostile NAME's summary line matches REGEX.
summary_has() {
	grep -qE -- "$2" "$BATS_TEST_TMPDIR/$1.out" || {
		echo "summary of $1 does not match '$2':" >&2
		cat "$BATS_TEST_TMPDIR/$1.out" >&2
		return 1
	}
}

# churn_bg ARGS...: progs/churn ARGS PROXY_PORT in the background, its
# output in $BATS_TEST_TMPDIR/churn, its pid in CHURN.
churn_bg() {
	spawn "$PROGS/churn" "$@" "$PROXY_PORT" >"$BATS_TEST_TMPDIR/churn" \
	    </dev/null
	CHURN=$!
	TEST_PIDS+=("$CHURN")
}

# churn_all_ok N: churn (churn_bg) ended, and all its N pairs came back
# whole: no pair failed, was dropped or refused.
churn_all_ok() {
	wait_exit "$CHURN" 60
	echo "churn: $(grep '^total' "$BATS_TEST_TMPDIR/churn")" >&2
	[ "$EXIT_STATUS" -eq 0 ]
	grep -qx "total ok=$1 refused=0 dropped=0 fail=0" \
	    "$BATS_TEST_TMPDIR/churn"
}

# churn_now N SIZE: N checked pairs of SIZE bytes, 4 at a time, in the
# foreground; all of them come back whole.
churn_now() {
	churn_bg -c 4 -n "$1" -s "$2"
	churn_all_ok "$1"
}

# pair_table: the pair lines as "up down seconds reason...".
pair_table() {
	pair_lines | sed -E \
	    's/.* up=([0-9]+) down=([0-9]+) duration=([0-9.]+)s reason=/\1 \2 \3 /'
}

# no_pair AWK-CONDITION: no pair line (as pair_table) meets the condition.
no_pair() {
	run awk "$1" < <(pair_table)
	[ -z "$output" ] || {
		echo "pair lines where $1:" >&2
		echo "$output" >&2
		return 1
	}
}

# status_rows: --status's pairs, without the header.
status_rows() {
	local out
	out=$("$TCPPROXY" --status="$PROXY_PID" 2>/dev/null) || return 1
	tail -n +2 <<<"$out"
}

# taken_at_least N: N pairs at least are open (in --status) or logged.
taken_at_least() {
	local rows
	rows=$(status_rows) || return 1
	[ $(($(grep -c . <<<"$rows") + $(pair_lines | wc -l))) -ge "$1" ]
}

# pairs_quiet: no pair --status lists has moved a byte for a second.
pairs_quiet() {
	local rows
	rows=$(status_rows) || return 1
	awk '$8 < 1 { busy = 1 } END { exit busy }' <<<"$rows"
}

# cpu_idle SECS TICKS: over SECS seconds the proxy (master, children and
# the children reaped meanwhile) used at most TICKS clock ticks.
cpu_idle() {
	local t0 t1
	t0=$(proxy_ticks)
	sleep "$1"
	t1=$(proxy_ticks)
	echo "proxy CPU in $1 s: $((t1 - t0)) ticks" >&2
	[ $((t1 - t0)) -le "$2" ]
}

# ---- a byte at a time ----

trickle_case() {
	start_echod
	start_proxy -s 4 "$@" 127.0.0.1 "$SERVER_PORT"
	# 20 clients, 300 bytes each, one every 10 ms: 3 s at the least
	hostile_bg trickle -n 20 -s 300 -i 10 trickle "$PROXY_PORT"
	# one child each, no more
	wait_until -t 10 busy_are 20
	churn_now 200 4096
	hostile_done trickle
	[ "$EXIT_STATUS" -eq 0 ]
	summary_has trickle '^trickle conns=20 ok=20 fail=0 closed=20 sent=6000 rcvd=6000 '
	wait_until -t 10 pair_count_is 220
	log_count ' up=300 down=300 .* reason=eof$' 20
	log_count ' up=4096 down=4096 .* reason=eof$' 200
	wait_until -t 10 children_are 4
}

@test "trickle: 20 clients sending a byte every 10 ms hold a child each and get every byte back; 200 checked pairs meanwhile all complete" {
	trickle_case
}

@test "trickle, --pairs-per-child 0: the same" {
	trickle_case --pairs-per-child 0
}

# ---- a window closed for good ----

zerowin_case() {
	start_echod
	start_proxy -t 4 -s 4 "$@" 127.0.0.1 "$SERVER_PORT"
	hostile_bg zerowin -n 2 zerowin "$PROXY_PORT"
	wait_until -t 10 taken_at_least 2
	# every buffer on the way fills, then nothing moves
	wait_until -t 10 pairs_quiet
	# waiting for the stall timeout costs nothing: no spin on a full buffer
	cpu_idle 1.5 8
	churn_now 200 16384
	hostile_done zerowin
	[ "$EXIT_STATUS" -eq 0 ]
	summary_has zerowin '^zerowin conns=2 ok=2 fail=0 closed=2 sent=[1-9][0-9]* rcvd=0 '
	wait_until -t 10 pair_count_is 202
	log_count ' duration=([4-9]|[1-9][0-9]+)\.[0-9]{3}s reason=stall detail=(up|down)$' 2
	log_count ' up=16384 down=16384 .* reason=eof$' 200
	wait_until -t 10 children_are 4
}

@test "zerowin: a client that never reads behind a tiny SO_RCVBUF is aborted by the stall timeout (-t 4), idle on the CPU meanwhile; 200 checked pairs all complete" {
	zerowin_case
}

@test "zerowin, --pairs-per-child 0: the same" {
	zerowin_case --pairs-per-child 0
}

# ---- a reset at each stage of a pair ----

rst_queued_case() {
	local a b
	start_echod
	# -m 2: two clients held keep every child busy
	start_proxy -m 2 -s 2 "$@" 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "held a"
	a=$CONN
	echo_conn "$PROXY_PORT" "held b"
	b=$CONN
	wait_until -t 5 busy_are 2
	run timeout 30 "$PROGS/hostile" -n 10 rst-queued "$PROXY_PORT"
	echo "$output" >&2
	assert_success
	# reset while waiting in the listen queue: taken by nobody yet
	wait_until -t 5 queued_are 10
	pair_count_is 0
	close_conn "$a"
	close_conn "$b"
	# each is taken in turn, found reset, logged; the pool goes on
	wait_until -t 10 pair_count_is 12
	log_count ' up=0 down=0 .* reason=reset detail=ECONNRESET side=client$' 10
	churn_bg -c 2 -n 100 -s 4096
	churn_all_ok 100
	wait_until -t 10 children_are 2
}

@test "rst-queued: 10 clients reset while they wait in the listen queue (-m 2, both children busy) get a line each, then 100 checked pairs all complete" {
	rst_queued_case
}

@test "rst-queued, --pairs-per-child 0: the same" {
	rst_queued_case --pairs-per-child 0
}

@test "rst-connect: 6 clients that reset while their children connect to a destination that drops SYNs free their children at once, logged as client resets; no CPU; new clients are still taken" {
	# No pair can be served by this destination, so no churn here: what
	# shows that the others are not held up is that new clients are still
	# taken at once.
	start_badpeer fullqueue
	start_proxy -c 30 -s 2 127.0.0.1 "$BAD_PORT"
	run timeout 30 "$PROGS/hostile" -n 6 -i 100 rst-connect "$PROXY_PORT"
	echo "$output" >&2
	assert_success
	# a child watches its client while it connects: each ends at its
	# client's reset, long before -c 30
	wait_until -t 10 log_count ' up=0 down=0 .* reason=reset detail=ECONNRESET side=client$' 6
	# a new client still gets a child of its own at once
	open_conn "$PROXY_PORT"
	wait_until -t 5 connecting_are 1
	wait_until -t 5 children_are 3
	cpu_idle 1 5
}

rst_mid_case() {
	start_echod
	start_proxy -s 4 "$@" 127.0.0.1 "$SERVER_PORT"
	churn_bg -c 4 -n 300 -s 16384
	run timeout 30 "$PROGS/hostile" -n 10 -s 262144 rst-mid "$PROXY_PORT"
	echo "$output" >&2
	assert_success
	assert_output --regexp '^rst-mid conns=10 ok=10 fail=0 closed=0 '
	churn_all_ok 300
	wait_until -t 10 pair_count_is 310
	log_count ' reason=reset detail=(ECONNRESET|EPIPE) side=client$' 10
	log_count ' up=16384 down=16384 .* reason=eof$' 300
	# every reset pair had relayed what its client checked
	no_pair '$4 == "reset" && $2 < 262144'
	wait_until -t 10 children_are 4
}

@test "rst-mid: 10 clients reset while 256 KiB and more move both ways end only their own pairs; 300 checked pairs meanwhile all complete" {
	rst_mid_case
}

@test "rst-mid, --pairs-per-child 0: the same" {
	rst_mid_case --pairs-per-child 0
}

rst_drain_case() {
	start_echod
	start_proxy -t 5 -s 4 "$@" 127.0.0.1 "$SERVER_PORT"
	churn_bg -c 4 -n 300 -s 16384
	run timeout 30 "$PROGS/hostile" -n 4 -i 300 rst-drain "$PROXY_PORT"
	echo "$output" >&2
	assert_success
	churn_all_ok 300
	wait_until -t 10 pair_count_is 304
	log_count ' reason=reset detail=(ECONNRESET|EPIPE) side=client$' 4
	# the reset is what ended them, not the stall timeout
	log_count ' reason=stall ' 0
	# and each one's proxy held bytes for it: fewer delivered than echoed
	no_pair '$4 == "reset" && $2 >= $1'
	wait_until -t 10 children_are 4
}

@test "rst-drain: 4 clients that stopped reading reset while the proxy drains toward them: ended by the reset, not the stall; 300 checked pairs all complete" {
	rst_drain_case
}

@test "rst-drain, --pairs-per-child 0: the same" {
	rst_drain_case --pairs-per-child 0
}

# ---- silence ----

synsilence_case() {
	start_echod
	start_proxy -s 4 "$@" 127.0.0.1 "$SERVER_PORT"
	hostile_bg silent -n 50 -w 60 synsilence "$PROXY_PORT"
	# the pool grows by exactly one child per silent client
	wait_until -t 15 children_are 54
	wait_until -t 5 busy_are 50
	# 50 silent pairs cost nothing while they wait
	cpu_idle 1.5 8
	churn_now 200 4096
	kill -TERM "${HPID[silent]}"
	hostile_done silent
	[ "$EXIT_STATUS" -eq 0 ]
	# the proxy closed none of them: silence alone never times out
	summary_has silent '^synsilence conns=50 ok=50 fail=0 closed=0 '
	wait_until -t 10 pair_count_is 250
	log_count ' up=0 down=0 .* reason=eof$' 50
	wait_until -t 10 children_are 4
}

@test "synsilence: 50 clients that connect and say nothing hold a child each and no CPU; 200 checked pairs meanwhile all complete" {
	synsilence_case
}

@test "synsilence, --pairs-per-child 0: the same" {
	synsilence_case --pairs-per-child 0
}

@test "synsilence against -m 10 --idle-timeout 1: 30 silent clients are ended ten at a time, and the checked pairs queued behind them complete" {
	start_echod
	start_proxy -m 10 -s 2 --idle-timeout 1 127.0.0.1 "$SERVER_PORT"
	hostile_bg silent -n 30 -w 30 synsilence "$PROXY_PORT"
	wait_until -t 10 grep -q 'all 10 children in use' "$PROXY_LOG"
	# every child is held: these wait in the listen queue for a while
	churn_bg -c 2 -n 20 -s 4096
	churn_all_ok 20
	hostile_done silent
	summary_has silent '^synsilence conns=30 ok=0 fail=30 closed=30 '
	wait_until -t 10 pair_count_is 50
	log_count ' up=0 down=0 .* reason=idle$' 30
	wait_until -t 10 children_are 2
}

# ---- half-close, then a flood ----

@test "halfflood: 4 clients send 3 MB, shut down writing and read 3 MB back each with SO_RCVBUF at 8 KiB, byte for byte" {
	start_echod -m after-eof
	start_proxy -s 4 127.0.0.1 "$SERVER_PORT"
	run timeout 60 "$PROGS/hostile" -n 4 -s 3000000 -r 8192 halfflood \
	    "$PROXY_PORT"
	echo "$output" >&2
	assert_success
	assert_output --regexp '^halfflood conns=4 ok=4 fail=0 closed=4 sent=12000000 rcvd=12000000 '
	wait_until -t 10 pair_count_is 4
	log_count ' up=3000000 down=3000000 .* reason=eof$' 4
	wait_until -t 10 children_are 4
}

@test "halfflood-up: the destination shuts down writing at once, then the client floods 16 MiB: every byte reaches it" {
	local sport got=$BATS_TEST_TMPDIR/server.got
	: >"$BATS_TEST_TMPDIR/empty"
	sport=$(free_port)
	start_nc_server "$sport" "$BATS_TEST_TMPDIR/empty" "$got"
	start_proxy -s 2 127.0.0.1 "$sport"
	run timeout 60 "$PROGS/hostile" -s 16777216 halfflood-up "$PROXY_PORT"
	echo "$output" >&2
	assert_success
	assert_output --regexp '^halfflood-up conns=1 ok=1 fail=0 closed=0 sent=16777216 rcvd=0 '
	wait_until -t 10 gone "$NC_PID"
	[ "$(stat -c %s "$got")" -eq 16777216 ]
	wait_until -t 10 pair_count_is 1
	log_count ' up=16777216 down=0 .* reason=eof$' 1
	wait_until -t 10 children_are 2
}
