# Goal: the process model stays clean: no zombies, no leaked descriptors,
# the idle pool returns to --spare, idle pairs cost no CPU, a killed idle
# child is replaced, --max-children queues clients instead of refusing
# them, and a burst raises the spare count only for a while.  (Signals:
# see 73-signals-drain.bats.)
# Moves data: make check runs it on both data paths.
# bats file_tags=data

load lib/common

master_fds() { ls "/proc/$PROXY_PID/fd" | wc -l; }
master_fds_are() { [ "$(master_fds)" -eq "$1" ]; }

@test "200 short connections: no zombies, pool back to --spare, no fd leak" {
	local round i fds before
	start_echod
	start_proxy -t 1 -s 4 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 4
	before=$(master_fds)
	# ten rounds of twenty clients at once; every fourth says nothing
	for round in {1..10}; do
		fds=()
		for i in {1..20}; do
			open_conn "$PROXY_PORT"
			fds+=("$CONN")
		done
		for i in {1..20}; do
			((i % 4 == 0)) ||
			    conn_echo "${fds[i - 1]}" "round $round client $i"
			close_conn "${fds[i - 1]}"
		done
	done
	wait_until -t 10 pair_count_is 200
	wait_until -t 10 children_are 4
	wait_until -t 5 master_fds_are "$before"
	run pair_lines
	assert_equal "$(grep -c 'reason=eof$' <<<"$output")" 200
}

@test "20 idle pairs for 5 s cost (nearly) no CPU and are not timed out" {
	local fds=() i t0 t1 used limit
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	for i in {1..20}; do
		open_conn "$PROXY_PORT"
		fds+=("$CONN")
		conn_echo "$CONN" "pair $i"
	done
	wait_until -t 5 children_are 22
	t0=$(proxy_ticks)
	# A measuring window, not synchronisation: nothing moves for 5 s,
	# five times the stall timeout.
	sleep 5
	t1=$(proxy_ticks)
	used=$((t1 - t0))
	limit=$(($(getconf CLK_TCK) / 5))
	echo "CPU used by the proxy's processes in 5 s: $used ticks"
	((used < limit)) || fail "$used ticks of CPU in 5 s (limit $limit)"
	for i in {1..20}; do
		conn_echo "${fds[i - 1]}" "pair $i still there"
	done
	pair_count_is 0
}

@test "an idle child killed with SIGKILL is replaced" {
	local victim
	start_echod
	start_proxy -t 1 -s 3 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 3
	victim=$(pgrep -P "$PROXY_PID" | head -n 1)
	kill -KILL "$victim"
	wait_until -t 10 gone "$victim"
	wait_until -t 10 children_are 3
	run pgrep -P "$PROXY_PID"
	refute_line "$victim"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"served"
	assert_success
	assert_output "served"
}

@test "--spare above the process limit: one warning, and no more idle children" {
	start_echod
	ulimit -S -u 3		# root is not held to it, but the pool is
	start_proxy -s 6 127.0.0.1 "$SERVER_PORT"
	run grep -c -- '--spare 6 is above the process limit; keeping 3 idle children at most$' "$PROXY_LOG"
	assert_output 1
	grep -q ' 3 spare, at most ' "$PROXY_LOG"
	wait_until -t 5 children_are 3
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"served"
	assert_output "served"
	wait_until -t 5 children_are 3
}

@test "at --max-children 2 a third client waits, then is served" {
	local a b c line rc=0
	start_echod
	start_proxy -t 1 -m 2 -s 1 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	a=$CONN
	conn_echo "$a" "first"
	open_conn "$PROXY_PORT"
	b=$CONN
	conn_echo "$b" "second"
	wait_until -t 5 children_are 2
	open_conn "$PROXY_PORT" || fail "the third client was refused"
	c=$CONN
	conn_send "$c" "third"
	# nobody may serve it while two pairs are busy: no answer for 1 s
	read -r -t 1 -u "$c" line || rc=$?
	((rc > 128)) || fail "the third client got '$line' (read status $rc)"
	assert_equal "$(proxy_children)" 2
	close_conn "$a"
	read -r -t 5 -u "$c" line
	assert_equal "$line" "third"
	conn_echo "$b" "second still works"
	assert_equal "$(proxy_children)" 2
}

@test "a burst raises the spare count for a moment, then it falls back" {
	local fds=() i
	start_echod
	start_proxy -v -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
	for i in {1..40}; do
		open_conn "$PROXY_PORT"
		fds+=("$CONN")
	done
	for i in {1..40}; do
		conn_echo "${fds[i - 1]}" "burst $i"
	done
	# The rule: keep as many idle children as clients were taken in the
	# last 100 ms window, never fewer than --spare, never more than twice.
	wait_until -t 5 grep -qE 'keeping [34] idle children' "$PROXY_LOG"
	run grep -E 'keeping ([5-9]|[1-9][0-9]+) idle children' "$PROXY_LOG"
	assert_failure
	for i in {1..40}; do
		close_conn "${fds[i - 1]}"
	done
	wait_until -t 10 pair_count_is 40
	wait_until -t 5 grep -q 'keeping 2 idle children' "$PROXY_LOG"
	wait_until -t 5 children_are 2
}
