#!/usr/bin/env bats
# Goal: where tcpproxy listens and where it connects from.  -l is
# repeatable, each address its own socket (IPv6 literals with or without
# brackets), every one of them served by the same pool; too many, or one
# that cannot be had, is one line and nothing listens.  --source sets the
# local address of upstream connections; destination addresses of the
# other family are skipped.  --resolve-every re-resolves the destination
# on a timer and speaks only when the answer changed.

load lib/common

# hosts_wrapper FILE: the path of a script that runs the proxy with FILE
# as its /etc/hosts, in a mount namespace of its own (skips when that
# cannot be had).
hosts_wrapper() {
	local wrap=$BATS_TEST_TMPDIR/wrap
	[ "$(id -u)" -eq 0 ] || skip "needs root for a mount namespace"
	command -v unshare >/dev/null || skip "no unshare(1)"
	cat >"$wrap" <<-EOF
	#!/bin/sh
	exec unshare -m sh -c 'mount --bind "\$0" /etc/hosts && exec "\$@"' \
	    "$1" "$TCPPROXY" "\$@"
	EOF
	chmod +x "$wrap"
	echo "$wrap"
}

@test "-l twice, IPv4 and bracketed IPv6: one socket each, both served by one pool" {
	local port
	start_echod
	port=$(free_port)
	spawn setsid "$TCPPROXY" -s 2 -l 127.0.0.1 -l '[::1]' 127.0.0.1 \
	    "$SERVER_PORT" "$port" 2>"$BATS_TEST_TMPDIR/proxy.log" </dev/null
	PROXY_PID=$!
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	wait_until -t 10 grep -q 'listening on' "$PROXY_LOG"
	grep -qF "listening on 127.0.0.1:$port [::1]:$port, forwarding" "$PROXY_LOG"
	run timeout 5 nc -N 127.0.0.1 "$port" <<<"over IPv4"
	assert_output "over IPv4"
	run timeout 5 nc -N ::1 "$port" <<<"over IPv6"
	assert_output "over IPv6"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 0 --regexp 'pair client=127\.0\.0\.1:[0-9]+ .* reason=eof$'
	assert_line --index 1 --regexp 'pair client=\[::1\]:[0-9]+ .* reason=eof$'
}

@test "-l: more than 16 is a usage error; one that fails closes the others" {
	local port i args=()
	for i in $(seq 1 17); do args+=(-l "127.0.0.$i"); done
	cli "${args[@]}" 127.0.0.1 80 8080
	usage_error "more than 16 --listen-address"
	port=$(free_port)
	cli -l 127.0.0.1 -l 192.0.2.1 127.0.0.1 80 "$port"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "tcpproxy: cannot listen on 192.0.2.1:$port: Cannot assign requested address"
	refuses "$port"
}

@test "--source: upstream connections come from that address; another family is skipped; a foreign one fails" {
	start_echod
	start_proxy -s 2 --source 127.0.0.5 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	conn_echo "$CONN" "from .5"
	run ss -Htn state established dst "127.0.0.1:$SERVER_PORT"
	assert_output --regexp "127\.0\.0\.5:[0-9]+ +127\.0\.0\.1:$SERVER_PORT"
	close_conn "$CONN"
	stop_proxy
	# IPv6 source, IPv4 destination: nothing to try
	start_proxy -s 2 --source '[::1]' 127.0.0.1 "$SERVER_PORT"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"x"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp 'upstream=- .* reason=unreachable detail=EAFNOSUPPORT$'
	stop_proxy
	# an address this host does not have
	start_proxy -s 2 --source 192.0.2.1 127.0.0.1 "$SERVER_PORT"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"x"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "upstream=127\.0\.0\.1:$SERVER_PORT .* reason=unreachable detail=EADDRNOTAVAIL\$"
}

@test "--source: not an address is a usage error" {
	cli --source example.org 127.0.0.1 80 8080
	usage_error "invalid --source value 'example.org': not an IPv4 or IPv6 address"
}

@test "--resolve-every 1: a changed answer replaces the destination within seconds; an unchanged one is silent" {
	local hosts=$BATS_TEST_TMPDIR/hosts wrap
	start_echod
	printf '127.0.0.1 he.test\n' >"$hosts"
	wrap=$(hosts_wrapper "$hosts")
	TCPPROXY=$wrap start_proxy -s 2 --resolve-every 1 he.test "$SERVER_PORT"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"first"
	assert_output "first"
	sleep 2.5	# two timed resolutions, same answer: nothing logged
	run grep -c 'reload: ' "$PROXY_LOG"
	assert_output 0
	printf '127.0.0.7 he.test\n' >"$hosts"
	wait_until -t 5 grep -q ": reload: he.test now resolves to 127\.0\.0\.7:$SERVER_PORT\$" "$PROXY_LOG"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"second"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 1 --regexp "upstream=127\.0\.0\.7:$SERVER_PORT .* reason=refused detail=ECONNREFUSED\$"
	run grep -c 'reload: ' "$PROXY_LOG"
	assert_output 1
}

@test "--resolve-every: bad values are usage errors" {
	cli --resolve-every 0.5 127.0.0.1 80 8080
	usage_error "invalid --resolve-every value '0.5': out of range (1-86400)"
}

@test "Happy Eyeballs: a first address that drops SYNs does not hold the client for --connect-timeout" {
	local hosts=$BATS_TEST_TMPDIR/hosts wrap
	# ::1 comes first and never answers; 127.0.0.1, the same port, does
	start_badpeer fullqueue6
	start_echod -p "$BAD_PORT"
	printf '::1 he.test\n127.0.0.1 he.test\n' >"$hosts"
	wrap=$(hosts_wrapper "$hosts")
	TCPPROXY=$wrap start_proxy -s 2 -c 10 he.test "$BAD_PORT"
	grep -qF "([::1]:$BAD_PORT 127.0.0.1:$BAD_PORT)" "$PROXY_LOG"
	# one address after the other would take the whole 10 s
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"raced"
	assert_output "raced"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "upstream=127\.0\.0\.1:$BAD_PORT up=6 down=6 duration=[0-4]\.[0-9]{3}s reason=eof\$"
}

# ---- --reuseport: a zero-downtime upgrade ----

@test "--reuseport: a new tcpproxy takes the port over under load, the old one drains; no client is refused or reset" {
	local a b alog=$BATS_TEST_TMPDIR/a.log blog=$BATS_TEST_TMPDIR/b.log
	local out=$BATS_TEST_TMPDIR/churn
	new_netns rp
	# The queue of a listener that closes moves to the other one
	# (net.ipv4.tcp_migrate_req, per namespace); see tcpproxy(1).
	in_ns sysctl -qw net.ipv4.tcp_migrate_req=1
	spawn ip netns exec "$NS" "$PROGS/echod" -p 7000 >/dev/null </dev/null
	TEST_PIDS+=("$!")
	# few children: clients queue in the old listener at the switch
	spawn ip netns exec "$NS" "$TCPPROXY" -s 2 -m 16 --reuseport \
	    -l 127.0.0.1 127.0.0.1 7000 7001 2>"$alog" </dev/null
	a=$!
	wait_until -t 10 grep -q 'listening on' "$alog"
	spawn ip netns exec "$NS" "$PROGS/churn" -c 64 -d 6 -s 64 7001 \
	    >"$out" </dev/null
	TEST_PIDS+=("$!")
	sleep 2
	spawn ip netns exec "$NS" "$TCPPROXY" -s 2 -m 16 --reuseport \
	    -l 127.0.0.1 127.0.0.1 7000 7001 2>"$blog" </dev/null
	b=$!
	PROXY_PID=$b
	PROXY_LOG=$blog
	wait_until -t 10 grep -q 'listening on' "$blog"
	sleep 1
	kill -TERM "$a"
	wait "$a"
	wait_until -t 15 grep -q '^total ' "$out"
	run tail -n 1 "$out"
	assert_output --regexp '^total ok=[0-9]+ refused=0 dropped=0 fail=0$'
	# both served: the old one before the switch, the new one after
	grep -q 'stopped; [1-9][0-9]* pairs served, 0 failed' "$alog"
	[ "$(grep -c ' pair client=' "$blog")" -gt 0 ] ||
	    [ "$(in_ns "$TCPPROXY" --status="$b" | wc -l)" -gt 0 ]
}

@test "--reuseport: two instances on one port without it is refused, as before" {
	start_echod
	start_proxy -s 2 127.0.0.1 "$SERVER_PORT"
	cli -l 127.0.0.1 --reuseport 127.0.0.1 "$SERVER_PORT" "$PROXY_PORT"
	assert_equal "$status" 1
	assert_equal "${stderr_lines[0]}" "tcpproxy: cannot listen on 127.0.0.1:$PROXY_PORT: Address already in use"
}
