# Goal: the basics seen with netcat: bytes go both ways exactly, a client's
# half-close still gets the server's reply, clients are served at once and
# apart, a dead destination closes the client promptly without harming the
# proxy, binary data survives, IPv6 works, and each pair logs one line with
# the right addresses, byte counts and reason.
# Moves data: make check runs it on both data paths.
# bats file_tags=data

load lib/common

# exchange CFILE SFILE [NC-CLIENT-OPTIONS...]: nc client -> proxy -> nc
# server.  The client sends CFILE, the server SFILE, each half-closes after
# sending; both must exit 0.  What each received is left in client.got and
# server.got under $BATS_TEST_TMPDIR.  Sets SPORT (the server's port).
exchange() {
	local cfile=$1 sfile=$2 rc=0
	shift 2
	SPORT=$(free_port)
	start_nc_server "$SPORT" "$sfile" "$BATS_TEST_TMPDIR/server.got"
	start_proxy -t 1 127.0.0.1 "$SPORT"
	timeout 20 nc -N "$@" 127.0.0.1 "$PROXY_PORT" <"$cfile" \
	    >"$BATS_TEST_TMPDIR/client.got" || rc=$?
	assert_equal "nc client exit $rc" "nc client exit 0"
	wait_until -t 10 gone "$NC_PID"
	wait "$NC_PID" || rc=$?
	assert_equal "nc server exit $rc" "nc server exit 0"
}

@test "bytes are forwarded exactly in both directions" {
	local c=$BATS_TEST_TMPDIR/c s=$BATS_TEST_TMPDIR/s
	printf 'hello from the client\n' >"$c"
	printf 'hello from the server\nand a second line\n' >"$s"
	exchange "$c" "$s"
	cmp "$c" "$BATS_TEST_TMPDIR/server.got"
	cmp "$s" "$BATS_TEST_TMPDIR/client.got"
}

@test "the pair line: client, upstream, exact byte counts, reason=eof" {
	local c=$BATS_TEST_TMPDIR/c s=$BATS_TEST_TMPDIR/s cport
	head -c 1000 /dev/urandom >"$c"
	head -c 777 /dev/urandom >"$s"
	cport=$(free_port)
	exchange "$c" "$s" -p "$cport"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "tcpproxy\[[0-9]+\]: pair client=127\.0\.0\.1:$cport upstream=127\.0\.0\.1:$SPORT up=1000 down=777 duration=[0-9]+(\.[0-9]+)?s reason=eof$"
	# written by the child that served the pair, not by the master
	refute_output --partial "tcpproxy[$PROXY_PID]:"
}

@test "a client's half-close still gets the reply sent after it" {
	# echod -m after-eof answers only once it has seen the client's EOF,
	# so the reply can only come after the proxy passed the half-close on
	# (and only after all the client's bytes, through a 4k buffer).
	local c=$BATS_TEST_TMPDIR/c
	head -c 1048576 /dev/urandom >"$c"
	start_echod -m after-eof
	start_proxy -t 1 -b 4k 127.0.0.1 "$SERVER_PORT"
	timeout 20 nc -N 127.0.0.1 "$PROXY_PORT" <"$c" >"$BATS_TEST_TMPDIR/got"
	cmp "$c" "$BATS_TEST_TMPDIR/got"
	run timeout 10 nc -N 127.0.0.1 "$PROXY_PORT" <<<"question?"
	assert_success
	assert_output "question?"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 0 --regexp " up=1048576 down=1048576 .* reason=eof$"
	assert_line --index 1 --regexp " up=10 down=10 .* reason=eof$"
}

@test "ten clients at once each get their own reply" {
	local fds=() i
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	for i in {1..10}; do
		open_conn "$PROXY_PORT"
		fds+=("$CONN")
	done
	# all ten are connected before any talks; answer in reverse order
	for i in {10..1}; do
		conn_echo "${fds[i - 1]}" "client $i says hello"
	done
	for i in {1..10}; do
		conn_echo "${fds[i - 1]}" "client $i again"
		close_conn "${fds[i - 1]}"
	done
	wait_until -t 5 pair_count_is 10
	run pair_lines
	assert_equal "$(grep -c ' up=\([0-9]*\) down=\1 .*reason=eof$' <<<"$output")" 10
}

@test "nothing listening at the destination: client closed at once, proxy goes on" {
	local dport
	dport=$(free_port)
	start_proxy -t 1 127.0.0.1 "$dport"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"anyone there?"
	[ "$status" -ne 124 ] || fail "the client was not closed within 5 s"
	assert_output ''
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "pair client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.1:$dport .*reason=refused"
	# the same proxy serves the next client once the destination is up
	start_echod -p "$dport"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"now?"
	assert_success
	assert_output "now?"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 1 --regexp "upstream=127\.0\.0\.1:$dport up=5 down=5 .*reason=eof$"
}

@test "binary data: 4 MB up and 3 MB down at the same time, unchanged" {
	local c=$BATS_TEST_TMPDIR/c s=$BATS_TEST_TMPDIR/s
	head -c 4194304 /dev/urandom >"$c"
	head -c 3145728 /dev/urandom >"$s"
	exchange "$c" "$s"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/server.got")" \
	    "$(sha256sum <"$c")"
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/client.got")" \
	    "$(sha256sum <"$s")"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " up=4194304 down=3145728 .*reason=eof$"
}

@test "IPv6: listen on ::1, destination ::1" {
	free_port -6 >/dev/null 2>&1 || skip "no ::1 on this machine"
	start_echod -6
	PROXY_ADDR=::1 start_proxy -t 1 ::1 "$SERVER_PORT"
	run timeout 5 nc -6 -N ::1 "$PROXY_PORT" <<<"over six"
	assert_success
	assert_output "over six"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "pair client=\[::1\]:[0-9]+ upstream=\[::1\]:$SERVER_PORT up=9 down=9 .*reason=eof$"
}
