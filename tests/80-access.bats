#!/usr/bin/env bats
# Goal: --allow and --deny decide who may connect, on IPv4, IPv6 and
# IPv4-mapped clients, the first matching rule deciding and, with any
# --allow, whatever matches nothing refused.  A refused client is reset
# at once, the destination never hears of it, and its log line says
# reason=denied; refusing costs no fork (the idle child that took it goes
# back to accept()), and clients the rules let in are served as ever.

load lib/common

# try_from SRC [PORT [DST]]: send a line from address SRC through the
# proxy (PORT, DST: the proxy's by default); $output: what came back.
try_from() {
	run timeout 5 nc -N -s "$1" "${3:-127.0.0.1}" "${2:-$PROXY_PORT}" \
	    <<<"from $1"
}

# denied_line SRC: the log has one reason=denied line for a client at SRC.
denied_line() {
	local re="pair client=\\[?${1//./\\.}\\]?:[0-9]+ upstream=- up=0 down=0"
	re+=" $DUR reason=denied\$"
	[ "$(pair_lines | grep -cE -- "$re")" -eq 1 ]
}

# forked: how many children the master has forked, from its SIGUSR1 line.
forked() {
	local n
	n=$(grep -c ': pool: ' "$PROXY_LOG") || true
	kill -USR1 "$PROXY_PID"
	wait_until -t 5 log_count ': pool: ' $((n + 1)) || return 1
	grep ': pool: ' "$PROXY_LOG" | tail -n 1 |
	    sed -E 's/.* ([0-9]+) children forked.*/\1/'
}

@test "--deny an IPv4 address: reset, upstream never contacted; others served" {
	local dport
	start_echod
	start_proxy -s 2 --deny 127.0.0.2 127.0.0.1 "$SERVER_PORT"
	try_from 127.0.0.2
	assert_output ''
	wait_until -t 5 denied_line 127.0.0.2
	try_from 127.0.0.1
	assert_output "from 127.0.0.1"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 1 --regexp "client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.1:$SERVER_PORT up=15 down=15 $DUR reason=eof$"
	stop_proxy
	# Nothing listens at dport, and -v logs each connect that fails:
	# only the client let in tries one.
	dport=$(free_port)
	start_proxy -v -s 2 --deny 127.0.0.2 127.0.0.1 "$dport"
	try_from 127.0.0.2
	wait_until -t 5 denied_line 127.0.0.2
	run grep -c ": connect to 127.0.0.1:$dport: " "$PROXY_LOG"
	assert_output 0
	try_from 127.0.0.1
	wait_until -t 5 pair_count_is 2
	run grep -c ": connect to 127.0.0.1:$dport: " "$PROXY_LOG"
	assert_output 1
}

@test "a refused client costs no fork: 20 of them, the same children" {
	local before i
	start_echod
	start_proxy -s 2 --deny 127.0.0.2/32 127.0.0.1 "$SERVER_PORT"
	before=$(forked)
	for i in $(seq 20); do
		try_from 127.0.0.2
		assert_output ''
	done
	wait_until -t 5 pair_count_is 20
	assert_equal "$(forked)" "$before"
	children_are 2
	try_from 127.0.0.1
	assert_output "from 127.0.0.1"
}

@test "--allow: what matches no rule is denied; the first match decides" {
	start_echod
	start_proxy -s 2 --deny 127.0.0.3 --allow 127.0.0.0/30 \
	    127.0.0.1 "$SERVER_PORT"
	try_from 127.0.0.2
	assert_output "from 127.0.0.2"
	try_from 127.0.0.3		# denied by the first rule
	assert_output ''
	try_from 127.0.0.4		# outside the allowed /30
	assert_output ''
	wait_until -t 5 denied_line 127.0.0.3
	wait_until -t 5 denied_line 127.0.0.4
	wait_until -t 5 pair_count_is 3
}

@test "IPv6: --deny ::1, and --allow ::1 with --deny ::/0" {
	start_echod -6
	PROXY_ADDR=::1 start_proxy -s 2 --deny ::1/128 ::1 "$SERVER_PORT"
	try_from ::1 "$PROXY_PORT" ::1
	assert_output ''
	wait_until -t 5 denied_line ::1
	stop_proxy
	PROXY_ADDR=::1 start_proxy -s 2 --allow ::1 --deny ::/0 \
	    ::1 "$SERVER_PORT"
	try_from ::1 "$PROXY_PORT" ::1
	assert_output "from ::1"
}

@test "an IPv4-mapped client on a dual-stack listener matches IPv4 rules" {
	start_echod
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	PROXY_PORT=$(free_port)
	spawn setsid "$TCPPROXY" -s 2 --deny 127.0.0.2/31 127.0.0.1 \
	    "$SERVER_PORT" "$PROXY_PORT" 2>"$PROXY_LOG" </dev/null
	PROXY_PID=$!
	wait_until -t 10 grep -qF "listening on [::]:$PROXY_PORT" "$PROXY_LOG"
	try_from 127.0.0.3
	assert_output ''
	wait_until -t 5 denied_line 127.0.0.3
	try_from 127.0.0.1
	assert_output "from 127.0.0.1"
}

# ---- peers that vanish ----

# netns_pair: two network namespaces of this test's own, P (the proxy's)
# and C (the client's), joined by a veth pair: 10.77.0.1 in P, 10.77.0.2
# in C.  Their names are in NS_P and NS_C; teardown removes them.
netns_pair() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
	command -v ip >/dev/null || skip "needs ip (iproute2)"
	NS_P=tcpproxy-p-$$-$BATS_TEST_NUMBER
	NS_C=tcpproxy-c-$$-$BATS_TEST_NUMBER
	ip netns add "$NS_P" || skip "cannot create a network namespace here"
	ip netns add "$NS_C"
	ip -n "$NS_P" link set lo up
	ip -n "$NS_C" link set lo up
	ip -n "$NS_P" link add vp type veth peer name vc netns "$NS_C"
	ip -n "$NS_P" addr add 10.77.0.1/24 dev vp
	ip -n "$NS_C" addr add 10.77.0.2/24 dev vc
	ip -n "$NS_P" link set vp up
	ip -n "$NS_C" link set vc up
}

teardown() {
	local rc=0
	common_teardown || rc=1
	[ -z "${NS_P:-}" ] || ip netns del "$NS_P" 2>/dev/null || true
	[ -z "${NS_C:-}" ] || ip netns del "$NS_C" 2>/dev/null || true
	return "$rc"
}

# vanish_setup OPTIONS...: in P, echod and the proxy (OPTIONS) in front of
# it on 10.77.0.1; in C, a client that echoes a line through it and then
# holds the connection open, saying nothing.  Then the client's network
# goes away (the veth pair is deleted): no FIN, no reset, ever.
vanish_setup() {
	local out=$BATS_TEST_TMPDIR/echod.out
	spawn ip netns exec "$NS_P" "$PROGS/echod" >"$out" </dev/null
	TEST_PIDS+=("$!")
	wait_until -t 5 grep -qx '[0-9][0-9]*' "$out"
	SERVER_PORT=$(head -n 1 "$out")
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	PROXY_PORT=$(free_port)
	spawn ip netns exec "$NS_P" setsid "$TCPPROXY" -l 10.77.0.1 -s 2 \
	    "$@" 127.0.0.1 "$SERVER_PORT" "$PROXY_PORT" 2>"$PROXY_LOG" \
	    </dev/null
	TEST_PIDS+=("$!")
	wait_until -t 10 grep -q 'listening on 10.77.0.1' "$PROXY_LOG"
	PROXY_PID=$(pgrep -f -o "^tcpproxy: master 10\.77\.0\.1:$PROXY_PORT ")
	spawn ip netns exec "$NS_C" bash -c 'exec 5<>"/dev/tcp/10.77.0.1/$1" &&
	    echo hello >&5 && read -r -u 5 line && echo "$line" &&
	    exec sleep 600' _ "$PROXY_PORT" >"$BATS_TEST_TMPDIR/client.out"
	TEST_PIDS+=("$!")
	wait_until -t 5 grep -qx hello "$BATS_TEST_TMPDIR/client.out"
	ip -n "$NS_P" link del vp
}

@test "--keepalive finds a client that vanished without a FIN; the pair ends" {
	netns_pair
	vanish_setup --keepalive=1,1,2
	wait_until -t 20 pair_count_is 1
	run pair_lines
	assert_output --regexp "client=10\.77\.0\.2:[0-9]+ upstream=127\.0\.0\.1:$SERVER_PORT up=6 down=6 $DUR reason=reset detail=ETIMEDOUT side=client$"
}

@test "without --keepalive the vanished client's idle pair stays, as documented" {
	netns_pair
	vanish_setup --drain-timeout 1	# the open pair must not delay the stop
	# Four times what --keepalive=1,1,2 needs to find it.
	! wait_until -t 12 pair_count_is 1 2>/dev/null
	run "$TCPPROXY" --status="$PROXY_PID"
	assert_success
	assert_line --index 1 --regexp "^[0-9]+ relaying 10\.77\.0\.2:"
}

# ---- how many per source ----

# hold_conns N [refusing]: open N connections to the proxy from
# 127.0.0.1, all before any is used, their descriptors in HELD (and
# HELD_FDS, for teardown).  With "refusing", the proxy resets some at
# once, and on loopback the reset can beat connect()'s return: such a
# connect fails with ECONNRESET and is left out (the proxy still logs it).
hold_conns() {
	local i
	HELD=()
	for i in $(seq "$1"); do
		if ! open_conn "$PROXY_PORT" 2>"$BATS_TEST_TMPDIR/connect.err"; then
			[ "${2:-}" = refusing ] &&
			    grep -q 'reset by peer' "$BATS_TEST_TMPDIR/connect.err" &&
			    continue
			cat "$BATS_TEST_TMPDIR/connect.err" >&2
			return 1
		fi
		HELD+=("$CONN")
	done
}

# echoed: how many of HELD echo a line back (the others were refused).
echoed() {
	local fd n=0
	for fd in "${HELD[@]}"; do
		conn_echo "$fd" "held $fd" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

@test "--max-per-source 10: of 50 connects from one address exactly 10 are served" {
	start_echod
	start_proxy -s 8 --max-per-source 10 127.0.0.1 "$SERVER_PORT"
	hold_conns 50 refusing
	assert_equal "$(echoed)" 10
	wait_until -t 10 eval '[ "$(pair_lines | grep -c " reason=limit$")" -eq 40 ]'
	run pair_lines
	assert_line --regexp "pair client=127\.0\.0\.1:[0-9]+ upstream=- up=0 down=0 $DUR reason=limit$"
	# another address is not counted with it
	try_from 127.0.0.2
	assert_output "from 127.0.0.2"
	# the 10 still hold their pairs; once they close, the address may again
	close_all_conns
	wait_until -t 10 eval '[ "$(pair_lines | grep -c " reason=eof$")" -eq 11 ]'
	try_from 127.0.0.1
	assert_output "from 127.0.0.1"
}

@test "300 idle connections from one address: with --max-per-source others still get in" {
	start_echod
	# Without the limit the attacker takes every child, and the next
	# client waits in the listen queue (the control).
	start_proxy -s 8 -m 30 --drain-timeout 1 127.0.0.1 "$SERVER_PORT"
	hold_conns 300
	wait_until -t 10 eval '[ "$(proxy_children)" -ge 30 ]'
	run timeout 2 nc -N -s 127.0.0.2 127.0.0.1 "$PROXY_PORT" <<<"waits"
	assert_output ''
	stop_proxy		# ends the held pairs after 1 s
	close_all_conns
	start_proxy -s 8 -m 30 --max-per-source 10 --drain-timeout 1 \
	    127.0.0.1 "$SERVER_PORT"
	hold_conns 300 refusing
	try_from 127.0.0.2
	assert_output "from 127.0.0.2"
	wait_until -t 10 eval '[ "$(pair_lines | grep -c " reason=limit$")" -eq 290 ]'
}

@test "a child killed with SIGKILL gives its source's count back" {
	local pid
	start_echod
	start_proxy -s 2 --max-per-source 1 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "one"
	pid=$(child_for "$CONN_PORT")
	try_from 127.0.0.1		# a second pair: over the limit
	assert_output ''
	kill -KILL "$pid"
	wait_until -t 5 gone "$pid"
	wait_until -t 5 eval 'try_from 127.0.0.1; [ "$output" = "from 127.0.0.1" ]'
}
