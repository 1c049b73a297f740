#!/usr/bin/env bats
# Goal: 10,000 pairs at once on a small machine, one process each (and
# again with children that serve pair after pair): every pair set up and
# echoed, then every pair echoed again while all of them are open; once
# the clients let go, every pair is logged and counted as ended, the pool
# is back to its spares, no zombie, no scoreboard slot and no descriptor
# of the master left over.  The limits this needs (descriptors) are
# raised by the test; a machine that cannot give them skips, saying why.
# TCPPROXY_SCALE_PAIRS sets another number of pairs; a sanitizer build,
# each of whose processes maps far more, holds 2,000.

load lib/common

if sanitizer_build; then
	PAIRS=${TCPPROXY_SCALE_PAIRS:-2000}
else
	PAIRS=${TCPPROXY_SCALE_PAIRS:-10000}
fi

teardown() {
	[ -z "${HOLDER:-}" ] || kill -TERM "$HOLDER" 2>/dev/null || true
	common_teardown
}

# scale_obstacle: why this machine cannot hold $PAIRS pairs; empty if it
# can.  The limit on descriptors is raised here, for the test's processes.
scale_obstacle() {
	local need=$((PAIRS + 500)) have f
	ulimit -n "$need" 2>/dev/null ||
	    { echo "open-files limit $(ulimit -Hn) < $need"; return; }
	need=$(( $(printf '%s\n' /proc/[0-9]* | wc -l) + PAIRS + 500 ))
	for f in pid_max threads-max; do
		have=$(cat "/proc/sys/kernel/$f")
		((have >= need)) ||
		    { echo "kernel.$f $have < $need"; return; }
	done
	if [ "$(ulimit -u)" != unlimited ] && (( $(ulimit -u) < need )); then
		echo "max user processes $(ulimit -u) < $need"
		return
	fi
	# 512 KiB per pair, kernel included, and 512 MiB to spare
	have=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
	((have >= PAIRS * 512 + 524288)) ||
	    echo "MemAvailable $((have / 1024)) MiB is too little"
}

fd_count() { ls "/proc/$1/fd" | wc -l; }

# figure KEY VALUE...: a figure for tests/reliability.sh, when it asks.
figure() {
	[ -z "${TCPPROXY_FIGURES:-}" ] || echo "$*" >>"$TCPPROXY_FIGURES"
}

status_json() { "$TCPPROXY" --status="$PROXY_PID" --format=json; }

# ended_is N: the master's totals count N ended pairs, all of them by EOF,
# and no child is busy.
ended_is() {
	local j
	j=$(status_json) || return 1
	grep -qE "\"eof\": $1," <<<"$j" &&
	    grep -qE '"busy": 0\}' <<<"$j" &&
	    grep -qE '"pairs": \[\]' <<<"$j"
}

# scale PAIRS-PER-CHILD: the whole test, with this --pairs-per-child.
scale() {
	local ppc=$1 why out=$BATS_TEST_TMPDIR/hold.out fds0 loaded setup t0
	why=$(scale_obstacle)
	[ -z "$why" ] || skip "$why"
	ulimit -n $((PAIRS + 500))
	spawn "$PROGS/hold" serve >"$BATS_TEST_TMPDIR/serve.port"
	TEST_PIDS+=($!)
	wait_until eval '[ -s "$BATS_TEST_TMPDIR/serve.port" ]'
	start_proxy -s 8 -m $((PAIRS + 100)) --pairs-per-child "$ppc" 127.0.0.1 \
	    "$(cat "$BATS_TEST_TMPDIR/serve.port")"
	wait_until children_are 8
	fds0=$(fd_count "$PROXY_PID")

	spawn "$PROGS/hold" open "$PROXY_PORT" "$PAIRS" 128 >"$out"
	HOLDER=$!
	wait_until -t 600 grep -q '^again ' "$out"
	cat "$out" >&2
	grep -qx "ready held=$PAIRS fails=0 setup_ms=[0-9]*" "$out"
	grep -qx "again ok=$PAIRS fails=0" "$out"
	setup=$(sed -n 's/^ready .*setup_ms=\([0-9]*\)/\1/p' "$out")
	# Every pair in a child of its own, all at once.
	loaded=$("$TCPPROXY" --status="$PROXY_PID" | grep -c ' relaying ')
	echo "pairs relaying at once: $loaded" >&2
	[ "$loaded" -eq "$PAIRS" ]

	t0=$(date +%s%N)
	kill -USR1 "$HOLDER"
	wait "$HOLDER"
	HOLDER=
	grep -qx "closed $PAIRS" "$out"
	# Ended and logged, each one, and counted by the master.
	wait_until -t 300 ended_is "$PAIRS"
	wait_until -t 60 pair_count_is "$PAIRS"
	[ "$(pair_lines | grep -vc ' up=48 down=48 .* reason=eof$')" -eq 0 ]
	# The pool back to its spares, and nothing else left.
	wait_until -t 300 children_are 8
	no_zombies
	[ "$(fd_count "$PROXY_PID")" -eq "$fds0" ]
	figure "scale pairs_per_child=$ppc pairs=$PAIRS setup_ms=$setup" \
	    "cleared_ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
}

@test "$PAIRS concurrent pairs, one child each: all echoed twice at once, then nothing left over" {
	scale 1
}

@test "$PAIRS concurrent pairs with --pairs-per-child 0: the same, and every child that served is as fresh as a new one" {
	local pid base
	scale 0
	# An idle child that served pairs holds what a new one holds.
	base=
	for pid in $(pgrep -P "$PROXY_PID"); do
		[ -n "$base" ] || base=$(fd_count "$pid")
		[ "$(fd_count "$pid")" -eq "$base" ]
	done
}
