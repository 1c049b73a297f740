#!/usr/bin/env bats
# Goal: faults that are not the peers' doing.  Children killed at random
# while other pairs move data end only their own pairs, byte for byte
# checked, and the pool is back to its spares at once; a master killed
# with SIGKILL leaves its pairs to finish and its idle children to leave;
# a master stopped and continued under a stream of connects loses none;
# fork() failing (a pids cgroup at its limit) is logged, costs next to no CPU,
# and service resumes within seconds once the limit is raised; EMFILE and
# ENFILE in accept() and for the upstream socket are one line each, no
# spin, and service resumes once descriptors are back; connects
# into a black hole wait side by side, each on its own timeout; a log
# reader that never reads, or a syslog daemon that stops or dies, does
# not slow a child down.

load lib/common

teardown() {
	[ -z "${CHURN:-}" ] || kill "$CHURN" 2>/dev/null || true
	[ -z "${READER:-}" ] || kill "$READER" 2>/dev/null || true
	common_teardown
	if [ -n "${CG:-}" ] && [ -d "$CG" ]; then
		wait_until -t 5 eval '[ ! -s "$CG/cgroup.procs" ]' || true
		rmdir "$CG" 2>/dev/null || true
	fi
}

# churn_total FILE KEY: a number from churn's closing "total" line.
churn_total() {
	sed -n 's/^total .*'"$2"'=\([0-9]*\).*/\1/p' "$1"
}

# churn_clean FILE MIN: churn's run in FILE had at least MIN pairs come
# back whole, and none failed, was refused or dropped.
churn_clean() {
	echo "$(grep '^total' "$1")" >&2
	[ "$(churn_total "$1" fail)" -eq 0 ] &&
	    [ "$(churn_total "$1" refused)" -eq 0 ] &&
	    [ "$(churn_total "$1" dropped)" -eq 0 ] &&
	    [ "$(churn_total "$1" ok)" -ge "$2" ]
}

# busy_children: pids of the master's children that have a pair.
busy_children() {
	pgrep -P "$PROXY_PID" -f '^tcpproxy: (relay|drain|connect)' || true
}

idle_children() {
	pgrep -P "$PROXY_PID" -f '^tcpproxy: idle$' || true
}

# replace_idle: kill the idle children, so that the master forks new ones
# (with what it has now: a descriptor limit, a tracer).
replace_idle() {
	local pid
	for pid in $(idle_children); do
		kill -KILL "$pid"
	done
}

@test "SIGKILL of busy and idle children while 16 pairs move checked data: only the killed pairs end, the spares come back" {
	local out=$BATS_TEST_TMPDIR/churn killed=0 pid i bad
	start_echod
	start_proxy -s 4 127.0.0.1 "$SERVER_PORT"
	# 256 KiB each way per pair, with a 200 ms pause half-way: busy pairs
	"$PROGS/churn" -c 16 -d 5 -s 262144 -p 200 "$PROXY_PORT" >"$out" &
	CHURN=$!
	for i in 1 2 3 4 5 6; do
		sleep 0.5
		pid=$(busy_children | shuf -n 1)
		if [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; then
			killed=$((killed + 1))
		fi
		# an idle child may be taking a client this very moment: its
		# kill may end that pair too, so it counts
		pid=$(idle_children | shuf -n 1)
		if [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; then
			killed=$((killed + 1))
		fi
	done
	wait "$CHURN" || true
	grep -q '^total ' "$out"
	bad=$(( $(churn_total "$out" fail) + $(churn_total "$out" dropped) ))
	echo "killed $killed children; $(grep '^total' "$out")" >&2
	# every pair whose child was not killed came back whole
	[ "$killed" -ge 6 ]
	[ "$bad" -le "$killed" ]
	[ "$(churn_total "$out" ok)" -ge 50 ]
	[ "$(churn_total "$out" refused)" -eq 0 ]
	# the master noticed them (a kill can also land on a child that had
	# just exited, which then counts as exited), and the pool is whole
	wait_until -t 5 children_are 4
	alive "$PROXY_PID"
	grep -q 'killed by SIGKILL' "$PROXY_LOG"
	echo_once() { run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"$1"; assert_output "$1"; }
	echo_once "after the kills"
}

@test "SIGKILL of the master: its open pairs finish, its idle children leave" {
	local a b sid
	start_echod
	start_proxy -s 3 127.0.0.1 "$SERVER_PORT"
	sid=$(ps -o sid= -p "$PROXY_PID" | tr -d ' ')
	echo_conn "$PROXY_PORT" "pair a"; a=$CONN
	echo_conn "$PROXY_PORT" "pair b"; b=$CONN
	kill -KILL "$PROXY_PID"
	wait_proxy_exit
	# idle children follow their master (PR_SET_PDEATHSIG); busy ones stay
	wait_until -t 5 eval '[ "$(pgrep -s '"$sid"' -f "^tcpproxy: idle" | wc -l)" -eq 0 ]'
	conn_echo "$a" "a still flows"
	conn_echo "$b" "b still flows"
	close_conn "$a"
	close_conn "$b"
	# and then nothing of that master is left
	session_cleared 5 "$sid" "a killed master"
}

@test "SIGKILL of the master under a socket activator, then a restart: pairs in flight finish, no connect refused or lost" {
	local out=$BATS_TEST_TMPDIR/churn first second
	start_echod
	# sockpass -r holds the listening socket, as systemd does, and runs
	# the proxy again on SIGUSR1
	LISTEN_FDS=1 start_sockpass -r -l -k listen -- \
	    "$TCPPROXY" -s 4 127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 grep -q "^sockpass: started " "$PROXY_LOG"
	first=$(pgrep -P "$PROXY_PID")
	wait_until -t 10 grep -q "tcpproxy\[$first\]: listening on" "$PROXY_LOG"
	"$PROGS/churn" -c 8 -d 4 -s 65536 -p 100 "$SP_PORT" >"$out" &
	CHURN=$!
	sleep 1
	kill -KILL "$first"
	wait_until -t 5 eval '[ -z "$(pgrep -P "$PROXY_PID")" ]'
	sleep 0.5	# the gap: clients queue on the held socket
	kill -USR1 "$PROXY_PID"
	wait_until -t 10 eval '[ -n "$(pgrep -P "$PROXY_PID")" ]'
	second=$(pgrep -P "$PROXY_PID")
	[ "$second" != "$first" ]
	wait "$CHURN"
	churn_clean "$out" 20
	# the new master served some of them
	wait_until -t 5 grep -q "tcpproxy\[[0-9]*\]: pair .*reason=eof" "$PROXY_LOG"
	kill -TERM "$second"
}

@test "SIGSTOP and SIGCONT of the master under a stream of connects: no connect refused, none failed" {
	local out=$BATS_TEST_TMPDIR/churn
	start_echod
	start_proxy -s 4 127.0.0.1 "$SERVER_PORT"
	"$PROGS/churn" -c 8 -d 4 -s 1000 "$PROXY_PORT" >"$out" &
	CHURN=$!
	sleep 1
	kill -STOP "$PROXY_PID"
	sleep 1		# its spares take clients; the rest wait in the queue
	kill -CONT "$PROXY_PID"
	wait "$CHURN"
	churn_clean "$out" 100
	wait_until -t 5 children_are 4
}

# pids_cgroup: a pids cgroup of this test's own (v1, or v2 with the pids
# controller on), its path in CG; 1 if none can be made here.
pids_cgroup() {
	local base
	if [ -w /sys/fs/cgroup/pids ]; then
		base=/sys/fs/cgroup/pids
	elif grep -qw pids /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
		base=/sys/fs/cgroup
	else
		return 1
	fi
	CG=$base/tcpproxy-test-$$-$BATS_TEST_NUMBER
	mkdir "$CG" 2>/dev/null && [ -w "$CG/pids.max" ]
}

@test "a master stopped while its reusing children serve 3,000 pairs (6,000 records on the taken pipe): once continued, it counts every pair" {
	start_echod
	start_proxy -s 8 --pairs-per-child 0 127.0.0.1 "$SERVER_PORT"
	kill -STOP "$PROXY_PID"
	run timeout 120 "$PROGS/churn" -c 8 -n 3000 -s 2 "$PROXY_PORT"
	kill -CONT "$PROXY_PID"
	assert_line 'total ok=3000 refused=0 dropped=0 fail=0'
	wait_until -t 10 pair_count_is 3000
	kill -USR1 "$PROXY_PID"
	wait_until -t 5 grep -q 'pool: .* 3000 pairs served, 0 failed' \
	    "$PROXY_LOG"
}

@test "fork() failing (a cgroup's pids.max): logged, next to no CPU, and the pool fills within 3 s of the limit being raised" {
	local t0 t1 i
	pids_cgroup || skip "no pids cgroup can be made here"
	start_echod
	start_proxy -s 8 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 eval '[ "$(idle_children | wc -l)" -eq 8 ]'
	# the master alone in a cgroup that allows it no other process
	echo "$PROXY_PID" >"$CG/cgroup.procs"
	echo 1 >"$CG/pids.max"
	for i in 1 2 3; do
		echo_conn "$PROXY_PORT" "held $i"
	done
	wait_until -t 5 grep -q 'fork: Resource temporarily unavailable' "$PROXY_LOG"
	wait_until -t 5 grep -q 'pausing new children' "$PROXY_LOG"
	# the children it has still serve
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"served meanwhile"
	assert_output "served meanwhile"
	# held back, the master costs next to nothing: under 5 % of a core
	t0=$(proxy_ticks)
	sleep 3
	t1=$(proxy_ticks)
	echo "ticks in 3 s while fork fails: $((t1 - t0))" >&2
	[ $((t1 - t0)) -le 15 ]
	# one warning line, not one per attempt (they repeat every 10 s)
	run grep -c 'fork: Resource temporarily unavailable' "$PROXY_LOG"
	[ "$output" -le 1 ]
	# the limit is lifted: back to 8 spares within 3 s
	echo max >"$CG/pids.max"
	for i in $(seq 30); do
		[ "$(idle_children | wc -l)" -ge 8 ] && break
		sleep 0.1
	done
	echo "idle children 3 s after: $(idle_children | wc -l)" >&2
	[ "$(idle_children | wc -l)" -ge 8 ]
}

connecting() { "$TCPPROXY" --status="$PROXY_PID" | grep -c ' connecting '; }

@test "a destination that black-holes SYNs (a route into a veth nobody answers): 16 clients wait in connect at once, each ends on its own timeout, then service resumes" {
	local out=$BATS_TEST_TMPDIR/churn got=$BATS_TEST_TMPDIR/got
	new_netns bh
	# 10.99.0.2 is behind bh0, whose peer is up but has no address: a
	# SYN sent there is dropped without a word, as by a firewall.
	in_ns ip link add bh0 type veth peer name bh1 ||
	    skip "no veth devices here"
	in_ns ip addr add 10.99.0.1/24 dev bh0
	in_ns ip link set bh0 up
	in_ns ip link set bh1 up
	in_ns ip neigh add 10.99.0.2 lladdr 02:00:00:00:00:02 dev bh0 \
	    nud permanent
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	spawn ip netns exec "$NS" setsid "$TCPPROXY" -l 127.0.0.1 -c 3 -s 4 \
	    -m 64 10.99.0.2 7000 7001 2>"$PROXY_LOG" </dev/null
	PROXY_PID=$!
	wait_until -t 10 grep -q 'listening on' "$PROXY_LOG"
	spawn ip netns exec "$NS" "$PROGS/churn" -c 16 -n 16 -s 10 7001 \
	    >"$out" </dev/null
	TEST_PIDS+=("$!")
	# All of them wait at the same time, each in a process of its own.
	wait_until -t 10 eval '[ "$(connecting)" -eq 16 ]'
	wait_until -t 30 grep -q '^total ' "$out"
	run tail -n 1 "$out"
	assert_output 'total ok=0 refused=0 dropped=16 fail=0'
	[ "$(pair_lines | grep -c ' up=0 down=0 .* reason=timeout detail=ETIMEDOUT$')" -eq 16 ]
	# The destination comes back (here, on this namespace's loopback).
	in_ns ip neigh del 10.99.0.2 dev bh0
	in_ns ip addr add 10.99.0.2/32 dev lo
	spawn ip netns exec "$NS" nc -l 10.99.0.2 7000 >"$got" </dev/null
	TEST_PIDS+=("$!")
	wait_until -t 5 eval 'in_ns ss -Hltn "sport = :7000" | grep -q .'
	in_ns timeout 5 nc -N 127.0.0.1 7001 <<<"served again" || true
	wait_until -t 5 grep -qx 'served again' "$got"
	wait_until -t 10 children_are 4
}

@test "a log reader that never reads: children do not wait on the log, every pair is served" {
	local fifo=$BATS_TEST_TMPDIR/log.fifo out=$BATS_TEST_TMPDIR/churn
	mkfifo "$fifo"
	# a reader that opens the pipe and never reads it
	sleep 60 <"$fifo" &
	READER=$!
	start_echod
	PROXY_LOG=$BATS_TEST_TMPDIR/unused
	PROXY_PORT=$(free_port)
	spawn setsid "$TCPPROXY" -l 127.0.0.1 -s 4 127.0.0.1 "$SERVER_PORT" \
	    "$PROXY_PORT" 2>"$fifo" </dev/null
	PROXY_PID=$!
	wait_until -t 5 port_listening "$PROXY_PORT"
	# 600 pairs log about 80 KiB: more than the pipe holds
	run timeout 60 "$PROGS/churn" -c 8 -n 600 -s 100 "$PROXY_PORT"
	assert_success
	assert_line --regexp '^total ok=600 refused=0 dropped=0 fail=0$'
	kill "$READER" 2>/dev/null || true
}

@test "a syslog daemon that stops reading, then dies: children do not wait on the log, every pair is served" {
	local out=$BATS_TEST_TMPDIR/syslog.out recv
	start_syslog "$out"
	recv=$SYSLOG_PID
	start_echod
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	PROXY_PORT=$(free_port)
	spawn setsid nsenter -t "$recv" -m -- "$TCPPROXY" --syslog \
	    -l 127.0.0.1 -s 4 127.0.0.1 "$SERVER_PORT" "$PROXY_PORT" \
	    2>"$PROXY_LOG" >/dev/null </dev/null
	PROXY_PID=$!
	wait_until -t 10 port_listening "$PROXY_PORT"
	wait_until -t 5 grep -q 'listening on' "$out"
	# Stopped: its socket's queue fills (a few hundred datagrams).
	kill -STOP "$recv"
	run timeout 60 "$PROGS/churn" -c 8 -n 600 -s 100 "$PROXY_PORT"
	assert_success
	assert_line --regexp '^total ok=600 refused=0 dropped=0 fail=0$'
	# Dead: the socket file stays, nobody behind it.
	kill -KILL "$recv"
	wait_until -t 5 gone "$recv"
	run timeout 60 "$PROGS/churn" -c 8 -n 300 -s 100 "$PROXY_PORT"
	assert_success
	assert_line --regexp '^total ok=300 refused=0 dropped=0 fail=0$'
	alive "$PROXY_PID"
}

# free_fd PID K: the Kth lowest descriptor number PID has free (from 1).
free_fd() {
	local fd=0 k=0
	while :; do
		if [ ! -e /proc/"$1"/fd/$fd ]; then
			k=$((k + 1))
			[ "$k" -eq "$2" ] && break
		fi
		fd=$((fd + 1))
	done
	echo "$fd"
}

# settled PID: PID is asleep with the same descriptors as 100 ms ago (a
# new child closes what it inherited before it waits in accept()).
settled() {
	local a b
	a=$(ls /proc/"$1"/fd 2>/dev/null | sort | tr '\n' ' ')
	sleep 0.1
	b=$(ls /proc/"$1"/fd 2>/dev/null | sort | tr '\n' ' ')
	[ -n "$a" ] && [ "$a" = "$b" ] &&
	    [ "$(sed 's/.*) //' /proc/"$1"/stat | cut -d' ' -f1)" = S ]
}

# nofile_soft PID N: PID's soft descriptor limit becomes N (its hard
# limit stays, so it can be raised again without privilege).
nofile_soft() {
	prlimit --pid "$1" --nofile="$2":"$(prlimit --pid "$1" --nofile -o HARD --noheadings)"
}

@test "EMFILE in accept(): each child that meets it says so and leaves, without a spin; once descriptors are back the waiting client is served" {
	local pid limit t0 t1 n
	command -v prlimit >/dev/null || skip "prlimit (util-linux) is needed"
	start_echod
	start_proxy -s 1 127.0.0.1 "$SERVER_PORT"
	pid=$(idle_children)
	wait_until -t 5 settled "$pid"
	# children inherit the master's limit: none of them can accept
	limit=$(free_fd "$pid" 1)
	nofile_soft "$PROXY_PID" "$limit"
	kill -KILL "$pid"
	wait_until -t 5 grep -q 'accept: Too many open files' "$PROXY_LOG"
	timeout 20 nc -N 127.0.0.1 "$PROXY_PORT" <<<"waited" \
	    >"$BATS_TEST_TMPDIR/client.out" &
	TEST_PIDS+=("$!")
	t0=$(proxy_ticks)
	sleep 3
	t1=$(proxy_ticks)
	echo "ticks in 3 s: $((t1 - t0))" >&2
	[ $((t1 - t0)) -le 15 ]
	# one line per child that tried, and the back-off spaces them out
	n=$(grep -c 'accept: Too many open files' "$PROXY_LOG")
	echo "$n children met EMFILE in 3 s" >&2
	[ "$n" -ge 1 ] && [ "$n" -le 8 ]
	# descriptors are back: the client that waited in the queue is served
	nofile_soft "$PROXY_PID" 1024
	wait_until -t 5 grep -qx waited "$BATS_TEST_TMPDIR/client.out"
	wait_until -t 5 children_are 1
}

@test "EMFILE when connecting upstream: the pair ends with reason=internal detail=EMFILE, and once descriptors are back the next client is served" {
	local pid limit
	command -v prlimit >/dev/null || skip "prlimit (util-linux) is needed"
	start_echod
	# a child that serves again keeps its listener and taken pipe open
	# while it relays: room for the client, none for the upstream socket
	start_proxy -s 1 --pairs-per-child 2 127.0.0.1 "$SERVER_PORT"
	pid=$(idle_children)
	wait_until -t 5 settled "$pid"
	limit=$(( $(free_fd "$pid" 1) + 1 ))
	[ "$limit" -le "$(free_fd "$pid" 2)" ]
	nofile_soft "$PROXY_PID" "$limit"
	kill -KILL "$pid"
	wait_until -t 5 eval '[ -n "$(idle_children)" ] && settled "$(idle_children)"'
	run timeout 10 nc -N 127.0.0.1 "$PROXY_PORT" <<<"cut short"
	assert_output ""
	wait_until -t 5 log_count 'pair .* reason=internal detail=EMFILE$' 1
	# the child that met it left (a shortage); descriptors come back, and
	# the spare forked meanwhile with the low limit is replaced
	nofile_soft "$PROXY_PID" 1024
	replace_idle
	wait_until -t 5 eval '[ -n "$(idle_children)" ]'
	run timeout 10 nc -N 127.0.0.1 "$PROXY_PORT" <<<"the next one"
	assert_output "the next one"
}

# strace_children CALLS ERRNO: from now on, CALLS fail with ERRNO in every
# child the master forks (strace follows it; its idle children are
# replaced so that new ones are traced).  Sets STRACE.
strace_children() {
	strace -f -qq -o /dev/null -e trace="$1" \
	    -e inject="$1":error="$2" -p "$PROXY_PID" &
	STRACE=$!
	TEST_PIDS+=("$STRACE")
	wait_until -t 5 eval 'grep -q "^TracerPid:[[:space:]]*$STRACE$" \
	    /proc/$PROXY_PID/status'
	replace_idle
}

# strace_gone: the tracer detaches, and the children it traced are
# replaced.
strace_gone() {
	kill "$STRACE"
	wait "$STRACE" || true
	replace_idle
}

# The sandbox is off here: seccomp sees the system call that strace
# turns into an error as no call it knows, and kills the child.
@test "ENFILE in accept() (strace injects it): each child says so once and leaves, no spin; then clients are served again" {
	command -v strace >/dev/null || skip "strace is missing"
	start_echod
	start_proxy -s 2 --no-sandbox 127.0.0.1 "$SERVER_PORT"
	strace_children accept,accept4 ENFILE
	wait_until -t 5 grep -q 'accept: Too many open files in system$' \
	    "$PROXY_LOG"
	sleep 2
	# the back-off spaces the children out: a few lines, not a spin
	[ "$(grep -c 'accept: Too many open files in system$' \
	    "$PROXY_LOG")" -le 10 ]
	strace_gone
	run timeout 10 nc -N 127.0.0.1 "$PROXY_PORT" <<<"after ENFILE"
	assert_output "after ENFILE"
}

@test "ENFILE for the upstream socket (strace injects it): the pair ends with reason=internal detail=ENFILE; then the next client is served" {
	command -v strace >/dev/null || skip "strace is missing"
	start_echod
	start_proxy -s 2 --no-sandbox 127.0.0.1 "$SERVER_PORT"
	strace_children socket ENFILE
	wait_until -t 5 eval '[ -n "$(idle_children)" ]'
	run timeout 10 nc -N 127.0.0.1 "$PROXY_PORT" <<<"cut short"
	assert_output ""
	wait_until -t 5 log_count 'pair .* reason=internal detail=ENFILE$' 1
	strace_gone
	wait_until -t 5 eval '[ -n "$(idle_children)" ]'
	run timeout 10 nc -N 127.0.0.1 "$PROXY_PORT" <<<"the next one"
	assert_output "the next one"
}
