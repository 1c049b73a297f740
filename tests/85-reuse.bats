#!/usr/bin/env bats
# Goal: --pairs-per-child N, where a child that finished its pair cleanly
# goes back to accept() until it served N (0: no limit).  While a pair
# lives it still has a process of its own; nothing of one pair is left
# for the next (log line, scoreboard row, title, per-source count,
# descriptors); the master hears at once that the child is idle again,
# so the pool keeps its spare count without forking for every client;
# a child of an old generation or of a stopping master serves no more.
# And --splice: each path carries the bytes (make check runs the files
# that move data through every path and with 1, 5 and 0 pairs per child).

load lib/common

# pids_of_pairs: the pid of each pair line, in order, one per line.
pids_of_pairs() { pair_lines | sed -E 's/.*tcpproxy\[([0-9]+)\]: pair .*/\1/'; }

# json_field EXPR: a field of --status --format=json, by a Python
# expression over d.
json_field() {
	"$TCPPROXY" --status="$PROXY_PID" --format=json |
	    /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# echo_once TEXT: one short pair through the proxy.
echo_once() {
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"$1"
	assert_output "$1"
}

@test "--pairs-per-child 3: one child serves three pairs one after the other, each with its own log line, then exits" {
	local first n
	start_echod
	# -m 1: one child at a time, so every client goes to the same one
	start_proxy -s 1 -m 1 --pairs-per-child 3 127.0.0.1 "$SERVER_PORT"
	for n in 1 2 3 4 5; do
		echo_once "pair $n"
		wait_until -t 5 pair_count_is "$n"
	done
	run pids_of_pairs
	first=${lines[0]}
	# every line its own bytes, not a running sum
	run pair_lines
	for n in 0 1 2 3 4; do
		[[ ${lines[n]} == *" up=7 down=7 "*"reason=eof" ]]
	done
	run pids_of_pairs
	[ "${lines[1]}" = "$first" ] && [ "${lines[2]}" = "$first" ]
	# the fourth client went to another child; the first one is gone
	[ "${lines[3]}" != "$first" ]
	wait_until -t 5 gone "$first"
	wait_until -t 5 no_zombies
}

@test "--pairs-per-child 0: the pool keeps its spare count without a fork per client" {
	local forks
	under_valgrind &&
	    skip "under valgrind children come back idle too late to count forks"
	start_echod
	start_proxy -s 2 --pairs-per-child 0 127.0.0.1 "$SERVER_PORT"
	echo_once warm
	wait_until -t 5 pair_count_is 1
	forks=$(json_field 'd["totals"]["forks"]')
	for n in 1 2 3 4 5 6 7 8 9 10; do
		echo_once "pair $n"
	done
	wait_until -t 5 pair_count_is 11
	# Children came back idle: no fork for most of the ten (one pays
	# only where a client came before its child said it was idle).
	[ "$(json_field 'd["totals"]["forks"]')" -le $((forks + 2)) ]
	# and after a quiet moment the pool is back to its --spare
	wait_until -t 5 eval '[ "$(json_field "d[\"totals\"][\"children\"][\"idle\"]")" -eq 2 ]'
	wait_until -t 5 children_are 2
	# a few pids served all eleven: reuse, not one process per pair
	[ "$(pids_of_pairs | sort -u | wc -l)" -le 5 ]
}

@test "--pairs-per-child 0: each pair of a child has its own scoreboard row and title" {
	local pid
	under_valgrind && skip "ps shows valgrind's command line, not the title"
	start_echod
	start_proxy -s 1 --pairs-per-child 0 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "first pair, a longer line"
	pid=$(child_for "$CONN_PORT")
	[ -n "$pid" ]
	close_conn "$CONN"
	wait_until -t 5 pair_count_is 1
	# idle again: its title and its row say nothing of the first pair
	wait_until -t 5 eval '[ "$(ps -o args= -p '"$pid"')" = "tcpproxy: idle" ]'
	wait_until -t 5 eval '[ "$(json_field "len(d[\"pairs\"])")" -eq 0 ]'
	# the next client may go to it or to the spare; find whoever has it
	echo_conn "$PROXY_PORT" "two"
	wait_until -t 5 status_shows "relaying 127\.0\.0\.1:$CONN_PORT 127\.0\.0\.1:$SERVER_PORT 4 4 "
	[ "$(json_field 'len(d["pairs"])')" -eq 1 ]
	[ -n "$(child_for "$CONN_PORT")" ]
}

@test "--pairs-per-child 0: kill PID ends exactly that pair, and the child with it" {
	local a b pa pb
	start_echod
	start_proxy -s 2 --pairs-per-child 0 127.0.0.1 "$SERVER_PORT"
	echo_once warm
	echo_conn "$PROXY_PORT" "pair a"
	a=$CONN; pa=$(child_for "$CONN_PORT")
	echo_conn "$PROXY_PORT" "pair b"
	b=$CONN; pb=$(child_for "$CONN_PORT")
	[ -n "$pa" ] && [ -n "$pb" ] && [ "$pa" != "$pb" ]
	kill -TERM "$pa"
	conn_closed "$a"
	wait_until -t 5 gone "$pa"
	conn_echo "$b" "still here"
	wait_until -t 5 log_count "tcpproxy\[$pa\]: pair .*reason=signal" 1
}

@test "--pairs-per-child 0: no descriptor is left from a pair, spliced or copied" {
	local pid before after big=$BATS_TEST_TMPDIR/big
	under_valgrind &&
	    skip "ps shows valgrind's command line, not the title 'idle'"
	head -c 3000000 /dev/urandom >"$big"
	start_echod
	start_proxy -s 1 --pairs-per-child 0 127.0.0.1 "$SERVER_PORT"
	pid=$(pgrep -P "$PROXY_PID" -f '^tcpproxy: idle$')
	before=$(ls /proc/"$pid"/fd | wc -l)
	# a stream (it splices through pipes) and a short one (it copies)
	for n in 1 2 3; do
		run bash -c "timeout 20 nc -N 127.0.0.1 $PROXY_PORT <'$big' | cmp - '$big'"
		assert_success
		echo_once short
	done
	wait_until -t 5 pair_count_is 6
	# the child that served them, if still there, holds what it held
	if alive "$pid" && [ "$(pids_of_pairs | grep -c "^$pid$")" -gt 0 ]; then
		wait_until -t 5 eval '[ "$(ps -o args= -p '"$pid"')" = "tcpproxy: idle" ]'
		after=$(ls /proc/"$pid"/fd | wc -l)
		[ "$after" -eq "$before" ]
	fi
	# and every child that served pairs does the same
	for p in $(pids_of_pairs | sort -u); do
		alive "$p" || continue
		[ "$(ls /proc/"$p"/fd | wc -l)" -eq "$before" ]
	done
}

@test "--pairs-per-child 0 --max-per-source 1: a pair's count is given back when it ends, not when its child exits" {
	start_echod
	start_proxy -s 1 --pairs-per-child 0 --max-per-source 1 127.0.0.1 "$SERVER_PORT"
	for n in 1 2 3 4; do
		echo_once "pair $n"
		wait_until -t 5 pair_count_is "$n"
	done
	run grep -c 'reason=limit' "$PROXY_LOG"
	assert_output 0
	# the limit itself still holds
	echo_conn "$PROXY_PORT" "held"
	run bash -c "echo no | timeout 5 nc -N 127.0.0.1 $PROXY_PORT"
	wait_until -t 5 log_count 'reason=limit' 1
}

@test "--pairs-per-child 0: a busy child of an old generation (SIGHUP) or of a stopping master serves no more pairs" {
	local pid
	start_echod
	start_proxy -s 1 --pairs-per-child 0 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "before the reload"
	pid=$(child_for "$CONN_PORT")
	kill -HUP "$PROXY_PID"
	wait_until -t 5 grep -q 'reload' "$PROXY_LOG"
	conn_echo "$CONN" "during the reload"
	close_conn "$CONN"
	# its pair ended cleanly, yet it leaves: the destination may differ
	wait_until -t 5 gone "$pid"
	wait_until -t 5 pair_count_is 1
	echo_once "after the reload"
	# a busy child when SIGTERM comes finishes its pair, then exits
	echo_conn "$PROXY_PORT" "at the stop"
	pid=$(child_for "$CONN_PORT")
	kill -TERM "$PROXY_PID"
	wait_until -t 5 refuses "$PROXY_PORT"
	conn_echo "$CONN" "still served"
	close_conn "$CONN"
	wait_proxy_exit
	assert_equal "$PROXY_STATUS" 0
	gone "$pid"
}

@test "--pairs-per-child: a child that serves again relays in the idle-stage sandbox; one that exits after its pair locks down further" {
	local n want
	grep -q '^Seccomp_filters:' /proc/self/status ||
	    skip "this kernel does not report seccomp filters"
	! sanitizer_build || skip "a sanitizer build has no sandbox"
	! under_valgrind || skip "the valgrind build has no sandbox"
	start_echod
	for n in 0 1; do
		start_proxy -s 1 --pairs-per-child "$n" 127.0.0.1 "$SERVER_PORT"
		echo_conn "$PROXY_PORT" "pairs per child $n"
		want=$((n == 1 ? 2 : 1))
		run grep '^Seccomp_filters:' /proc/"$(child_for "$CONN_PORT")"/status
		assert_output --regexp ":[[:space:]]+$want\$"
		close_conn "$CONN"
		stop_proxy
	done
}

@test "--pairs-per-child and --splice: bad values are usage errors" {
	cli --pairs-per-child=-1 127.0.0.1 80 8080
	usage_error "invalid --pairs-per-child value '-1': out of range (0-1000000)"
	cli --pairs-per-child=lots 127.0.0.1 80 8080
	usage_error "invalid --pairs-per-child value 'lots': not a number"
	cli --splice=sometimes 127.0.0.1 80 8080
	usage_error "invalid --splice value 'sometimes': auto, always or never"
}

@test "--splice=auto: a stream and a trickle through the same pair, byte-exact both ways" {
	local big=$BATS_TEST_TMPDIR/big n
	head -c 5000000 /dev/urandom >"$big"
	start_echod
	start_proxy -s 1 --splice=auto 127.0.0.1 "$SERVER_PORT"
	# small writes first (copied), then the bulk (spliced), then small
	run bash -c "{ for i in \$(seq 50); do echo line \$i; sleep 0.002; done; cat '$big'; echo tail; } |
	    timeout 30 nc -N 127.0.0.1 $PROXY_PORT >'$BATS_TEST_TMPDIR/out'"
	assert_success
	{ for i in $(seq 50); do echo "line $i"; done; cat "$big"; echo tail; } \
	    >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/want"
	n=$(wc -c <"$BATS_TEST_TMPDIR/want")
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " up=$n down=$n .*reason=eof"
}

@test "--splice=auto --pairs-per-child=0 (pipes made only when a direction first splices): the assignment's phases hold" {
	local phase
	for phase in single twenty bulk mix halfclose earlyclose lazy-client lazy-server; do
		run timeout -k 10 200 "$PROGS/tester" --stall 1 "$phase" -- \
		    "$TCPPROXY" -l 127.0.0.1 -t 1 --splice=auto --pairs-per-child=0
		assert_success
		assert_output --partial "PASS: phase $phase"
	done
}
