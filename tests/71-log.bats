# Goal: the log says what the master does, goes where it is told, and
# never holds anything up.  On stderr: a start-up line, a line per SIGHUP
# and the shutdown lines, each with a UTC timestamp; -q takes every line
# away, -v adds a debug line per connection attempt.  A stderr pipe or
# FIFO that nobody reads blocks neither the children nor the master.
# --syslog sends every line to /dev/log instead (facility daemon, RFC 3164
# priorities), and nothing to stderr.  (The pair line's fields: see
# 70-pair-log.bats.)

load lib/common

# start_proxy_silent SPARE OPTIONS... DEST-HOST DEST-PORT: start_proxy for
# a proxy that logs no start-up line (-q): started once it has SPARE
# children, which it forks only after it listens.
start_proxy_silent() {
	local spare=$1
	shift
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	for _ in 1 2 3 4 5; do
		PROXY_PORT=$(free_port)
		spawn setsid "$TCPPROXY" -l 127.0.0.1 -s "$spare" "$@" \
		    "$PROXY_PORT" 2>"$PROXY_LOG" >/dev/null </dev/null
		PROXY_PID=$!
		PROXY_STATUS=
		wait_until -t 10 eval 'children_are "$spare" || gone "$PROXY_PID"' ||
		    return 1
		alive "$PROXY_PID" && return 0
		wait_proxy_exit
		grep -q 'Address already in use' "$PROXY_LOG" || break
	done
	echo "start_proxy_silent: the proxy did not start" >&2
	return 1
}

# start_proxy_pipe OPTIONS... DEST-HOST DEST-PORT: start_proxy with stderr
# on $PIPE_W, a pipe that only the test reads, from $PIPE_R, and only the
# start-up line (copied to $PROXY_LOG).
start_proxy_pipe() {
	local line
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	: >"$PROXY_LOG"
	for _ in 1 2 3 4 5; do
		PROXY_PORT=$(free_port)
		spawn setsid "$TCPPROXY" -l 127.0.0.1 "$@" "$PROXY_PORT" \
		    2>&"$PIPE_W" >/dev/null </dev/null
		PROXY_PID=$!
		PROXY_STATUS=
		read -r -t 10 -u "$PIPE_R" line || return 1
		printf '%s\n' "$line" >>"$PROXY_LOG"
		[[ $line != *"listening on 127.0.0.1:$PROXY_PORT,"* ]] || return 0
		wait_proxy_exit 5
		[[ $line == *'Address already in use'* ]] || break
	done
	echo "start_proxy_pipe: no start-up line" >&2
	return 1
}

# full_stderr_serves PATH: the proxy's stderr is the pipe PATH opens, and
# nobody reads it from now on.  Fill it to the brim, then: 300 connections
# one after the other, SIGUSR1 and SIGHUP (lines of the master), 40 more
# four at a time; every one is served and the pool is back to its 4
# spare children each time; the pipe never took a byte more.
full_stderr_serves() {
	local filled
	filled=$("$PROGS/badpeer" fill "$1")
	((filled > 0)) || fail "could not fill the pipe"
	wait_until -t 5 children_are 4
	run timeout 60 "$PROGS/churn" -c 1 -n 300 -s 100 "$PROXY_PORT"
	assert_success
	assert_line "total ok=300 refused=0 dropped=0 fail=0"
	if ! wait_until -t 10 children_are 4; then
		ps -o pid,stat,wchan:20,args --ppid "$PROXY_PID" | head -n 8
		fail "the children did not come back to 4 (above: where they wait)"
	fi
	kill -USR1 "$PROXY_PID"
	kill -HUP "$PROXY_PID"
	run timeout 60 "$PROGS/churn" -c 4 -n 40 -s 100 "$PROXY_PORT"
	assert_success
	assert_line "total ok=40 refused=0 dropped=0 fail=0"
	wait_until -t 10 children_are 4
	run "$PROGS/badpeer" fill "$1"
	assert_output 0
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
}

# same_file A B: the paths name the same open object (a pipe: pipe:[N]).
same_file() { [ "$(readlink "$1")" = "$(readlink "$2")" ]; }

# ---- what the log says, and how much ----

@test "the log: start-up line, a line per SIGHUP, the shutdown lines" {
	local ts old
	ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
	start_echod
	start_proxy -t 1 -s 3 127.0.0.1 "$SERVER_PORT"
	run cat "$PROXY_LOG"
	assert_line --index 0 --regexp "^$ts tcpproxy\[$PROXY_PID\]: listening on 127\.0\.0\.1:$PROXY_PORT, forwarding to 127\.0\.0\.1 port $SERVER_PORT \(127\.0\.0\.1:$SERVER_PORT\); 3 spare, at most 4096 children$"
	wait_until -t 5 children_are 3
	old=$(pgrep -P "$PROXY_PID")
	kill -HUP "$PROXY_PID"
	wait_until -t 5 log_count ': reload: ' 1
	kill -HUP "$PROXY_PID"
	wait_until -t 5 log_count ': reload: ' 2
	# the idle children of before are replaced by new ones
	wait_until -t 5 eval '! pgrep -P "$PROXY_PID" | grep -qxF "$old"'
	wait_until -t 5 children_are 3
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"after two reloads"
	assert_output "after two reloads"
	wait_until -t 5 pair_count_is 1
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
	run cat "$PROXY_LOG"
	assert_equal "$(grep -cE "^$ts tcpproxy\[$PROXY_PID\]: reload: 127\.0\.0\.1 unchanged$" <<<"$output")" 2
	assert_line --regexp "^$ts tcpproxy\[$PROXY_PID\]: SIGTERM: no new clients; waiting for 0 open pair\(s\) to finish$"
	assert_line --regexp "^$ts tcpproxy\[$PROXY_PID\]: stopped; 1 pairs served, 0 failed$"
	[[ ${lines[-1]} == *": stopped; 1 pairs served, 0 failed" ]] ||
	    fail "the last line is '${lines[-1]}'"
}

@test "-q: no start-up, pair or shutdown line; clients are still served" {
	start_echod
	start_proxy_silent 2 -q -t 1 127.0.0.1 "$SERVER_PORT"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"quietly"
	assert_output "quietly"
	kill -HUP "$PROXY_PID"
	kill -USR1 "$PROXY_PID"
	wait_until -t 5 children_are 2
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
	run cat "$PROXY_LOG"
	# A warning is not silenced: as root without --user, that one only.
	if [ "$(id -u)" -eq 0 ]; then
		assert_output --regexp "^[^ ]+ tcpproxy\[$PROXY_PID\]: running as root: --user would drop root once the listening sockets are open$"
	else
		assert_output ''
	fi
}

@test "-v: debug lines (each connection attempt) on top of the pair lines" {
	local dport
	dport=$(free_port)
	start_proxy -v -t 1 -s 2 127.0.0.1 "$dport"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"anyone?"
	wait_until -t 5 pair_count_is 1
	run cat "$PROXY_LOG"
	assert_line --regexp "tcpproxy\[[0-9]+\]: connect to 127\.0\.0\.1:$dport: Connection refused$"
	assert_line --regexp " pair client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.1:$dport up=0 down=0 $DUR reason=refused detail=ECONNREFUSED$"
}

# ---- where it goes ----

@test "a full stderr pipe (pipe(2)) that nobody reads blocks neither children nor master" {
	start_echod
	# The reader that never reads: a coprocess's standard input.
	coproc SINK { exec sleep 1000 3>&-; }
	TEST_PIDS+=("$SINK_PID")
	exec {PIPE_W}>&"${SINK[1]}"
	HELD_FDS+=("$PIPE_W")
	wait_until -t 5 same_file "/proc/$SINK_PID/fd/0" \
	    "/proc/$BASHPID/fd/$PIPE_W"
	exec {PIPE_R}<"/proc/$SINK_PID/fd/0"	# for the start-up line
	HELD_FDS+=("$PIPE_R")
	start_proxy_pipe -t 1 -s 4 127.0.0.1 "$SERVER_PORT"
	full_stderr_serves "/proc/$SINK_PID/fd/0"
}

@test "a full stderr FIFO that nobody reads blocks neither children nor master" {
	# Linux refuses pwritev2(RWF_NOWAIT) on a FIFO (a named pipe, or a
	# pipe reopened through /dev/fd/N as bash's "2> >(cmd)" does): the
	# log must not fall back to a blocking write(2) there.
	local fifo=$BATS_TEST_TMPDIR/stderr.fifo
	start_echod
	mkfifo "$fifo"
	exec {PIPE_R}<>"$fifo"	# the reader that never reads (after the
	HELD_FDS+=("$PIPE_R")	# start-up line)
	exec {PIPE_W}>"$fifo"
	HELD_FDS+=("$PIPE_W")
	start_proxy_pipe -t 1 -s 4 127.0.0.1 "$SERVER_PORT"
	full_stderr_serves "$fifo"
}

@test "--syslog: every line is a datagram to /dev/log, facility daemon; none on stderr" {
	local out=$BATS_TEST_TMPDIR/syslog.out recv cport victim ts
	start_syslog "$out"
	recv=$SYSLOG_PID
	EXTRA_LOGS+=("$out")
	start_echod
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	for _ in 1 2 3 4 5; do
		PROXY_PORT=$(free_port)
		spawn setsid nsenter -t "$recv" -m -- "$TCPPROXY" --syslog \
		    -l 127.0.0.1 -t 1 -s 2 127.0.0.1 "$SERVER_PORT" \
		    "$PROXY_PORT" 2>"$PROXY_LOG" >/dev/null </dev/null
		PROXY_PID=$!
		PROXY_STATUS=
		wait_until -t 10 eval 'grep -q "listening on 127.0.0.1:$PROXY_PORT," "$out" || gone "$PROXY_PID"'
		alive "$PROXY_PID" && break
		wait_proxy_exit
		grep -q 'Address already in use' "$PROXY_LOG" ||
		    fail "the proxy did not start"
	done
	alive "$PROXY_PID" || fail "the proxy did not start"
	cport=$(free_port)
	run timeout 5 nc -N -p "$cport" 127.0.0.1 "$PROXY_PORT" <<<"ping"
	assert_output "ping"
	wait_until -t 5 grep -q " pair client=127.0.0.1:$cport " "$out"
	# a warning: an idle child dies
	wait_until -t 5 children_are 2
	victim=$(pgrep -P "$PROXY_PID" | head -n 1)
	kill -KILL "$victim"
	wait_until -t 5 grep -q "child $victim (idle) killed by SIGKILL" "$out"
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
	wait_until -t 5 grep -q ': stopped; ' "$out"
	run cat "$PROXY_LOG"
	assert_output ''
	# <30>: daemon (3 << 3) + info (6); <28>: + warning (4).  RFC 3164.
	ts='[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]'
	run cat "$out"
	assert_line --index 0 --regexp "^<30>$ts tcpproxy\[$PROXY_PID\]: listening on 127\.0\.0\.1:$PROXY_PORT, forwarding to 127\.0\.0\.1 port $SERVER_PORT "
	assert_line --regexp "^<30>$ts tcpproxy\[[0-9]+\]: pair client=127\.0\.0\.1:$cport upstream=127\.0\.0\.1:$SERVER_PORT up=5 down=5 $DUR reason=eof$"
	refute_line --regexp "tcpproxy\[$PROXY_PID\]: pair "
	assert_line --regexp "^<28>$ts tcpproxy\[$PROXY_PID\]: child $victim \(idle\) killed by SIGKILL$"
	assert_line --regexp "^<30>$ts tcpproxy\[$PROXY_PID\]: SIGTERM: no new clients; waiting for 0 open pair\(s\) to finish$"
	assert_line --regexp "^<30>$ts tcpproxy\[$PROXY_PID\]: stopped; 1 pairs served, 0 failed$"
	# one line per datagram, each with a priority
	refute_line --regexp '^[^<]'
}

# start_proxy_closed_stdio OPTIONS... DEST-HOST DEST-PORT: the proxy with
# descriptors 0, 1 and 2 closed, as `tcpproxy ... <&- >&- 2>&-` starts
# it; started once it has two children.
start_proxy_closed_stdio() {
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log	# stays empty: no stderr
	: >"$PROXY_LOG"
	for _ in 1 2 3 4 5; do
		PROXY_PORT=$(free_port)
		spawn setsid "$TCPPROXY" -l 127.0.0.1 -s 2 "$@" "$PROXY_PORT" \
		    <&- >&- 2>&-
		PROXY_PID=$!
		PROXY_STATUS=
		wait_until -t 10 eval 'children_are 2 || gone "$PROXY_PID"' ||
		    return 1
		alive "$PROXY_PID" && return 0
		wait_proxy_exit
	done
	return 1
}

@test "closed stdin, stdout and stderr: /dev/null, so no log text reaches a client" {
	local dport fd
	dport=$(free_port)
	start_proxy_closed_stdio -v 127.0.0.1 "$dport"
	for fd in 0 1 2; do
		assert_equal "$(readlink "/proc/$PROXY_PID/fd/$fd")" /dev/null
	done
	# The destination refuses: a -v line about it goes to stderr, and a
	# child whose client socket had become descriptor 2 would send it.
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" </dev/null
	assert_output ''
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
}
