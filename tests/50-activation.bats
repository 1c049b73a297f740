#!/usr/bin/env bats
# Goal: socket activation and readiness work end to end.  Debian's
# systemd-socket-activate makes the cases it can (the real protocol): its
# listening sockets (Accept=no; one, or one IPv4 and one IPv6) feed the
# pool, which passes tests/progs/tester's phases that way too; a
# connection it passes (Accept=yes, or inetd style on stdin and stdout) is
# relayed by a process of its own, byte for byte and with half-close,
# which then exits 0.  tests/progs/sockpass makes the rest: a non-blocking
# listener (NonBlocking=yes), made blocking for the pool; inetd's
# listening socket on stdin (wait); inetd's connection on stdin, stdout
# and stderr (nowait), where no log text may reach the client; a socket
# held across a restart of the service, so that a client who connects in
# the gap is served; and broken input (closed descriptors, a file, UDP, a
# foreign LISTEN_PID, bad LISTEN_FDS, a contradicting port, clashing mode
# flags), which gets one clear line and a non-zero exit and starts
# nothing.  NOTIFY_SOCKET (a path or an abstract name) hears READY=1,
# RELOADING=1 and READY=1 on SIGHUP, and STOPPING=1, all from the master.
# LISTEN_* and NOTIFY_SOCKET are gone from the live environment of every
# process.
# Moves data: make check runs it on both data paths.
# bats file_tags=data

load lib/common

ACT_PIDS=()	# every systemd-socket-activate started, for teardown
ACT_PID=
ACT_PORT=

setup() {
	# no_activation_vars looks for this in every process started.
	export TCPPROXY_TEST_MARK=$BATS_TEST_NUMBER
	unset LISTEN_PID LISTEN_FDS LISTEN_FDNAMES NOTIFY_SOCKET
}

# common_teardown, then the activators: stopped (with Accept=no each one
# is the proxy master, PROXY_PID, which common_teardown stopped already),
# with nothing left in their sessions (what an --accept one spawned ends
# with its connection, and common_teardown closed those).
teardown() {
	local rc=0 pid
	common_teardown || rc=1
	for pid in "${ACT_PIDS[@]}"; do
		[ "$pid" != "$PROXY_PID" ] || continue
		kill -TERM "$pid" 2>/dev/null || true
		wait_until -t 5 gone "$pid" || rc=1
		wait "$pid" 2>/dev/null || true
		session_cleared 5 "$pid" "activator $pid" || rc=1
	done
	if [ "${#ACT_PIDS[@]}" -gt 0 ] && [ -z "$PROXY_PID" ] &&
	    { [ "$rc" -ne 0 ] || [ -z "${BATS_TEST_COMPLETED:-}" ]; }; then
		echo "--- activator log ($PROXY_LOG) ---" >&2
		cat "$PROXY_LOG" >&2 || true
	fi
	return "$rc"
}

# pair_re DEST-PORT BYTES: a pair line with BYTES each way, ended by EOF.
pair_re() {
	printf '%s' "pair client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.1:$1" \
	    " up=$2 down=$2 duration=[0-9]+\.[0-9]{3}s reason=eof$"
}

# pairs_are N DEST-PORT BYTES: exactly N pair lines, all like pair_re.
pairs_are() {
	wait_until -t 10 pair_count_is "$1"
	run pair_lines
	assert_equal "$(grep -cE "$(pair_re "$2" "$3")" <<<"$output")" "$1"
}

# activate ARGS... -- COMMAND...: systemd-socket-activate -l 127.0.0.1:PORT
# ARGS -- COMMAND on a free port, in a session of its own, with stderr
# (its own chatter, then the log of what it runs) to $PROXY_LOG; wait
# until it listens, retrying with another port when that one was taken
# meanwhile.  Sets ACT_PID and ACT_PORT.  Nothing runs before the first
# connection.  The activator passes on only a few variables: -E adds the
# marker, TCPPROXY_BIN for tests/lib/copy-path.sh and the sanitizers'
# options, when set.
activate() {
	local pass=(-E TCPPROXY_TEST_MARK) var
	for var in TCPPROXY_BIN ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -z "${!var+set}" ] || pass+=(-E "$var")
	done
	PROXY_LOG=$BATS_TEST_TMPDIR/activate.log
	for _ in 1 2 3 4 5; do
		ACT_PORT=$(free_port)
		spawn setsid systemd-socket-activate -l "127.0.0.1:$ACT_PORT" \
		    "${pass[@]}" "$@" 2>"$PROXY_LOG" \
		    >"$BATS_TEST_TMPDIR/activate.out" </dev/null
		ACT_PID=$!
		ACT_PIDS+=("$ACT_PID")
		wait_until -t 10 activator_started || return 1
		if grep -qF "Listening on 127.0.0.1:$ACT_PORT as 3." \
		    "$PROXY_LOG"; then
			return 0
		fi
		wait "$ACT_PID" || true
	done
	echo "activate: systemd-socket-activate never listened:" >&2
	cat "$PROXY_LOG" >&2
	return 1
}

activator_started() {
	grep -q '^Listening on' "$PROXY_LOG" || gone "$ACT_PID"
}

act_children_are() { [ "$(pgrep -c -P "$ACT_PID")" -eq "$1" ]; }

# clients_echo PORT N: N clients, all connected at once, each echo
# "client I" once; then all of them close.
clients_echo() {
	local fds=() fd i
	for ((i = 1; i <= $2; i++)); do
		open_conn "$1"
		fds+=("$CONN")
		conn_echo "$CONN" "client $i"
	done
	for fd in "${fds[@]}"; do
		close_conn "$fd"
	done
}

# listening_line PID PORT: PID logged that it serves 127.0.0.1:PORT.
listening_line() {
	grep -q "tcpproxy\[$1\]: listening on 127\.0\.0\.1:$2," "$PROXY_LOG"
}

# no_activation_vars PID: PID's live environment (tests/progs/liveenv:
# what it has now, not what it started with) holds the marker, so it was
# read right, and none of LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES and
# NOTIFY_SOCKET.
no_activation_vars() {
	local env
	env=$("$PROGS/liveenv" "$1") || return 1
	grep -qx "TCPPROXY_TEST_MARK=$BATS_TEST_NUMBER" <<<"$env" || {
		echo "liveenv $1: the marker variable is missing" >&2
		return 1
	}
	if grep -E '^(LISTEN_(PID|FDS|FDNAMES)|NOTIFY_SOCKET)=' <<<"$env"
	then
		echo "process $1 still has the variables above" >&2
		return 1
	fi
}

# --- systemd, Accept=no --------------------------------------------------

@test "Accept=no: systemd-socket-activate's socket feeds the pool" {
	local fds=() i n=5
	start_echod
	activate --fdname=web -- "$TCPPROXY" -v -t 1 -s 2 127.0.0.1 \
	    "$SERVER_PORT"
	# exec'd in place on the first connection: the master is ACT_PID,
	# and it found its own pid in LISTEN_PID
	PROXY_PID=$ACT_PID
	for ((i = 1; i <= n; i++)); do
		open_conn "$ACT_PORT"
		fds+=("$CONN")
	done
	for ((i = 1; i <= n; i++)); do
		conn_echo "${fds[i - 1]}" "client $i"
	done
	listening_line "$PROXY_PID" "$ACT_PORT"
	grep -qF "tcpproxy[$PROXY_PID]: using 1 socket(s) passed by systemd (web)" \
	    "$PROXY_LOG"
	for ((i = 1; i <= n; i++)); do
		close_conn "${fds[i - 1]}"
	done
	pairs_are "$n" "$SERVER_PORT" 9
	wait_until -t 5 children_are 2
}

@test "Accept=no, two sockets (127.0.0.1 and ::1): both feed the pool" {
	local v6 fd4 fd6
	free_port -6 >/dev/null 2>&1 || skip "no ::1 on this machine"
	start_echod
	v6=$(free_port -6)
	activate -l "[::1]:$v6" --fdname=v4:v6 -- "$TCPPROXY" -v -t 1 -s 2 \
	    127.0.0.1 "$SERVER_PORT"
	PROXY_PID=$ACT_PID
	open_conn "$ACT_PORT"
	fd4=$CONN
	conn_echo "$fd4" "over IPv4"
	open_conn "$v6" ::1
	fd6=$CONN
	conn_echo "$fd6" "over IPv6"
	grep -qF "tcpproxy[$PROXY_PID]: using 2 socket(s) passed by systemd (v4:v6)" \
	    "$PROXY_LOG"
	grep -qF "tcpproxy[$PROXY_PID]: listening on 127.0.0.1:$ACT_PORT [::1]:$v6," \
	    "$PROXY_LOG"
	close_conn "$fd4"
	close_conn "$fd6"
	wait_until -t 10 pair_count_is 2
	run pair_lines
	assert_line --regexp "pair client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.1:$SERVER_PORT up=10 down=10 .*reason=eof\$"
	assert_line --regexp "pair client=\[::1\]:[0-9]+ upstream=127\.0\.0\.1:$SERVER_PORT up=10 down=10 .*reason=eof\$"
}

# o_nonblock PID FD: the open file FD of PID is non-blocking.
o_nonblock() {
	local flags
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/$2")
	((8#$flags & 8#4000))
}

@test "Accept=no, NonBlocking=yes: the one listener is made blocking" {
	# the control: sockpass -n passes a non-blocking socket
	run "$PROGS/sockpass" -n -k listen -- \
	    awk '/^flags:/ { print $2 }' /proc/self/fdinfo/3
	assert_success
	((8#$output & 8#4000)) || fail "sockpass -n: flags $output"
	start_echod
	LISTEN_FDS=1 start_sockpass -n -l -k listen -- "$TCPPROXY" -t 1 -s 2 \
	    127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 children_are 2
	# idle children block in accept() on it; non-blocking, they would spin
	! o_nonblock "$PROXY_PID" 3 || fail "the listener is still non-blocking"
	run timeout 5 nc -N 127.0.0.1 "$SP_PORT" <<<"served"
	assert_output "served"
}

# run_tester PHASE: one phase of tests/progs/tester (see
# 20-forwarding.bats) with the proxy under systemd-socket-activate
# (tests/lib/socket-activate.sh) and -t 1.
run_tester() {
	run timeout -k 10 200 "$PROGS/tester" --stall 1 "$1" -- \
	    "$TESTS_DIR/lib/socket-activate.sh" "$TCPPROXY" -t 1
	assert_success
	assert_output --partial "Execing "
	assert_output --partial "PASS: phase $1"
}

# Every phase but the two that take tens of seconds and test only the
# relay, which activation does not change: "active" (27 s of idle gaps)
# and "lazy-server" (the default 10 s stall timeout).
@test "Accept=no tester: single echo connection" { run_tester single; }
@test "Accept=no tester: chain of two connections" { run_tester two; }
@test "Accept=no tester: chain of twenty connections" { run_tester twenty; }
@test "Accept=no tester: 2 MB both ways through twenty" { run_tester bulk; }
@test "Accept=no tester: bulk beside a pair that never drains" {
	run_tester mix
}
@test "Accept=no tester: one-way shutdown keeps the other direction" {
	run_tester halfclose
}
@test "Accept=no tester: server closing at once closes the client" {
	run_tester earlyclose
}
@test "Accept=no tester: client that never reads is aborted" {
	run_tester lazy-client
}

# --- Accept=yes and inetd nowait, from systemd-socket-activate ----------

# accept_each FLAGS...: under systemd-socket-activate --accept FLAGS,
# three clients at once get three proxies, children of the activator
# without a pool of their own; each one relays its own client, has no
# LISTEN_* variable left, logs one pair line and exits 0.
accept_each() {
	local fds=() i pid pids
	start_echod
	activate --accept "$@" -- "$TCPPROXY" -t 1 127.0.0.1 "$SERVER_PORT"
	for i in 1 2 3; do
		open_conn "$ACT_PORT"
		fds+=("$CONN")
		conn_echo "$CONN" "client $i"
	done
	wait_until -t 5 act_children_are 3
	pids=$(pgrep -P "$ACT_PID")
	for pid in $pids; do
		[ "$(pgrep -c -P "$pid")" -eq 0 ] ||
		    fail "proxy $pid has children: a pool for one connection"
		no_activation_vars "$pid"
	done
	for i in 1 2 3; do
		conn_echo "${fds[i - 1]}" "client $i again"
		close_conn "${fds[i - 1]}"
	done
	pairs_are 3 "$SERVER_PORT" 24
	wait_until -t 5 act_children_are 0
	for pid in $pids; do
		assert_equal "$(grep -c "tcpproxy\[$pid\]: pair " "$PROXY_LOG")" 1
		# logged just after the activator reaped it
		wait_until -t 5 grep -qx "Child $pid died with code 0" \
		    "$PROXY_LOG"
	done
}

# halfclose_clients PORT N: N nc clients at once, each sending its own
# 200 kB of random bytes and then shutting down its write side.  The
# destination (echod -m after-eof) answers only after that EOF, so every
# byte that comes back proves the EOF was passed on while the other
# direction stayed open.  Each must get exactly its bytes, then EOF.
halfclose_clients() {
	local port=$1 n=$2 i pids=() rc
	for ((i = 1; i <= n; i++)); do
		head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/in.$i"
		spawn timeout 20 nc -N 127.0.0.1 "$port" \
		    <"$BATS_TEST_TMPDIR/in.$i" >"$BATS_TEST_TMPDIR/out.$i"
		pids+=("$!")
		TEST_PIDS+=("$!")
	done
	for ((i = 1; i <= n; i++)); do
		rc=0
		wait "${pids[i - 1]}" || rc=$?
		[ "$rc" -eq 0 ] || fail "client $i: nc exited $rc"
		cmp "$BATS_TEST_TMPDIR/in.$i" "$BATS_TEST_TMPDIR/out.$i" ||
		    fail "client $i did not get its 200000 bytes back exactly"
	done
}

@test "Accept=yes: a process per connection, which exits 0 after its pair" {
	accept_each
}

@test "Accept=yes: SIGHUP and SIGUSR1 leave the pair alone, as in a pool" {
	# A single-connection process (Accept=yes, inetd nowait) must treat
	# "kill -HUP" (a reload everywhere) or SIGUSR1 (pool counts) as a
	# busy pool child does: ignore them, and keep its client.
	local pid sig
	start_echod
	activate --accept -- "$TCPPROXY" -t 1 127.0.0.1 "$SERVER_PORT"
	open_conn "$ACT_PORT"
	conn_echo "$CONN" "before the signals"
	wait_until -t 5 act_children_are 1
	pid=$(pgrep -P "$ACT_PID")
	for sig in HUP USR1; do
		kill -"$sig" "$pid"
		conn_echo "$CONN" "after SIG$sig" ||
		    fail "SIG$sig ended the pair"
	done
	close_conn "$CONN"
	pairs_are 1 "$SERVER_PORT" 46
	wait_until -t 5 grep -qx "Child $pid died with code 0" "$PROXY_LOG"
}

@test "Accept=yes: exact both ways, client's EOF passed on, reply delivered" {
	start_echod -m after-eof
	activate --accept -- "$TCPPROXY" -t 1 127.0.0.1 "$SERVER_PORT"
	halfclose_clients "$ACT_PORT" 3
	pairs_are 3 "$SERVER_PORT" 200000
}

@test "inetd nowait (--inetd --accept): a process per connection" {
	# no mode flag: stdin a socket and no listen-port mean inetd
	accept_each --inetd
}

@test "inetd nowait (--inetd --accept): exact, half-close, log on stderr" {
	start_echod -m after-eof
	activate --inetd --accept -- "$TCPPROXY" --inetd -t 1 127.0.0.1 \
	    "$SERVER_PORT"
	halfclose_clients "$ACT_PORT" 3
	# stderr is not the socket here: the pair lines stay on it
	pairs_are 3 "$SERVER_PORT" 200000
}

# --- inetd, from sockpass ------------------------------------------------

@test "inetd wait: a listening socket on stdin feeds the pool" {
	start_echod
	# no mode flag: stdin a socket and no listen-port mean inetd
	start_sockpass -k listen -d 0 -- "$TCPPROXY" -t 1 -s 2 127.0.0.1 \
	    "$SERVER_PORT"
	wait_until -t 10 listening_line "$PROXY_PID" "$SP_PORT"
	clients_echo "$SP_PORT" 3
	pairs_are 3 "$SERVER_PORT" 9
	wait_until -t 5 children_are 2
}

@test "inetd wait, socket on stdin, stdout and stderr: served, log elsewhere" {
	local i sock
	start_echod
	start_sockpass -k listen -d 0,1,2 -- "$TCPPROXY" --inetd -v -t 1 \
	    -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 children_are 2
	sock=$(readlink "/proc/$PROXY_PID/fd/0")
	[[ $sock == socket:* ]]
	for i in 1 2; do
		[ "$(readlink "/proc/$PROXY_PID/fd/$i")" != "$sock" ] ||
		    fail "descriptor $i is still the listening socket"
	done
	clients_echo "$SP_PORT" 3
	wait_until -t 10 children_are 2
}

# nowait FDS PROXY-ARGS...: sockpass accepts one client and passes it on
# the descriptors FDS (inetd: 0,1,2) to "$TCPPROXY PROXY-ARGS", which gets
# a NOTIFY_SOCKET it warns about at start-up: a line to log while the
# client is connected.  The client (nc) sends $BATS_TEST_TMPDIR/in, shuts
# down writing and keeps all it gets, until EOF, in $BATS_TEST_TMPDIR/out.
# Sets NC_STATUS (124: still waiting after 20 s) and PROXY_STATUS.
nowait() {
	local fds=$1
	shift
	NOTIFY_SOCKET=not-a-socket-name start_sockpass -k conn -d "$fds" -- \
	    "$TCPPROXY" "$@"
	NC_STATUS=0
	timeout 20 nc -N 127.0.0.1 "$SP_PORT" <"$BATS_TEST_TMPDIR/in" \
	    >"$BATS_TEST_TMPDIR/out" || NC_STATUS=$?
	wait_proxy_exit 10
}

random_input() {
	{
		printf 'first line\nsecond line\n'
		head -c 100000 /dev/urandom
	} >"$BATS_TEST_TMPDIR/in"
}

# The client sends nothing: the proxy closes with nothing unread, so the
# client gets a FIN (not a reset) after anything written to it.
no_input() { : >"$BATS_TEST_TMPDIR/in"; }

got_nothing() {
	[ ! -s "$BATS_TEST_TMPDIR/out" ] ||
	    fail "the client got: $(head -c 300 "$BATS_TEST_TMPDIR/out")"
}

@test "inetd nowait, stdin = stdout = stderr = client: its bytes, no log text" {
	start_echod
	random_input
	nowait 0,1,2 -v -t 1 127.0.0.1 "$SERVER_PORT"
	assert_equal "$NC_STATUS" 0
	assert_equal "$PROXY_STATUS" 0
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out" ||
	    fail "the client got something else than its own bytes back"
}

@test "inetd nowait, stderr = client, destination refused: closed, no text" {
	no_input
	nowait 0,1,2 -v -t 1 127.0.0.1 "$(free_port)"
	assert_equal "$NC_STATUS" 0
	got_nothing
}

@test "inetd nowait, stderr = client, bad usage or port: no text either" {
	start_echod
	no_input
	nowait 0,1,2 --no-such-option 127.0.0.1 "$SERVER_PORT"
	assert_equal "$NC_STATUS" 0
	assert_equal "$PROXY_STATUS" 2
	got_nothing
	nowait 0,1,2 --inetd 127.0.0.1 "$SERVER_PORT" 1
	assert_equal "$NC_STATUS" 0
	assert_equal "$PROXY_STATUS" 1
	got_nothing
}

@test "inetd nowait, stderr not the socket (the control): log on stderr" {
	local dead
	start_echod
	random_input
	nowait 0,1 -v -t 1 127.0.0.1 "$SERVER_PORT"
	assert_equal "$NC_STATUS" 0
	assert_equal "$PROXY_STATUS" 0
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
	grep -qF "tcpproxy[$PROXY_PID]: NOTIFY_SOCKET is not a unix socket" \
	    "$PROXY_LOG"
	pairs_are 1 "$SERVER_PORT" 100023
	# what a refused destination logs while the client waits
	dead=$(free_port)
	no_input
	nowait 0,1 -v -t 1 127.0.0.1 "$dead"
	assert_equal "$NC_STATUS" 0
	got_nothing
	grep -qF "tcpproxy[$PROXY_PID]: connect to 127.0.0.1:$dead:" "$PROXY_LOG"
	grep -qE "tcpproxy\[$PROXY_PID\]: pair .* reason=refused" \
	    "$PROXY_LOG"
	# and the errors
	nowait 0,1 --inetd 127.0.0.1 "$SERVER_PORT" 1
	assert_equal "$PROXY_STATUS" 1
	grep -q "^tcpproxy: listen port 1 contradicts the socket passed by inetd" \
	    "$PROXY_LOG"
}

# --- restart under the activator ------------------------------------------

@test "a client connecting while the service restarts is queued, then served" {
	local first second fd line
	start_echod
	# sockpass -r keeps the socket and runs the proxy again on SIGUSR1,
	# each time with LISTEN_PID set to the new pid, as systemd does
	LISTEN_FDS=1 LISTEN_FDNAMES=held start_sockpass -r -l -k listen -- \
	    "$TCPPROXY" -v -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 grep -q "^sockpass: started " "$PROXY_LOG"
	first=$(pgrep -P "$PROXY_PID")
	wait_until -t 10 listening_line "$first" "$SP_PORT"
	grep -qF "tcpproxy[$first]: using 1 socket(s) passed by systemd (held)" \
	    "$PROXY_LOG"
	open_conn "$SP_PORT"
	conn_echo "$CONN" "first instance"
	close_conn "$CONN"
	kill -TERM "$first"
	wait_until -t 10 grep -qx "sockpass: $first exited with status 0" \
	    "$PROXY_LOG"
	# the gap: no proxy runs, but the socket still listens
	[ -z "$(pgrep -P "$PROXY_PID")" ]
	open_conn "$SP_PORT" || fail "refused while the service was down"
	fd=$CONN
	conn_send "$fd" "sent in the gap"
	kill -USR1 "$PROXY_PID"
	read -r -t 10 -u "$fd" line ||
	    fail "no answer within 10 s from the restarted service"
	assert_equal "$line" "sent in the gap"
	second=$(pgrep -P "$PROXY_PID")
	[ -n "$second" ] && [ "$second" != "$first" ]
	listening_line "$second" "$SP_PORT"
	grep -qF "tcpproxy[$second]: using 1 socket(s) passed by systemd (held)" \
	    "$PROXY_LOG"
	conn_echo "$fd" "second instance"
	close_conn "$fd"
	wait_until -t 10 pair_count_is 2
}

# --- readiness -------------------------------------------------------------

# Readiness, the environment and bad input move no data: the run on the
# copy path (make check) leaves the rest of this file out.
# bats file_tags=

# start_notifyrecv NAME: tests/progs/notifyrecv -c on NAME (a path, or
# @name for an abstract socket), its messages to $NOTIFY_OUT.
start_notifyrecv() {
	NOTIFY_OUT=$BATS_TEST_TMPDIR/notify.out
	spawn "$PROGS/notifyrecv" -c "$1" >"$NOTIFY_OUT" </dev/null
	TEST_PIDS+=("$!")
	if [[ $1 == @* ]]; then
		wait_until -t 5 grep -q " $1\$" /proc/net/unix
	else
		wait_until -t 5 test -S "$1"
	fi
}

# notify_msgs: the messages so far, one a line, a message's lines joined
# with spaces after the sender's "PID=N".
notify_msgs() { awk -v RS= '{ gsub("\n", " "); print }' "$NOTIFY_OUT"; }

# notified ERE: a message matches.
notified() { notify_msgs | grep -qE "$1"; }

# notify_count ERE: how many messages match.
notify_count() { notify_msgs | grep -cE "$1" || true; }

# notify_count_is N ERE: exactly N messages match.
notify_count_is() { [ "$(notify_count "$2")" -eq "$1" ]; }

# notify_index ERE: the number of the last message that matches.
notify_index() { notify_msgs | grep -nE "$1" | tail -n 1 | cut -d: -f1; }

# counts_re: the counts each STATUS= holds.
counts_re() {
	printf '%s' '[0-9]+ open pair\(s\), [0-9]+ idle children; ' \
	    '[0-9]+ served, [0-9]+ failed'
}

@test "NOTIFY_SOCKET path: READY, RELOADING + READY, STOPPING, from the master" {
	local sock=$BATS_TEST_TMPDIR/notify ready reload stopping
	start_echod
	start_notifyrecv "$sock"
	NOTIFY_SOCKET=$sock LISTEN_FDS=1 start_sockpass -l -k listen -- \
	    "$TCPPROXY" -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 notified "^PID=$PROXY_PID READY=1 STATUS=$(counts_re)\$"
	assert_equal "$(notify_index 'READY=1')" 1	# the first message
	# ready means ready: a client is served
	open_conn "$SP_PORT"
	conn_echo "$CONN" "after READY=1"
	close_conn "$CONN"
	# the counts follow: nothing open, one served
	wait_until -t 5 notified "^PID=$PROXY_PID STATUS=0 open pair\(s\), [0-9]+ idle children; 1 served, 0 failed\$"
	no_activation_vars "$PROXY_PID"
	no_activation_vars "$(pgrep -P "$PROXY_PID" | head -n 1)"
	kill -HUP "$PROXY_PID"
	wait_until -t 10 notified "^PID=$PROXY_PID RELOADING=1\$"
	wait_until -t 10 notify_count_is 2 "^PID=$PROXY_PID READY=1 STATUS="
	reload=$(notify_index "RELOADING=1")
	ready=$(notify_index "READY=1")
	((ready > reload)) ||
	    fail "READY=1 (message $ready) came before RELOADING=1 ($reload)"
	kill -TERM "$PROXY_PID"
	wait_proxy_exit 10
	assert_equal "$PROXY_STATUS" 0
	run notify_msgs
	assert_line --regexp "^PID=$PROXY_PID STOPPING=1 STATUS=stopping; $(counts_re)\$"
	stopping=$(notify_index "STOPPING=1")
	((stopping > ready)) || fail "STOPPING=1 came before the last READY=1"
	assert_equal "$(notify_count 'RELOADING=1')" 1
	assert_equal "$(notify_count 'STOPPING=1')" 1
	# only the master talks to systemd
	assert_equal "$(notify_msgs | grep -vc "^PID=$PROXY_PID ")" 0
}

@test "NOTIFY_SOCKET at --max-children: STATUS= says so, with the clients waiting" {
	local sock=$BATS_TEST_TMPDIR/notify i
	start_echod
	start_notifyrecv "$sock"
	NOTIFY_SOCKET=$sock LISTEN_FDS=1 start_sockpass -l -k listen -- \
	    "$TCPPROXY" -t 1 -s 1 -m 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 notified "^PID=$PROXY_PID READY=1 "
	for i in 1 2; do
		open_conn "$SP_PORT"
		conn_echo "$CONN" "pair $i"
	done
	for i in 1 2 3; do open_conn "$SP_PORT"; done
	wait_until -t 10 notified "^PID=$PROXY_PID STATUS=2 open pair\(s\), 0 idle children; 0 served, 0 failed; all children in use \(--max-children\), 3 client\(s\) waiting\$"
	assert_equal "$(grep -c 'all 2 children in use (--max-children)' "$PROXY_LOG")" 1
}

@test "NOTIFY_SOCKET abstract (@name): READY=1 once up, STOPPING=1 on SIGTERM" {
	local name="@tcpproxy-test-$$-$BATS_TEST_NUMBER-$RANDOM"
	start_echod
	start_notifyrecv "$name"
	NOTIFY_SOCKET=$name start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 notified "^PID=$PROXY_PID READY=1 STATUS=$(counts_re)\$"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"served"
	assert_output "served"
	kill -TERM "$PROXY_PID"
	wait_proxy_exit 10
	assert_equal "$PROXY_STATUS" 0
	wait_until -t 5 notified "^PID=$PROXY_PID STOPPING=1 STATUS=stopping; "
	assert_equal "$(notify_count 'READY=1')" 1
}

@test "NOTIFY_SOCKET path out of reach of --chroot: still READY, RELOADING, STOPPING" {
	local sock=$BATS_TEST_TMPDIR/notify root=$BATS_TEST_TMPDIR/root
	[ "$(id -u)" -eq 0 ] || skip "needs root to change the root"
	chroot_ok
	mkdir "$root"
	start_echod
	start_notifyrecv "$sock"
	NOTIFY_SOCKET=$sock start_proxy -t 1 -s 2 --chroot "$root" \
	    127.0.0.1 "$SERVER_PORT"
	wait_until -t 10 notified "^PID=$PROXY_PID READY=1 STATUS=$(counts_re)\$"
	assert_equal "$(readlink "/proc/$PROXY_PID/root")" "$root"
	kill -HUP "$PROXY_PID"
	wait_until -t 10 notify_count_is 2 "^PID=$PROXY_PID READY=1 STATUS="
	kill -TERM "$PROXY_PID"
	wait_proxy_exit 10
	assert_equal "$PROXY_STATUS" 0
	wait_until -t 5 notified "^PID=$PROXY_PID STOPPING=1 STATUS=stopping; "
	assert_equal "$(notify_count 'RELOADING=1')" 1
	run grep -c 'cannot notify' "$PROXY_LOG"
	assert_output 0
}

@test "NOTIFY_SOCKET that nobody reads: one warning, served anyway" {
	start_echod
	NOTIFY_SOCKET=$BATS_TEST_TMPDIR/nobody start_proxy -t 1 -s 2 \
	    127.0.0.1 "$SERVER_PORT"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"served"
	assert_output "served"
	kill -HUP "$PROXY_PID"	# two more messages that fail
	wait_until -t 5 grep -q 'reload: ' "$PROXY_LOG"
	assert_equal "$(grep -c 'cannot notify systemd' "$PROXY_LOG")" 1
}

# --- the variables do not leak ------------------------------------------

@test "LISTEN_* are gone from the live environment of master and children" {
	local child
	start_echod
	activate --fdname=web -- "$TCPPROXY" -v -t 1 -s 2 127.0.0.1 \
	    "$SERVER_PORT"
	PROXY_PID=$ACT_PID
	open_conn "$ACT_PORT"
	conn_echo "$CONN" "busy pair"
	wait_until -t 5 children_are 3
	# The control: the master did read them (LISTEN_FDNAMES=web).
	# /proc/PID/environ cannot tell what is left: it shows the strings a
	# process started with, which unsetenv() leaves in place (and a
	# process title may overwrite).
	grep -qF "tcpproxy[$PROXY_PID]: using 1 socket(s) passed by systemd (web)" \
	    "$PROXY_LOG"
	no_activation_vars "$PROXY_PID"
	for child in $(pgrep -P "$PROXY_PID"); do	# idle, and the busy one
		no_activation_vars "$child"
	done
}

# runs PID PATH: PID has exec'd PATH.
runs() { [ "$(readlink "/proc/$1/exe")" = "$2" ]; }

@test "liveenv sees the variables a process has (the control for the above)" {
	local pid
	spawn env LISTEN_FDS=1 LISTEN_PID=1 sleep 30 </dev/null
	pid=$!
	TEST_PIDS+=("$pid")
	wait_until -t 5 runs "$pid" "$(readlink -f "$(command -v sleep)")"
	run "$PROGS/liveenv" "$pid"
	assert_success
	assert_line LISTEN_FDS=1
	assert_line LISTEN_PID=1
	assert_line "TCPPROXY_TEST_MARK=$BATS_TEST_NUMBER"
	run no_activation_vars "$pid"
	assert_failure
}

# --- bad activation input --------------------------------------------------

# run_bad CMD...: CMD must refuse to start.  Run it in a session of its
# own with stdin /dev/null, wait at most 10 s for it to end, and set
# status, output and lines (from its stderr) and BAD_PID; fail if it
# wrote anything on stdout or left any process behind.
run_bad() {
	local err=$BATS_TEST_TMPDIR/bad.err
	spawn setsid "$@" >"$BATS_TEST_TMPDIR/bad.out" 2>"$err" </dev/null
	BAD_PID=$!
	TEST_PIDS+=("$BAD_PID")
	wait_until -t 10 gone "$BAD_PID"
	wait "$BAD_PID" && status=0 || status=$?
	output=$(<"$err")
	mapfile -t lines <"$err"
	session_cleared 0 "$BAD_PID" "the refused start" ||
	    fail "the refused start left processes behind"
	[ ! -s "$BATS_TEST_TMPDIR/bad.out" ] ||
	    fail "stdout: $(cat "$BATS_TEST_TMPDIR/bad.out")"
}

# refused STATUS MESSAGE: the last run_bad exited STATUS after exactly
# one line, "tcpproxy: MESSAGE" (and the hint after a usage error, 2).
refused() {
	assert_equal "$status" "$1"
	assert_equal "${lines[0]}" "tcpproxy: $2"
	if [ "$1" -eq 2 ]; then
		assert_equal "${lines[1]}" \
		    "Try 'tcpproxy --help' for more information."
		assert_equal "${#lines[@]}" 2
	else
		assert_equal "${#lines[@]}" 1
	fi
}

# Every case ends before the destination is resolved or contacted.
DEST=(127.0.0.1 9)

# bad_passed LISTEN_FDS KIND MESSAGE: given LISTEN_FDS and what sockpass
# -k KIND passes, with LISTEN_PID its own, the proxy refuses to start:
# exit 1 and MESSAGE.
bad_passed() {
	LISTEN_FDS=$1 run_bad "$PROGS/sockpass" -k "$2" -l -- \
	    "$TCPPROXY" "${DEST[@]}"
	refused 1 "$3"
}

@test "bad input: LISTEN_FDS names a closed descriptor" {
	bad_passed 1 closed "descriptor 3 (LISTEN_FDS=1) is not open"
	# sockpass closes every descriptor from 3 up that it does not pass
	bad_passed 2 listen "descriptor 4 (LISTEN_FDS=2) is not open"
}

@test "bad input: a closed descriptor is 'not open' with stderr on a pipe too" {
	# A pipe on stderr is reopened by the log: never before the check.
	run bash -c 'LISTEN_FDS=1 "$1" -k closed -l -- "$2" 127.0.0.1 9 \
	    2>&1 </dev/null | cat; exit "${PIPESTATUS[0]}"' _ \
	    "$PROGS/sockpass" "$TCPPROXY"
	assert_failure 1
	assert_output "tcpproxy: descriptor 3 (LISTEN_FDS=1) is not open"
}

@test "bad input: a file, a UDP socket, a socket not listening nor connected" {
	bad_passed 1 file "descriptor 3 (LISTEN_FDS=1) is not a socket"
	bad_passed 1 udp \
	    "descriptor 3 (LISTEN_FDS=1) is a datagram (UDP) socket, not a stream (TCP) socket"
	bad_passed 1 unixdgram \
	    "descriptor 3 (LISTEN_FDS=1) is a unix datagram socket, not a stream socket"
	bad_passed 1 tcp \
	    "descriptor 3 (LISTEN_FDS=1) is neither listening nor connected"
}

@test "bad input: LISTEN_PID of another process, or none" {
	LISTEN_FDS=1 run_bad "$PROGS/sockpass" -k listen -L "$$" -- \
	    "$TCPPROXY" "${DEST[@]}"
	refused 1 "LISTEN_PID=$$ is another process (this is $BAD_PID): the sockets were not passed to us"
	LISTEN_FDS=1 run_bad "$PROGS/sockpass" -k listen -- \
	    "$TCPPROXY" "${DEST[@]}"
	refused 1 "LISTEN_FDS is set but LISTEN_PID is not"
}

@test "bad input: LISTEN_FDS not a number, or 0" {
	bad_passed abc listen "LISTEN_FDS='abc' is not a number"
	bad_passed 0 closed "LISTEN_FDS=0: no socket was passed"
}

@test "bad input: a listen port that contradicts the socket passed" {
	local pf=$BATS_TEST_TMPDIR/bad.port port
	LISTEN_FDS=1 run_bad "$PROGS/sockpass" -k listen -l -w "$pf" -- \
	    "$TCPPROXY" "${DEST[@]}" 1
	port=$(<"$pf")
	refused 1 "listen port 1 contradicts the socket passed by systemd (127.0.0.1:$port); leave the port out or make them agree"
	# inetd: beside a listen port, only --inetd makes stdin count
	rm -f "$pf"
	run_bad "$PROGS/sockpass" -k listen -d 0 -w "$pf" -- \
	    "$TCPPROXY" --inetd "${DEST[@]}" 2
	port=$(<"$pf")
	refused 1 "listen port 2 contradicts the socket passed by inetd (127.0.0.1:$port); leave the port out or make them agree"
}

@test "bad input: -l with a passed socket" {
	LISTEN_FDS=1 run_bad "$PROGS/sockpass" -k listen -l -- \
	    "$TCPPROXY" -l 127.0.0.1 "${DEST[@]}"
	refused 1 "--listen-address does not apply: the socket came from systemd"
}

@test "bad input: --systemd without LISTEN_FDS, --inetd without a socket" {
	run_bad "$TCPPROXY" --systemd "${DEST[@]}"
	refused 1 "--systemd: LISTEN_FDS is not set; no socket was passed"
	run_bad "$TCPPROXY" --inetd "${DEST[@]}"
	refused 1 "standard input (inetd mode) is not a socket"
}

@test "bad input: no listen-port and nothing passed; two mode flags" {
	run_bad "$TCPPROXY" "${DEST[@]}"
	refused 2 "missing listen-port, and no socket was passed by systemd or inetd"
	run_bad "$TCPPROXY" --systemd --inetd "${DEST[@]}"
	refused 2 "--systemd and --inetd cannot be used together"
	run_bad "$TCPPROXY" --standalone --inetd "${DEST[@]}" 8080
	refused 2 "--standalone and --inetd cannot be used together"
}
