# Goal: each pair's summary line keeps its contract.  It names the client,
# the upstream, the exact bytes each way and the duration, and says why
# the pair ended: eof; reset, with the errno and the side that reset;
# stall, with the direction that stopped; refused; timeout, while
# connecting; max-time and max-bytes, the limits --pair-max-seconds and
# --pair-max-bytes set.  (reason=signal: see 73-signals-drain.bats.)
# Moves data: make check runs it on both data paths.
# bats file_tags=data

load lib/common

# ---- fields, and how a pair can end ----

@test "pair line, reason=eof: client, upstream, exact bytes both ways, duration" {
	local c=$BATS_TEST_TMPDIR/c s=$BATS_TEST_TMPDIR/s sport cport rc=0
	head -c 1234 /dev/urandom >"$c"
	head -c 4321 /dev/urandom >"$s"
	sport=$(free_port)
	cport=$(free_port)
	start_nc_server "$sport" "$s" "$BATS_TEST_TMPDIR/server.got"
	start_proxy -t 1 -s 2 127.0.0.1 "$sport"
	timeout 20 nc -N -p "$cport" 127.0.0.1 "$PROXY_PORT" <"$c" \
	    >"$BATS_TEST_TMPDIR/client.got" || rc=$?
	assert_equal "nc exit $rc" "nc exit 0"
	cmp "$s" "$BATS_TEST_TMPDIR/client.got"
	wait_until -t 10 gone "$NC_PID"
	cmp "$c" "$BATS_TEST_TMPDIR/server.got"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z tcpproxy\[[0-9]+\]: pair client=127\.0\.0\.1:$cport upstream=127\.0\.0\.1:$sport up=1234 down=4321 $DUR reason=eof$"
	refute_output --partial "tcpproxy[$PROXY_PID]:"
}

@test "reason=reset detail=ECONNRESET side=upstream: the destination resets after the client's EOF" {
	start_badpeer rst-on-eof
	start_proxy -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	# The client half-closes; the proxy passes that on, and the answer is
	# a reset, read as an error from the upstream side.
	run timeout 10 nc -N 127.0.0.1 "$PROXY_PORT" <<<"data"
	assert_success
	assert_output ''
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " pair client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.1:$BAD_PORT up=5 down=0 $DUR reason=reset detail=ECONNRESET side=upstream$"
}

@test "reason=reset detail=ECONNRESET side=upstream: the destination resets, the client writes on" {
	local fd
	start_badpeer rst-on-data
	start_proxy -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_send "$fd" "hello"
	# the reset is passed on as EOF to the client, which can still send
	conn_closed "$fd" 5 || fail "the client did not see the upstream's end"
	conn_send "$fd" "more"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " upstream=127\.0\.0\.1:$BAD_PORT up=6 down=0 $DUR reason=reset detail=ECONNRESET side=upstream$"
}

@test "reason=reset detail=ECONNRESET side=client: the client resets, the destination answers its EOF" {
	start_badpeer bye-on-eof
	start_proxy -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	# echo of "hello\n", then a reset; the destination's "bye" cannot be
	# delivered to the client any more.  The write fails with EPIPE, but
	# the reset the proxy read from the client is what explains it.
	run timeout 10 "$PROGS/badpeer" client "$PROXY_PORT" rst
	assert_success
	local cport=${lines[0]#port }
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " pair client=127\.0\.0\.1:$cport upstream=127\.0\.0\.1:$BAD_PORT up=6 down=6 $DUR reason=reset detail=ECONNRESET side=client$"
}

@test "reason=stall detail=up: the destination stops reading (-t 1)" {
	start_badpeer noread
	start_proxy -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	spawn cat /dev/zero >"/dev/tcp/127.0.0.1/$PROXY_PORT"
	TEST_PIDS+=("$!")
	wait_until -t 15 pair_count_is 1
	run pair_lines
	assert_output --regexp " upstream=127\.0\.0\.1:$BAD_PORT up=[1-9][0-9]* down=0 duration=([1-9]|[1-9][0-9]+)\.[0-9]{3}s reason=stall detail=up$"
}

@test "reason=stall detail=down: the client stops reading (-t 1)" {
	local fd
	start_badpeer flood
	start_proxy -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	open_conn "$PROXY_PORT"	# and never read from it
	fd=$CONN
	conn_port "$fd"
	wait_until -t 15 pair_count_is 1
	run pair_lines
	assert_output --regexp " pair client=127\.0\.0\.1:$CONN_PORT upstream=127\.0\.0\.1:$BAD_PORT up=0 down=[1-9][0-9]* duration=([1-9]|[1-9][0-9]+)\.[0-9]{3}s reason=stall detail=down$"
}

@test "reason=refused detail=ECONNREFUSED: nothing listens at the destination" {
	local dport
	dport=$(free_port)
	start_proxy -t 1 -s 2 127.0.0.1 "$dport"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"anyone?"
	assert_output ''
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " pair client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.1:$dport up=0 down=0 $DUR reason=refused detail=ECONNREFUSED$"
	# without -v, no debug line about the attempt
	run grep -F 'connect to ' "$PROXY_LOG"
	assert_failure
}

@test "reason=timeout detail=ETIMEDOUT (-c 3): a destination that drops the SYN; --status says connecting" {
	local fd cport pid
	under_valgrind && skip "ps shows valgrind's command line, not the title"
	# A listener whose accept queue is full: the kernel drops every SYN.
	start_badpeer fullqueue
	start_proxy -c 3 -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_port "$fd"
	cport=$CONN_PORT
	wait_until -t 5 status_shows "^[0-9]+ connecting 127\.0\.0\.1:$cport - 0 0 $SECS $SECS$"
	# and so does its title
	wait_until -t 5 eval 'pid=$(pgrep -P "$PROXY_PID" -xf "tcpproxy: connect 127\.0\.0\.1:$cport")'
	status_shows "^$pid connecting 127\.0\.0\.1:$cport - "
	conn_closed "$fd" 10 || fail "the client was not closed at the timeout"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "tcpproxy\[$pid\]: pair client=127\.0\.0\.1:$cport upstream=127\.0\.0\.1:$BAD_PORT up=0 down=0 duration=([3-9]|[1-9][0-9]+)\.[0-9]{3}s reason=timeout detail=ETIMEDOUT$"
}

# ---- the limits --pair-max-seconds and --pair-max-bytes ----

@test "reason=max-time: --pair-max-seconds 1 ends an idle pair after 1 s" {
	local fd
	start_echod
	start_proxy -t 1 -s 2 --pair-max-seconds 1 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "idle"
	fd=$CONN
	conn_closed "$fd" 10 || fail "the client was not closed within 10 s"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " upstream=127\.0\.0\.1:$SERVER_PORT up=5 down=5 duration=[1-9]\.[0-9]{3}s reason=max-time$"
}

@test "reason=idle: --idle-timeout 1 ends a silent pair, not a talking one" {
	local quiet talk i
	start_echod
	start_proxy -t 1 -s 2 --idle-timeout 1 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "quiet"
	quiet=$CONN
	echo_conn "$PROXY_PORT" "talk"
	talk=$CONN
	# A line every 0.25 s for 2 s: never 1 s without a byte moving.
	for i in 1 2 3 4 5 6 7 8; do
		sleep 0.25
		conn_echo "$talk" "tick $i" || fail "the talking pair ended"
	done
	conn_closed "$quiet" 5 || fail "the silent pair was not ended"
	conn_echo "$talk" "still here"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " up=6 down=6 duration=[1-3]\.[0-9]{3}s reason=idle$"
}

@test "--pair-max-seconds 1 also ends a pair that is still connecting" {
	# The limit counts from the client's arrival: a connect that would
	# take 5 s (--connect-timeout) is cut at 1 s, as max-time.
	local fd
	start_badpeer fullqueue
	start_proxy -c 5 -t 1 -s 2 --pair-max-seconds 1 127.0.0.1 "$BAD_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_closed "$fd" 10 || fail "the client was not closed within 10 s"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " upstream=127\.0\.0\.1:$BAD_PORT up=0 down=0 duration=[1-4]\.[0-9]{3}s reason=max-time$"
}

@test "reason=max-bytes: --pair-max-bytes 10k cuts a 1 MiB echo short" {
	local c=$BATS_TEST_TMPDIR/c got=$BATS_TEST_TMPDIR/got rc=0 up down
	head -c 1048576 /dev/urandom >"$c"
	start_echod
	start_proxy -t 1 -s 2 --pair-max-bytes 10k 127.0.0.1 "$SERVER_PORT"
	timeout 20 nc -N 127.0.0.1 "$PROXY_PORT" <"$c" >"$got" 2>/dev/null ||
	    rc=$?
	[ "$rc" -ne 124 ] || fail "the client was not cut off within 20 s"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " up=[0-9]+ down=[0-9]+ $DUR reason=max-bytes$"
	[[ $output =~ \ up=([0-9]+)\ down=([0-9]+)\  ]]
	up=${BASH_REMATCH[1]}
	down=${BASH_REMATCH[2]}
	((up + down >= 10240)) || fail "ended at $up + $down bytes, < 10240"
	((down < 1048576)) || fail "all $down bytes came back: nothing was cut"
	(($(stat -c %s "$got") <= down)) ||
	    fail "the client got $(stat -c %s "$got") bytes, the log says $down"
}
