# Goal: an operator can see what each process does.  --status lists each
# live pair from the scoreboard: the child's pid, its state (connecting,
# relaying, draining), the client, the upstream, the bytes each way, its
# age and idle time; given no PID it finds the only running instance, and
# says so in one line when there is none or more than one; a bad PID, or
# a process that is not a master, is refused in one line.  A pid it shows
# is the one to kill to end exactly that pair.  ps shows what each process
# does in its title: master, idle, connect, relay, drain; IPv6 addresses
# stand in brackets in both.
# Moves data: make check runs it on both data paths.
# bats file_tags=data

load lib/common

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

# pair_for PORT: the pair line of the client on 127.0.0.1:PORT.
pair_for() { pair_lines | grep -F " pair client=127.0.0.1:$1 "; }

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

# status_rows_are N: --status of this test's master lists exactly N pairs.
status_rows_are() {
	local out

	out=$("$TCPPROXY" --status="$PROXY_PID" 2>/dev/null) || return 1
	[ "$(($(wc -l <<<"$out") - 1))" -eq "$1" ]
}

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
	echo_conn "$PROXY_PORT" "hello world"
	b=$CONN
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
	local pid
	free_port -6 >/dev/null 2>&1 || skip "no ::1 on this machine"
	start_echod -6
	PROXY_ADDR=::1 start_proxy -t 1 -s 2 ::1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "six" ::1
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
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "hi"
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

@test "two instances: plain --status refuses, --status=PID shows each one's pairs" {
	local a b pa pb other_port
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	OTHER_PID=$PROXY_PID
	other_port=$PROXY_PORT
	OTHER_LOG=$BATS_TEST_TMPDIR/other.log
	mv "$PROXY_LOG" "$OTHER_LOG"
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	echo_conn "$other_port" "to the first"
	a=$CONN
	pa=$CONN_PORT
	echo_conn "$PROXY_PORT" "to the second"
	b=$CONN
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
	echoed_pairs a b c
	a=${CONNS[a]} b=${CONNS[b]} c=${CONNS[c]} pa=${PORTS[a]}
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
	echo_conn "$PROXY_PORT" "busy"
	a=$CONN
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

# ---- boards that another process forged ----

# start_fakeboard [-u USER] OPTIONS...: progs/fakeboard OPTIONS (as USER),
# a process named tcpproxy with a forged scoreboard.  Sets FAKE_PID.
start_fakeboard() {
	local out=$BATS_TEST_TMPDIR/fakeboard.out run=()
	if [ "$1" = -u ]; then
		run=(setpriv --reuid="$(id -u "$2")" --regid="$(id -g "$2")"
		    --clear-groups)
		shift 2
	fi
	spawn "${run[@]}" "$PROGS/fakeboard" "$@" >"$out" </dev/null
	TEST_PIDS+=("$!")
	wait_until -t 5 grep -qx '[0-9][0-9]*' "$out"
	FAKE_PID=$(head -n 1 "$out")
}

@test "--status shows a forged board's text only as printable characters" {
	start_fakeboard -e
	run_status --status="$FAKE_PID"
	assert_success
	assert_equal "${#lines[@]}" 65
	assert_line --index 1 --regexp '^100000 relaying \?\[2J\?\]0;owned\?\?\? \?+ 0 0 '
	! LC_ALL=C grep -q '[[:cntrl:]]' <<<"$output" ||
	    fail "control characters in: $output"
	# and as JSON: a document that parses, with nothing raw in it
	run_status --status="$FAKE_PID" --format=json
	assert_success
	/usr/bin/python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert len(d["pairs"]) == 64, len(d["pairs"])' "$output"
	! LC_ALL=C grep -q '[[:cntrl:]]' <<<"${output//$'\n'/}" ||
	    fail "control characters in: $output"
}

@test "--status never faults on a board that shrinks while it reads" {
	local i rc bad=0
	start_fakeboard -s
	for i in $(seq 100); do
		timeout -k 2 10 "$TCPPROXY" --status="$FAKE_PID" >/dev/null \
		    2>&1 </dev/null && rc=0 || rc=$?
		((rc <= 1)) || bad=$((bad + 1))
	done
	assert_equal "runs that died: $bad" "runs that died: 0"
}

@test "--status reads only this user's or root's boards" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run a board as another user"
	start_fakeboard -u nobody
	run_status --status="$FAKE_PID"
	assert_failure 1
	assert_equal "$stderr" "tcpproxy: --status: the scoreboard of process $FAKE_PID belongs to uid $(id -u nobody): only this user's (uid 0) and root's are read"
	assert_output ''
}
