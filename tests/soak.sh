#!/bin/bash
# tests/soak.sh: the soak test (make soak).  The real tcpproxy, under a
# mix of checked connections for SOAK_SECS seconds, reloaded now and then,
# must lose no pair, no byte, no memory and no descriptor.
#
# Usage: tests/soak.sh        (SOAK_SECS, default 120, at least 20)
#   SOAK_SECS=3600 tests/soak.sh    an hour, by hand
#   SOAK_SEED=N        repeat the drivers' choices of an earlier run
#   SOAK_KEEP=1        keep the work directory (logs) even when all passed
#
# Two segments of half the time each, one proxy each, in front of
# progs/echod: the default (--pairs-per-child 1, a child per pair), then
# --pairs-per-child 0 (children serve pair after pair).  Two masters, so
# that each mode starts from scratch and is measured on its own.  Both
# with -t STALL_SECS (4): soakload pauses for 10 to 30 % of it, silent
# pairs for 150 %, hangs until the proxy ends them.
# In each segment:
#  - progs/soakload keeps CONC (16) checked connections going: short and
#    long ones, half-closes, resets at random moments, pauses shorter
#    than the stall timeout, silent pairs longer than it, and hangs the
#    proxy must abort (see soakload.c); every byte of the connections
#    that end well is compared with what was sent;
#  - SIGHUP every 10 to 20 s (once in the warm-up);
#  - the master's VmRSS (and Pss) and its descriptors, read from /proc
#    after a warm-up, with no pair open, and again at the end, with none
#    open: RSS may grow by RSS_SLACK_KIB (256) at most, the descriptors
#    not at all;
#  - at the end: no zombie child, every pair accounted for (below), then
#    SIGTERM: exit status 0 and nothing left in the master's session.
#
# Accounting.  soakload counts a connection as made when its connect()
# completed (SO_ERROR 0: the SYN-ACK came).  The handshake's last ACK
# then puts it in the listener's accept queue, unless that queue is full:
# Linux then drops the ACK and counts ListenOverflows and ListenDrops,
# and the client, which believes it is connected, may reset or give up
# before the proxy ever sees it.  A queued connection stays queued, even
# if the client resets it meanwhile, until accept() takes it.  So with no
# overflow, every connection made is one the proxy accepted and owes one
# pair line.  The test runs in a network namespace of its own when it can
# (root: unshare -n), so those counters are its own and must stay 0;
# elsewhere they are the host's and only shown (CONC is far below the
# backlog anyway).  Then, per segment:
#   made (soakload) = pair lines = the master's totals (--status) =
#   served + failed of its "stopped" line;
#   reason=eof lines = connections that ended well, and their up= and
#   down= sums both = the bytes those connections verified;
#   reason=reset side=client lines = the client's resets;
#   reason=stall lines = the hangs the proxy aborted; no other reason;
#   the master's byte totals = the sums of up= and down= of all lines;
#   one "reload:" line per SIGHUP; no log line of any other kind.
#
# Progress and failures go to stderr as they happen.  At the end, a
# report on stdout: a few lines per segment, then machine-readable lines,
# one per segment and, last, one for the run (RSS in KiB; bytes_verified
# counts each verified byte once, though it crossed the proxy both ways):
#   soak segment=1 pairs_per_child=1 secs=… pairs=… … result=ok
#   soak secs=… elapsed=… seed=… segments=2 pairs=… bytes_verified=…
#        reloads=… resets=… stalls_aborted=… stalls_short=… idles=…
#        halfcloses=… master_rss_start=… master_rss_end=…
#        master_fds_start=… master_fds_end=… result=ok
# The run's master_* figures are those of the segment whose RSS grew
# most.  Exit status 0 when everything held, 1 with the reasons
# otherwise, 2 for usage.
#
# Owns one work directory /tmp/tcpproxy-soak.XXXXXX (removed when all
# passed).  Everything it starts is ended by pid or by the master's
# session, never by name, on INT/TERM/HUP too.

set -u
set -o pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TCPPROXY=${TCPPROXY:-$TESTS_DIR/../src/tcpproxy}
PROGS=$TESTS_DIR/progs
SOAK_SECS=${SOAK_SECS:-120}
STALL_SECS=4		# the proxy's --stall-timeout
CONC=16			# soakload's connections in flight
SPARE=8			# the proxy's -s
RSS_SLACK_KIB=256	# VmRSS growth allowed after the warm-up
QUIET_SECS=30		# for all pairs to end once a driver is done
STOP_SECS=20		# for the master to exit on SIGTERM
SEED=${SOAK_SEED:-$((RANDOM * 32768 + RANDOM))}

usage() {
	awk '/^# Usage:/, /^#$/' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

if ! [[ $SOAK_SECS =~ ^[0-9]+$ ]] || ((SOAK_SECS < 20)); then
	usage
fi
[[ $SEED =~ ^[0-9]+$ ]] || usage
for f in "$TCPPROXY" "$PROGS/echod" "$PROGS/soakload" "$PROGS/freeport"; do
	if [ ! -x "$f" ]; then
		echo "soak: no $f: run 'make all progs' first" >&2
		exit 2
	fi
done

# A network namespace of its own: its listen counters are this test's.
if [ -z "${SOAK_IN_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
    command -v ip >/dev/null && unshare -n true 2>/dev/null; then
	SOAK_IN_NETNS=1 exec unshare -n -- "$0" "$@"
fi
NETNS=no
if [ -n "${SOAK_IN_NETNS:-}" ]; then
	ip link set lo up || { echo "soak: cannot bring lo up" >&2; exit 1; }
	NETNS=yes
	unset SOAK_IN_NETNS
fi

# Descriptors inherited from the caller (make's jobserver, a terminal)
# would be the proxy's too: close them, so that its count is its own.
# (bash reads this script on 255.)
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	if ((fd > 2 && fd < 255)); then
		eval "exec $fd>&-" 2>/dev/null
	fi
done

WORK=$(mktemp -d /tmp/tcpproxy-soak.XXXXXX) || exit 1
ECHOD_PID=
MASTER=
DRIVER=
PROBLEMS=()	# of the segment running
ALL_PROBLEMS=0	# of the whole run
RESULTS=()	# the figures of each segment, for the run's line
REPORT=()	# the report's lines, printed at the end
RELOADS=0	# SIGHUPs sent to the master of the segment
PEAK_RSS=0	# its highest VmRSS seen under load
LISTEN0=	# the listen counters before and after the segment
LISTEN1=
DRIVES=0	# soakload runs so far (each gets a seed of its own)

# ---- helpers ----

say() { printf 'soak: %s\n' "$*" >&2; }

problem() {
	PROBLEMS+=("$*")
	ALL_PROBLEMS=$((ALL_PROBLEMS + 1))
	say "FAIL: $*"
}

alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# wait_for SECS CMD...: run CMD every 100 ms until it succeeds; 1 if it
# did not within SECS.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

cleanup() {
	local pid
	for pid in $DRIVER $ECHOD_PID; do
		kill -KILL "$pid" 2>/dev/null
	done
	if [ -n "$MASTER" ]; then
		kill -KILL -- "-$MASTER" 2>/dev/null
		kill -KILL "$MASTER" 2>/dev/null
	fi
	wait 2>/dev/null
	DRIVER='' ECHOD_PID='' MASTER=''
}

on_signal() {
	trap '' INT TERM HUP
	say "interrupted by SIG$1"
	cleanup
	say "work directory kept: $WORK"
	echo "soak result=fail reason=interrupted"
	exit 1
}

# listen_counters: TcpExt ListenOverflows and ListenDrops of this network
# namespace, "O D".
listen_counters() {
	awk '/^TcpExt:/ {
		if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1; next }
		print $col["ListenOverflows"], $col["ListenDrops"]
	}' /proc/net/netstat
}

# ---- the proxy and its master ----

# start_proxy LOG OPTIONS...: the proxy on 127.0.0.1 and a free port in a
# session of its own, stderr to LOG; sets MASTER and PORT.
start_proxy() {
	local log=$1
	shift
	for _ in 1 2 3 4 5; do
		PORT=$("$PROGS/freeport") || return 1
		setsid "$TCPPROXY" -l 127.0.0.1 -t "$STALL_SECS" -s "$SPARE" \
		    "$@" 127.0.0.1 "$ECHOD_PORT" "$PORT" \
		    </dev/null >/dev/null 2>"$log" &
		MASTER=$!
		wait_for 10 eval 'grep -q "listening on" "$log" 2>/dev/null ||
		    ! alive "$MASTER"'
		if grep -q "tcpproxy\[$MASTER\]: listening on 127.0.0.1:$PORT," \
		    "$log"; then
			return 0
		fi
		kill -KILL "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
		MASTER=
		grep -q 'Address already in use' "$log" || break
	done
	say "the proxy did not start:"
	cat "$log" >&2
	return 1
}

# status_json: the master's --status as JSON, one document on stdout.
status_json() { "$TCPPROXY" --status="$MASTER" --format=json 2>/dev/null; }

# json_obj KEY: the object "KEY": {...} of the JSON on stdin (flat).
json_obj() { grep -o "\"$1\": {[^}]*}"; }

# json_num KEY: the number after "KEY": in the JSON on stdin.
json_num() { grep -o "\"$1\": [0-9]*" | head -n 1 | grep -o '[0-9]*$'; }

# quiet: no pair open, no client waiting, at least SPARE idle children.
quiet() {
	local j c
	j=$(status_json) || return 1
	c=$(json_obj children <<<"$j")
	[ "$(json_num busy <<<"$c")" = 0 ] &&
	    [ "$(json_num clients_waiting <<<"$j")" = 0 ] &&
	    [ "$(json_num idle <<<"$c")" -ge "$SPARE" ]
}

# pair_lines LOG: the pair lines of LOG.
pair_lines() { grep -E 'tcpproxy\[[0-9]+\]: pair ' "$1"; }

# lines_are LOG N: LOG has N pair lines.
lines_are() { [ "$(pair_lines "$1" | wc -l)" -eq "$2" ]; }

# sample: the master's VmRSS, Pss (KiB) and open descriptors, "R P F".
sample() {
	local rss pss fds
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MASTER/status") || return 1
	pss=$(awk '/^Pss:/ { print $2 }' "/proc/$MASTER/smaps_rollup" \
	    2>/dev/null)
	fds=$(find "/proc/$MASTER/fd" -mindepth 1 -maxdepth 1 | wc -l)
	echo "$rss ${pss:-0} $fds"
}

zombies() { ps -o stat= --ppid "$MASTER" | grep -c '^Z'; }
no_zombies() { [ "$(zombies)" -eq 0 ]; }

# ---- a driver run, with reloads ----

# drive SECS TAG [AT|every]: soakload for SECS seconds against PORT,
# output in $WORK/TAG.out; meanwhile a SIGHUP AT seconds in, or every 10
# to 20 s, counted in RELOADS, and the master's peak VmRSS in PEAK_RSS.
drive() {
	local secs=$1 tag=$2 t0=$SECONDS next rss
	shift 2
	"$PROGS/soakload" -c "$CONC" -d "$secs" -t "$STALL_SECS" \
	    -r "$((SEED + DRIVES))" "$PORT" >"$WORK/$tag.out" &
	DRIVER=$!
	DRIVES=$((DRIVES + 1))
	if [ "${1:-}" = every ]; then
		next=$((t0 + 10 + RANDOM % 11))
	else
		next=$((t0 + ${1:-999999}))
	fi
	while alive "$DRIVER"; do
		if ((SECONDS >= next)) && ((SECONDS - t0 < secs)); then
			kill -HUP "$MASTER" && RELOADS=$((RELOADS + 1))
			if [ "${1:-}" = every ]; then
				next=$((SECONDS + 10 + RANDOM % 11))
			else
				next=999999999
			fi
		fi
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$MASTER/status" \
		    2>/dev/null) && ((rss > PEAK_RSS)) && PEAK_RSS=$rss
		sleep 0.5
	done
	wait "$DRIVER" || problem "soakload ($tag) failed: $(grep -c '^fail ' \
	    "$WORK/$tag.out") connection(s), e.g.: $(grep -m 3 '^fail ' \
	    "$WORK/$tag.out" | tr '\n' ';')"
	DRIVER=
	grep -q '^total ' "$WORK/$tag.out" ||
	    problem "soakload ($tag) wrote no total line"
}

# total TAG KEY: a number from soakload's total or kinds line (0 before
# there is one).
total() {
	local v
	v=$(sed -n 's/^\(total\|kinds\) \(.* \)\{0,1\}'"$2"'=\([0-9]*\).*/\3/p' \
	    "$WORK/$1.out" 2>/dev/null)
	echo "${v:-0}"
}

# sum KEY: KEY of the warm-up and of the main run, added.
sum() { echo $(($(total warm "$1") + $(total main "$1"))); }

# ---- the checks of one segment ----

# How pairs may end here: well; by the client's reset (read, or a write
# that found the client gone); by the stall timeout (a hang).
PAIR_ENDS='eof|reset detail=(ECONNRESET|EPIPE) side=client|stall detail=(up|down)'
# What a proxy logs here: pairs, and the master's news of its own.
LOG_KINDS='pair |listening on |running as root|reload: |SIGTERM: |stopped; '

# sums LOG [REGEX]: the sums of up= and down= of the pair lines of LOG
# (those that match REGEX), "UP DOWN".
sums() {
	pair_lines "$1" | grep -E -- "${2:-.}" |
	    sed -n 's/.* up=\([0-9]*\) down=\([0-9]*\) .*/\1 \2/p' |
	    awk '{ u += $1; d += $2 } END { printf "%.0f %.0f\n", u, d }'
}

# settle LOG WHAT: once a driver is done, every pair it made ends and is
# logged, and the master reaps every child.
settle() {
	local log=$1
	wait_for "$QUIET_SECS" eval 'quiet && lines_are "$log" "$(sum connected)"' ||
	    problem "pairs still open or unlogged ${QUIET_SECS}s after the $2"
	wait_for 5 no_zombies ||
	    problem "$(zombies) zombie child(ren) 5s after the $2"
}

# check_flat START END: the master's samples (sample) after the warm-up
# and at the end: VmRSS within the slack, the same descriptors.
check_flat() {
	local rss0 fds0 rss1 fds1
	read -r rss0 _ fds0 <<<"$1"
	read -r rss1 _ fds1 <<<"$2"
	(((rss1 - rss0) <= RSS_SLACK_KIB)) ||
	    problem "the master's VmRSS grew by $((rss1 - rss0)) KiB: $rss0 -> $rss1"
	[ "$fds0" -eq "$fds1" ] ||
	    problem "the master's descriptors: $fds0 -> $fds1"
}

# check_counts LOG: connections made = pair lines = pairs the master
# counted; its byte totals = the sums of the lines.
check_counts() {
	local log=$1 made lines j tot bytes
	made=$(sum connected)
	lines=$(pair_lines "$log" | wc -l)
	[ "$made" -eq "$lines" ] ||
	    problem "connections made: $made, pair lines: $lines"
	[ "$(sum connect_fail)" -eq 0 ] ||
	    problem "$(sum connect_fail) connect(s) failed"
	j=$(status_json)
	tot=$(json_obj pairs <<<"$j" | grep -o ': [0-9]*' | tr -d ': ' |
	    awk '{ s += $1 } END { printf "%.0f\n", s }')
	[ "$tot" -eq "$lines" ] ||
	    problem "the master counts $tot pairs, the log $lines"
	bytes="$(json_obj bytes <<<"$j" | json_num up) $(json_obj bytes \
	    <<<"$j" | json_num down)"
	[ "$(sums "$log")" = "$bytes" ] ||
	    problem "the master counts $bytes bytes (up down), the log $(sums "$log")"
}

# check_reasons LOG: as many pairs ended well, by a client's reset and by
# the stall timeout as soakload says; no other end; the pairs that ended
# well moved exactly the bytes soakload verified, both ways.
check_reasons() {
	local log=$1 what n want bytes
	for what in 'eof:ok' 'reset detail=(ECONNRESET|EPIPE) side=client:resets' \
	    'stall detail=(up|down):aborted'; do
		n=$(pair_lines "$log" | grep -cE " reason=(${what%:*})\$")
		want=$(sum "${what##*:}")
		[ "$n" -eq "$want" ] ||
		    problem "$n pair lines with reason=${what%:*}; soakload: ${what##*:}=$want"
	done
	n=$(pair_lines "$log" | grep -vcE " reason=($PAIR_ENDS)\$")
	[ "$n" -eq 0 ] || problem "$n pair line(s) of another end, e.g. $(
	    pair_lines "$log" | grep -vE " reason=($PAIR_ENDS)\$" | head -n 1)"
	bytes=$(sum bytes)
	[ "$(sums "$log" ' reason=eof$')" = "$bytes $bytes" ] ||
	    problem "pairs that ended well moved $(sums "$log" ' reason=eof$') (up down); soakload verified $bytes"
}

# check_stop LOG: SIGTERM; the master exits 0 in time, leaves nothing in
# its session, and its "stopped" line counts every pair of LOG.
check_stop() {
	local log=$1 rc=0 counts
	kill -TERM "$MASTER"
	if ! wait_for "$STOP_SECS" eval '! alive "$MASTER"'; then
		problem "the master did not exit within ${STOP_SECS}s of SIGTERM"
		return
	fi
	wait "$MASTER" || rc=$?
	[ "$rc" -eq 0 ] || problem "the master exited $rc"
	if ! wait_for 5 eval '! pgrep -s "$MASTER" >/dev/null'; then
		problem "left in the master's session: $(ps -o pid=,stat=,args= \
		    -s "$MASTER" | tr '\n' ';')"
		kill -KILL -- "-$MASTER" 2>/dev/null
	fi
	MASTER=
	counts=$(sed -n 's/.*: stopped; \([0-9]*\) pairs served, \([0-9]*\) failed$/\1 + \2/p' "$log")
	if [ -z "$counts" ]; then
		problem "no 'stopped' line"
	elif [ $((counts)) -ne "$(pair_lines "$log" | wc -l)" ]; then
		problem "the master stopped with $counts (served + failed) pairs, the log has $(pair_lines "$log" | wc -l)"
	fi
}

# check_log_lines LOG: one reload line per SIGHUP, and nothing but LOG_KINDS.
check_log_lines() {
	local log=$1 n
	n=$(grep -c ': reload: ' "$log")
	[ "$n" -eq "$RELOADS" ] ||
	    problem "$RELOADS SIGHUPs sent, $n reload lines"
	n=$(grep -vcE "tcpproxy\[[0-9]+\]: ($LOG_KINDS)" "$log")
	[ "$n" -eq 0 ] || problem "$n unexpected log line(s), e.g. $(grep -vE \
	    "tcpproxy\[[0-9]+\]: ($LOG_KINDS)" "$log" | head -n 1)"
}

# ---- one segment ----

# segment N SECS PPC: a proxy with --pairs-per-child PPC for SECS seconds,
# warm-up included, checked; its figures go to REPORT and RESULTS.
segment() {
	local n=$1 secs=$2 ppc=$3 log=$WORK/proxy.$1.log warm cold start end
	PROBLEMS=() RELOADS=0 PEAK_RSS=0
	warm=$((secs / 4))
	((warm > 10)) && warm=10
	((warm < 3)) && warm=3
	say "segment $n: --pairs-per-child $ppc, ${secs}s (warm-up ${warm}s)"
	read -r LISTEN0 < <(listen_counters)
	if ! start_proxy "$log" --pairs-per-child "$ppc"; then
		problem "the proxy did not start"
		REPORT+=("segment $n, --pairs-per-child $ppc: fail"
		    "  FAIL: the proxy did not start")
		return
	fi
	wait_for 10 quiet || problem "the pool did not fill"
	cold=$(sample)
	# the warm-up: every kind of connection, and one reload
	drive "$warm" warm "$((warm / 2))"
	settle "$log" warm-up
	start=$(sample)
	drive "$((secs - warm))" main every
	settle "$log" run
	end=$(sample)
	check_flat "$start" "$end"
	check_counts "$log"
	check_reasons "$log"
	check_stop "$log"
	check_log_lines "$log"
	read -r LISTEN1 < <(listen_counters)
	if [ "$NETNS" = yes ] && [ "$LISTEN0" != "$LISTEN1" ]; then
		problem "the listen queue overflowed: ListenOverflows ListenDrops $LISTEN0 -> $LISTEN1"
	fi
	seg_report "$n" "$ppc" "$secs" "$log" "$cold" "$start" "$end"
	mv "$WORK/warm.out" "$WORK/warm.$n.out"
	mv "$WORK/main.out" "$WORK/main.$n.out"
}

# seg_report N PPC SECS LOG COLD START END: the segment's lines in REPORT,
# its figures in RESULTS.
seg_report() {
	local result=ok p rss0 pss0 fds0 rss1 pss1 fds1
	read -r rss0 pss0 fds0 <<<"$6"
	read -r rss1 pss1 fds1 <<<"$7"
	[ ${#PROBLEMS[@]} -eq 0 ] || result=fail
	REPORT+=("segment $1, --pairs-per-child $2, ${3}s: $result")
	for p in "${PROBLEMS[@]}"; do
		REPORT+=("  FAIL: $p")
	done
	REPORT+=("  master: VmRSS ${5%% *} KiB at start; after the warm-up VmRSS $rss0 KiB, Pss $pss0 KiB, $fds0 fds; at the end VmRSS $rss1 KiB (peak $PEAK_RSS under load), Pss $pss1 KiB, $fds1 fds"
	    "  pairs $(pair_lines "$4" | wc -l): $(pair_lines "$4" |
		sed 's/.* reason=\([a-z-]*\).*/\1/' | sort | uniq -c |
		awk '{ printf "%s%s %s", s, $2, $1; s = ", " }'); $RELOADS reloads"
	    "  soakload, warm-up: $(sed -n 's/^total //p' "$WORK/warm.out")"
	    "  soakload: $(sed -n 's/^total //p' "$WORK/main.out")"
	    "  soakload: $(sed -n 's/^kinds //p' "$WORK/main.out")"
	    "  listen queue (ListenOverflows ListenDrops): $LISTEN0 -> $LISTEN1 (own netns: $NETNS)")
	RESULTS+=("$1 $2 $3 $(pair_lines "$4" | wc -l) $(sum bytes) $RELOADS $(sum resets) $(sum aborted) $(sum stalls_short) $(sum idles) $(sum halfclosed) $rss0 $rss1 $fds0 $fds1 $result")
}

# segment_line N PPC SECS PAIRS BYTES RELOADS RESETS ABORTED STALLS IDLES
#     HALVES RSS0 RSS1 FDS0 FDS1 RESULT: the machine-readable line.
segment_line() {
	printf 'soak segment=%s pairs_per_child=%s secs=%s pairs=%s bytes_verified=%s reloads=%s resets=%s stalls_aborted=%s stalls_short=%s idles=%s halfcloses=%s master_rss_start=%s master_rss_end=%s master_fds_start=%s master_fds_end=%s result=%s\n' "$@"
}

# ---- the run ----

trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap cleanup EXIT

say "${SOAK_SECS}s, seed $SEED, work directory $WORK, netns $NETNS"
"$PROGS/echod" >"$WORK/echod.port" </dev/null 2>"$WORK/echod.err" &
ECHOD_PID=$!
wait_for 5 grep -qx '[0-9][0-9]*' "$WORK/echod.port" ||
    { say "echod did not start"; exit 1; }
ECHOD_PORT=$(head -n 1 "$WORK/echod.port")
T0=$SECONDS
segment 1 $((SOAK_SECS / 2)) 1
segment 2 $((SOAK_SECS - SOAK_SECS / 2)) 0
alive "$ECHOD_PID" || problem "echod died"

printf '%s\n' "soak report: ${SOAK_SECS}s in $((SECONDS - T0))s, seed $SEED" \
    "${REPORT[@]}"
for r in "${RESULTS[@]}"; do
	# shellcheck disable=SC2086 # the figures, one word each
	segment_line $r
done
# The run's line: sums, and the master figures of the segment whose RSS
# grew most.
printf '%s\n' "${RESULTS[@]}" | awk -v secs="$SOAK_SECS" \
    -v elapsed=$((SECONDS - T0)) -v bad="$ALL_PROBLEMS" -v seed="$SEED" '
{
	pairs += $4; bytes += $5; reloads += $6; resets += $7; aborted += $8
	stalls += $9; idles += $10; halves += $11
	if (NR == 1 || $13 - $12 > grow) {
		grow = $13 - $12; r0 = $12; r1 = $13; f0 = $14; f1 = $15
	}
	if ($16 != "ok") bad++
}
END {
	printf "soak secs=%d elapsed=%d seed=%s segments=%d pairs=%d " \
	    "bytes_verified=%.0f reloads=%d resets=%d stalls_aborted=%d " \
	    "stalls_short=%d idles=%d halfcloses=%d " \
	    "master_rss_start=%d master_rss_end=%d master_fds_start=%d " \
	    "master_fds_end=%d result=%s\n", secs, elapsed, seed, NR, pairs,
	    bytes, reloads, resets, aborted, stalls, idles, halves,
	    r0, r1, f0, f1, (bad || NR != 2) ? "fail" : "ok"
}'
if [ "$ALL_PROBLEMS" -ne 0 ] || [ ${#RESULTS[@]} -ne 2 ]; then
	say "failed; work directory kept: $WORK"
	exit 1
fi
if [ "${SOAK_KEEP:-0}" = 1 ]; then
	say "work directory kept: $WORK"
else
	rm -rf "$WORK"
fi
exit 0
