# Goal: the operations features keep their contract.  Each pair's summary
# line names the client, the upstream, the exact bytes each way, the
# duration and why it ended (eof, reset with errno and side, stall with the
# direction, refused, timeout, signal, max-time, max-bytes); the log has
# its start-up, reload and shutdown lines, -q and -v take lines away and
# add them; a stderr nobody reads never blocks anything; --syslog sends
# every line to /dev/log instead; --status shows each live pair from the
# scoreboard; ps shows what each process does; SIGUSR1 counts right;
# SIGHUP and SIGTERM under load lose no byte; --drain-timeout ends what is
# still open, and only then; a child killed alone ends its pair alone; bad
# values of the new options are refused; and the man page and --help
# document the same options.

load lib/common

OTHER_PID=	# a second proxy master, stopped by teardown (two instances)
EXTRA_LOGS=()	# more files to show when a test fails

teardown() {
	local rc=0 f

	common_teardown || rc=1
	if [ -n "$OTHER_PID" ]; then
		stop_other || rc=1
	fi
	if [ "$rc" -ne 0 ] || [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		for f in "${EXTRA_LOGS[@]}"; do
			echo "--- $f ---" >&2
			cat "$f" >&2 || true
		done
	fi
	return "$rc"
}

# stop_other: SIGTERM the second master, which must exit 0 and leave
# nothing of its session behind.
stop_other() {
	local rc=0 st=0

	kill -TERM "$OTHER_PID" 2>/dev/null || true
	if ! wait_until -t 10 gone "$OTHER_PID"; then
		echo "teardown: master $OTHER_PID ignored SIGTERM" >&2
		kill -KILL -- -"$OTHER_PID" 2>/dev/null || true
		rc=1
	else
		wait "$OTHER_PID" || st=$?
		if [ "$st" -ne 0 ]; then
			echo "teardown: master $OTHER_PID exited $st" >&2
			rc=1
		fi
	fi
	if ! wait_until -t 2 session_gone "$OTHER_PID"; then
		echo "teardown: left behind by master $OTHER_PID:" >&2
		ps -o pid,ppid,stat,args -s "$OTHER_PID" >&2 || true
		kill -KILL -- -"$OTHER_PID" 2>/dev/null || true
		rc=1
	fi
	OTHER_PID=
	return "$rc"
}

session_gone() { ! pgrep -s "$1" >/dev/null; }

refuses() { ! connect_ok "$1"; }

# others_running: a tcpproxy this test did not start runs on this machine
# (another suite, an installed service), so that plain --status, which
# looks at every instance, cannot give the answer a test expects.
others_running() {
	local pid sid

	for pid in $(pgrep '^tcpproxy'); do
		sid=$(ps -o sid= -p "$pid" 2>/dev/null) || continue
		sid=${sid//[[:space:]]/}
		[ -n "$sid" ] || continue
		[ "$sid" = "${PROXY_PID:-none}" ] ||
		    [ "$sid" = "${OTHER_PID:-none}" ] || return 0
	done
	return 1
}

# start_badpeer MODE: progs/badpeer as the destination (see there).  Sets
# BAD_PID and BAD_PORT.
start_badpeer() {
	local out=$BATS_TEST_TMPDIR/badpeer.$1
	spawn "$PROGS/badpeer" server "$1" >"$out" </dev/null
	BAD_PID=$!
	TEST_PIDS+=("$BAD_PID")
	wait_until -t 5 grep -qx '[0-9][0-9]*' "$out"
	BAD_PORT=$(head -n 1 "$out")
}

# start_halfclose PORT NAME: progs/badpeer's half-closing client, in the
# background: it sends "hello\n", shuts down writing and copies what comes
# back to $BATS_TEST_TMPDIR/NAME.  Waits for the echo.  Sets HC_PID and
# HC_PORT (its own port).
start_halfclose() {
	local out=$BATS_TEST_TMPDIR/$2
	spawn "$PROGS/badpeer" client "$1" halfclose >"$out" </dev/null
	HC_PID=$!
	TEST_PIDS+=("$HC_PID")
	wait_until -t 5 grep -qx hello "$out"
	HC_PORT=$(sed -n 's/^port //p' "$out")
}

# conn_port FD: the local (client) port of a connection open_conn made.
# Sets CONN_PORT.
conn_port() { CONN_PORT=$("$PROGS/badpeer" sockport <&"$1"); }

# pair_for PORT: the pair line of the client on 127.0.0.1:PORT.
pair_for() { pair_lines | grep -F " pair client=127.0.0.1:$1 "; }

# child_for PORT: the pid of the child serving client port PORT, by its
# process title.
child_for() {
	pgrep -P "$PROXY_PID" -f "^tcpproxy: [a-z]+ 127\.0\.0\.1:$1( |\$)"
}

# run_status ARGS...: tcpproxy ARGS (--status...), bounded, stderr apart.
run_status() {
	run --separate-stderr timeout -k 2 10 "$TCPPROXY" "$@" </dev/null
}

# plain_status_is STATUS REGEX: plain --status (no PID) exits STATUS with
# stderr matching REGEX; $status, $output and $stderr are left set.
# Other test suites may start and stop instances at any moment, and plain
# --status counts them too: callers poll this with wait_until and, if it
# never holds, accept that only when others_running.
plain_status_is() {
	run_status --status
	[ "$status" -eq "$1" ] && [[ $stderr =~ $2 ]]
}

# status_shows REGEX...: --status of this test's master has a line
# matching each REGEX.
status_shows() {
	local out re

	out=$("$TCPPROXY" --status="$PROXY_PID" 2>/dev/null) || return 1
	for re in "$@"; do
		grep -qE -- "$re" <<<"$out" || return 1
	done
}

# status_rows_are N: --status of this test's master lists exactly N pairs.
status_rows_are() {
	local out

	out=$("$TCPPROXY" --status="$PROXY_PID" 2>/dev/null) || return 1
	[ "$(($(wc -l <<<"$out") - 1))" -eq "$1" ]
}

# busy_at_least N: at least N children are serving a pair.
busy_at_least() {
	local n
	n=$(pgrep -c -P "$PROXY_PID" -f '^tcpproxy: (connect|relay|drain) ')
	[ "$n" -ge "$1" ]
}

# log_count REGEX N: exactly N lines of the proxy's log match REGEX.
log_count() { [ "$(grep -cE -- "$1" "$PROXY_LOG")" -eq "$2" ]; }

# ok_at_least FILE N: progs/churn reported N connections ok in FILE.
ok_at_least() { [ "$(grep -c '^ok ' "$1")" -ge "$2" ]; }

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
		wait "$PROXY_PID" && PROXY_STATUS=0 || PROXY_STATUS=$?
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
		wait_until -t 5 gone "$PROXY_PID"
		wait "$PROXY_PID" && PROXY_STATUS=0 || PROXY_STATUS=$?
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

# titled PID ARGS COMM: ps shows PID with that title and name.
titled() {
	[ "$(ps -o args= -p "$1")" = "$2" ] &&
	    [ "$(ps -o comm= -p "$1")" = "$3" ]
}

# all_idle_titled: every child of the master is "tcpproxy: idle".
all_idle_titled() {
	local pid
	for pid in $(pgrep -P "$PROXY_PID"); do
		titled "$pid" "tcpproxy: idle" "tcpproxy: idle" || return 1
	done
}

# pool_says REGEX: a SIGUSR1 to the master gets a pool line matching REGEX.
pool_says() {
	local n
	n=$(grep -c ': pool: ' "$PROXY_LOG") || true
	kill -USR1 "$PROXY_PID"
	wait_until -t 5 log_count ': pool: ' $((n + 1)) || return 1
	grep ': pool: ' "$PROXY_LOG" | tail -n 1 | grep -qE -- "$1"
}

# help_options: "short long" per option of --help ("-" for no short one).
help_options() {
	local line
	"$TCPPROXY" --help | while IFS= read -r line; do
		[[ $line =~ ^\ \ (-([A-Za-z]),\ )?\ *--([a-z][a-z0-9-]*) ]] ||
		    continue
		echo "${BASH_REMATCH[2]:--} ${BASH_REMATCH[3]}"
	done
}

# mdoc_flags FROM TO FILE: the flags named by "Fl" between the line
# matching FROM and the next line matching TO, one a line: "--name" for
# "Fl Fl name", "-x" for each letter of "Fl xyz".
mdoc_flags() {
	awk -v from="$1" -v to="$2" '
	    on && $0 ~ to { exit }
	    on && /^\.(It|Op|Fl) / {
		line = $0
		sub(/^\./, "", line)
		n = split(line, w, " ")
		for (i = 1; i < n; i++) {
			if (w[i] != "Fl")
				continue
			if (w[i + 1] == "Fl") {
				print "--" w[i + 2]
				i += 2
			} else if (w[i + 1] ~ /^[A-Za-z]+$/) {
				k = split(w[i + 1], ch, "")
				for (j = 1; j <= k; j++)
					print "-" ch[j]
				i++
			}
		}
	    }
	    $0 ~ from { on = 1 }' "$3"
}

DUR='duration=[0-9]+\.[0-9]{3}s'	# a pair line's duration field
SECS='[0-9]+\.[0-9]{3}'			# --status's age and idle

# ---- the pair line: fields and reasons ----

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

@test "reason=signal: SIGINT to one busy child ends its pair; the other pair goes on" {
	local a b pa pb pid
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	a=$CONN
	conn_echo "$a" "pair a"
	conn_port "$a"
	pa=$CONN_PORT
	open_conn "$PROXY_PORT"
	b=$CONN
	conn_echo "$b" "pair b"
	pid=$(child_for "$pa")
	[ -n "$pid" ] || fail "no child is titled with client port $pa"
	kill -INT "$pid"
	conn_closed "$a" 5 || fail "pair a was not ended"
	conn_echo "$b" "pair b is untouched"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "tcpproxy\[$pid\]: pair client=127\.0\.0\.1:$pa upstream=127\.0\.0\.1:$SERVER_PORT up=7 down=7 $DUR reason=signal$"
	close_conn "$b"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 1 --regexp " up=27 down=27 $DUR reason=eof$"
}

@test "reason=max-time: --pair-max-seconds 1 ends an idle pair after 1 s" {
	local fd
	start_echod
	start_proxy -t 1 -s 2 --pair-max-seconds 1 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_echo "$fd" "idle"
	conn_closed "$fd" 10 || fail "the client was not closed within 10 s"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp " upstream=127\.0\.0\.1:$SERVER_PORT up=5 down=5 duration=[1-9]\.[0-9]{3}s reason=max-time$"
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
	assert_output ''
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
	unshare -m sh -c 'mount -t tmpfs tcpproxy-test /dev' 2>/dev/null ||
	    skip "no private mount namespace here (unshare -m, mount)"
	command -v nsenter >/dev/null || skip "nsenter is missing"
	EXTRA_LOGS+=("$out")
	start_echod
	# A syslog daemon of our own on /dev/log, in a mount namespace with a
	# private /dev: the machine's /dev is left alone.
	spawn unshare -m sh -c 'mount -t tmpfs -o mode=0755 tcpproxy-test \
	    /dev && exec "$0" /dev/log' "$PROGS/dgramrecv" >"$out" </dev/null
	recv=$!
	TEST_PIDS+=("$recv")
	wait_until -t 5 test -S "/proc/$recv/root/dev/log"
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
		wait "$PROXY_PID" && PROXY_STATUS=0 || PROXY_STATUS=$?
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

# ---- --status and the scoreboard ----

@test "--status: a line per live pair with its child, state, client, upstream and bytes" {
	local a b pa pb pc pid idle
	start_badpeer echo-hold
	start_proxy -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	wait_until -t 5 children_are 2
	run_status --status="$PROXY_PID"
	assert_success
	assert_output "pid state client upstream up down age idle"
	assert_equal "$stderr" ''
	# a: open, nothing sent; b: 12 bytes each way; c: half-closed
	open_conn "$PROXY_PORT"
	a=$CONN
	conn_port "$a"
	pa=$CONN_PORT
	open_conn "$PROXY_PORT"
	b=$CONN
	conn_echo "$b" "hello world"
	conn_port "$b"
	pb=$CONN_PORT
	start_halfclose "$PROXY_PORT" c.out
	pc=$HC_PORT
	local up="127\.0\.0\.1:$BAD_PORT"
	wait_until -t 5 status_shows \
	    "^[0-9]+ relaying 127\.0\.0\.1:$pa $up 0 0 " \
	    "^[0-9]+ relaying 127\.0\.0\.1:$pb $up 12 12 " \
	    "^[0-9]+ draining 127\.0\.0\.1:$pc $up 6 6 "
	run_status --status="$PROXY_PID"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 "pid state client upstream up down age idle"
	# each pid is the child the process table says serves that client
	pid=$(child_for "$pa")
	assert_equal "$(ps -o ppid= -p "$pid" | tr -d ' ')" "$PROXY_PID"
	assert_line --regexp "^$pid relaying 127\.0\.0\.1:$pa $up 0 0 $SECS $SECS$"
	# nothing moved on a yet: idle since it was accepted
	idle=$(grep "^$pid " <<<"$output" | cut -d ' ' -f 7,8)
	assert_equal "${idle% *}" "${idle#* }"
	pid=$(child_for "$pb")
	assert_line --regexp "^$pid relaying 127\.0\.0\.1:$pb $up 12 12 $SECS $SECS$"
	pid=$(child_for "$pc")
	assert_line --regexp "^$pid draining 127\.0\.0\.1:$pc $up 6 6 $SECS $SECS$"
	# idle children are not listed
	for pid in $(pgrep -P "$PROXY_PID" -f '^tcpproxy: idle$'); do
		refute_line --regexp "^$pid "
	done
	# when the pairs are over, the table is empty
	close_conn "$a"
	close_conn "$b"
	kill "$BAD_PID"		# ends c: its upstream closes
	wait_until -t 5 status_rows_are 0
	run_status --status="$PROXY_PID"
	assert_success
	assert_output "pid state client upstream up down age idle"
	wait_until -t 5 pair_count_is 3
	run pair_for "$pa"
	assert_output --regexp " up=0 down=0 $DUR reason=eof$"
	run pair_for "$pb"
	assert_output --regexp " up=12 down=12 $DUR reason=eof$"
	run pair_for "$pc"
	assert_output --regexp " up=6 down=6 $DUR reason=eof$"
}

@test "IPv6: --status and the titles show addresses in brackets" {
	local fd pid
	free_port -6 >/dev/null 2>&1 || skip "no ::1 on this machine"
	start_echod -6
	PROXY_ADDR=::1 start_proxy -t 1 -s 2 ::1 "$SERVER_PORT"
	open_conn "$PROXY_PORT" ::1
	fd=$CONN
	conn_echo "$fd" "six"
	conn_port "$fd"
	wait_until -t 5 status_shows "^[0-9]+ relaying \[::1\]:$CONN_PORT \[::1\]:$SERVER_PORT 4 4 $SECS $SECS$"
	run_status --status="$PROXY_PID"
	assert_success
	assert_equal "${#lines[@]}" 2
	pid=${lines[1]%% *}
	assert_equal "$(ps -o ppid= -p "$pid" | tr -d ' ')" "$PROXY_PID"
	titled "$pid" "tcpproxy: relay [::1]:$CONN_PORT > [::1]:$SERVER_PORT" \
	    "tcpproxy: relay" ||
	    fail "busy child: '$(ps -o comm=,args= -p "$pid")'"
}

@test "--status without a PID finds the only running instance" {
	local fd
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_echo "$fd" "hi"
	conn_port "$fd"
	wait_until -t 3 plain_status_is 0 '^$' || ! others_running ||
	    skip "another tcpproxy runs on this machine"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp "^$(child_for "$CONN_PORT") relaying 127\.0\.0\.1:$CONN_PORT 127\.0\.0\.1:$SERVER_PORT 3 3 $SECS $SECS$"
}

@test "--status with no tcpproxy running: exit 1, one line" {
	wait_until -t 3 plain_status_is 1 'no running tcpproxy' ||
	    ! others_running || skip "another tcpproxy runs on this machine"
	assert_equal "$status" 1
	assert_equal "$stderr" "tcpproxy: --status: no running tcpproxy found (or not allowed to look)"
	assert_output ''
}

@test "--status errors: a bad PID, a PID that is not a master, arguments" {
	local child
	run_status --status=notanumber
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "tcpproxy: --status: invalid process ID 'notanumber'"
	assert_output ''
	run_status --status=0
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "tcpproxy: --status: invalid process ID '0'"
	run_status --status 127.0.0.1 80 8080
	usage_error "--status takes no arguments: '127.0.0.1'"
	run_status --status=1 extra
	usage_error "--status takes no arguments: 'extra'"
	start_echod
	# a live process that is not tcpproxy
	run_status --status="$SERVER_PID"
	assert_equal "$status" 1
	assert_equal "$stderr" "tcpproxy: --status: process $SERVER_PID is not a tcpproxy master (or not allowed to look)"
	assert_output ''
	# a tcpproxy child is not a master either
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
	child=$(pgrep -P "$PROXY_PID" | head -n 1)
	run_status --status="$child"
	assert_equal "$status" 1
	assert_equal "$stderr" "tcpproxy: --status: process $child is not a tcpproxy master (or not allowed to look)"
	assert_output ''
}

@test "--status=abc is a usage error like any other: the hint line follows" {
	cli --status=abc
	usage_error "--status: invalid process ID 'abc'"
}

@test "two instances: plain --status refuses, --status=PID shows each one's pairs" {
	local a b pa pb other_port
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	OTHER_PID=$PROXY_PID
	other_port=$PROXY_PORT
	mv "$PROXY_LOG" "$BATS_TEST_TMPDIR/other.log"
	EXTRA_LOGS+=("$BATS_TEST_TMPDIR/other.log")
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	open_conn "$other_port"
	a=$CONN
	conn_echo "$a" "to the first"
	conn_port "$a"
	pa=$CONN_PORT
	open_conn "$PROXY_PORT"
	b=$CONN
	conn_echo "$b" "to the second"
	conn_port "$b"
	pb=$CONN_PORT
	# exactly these two, unless other suites' instances keep running
	wait_until -t 3 plain_status_is 1 ' 2 instances ' || others_running ||
	    fail "plain --status did not count 2 instances"
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr =~ ^tcpproxy:\ --status:\ ([0-9]+)\ instances\ are\ running:\ name\ one\ with\ --status=PID$ ]] ||
	    fail "unexpected message: '$stderr'"
	((BASH_REMATCH[1] >= 2)) || fail "only ${BASH_REMATCH[1]} instances"
	assert_output ''
	run_status --status="$OTHER_PID"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp "^$(pgrep -P "$OTHER_PID" -f "^tcpproxy: relay 127\.0\.0\.1:$pa ") relaying 127\.0\.0\.1:$pa 127\.0\.0\.1:$SERVER_PORT 13 13 $SECS $SECS$"
	run_status --status="$PROXY_PID"
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp "^$(child_for "$pb") relaying 127\.0\.0\.1:$pb 127\.0\.0\.1:$SERVER_PORT 14 14 $SECS $SECS$"
}

@test "kill PID from --status ends exactly that pair; the others go on" {
	local a b c pa pid
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	a=$CONN
	conn_echo "$a" "pair a"
	conn_port "$a"
	pa=$CONN_PORT
	open_conn "$PROXY_PORT"
	b=$CONN
	conn_echo "$b" "pair b"
	open_conn "$PROXY_PORT"
	c=$CONN
	conn_echo "$c" "pair c"
	wait_until -t 5 status_rows_are 3
	run_status --status="$PROXY_PID"
	assert_success
	pid=$(awk -v c="127.0.0.1:$pa" '$3 == c { print $1 }' <<<"$output")
	[ -n "$pid" ] || fail "no --status line for client port $pa"
	kill "$pid"
	conn_closed "$a" 5 || fail "pair a was not ended"
	conn_echo "$b" "b goes on"
	conn_echo "$c" "c goes on"
	wait_until -t 5 status_rows_are 2
	run pair_lines
	assert_equal "${#lines[@]}" 1
	assert_output --regexp "tcpproxy\[$pid\]: pair client=127\.0\.0\.1:$pa upstream=127\.0\.0\.1:$SERVER_PORT up=7 down=7 $DUR reason=signal$"
	run grep -F 'killed by' "$PROXY_LOG"
	assert_failure
}

# ---- process titles ----

@test "process titles: master, idle, relay, drain" {
	local a pa pid
	start_badpeer echo-hold
	start_proxy -t 1 -s 2 127.0.0.1 "$BAD_PORT"
	# (set right after the start-up line)
	wait_until -t 5 titled "$PROXY_PID" \
	    "tcpproxy: master 127.0.0.1:$PROXY_PORT > 127.0.0.1:$BAD_PORT" \
	    "tcpproxy"
	wait_until -t 5 children_are 2
	wait_until -t 5 all_idle_titled
	open_conn "$PROXY_PORT"
	a=$CONN
	conn_echo "$a" "busy"
	conn_port "$a"
	pa=$CONN_PORT
	pid=$(child_for "$pa")
	titled "$pid" "tcpproxy: relay 127.0.0.1:$pa > 127.0.0.1:$BAD_PORT" \
	    "tcpproxy: relay" ||
	    fail "busy child: '$(ps -o comm=,args= -p "$pid")'"
	start_halfclose "$PROXY_PORT" c.out
	pid=$(child_for "$HC_PORT")
	wait_until -t 5 titled "$pid" \
	    "tcpproxy: drain 127.0.0.1:$HC_PORT > 127.0.0.1:$BAD_PORT" \
	    "tcpproxy: drain"
	# the idle ones, and only they, are still titled idle
	wait_until -t 5 children_are 4
	assert_equal "$(pgrep -c -P "$PROXY_PID" -f '^tcpproxy: idle$')" 2
	assert_equal "$(pgrep -c -P "$PROXY_PID" -x 'tcpproxy: idle')" 2
}

# ---- SIGUSR1 ----

@test "SIGUSR1: idle, busy, pairs served and failed, bytes of the ended pairs" {
	local n fd counts
	start_echod
	start_proxy -t 1 -s 4 127.0.0.1 "$SERVER_PORT"
	for n in 100 200 300; do
		head -c "$n" /dev/urandom >"$BATS_TEST_TMPDIR/c$n"
		timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" \
		    <"$BATS_TEST_TMPDIR/c$n" >"$BATS_TEST_TMPDIR/got$n"
		cmp "$BATS_TEST_TMPDIR/c$n" "$BATS_TEST_TMPDIR/got$n"
	done
	# a failed pair: the client resets after its echo (6 bytes each way)
	run timeout 10 "$PROGS/badpeer" client "$PROXY_PORT" rst
	assert_success
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_echo "$fd" "x"
	wait_until -t 5 pair_count_is 4
	# The counts of pairs and bytes are exact at once; the idle count
	# settles at --spare once the burst's window has passed.
	counts='3 pairs served, 1 failed; 606 bytes up, 606 down in ended pairs;'
	counts+=' [0-9]+ children forked, 0 fork failures$'
	wait_until -t 10 pool_says ": pool: 4 idle, 1 busy, 0 retiring; $counts"
	run grep -F ': pool: ' "$PROXY_LOG"
	assert_equal "$(grep -cvE "tcpproxy\[$PROXY_PID\]: pool: [0-9]+ idle, 1 busy, [0-9]+ retiring; $counts" <<<"$output")" 0
	close_conn "$fd"
	wait_until -t 5 pair_count_is 5
	counts='4 pairs served, 1 failed; 608 bytes up, 608 down in ended pairs;'
	counts+=' [0-9]+ children forked, 0 fork failures$'
	wait_until -t 10 pool_says ": pool: 4 idle, 0 busy, 0 retiring; $counts"
}

# ---- reload and shutdown under load ----

@test "SIGHUP five times under load: no connection fails, every byte comes back" {
	local out=$BATS_TEST_TMPDIR/churn.out churn i n ok rc=0
	EXTRA_LOGS+=("$out")
	start_echod
	start_proxy -s 4 127.0.0.1 "$SERVER_PORT"
	spawn "$PROGS/churn" -c 4 -s 65536 "$PROXY_PORT" >"$out" </dev/null
	churn=$!
	TEST_PIDS+=("$churn")
	for i in 1 2 3 4 5; do
		n=$(grep -c '^ok ' "$out") || true
		wait_until -t 10 ok_at_least "$out" $((n + 5))
		kill -HUP "$PROXY_PID"
		wait_until -t 5 log_count ': reload: ' "$i"
	done
	n=$(grep -c '^ok ' "$out") || true
	wait_until -t 10 ok_at_least "$out" $((n + 5))
	kill -TERM "$churn"
	wait_until -t 30 gone "$churn"
	wait "$churn" || rc=$?
	run cat "$out"
	assert_line --regexp '^total ok=[0-9]+ refused=0 dropped=0 fail=0$'
	assert_equal "churn exit $rc" "churn exit 0"
	ok=$(grep -c '^ok ' "$out")
	((ok >= 30)) || fail "only $ok connections"
	wait_until -t 10 pair_count_is "$ok"
	run pair_lines
	assert_equal "$(grep -cE " up=65536 down=65536 $DUR reason=eof$" <<<"$output")" "$ok"
}

@test "SIGTERM with pairs in flight: each one finishes with every byte; new ones are refused" {
	local out=$BATS_TEST_TMPDIR/churn.out churn rc=0 inflight
	EXTRA_LOGS+=("$out")
	start_echod
	start_proxy -s 4 127.0.0.1 "$SERVER_PORT"
	# each connection pauses 300 ms halfway, so pairs are open at any time
	spawn "$PROGS/churn" -c 6 -s 65536 -p 300 "$PROXY_PORT" >"$out" \
	    </dev/null
	churn=$!
	TEST_PIDS+=("$churn")
	wait_until -t 10 ok_at_least "$out" 6
	wait_until -t 10 busy_at_least 3
	kill -TERM "$PROXY_PID"
	wait_proxy_exit 20
	assert_equal "$PROXY_STATUS" 0
	kill -TERM "$churn"
	wait_until -t 30 gone "$churn"
	wait "$churn" || rc=$?
	run cat "$out"
	assert_line --regexp '^total ok=[0-9]+ refused=[0-9]+ dropped=[0-9]+ fail=0$'
	assert_equal "churn exit $rc" "churn exit 0"
	echo "churn: ${lines[-1]}"
	run grep -oE 'SIGTERM: no new clients; waiting for [0-9]+ open' "$PROXY_LOG"
	assert_success
	inflight=${output##*for }
	inflight=${inflight% open}
	((inflight >= 1)) || fail "no pair was open at the SIGTERM"
	# Every pair the proxy took ended with all its bytes, and is a
	# connection the client saw succeed; a connection it never took (still
	# in the listen queue when the listener closed) may have been dropped.
	run pair_lines
	assert_equal "$(grep -cvE " up=65536 down=65536 $DUR reason=eof$" <<<"$output")" 0
	assert_equal \
	    "$(pair_lines | sed -E 's/.* pair client=127\.0\.0\.1:([0-9]+) .*/\1/' | sort)" \
	    "$(sed -n 's/^ok //p' "$out" | sort)"
}

# ---- --drain-timeout ----

@test "--drain-timeout 1: an open pair is ended about 1 s after SIGTERM; exit 0" {
	local fd t0 t1 ms
	start_echod
	start_proxy -t 1 -s 2 --drain-timeout 1 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_echo "$fd" "open"
	t0=${EPOCHREALTIME/./}
	kill -TERM "$PROXY_PID"
	conn_closed "$fd" 15 || fail "the pair was not ended within 15 s"
	t1=${EPOCHREALTIME/./}
	ms=$(((t1 - t0) / 1000))
	((ms >= 500 && ms <= 10000)) ||
	    fail "the pair ended $ms ms after SIGTERM, not about 1 s"
	wait_proxy_exit 5
	assert_equal "$PROXY_STATUS" 0
	run cat "$PROXY_LOG"
	assert_line --regexp "tcpproxy\[$PROXY_PID\]: drain timeout: ending 1 open pair\(s\)$"
	run pair_lines
	assert_output --regexp " up=5 down=5 $DUR reason=signal$"
}

@test "--drain-timeout 0: a pair open at SIGTERM is left alone until it ends; exit 0" {
	local fd
	start_echod
	start_proxy -t 1 -s 2 --drain-timeout 0 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_echo "$fd" "open"
	kill -TERM "$PROXY_PID"
	wait_until -t 2 refuses "$PROXY_PORT"
	wait_until -t 5 children_are 1
	# A measuring window, not synchronisation: nothing may end the pair.
	sleep 3
	conn_echo "$fd" "still open after 3 s"
	alive "$PROXY_PID"
	close_conn "$fd"
	wait_proxy_exit 5
	assert_equal "$PROXY_STATUS" 0
	run pair_lines
	assert_output --regexp " up=26 down=26 $DUR reason=eof$"
	run grep -F 'drain timeout' "$PROXY_LOG"
	assert_failure
}

@test "--drain-timeout 0, then a second signal: open pairs end at once; exit 0" {
	local fd
	start_echod
	start_proxy -t 1 -s 2 --drain-timeout 0 127.0.0.1 "$SERVER_PORT"
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_echo "$fd" "open"
	kill -TERM "$PROXY_PID"
	wait_until -t 2 refuses "$PROXY_PORT"
	wait_until -t 5 children_are 1
	kill -INT "$PROXY_PID"
	conn_closed "$fd" 5 || fail "the pair was not ended within 5 s"
	wait_proxy_exit 5
	assert_equal "$PROXY_STATUS" 0
	run cat "$PROXY_LOG"
	assert_line --regexp "tcpproxy\[$PROXY_PID\]: SIGINT again: ending 1 open pair\(s\)$"
	run pair_lines
	assert_output --regexp " up=5 down=5 $DUR reason=signal$"
}

# ---- the command line ----

@test "bad values of --drain-timeout, --pair-max-seconds, --pair-max-bytes" {
	local lport
	lport=$(free_port)
	bad() {
		cli -l 127.0.0.1 "--$1" "$2" localhost 80 "$lport"
		usage_error "invalid --$1 value '$2': $3"
	}
	bad drain-timeout -1 'out of range (0-86400)'
	bad drain-timeout abc 'not a number'
	bad drain-timeout 86401 'out of range (0-86400)'
	bad drain-timeout 0.0001 'out of range (0-86400)'
	bad pair-max-seconds 0 'out of range (0.001-31536000)'
	bad pair-max-seconds abc 'not a number'
	bad pair-max-seconds 31536001 'out of range (0.001-31536000)'
	bad pair-max-bytes 0 'out of range (1-1048576g)'
	bad pair-max-bytes 5x 'not a number'
	bad pair-max-bytes 2000000g 'out of range (1-1048576g)'
	cli -l 127.0.0.1 --drain-timeout=x localhost 80 "$lport"
	usage_error "invalid --drain-timeout value 'x': not a number"
	local o
	for o in drain-timeout pair-max-seconds pair-max-bytes; do
		cli -l 127.0.0.1 localhost 80 "$lport" "--$o"
		usage_error "option '--$o' needs a value"
	done
}

@test "the limits of the new options are accepted" {
	start_echod
	start_proxy --drain-timeout 86400 --pair-max-seconds 31536000 \
	    --pair-max-bytes 1048576g -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
	start_proxy --drain-timeout=0 --pair-max-seconds=0.001 \
	    --pair-max-bytes=1 -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
}

@test "the man page and --help document the same options" {
	local page=$BATS_TEST_DIRNAME/../src/tcpproxy.1 help man synopsis
	local short long missing=
	help=$(help_options | while read -r short long; do
		[ "$short" = - ] || echo "-$short"
		echo "--$long"
	done | sort -u)
	[ "$(wc -l <<<"$help")" -ge 20 ] || fail "--help parsed badly: $help"
	man=$(mdoc_flags '^The options are:' '^\.El' "$page" | sort -u)
	[ "$(wc -l <<<"$man")" -ge 20 ] || fail "man page parsed badly: $man"
	assert_equal "$man" "$help"
	# the synopsis names each option, by its short form where it has one
	synopsis=$(mdoc_flags '^\.Sh SYNOPSIS' '^\.Sh ' "$page" | sort -u)
	while read -r short long; do
		if [ "$short" = - ]; then
			grep -qx -- "--$long" <<<"$synopsis" ||
			    missing+=" --$long"
		else
			grep -qx -- "-$short" <<<"$synopsis" ||
			    missing+=" -$short"
		fi
	done < <(help_options)
	[ -z "$missing" ] || fail "not in the SYNOPSIS:$missing"
}

@test "the man page formats without a warning" {
	command -v man >/dev/null || skip "man is missing"
	local page=$BATS_TEST_DIRNAME/../src/tcpproxy.1
	run --separate-stderr man --warnings -l "$page"
	assert_success
	assert_equal "$stderr" ''
	assert_output --partial 'tcpproxy'
}
