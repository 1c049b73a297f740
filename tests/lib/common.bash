# Shared helpers for the bats files: ephemeral ports, peers, the proxy,
# polling waits, and a teardown that proves nothing was left behind.
#
# A test that uses start_proxy gets, via common_teardown: its own processes
# and connections ended, the proxy master (and a second one, OTHER_PID)
# SIGTERMed and expected to exit 0, no zombie and no process of the
# master's session left, and the logs printed when anything failed.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

TESTS_DIR=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)
TCPPROXY=${TCPPROXY:-$TESTS_DIR/../src/tcpproxy}
PROGS=$TESTS_DIR/progs
if [ ! -x "$PROGS/freeport" ] || [ ! -x "$PROGS/echod" ]; then
	echo "tests/progs are not built: run 'make progs' first" >&2
	return 1
fi
if [ ! -x "$TCPPROXY" ]; then
	echo "no proxy binary at '$TCPPROXY': run 'make' or set TCPPROXY" >&2
	return 1
fi

TEST_PIDS=()	# background processes this test started (not the proxy)
HELD_FDS=()	# connections the test shell holds open (open_conn)
PROXY_PID=
PROXY_STATUS=	# exit status once the master has been waited for
OTHER_PID=	# a second master (tests of two instances), which teardown
OTHER_LOG=	# ends like the first; its log
EXTRA_LOGS=()	# more files to show when a test fails
NS=		# the test's own network namespace (new_netns)
SYSLOG_PID=	# the test's own syslog daemon (start_syslog)

# sanitizer_build: the proxy under test is an AddressSanitizer or UBSan
# build (tcpproxy-asan, tcpproxy-ubsan; TCPPROXY_BIN when TCPPROXY is the
# copy-path wrapper).
sanitizer_build() {
	case $(readlink -f "${TCPPROXY_BIN:-$TCPPROXY}") in
	*-asan | *-ubsan) return 0 ;;
	esac
	return 1
}

# under_valgrind: the proxy runs under valgrind's memcheck (make valgrind,
# tests/lib/valgrind.sh): some 20-50 times slower, and ps(1) shows
# valgrind's command line instead of the process titles.  The few tests
# that time the proxy closely or read its titles skip themselves.
under_valgrind() { [ "${TCPPROXY##*/}" = valgrind.sh ]; }

# chroot_ok: before a test starts a proxy with --chroot.  LeakSanitizer
# reads /proc when the process exits, which a new root hides, and then
# fails the exit; in a sanitizer build such a proxy runs without the leak
# check (every other test keeps it).
chroot_ok() {
	if sanitizer_build; then
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	fi
}

DUR='duration=[0-9]+\.[0-9]{3}s'	# a pair line's duration field
SECS='[0-9]+\.[0-9]{3}'			# --status's age and idle

# wait_until [-t SECS] CMD...: run CMD every 50 ms until it succeeds; fail
# after SECS seconds (default 10).
wait_until() {
	local secs=10 end
	if [ "$1" = -t ]; then
		secs=$2
		shift 2
	fi
	end=$((${EPOCHREALTIME/./} + secs * 1000000))
	until "$@"; do
		if ((${EPOCHREALTIME/./} >= end)); then
			echo "wait_until: no success within ${secs}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# alive PID: PID exists and is not a zombie.
alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

gone() { ! alive "$1"; }

# free_port [-6]: a TCP port free on 127.0.0.1 (or ::1) right now.
free_port() { "$PROGS/freeport" "$@"; }

# port_listening PORT: something listens on PORT (any local address).
port_listening() {
	local hex
	printf -v hex '%04X' "$1"
	grep -q "^ *[0-9]*: [0-9A-F]*:$hex [0-9A-F]*:[0-9A-F]* 0A " \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# connect_ok PORT [HOST]: a TCP connect succeeds (the connection is closed
# at once).  Used to see whether anything still listens.
connect_ok() {
	(exec 9<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
}

# refuses PORT: nothing listens on 127.0.0.1:PORT any more.
refuses() { ! connect_ok "$1"; }

# spawn CMD...: run CMD in the background without bats' fd 3 or the
# connections this test holds, so that closing them really closes them.
spawn() {
	(
		local fd
		for fd in "${HELD_FDS[@]}"; do
			exec {fd}>&-
		done
		exec 3>&- "$@"
	) <&0 &	# an explicit stdin: "&" alone would give it /dev/null
}

# start_echod [ARGS...]: start progs/echod (see there: -6, -p, -m) and wait
# for it to print its port.  Sets SERVER_PID and SERVER_PORT.
start_echod() {
	local out=$BATS_TEST_TMPDIR/echod.${#TEST_PIDS[@]}
	spawn "$PROGS/echod" "$@" >"$out" </dev/null
	SERVER_PID=$!
	TEST_PIDS+=("$SERVER_PID")
	wait_until -t 5 grep -qx '[0-9][0-9]*' "$out"
	SERVER_PORT=$(head -n 1 "$out")
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

# start_nc_server PORT INFILE OUTFILE: OpenBSD nc listening once on
# 127.0.0.1:PORT; sends INFILE then shuts down writing (-N), stores what it
# receives in OUTFILE.  Sets NC_PID.
start_nc_server() {
	spawn nc -N -l 127.0.0.1 "$1" <"$2" >"$3"
	NC_PID=$!
	TEST_PIDS+=("$NC_PID")
	wait_until -t 5 port_listening "$1"
}

# start_proxy OPTIONS... DEST-HOST DEST-PORT: start the proxy on
# ${PROXY_ADDR:-127.0.0.1} and a free port, in a session of its own (so
# teardown can find anything it leaves behind), stderr to $PROXY_LOG; wait
# for its "listening on" line.  Retries with another port when that one
# was taken meanwhile.  Sets PROXY_PID, PROXY_PORT, PROXY_LOG.
start_proxy() {
	local addr=${PROXY_ADDR:-127.0.0.1} shown fam=''
	shown=$addr
	if [[ $addr == *:* ]]; then
		shown="[$addr]"
		fam=-6
	fi
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	for _ in 1 2 3 4 5; do
		PROXY_PORT=$(free_port $fam)
		spawn setsid "$TCPPROXY" -l "$addr" "$@" "$PROXY_PORT" \
		    2>"$PROXY_LOG" >"$BATS_TEST_TMPDIR/proxy.out" </dev/null
		PROXY_PID=$!
		PROXY_STATUS=
		wait_until -t 10 proxy_started || return 1
		if grep -qF "listening on $shown:$PROXY_PORT" "$PROXY_LOG"; then
			return 0
		fi
		alive "$PROXY_PID" && break	# listening elsewhere?
		wait_proxy_exit
		grep -q 'Address already in use' "$PROXY_LOG" || break
	done
	echo "start_proxy: no 'listening on $shown:$PROXY_PORT' line" >&2
	return 1
}

# new_netns NAME: a network namespace of this test's own, its loopback up,
# named in NS; common_teardown deletes it, with whatever still runs there.
# Skips where one cannot be made.
new_netns() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a network namespace"
	NS=tcpproxy-$1-$$-$RANDOM
	ip netns add "$NS" || { NS=; skip "cannot make a network namespace"; }
	in_ns ip link set lo up
}

# in_ns CMD...: CMD in the test's network namespace.
in_ns() { ip netns exec "$NS" "$@"; }

# start_syslog OUT: a syslog daemon of our own (progs/dgramrecv) on
# /dev/log, in a mount namespace with a private /dev (the machine's is
# left alone), writing what it receives to OUT.  A proxy logs to it when
# started with "nsenter -t $SYSLOG_PID -m --".  Skips where that cannot
# be done.
start_syslog() {
	unshare -m sh -c 'mount -t tmpfs tcpproxy-test /dev' 2>/dev/null ||
	    skip "no private mount namespace here (unshare -m, mount)"
	command -v nsenter >/dev/null || skip "nsenter is missing"
	spawn unshare -m sh -c 'mount -t tmpfs -o mode=0755 tcpproxy-test \
	    /dev && exec "$0" /dev/log' "$PROGS/dgramrecv" >"$1" </dev/null
	SYSLOG_PID=$!
	TEST_PIDS+=("$SYSLOG_PID")
	wait_until -t 5 test -S "/proc/$SYSLOG_PID/root/dev/log"
}

# start_sockpass SOCKPASS-OPTIONS... -- COMMAND...: tests/progs/sockpass
# in a session of its own, stderr to $PROXY_LOG; wait until its socket is
# bound (with -k conn, sockpass then waits for the client).  Sets
# PROXY_PID (sockpass: COMMAND itself once exec'd, its parent with -r)
# and SP_PORT.
start_sockpass() {
	local pf=$BATS_TEST_TMPDIR/sockpass.port
	rm -f "$pf"
	PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
	spawn setsid "$PROGS/sockpass" -w "$pf" "$@" 2>"$PROXY_LOG" \
	    >"$BATS_TEST_TMPDIR/proxy.out" </dev/null
	PROXY_PID=$!
	PROXY_STATUS=
	wait_until -t 10 sockpass_bound "$pf" || return 1
	[ -s "$pf" ] || {
		echo "start_sockpass: sockpass ended:" >&2
		cat "$PROXY_LOG" >&2
		return 1
	}
	SP_PORT=$(<"$pf")
}

sockpass_bound() { [ -s "$1" ] || gone "$PROXY_PID"; }

proxy_started() { grep -q 'listening on' "$PROXY_LOG" || gone "$PROXY_PID"; }

# proxy_children: how many processes the master has as direct children.
proxy_children() { pgrep -P "$PROXY_PID" | wc -l; }

# children_are N: the master has exactly N children, none of them a zombie.
children_are() { [ "$(proxy_children)" -eq "$1" ] && no_zombies; }

# child_for PORT: the pid of the child serving client port PORT, by its
# process title (by --status under valgrind, which hides titles).
child_for() {
	if under_valgrind; then
		"$TCPPROXY" --status="$PROXY_PID" 2>/dev/null | awk -v c="$1" \
		    '$3 == "127.0.0.1:" c { print $1; n++ } END { exit !n }'
		return
	fi
	pgrep -P "$PROXY_PID" -f "^tcpproxy: [a-z]+ 127\.0\.0\.1:$1( |\$)"
}

# session_empty SID: no process is left in session SID (a master's
# children keep its session when it is gone; zombies included).
session_empty() { ! pgrep -s "$1" >/dev/null; }

# session_cleared SECS SID WHOSE: within SECS seconds no process is left
# in session SID; else show what is (left behind by WHOSE), SIGKILL it
# and fail.
session_cleared() {
	wait_until -t "$1" session_empty "$2" && return 0
	echo "left behind by $3:" >&2
	ps -o pid,ppid,stat,args -s "$2" >&2 || true
	kill -KILL -- -"$2" 2>/dev/null || true
	return 1
}

# no_zombies [PID]: no child of PID (default the master) is a zombie.
no_zombies() { ! ps -o stat= --ppid "${1:-$PROXY_PID}" | grep -q '^Z'; }

# stop_proxy [SIGNAL]: signal the master (default TERM), wait up to 10 s for
# it to exit, set PROXY_STATUS.
stop_proxy() {
	kill -"${1:-TERM}" "$PROXY_PID" 2>/dev/null || true
	wait_proxy_exit
}

# wait_proxy_exit [SECS]: wait for the master to exit; set PROXY_STATUS.
wait_proxy_exit() {
	wait_exit "$PROXY_PID" "${1:-10}" || return 1
	PROXY_STATUS=$EXIT_STATUS
}

# wait_exit PID [SECS]: wait up to SECS (default 10) for PID, a child of
# this shell, to exit; set EXIT_STATUS.
wait_exit() {
	wait_until -t "${2:-10}" gone "$1" || return 1
	wait "$1" && EXIT_STATUS=0 || EXIT_STATUS=$?
}

# pair_lines: the proxy's per-pair log lines.
pair_lines() { grep -E 'tcpproxy\[[0-9]+\]: pair ' "$PROXY_LOG"; }

# pair_count_is N: exactly N pair lines have been logged.
pair_count_is() { [ "$(pair_lines | wc -l)" -eq "$1" ]; }

# log_count REGEX N: exactly N lines of the proxy's log match REGEX.
log_count() { [ "$(grep -cE -- "$1" "$PROXY_LOG")" -eq "$2" ]; }

# status_shows REGEX...: --status of this test's master has a line
# matching each REGEX.
status_shows() {
	local out re

	out=$("$TCPPROXY" --status="$PROXY_PID" 2>/dev/null) || return 1
	for re in "$@"; do
		grep -qE -- "$re" <<<"$out" || return 1
	done
}

# open_conn PORT [HOST]: connect from the test shell (bash /dev/tcp); the
# descriptor is left in CONN and closed by teardown if still open.
open_conn() {
	exec {CONN}<>"/dev/tcp/${2:-127.0.0.1}/$1" || return 1
	HELD_FDS+=("$CONN")
}

# conn_port FD: the local (client) port of a connection open_conn made.
# Sets CONN_PORT.
conn_port() { CONN_PORT=$("$PROGS/badpeer" sockport <&"$1"); }

# echo_conn PORT TEXT [HOST]: open_conn, then conn_echo TEXT through the
# connection.  Sets CONN and CONN_PORT (see conn_port).
echo_conn() {
	open_conn "$1" "${3:-127.0.0.1}" || return 1
	conn_echo "$CONN" "$2" || return 1
	conn_port "$CONN"
}

# echoed_pairs NAME...: an echo server, a proxy (-t 1 -s 2) in front of
# it, and for each NAME a connection through it that echoed "pair NAME":
# its descriptor in CONNS[NAME], its client port in PORTS[NAME].
echoed_pairs() {
	local name
	declare -gA CONNS=() PORTS=()
	start_echod
	start_proxy -t 1 -s 2 127.0.0.1 "$SERVER_PORT"
	for name in "$@"; do
		echo_conn "$PROXY_PORT" "pair $name" || return 1
		CONNS[$name]=$CONN
		PORTS[$name]=$CONN_PORT
	done
}

# close_all_conns: close every connection open_conn made, in one pass.
close_all_conns() {
	local fd
	for fd in "${HELD_FDS[@]}"; do
		exec {fd}>&- || true
	done
	HELD_FDS=()
}

# close_conn FD: close a connection made by open_conn.
close_conn() {
	local fd=$1 i
	exec {fd}>&-
	for i in "${!HELD_FDS[@]}"; do
		[ "${HELD_FDS[$i]}" != "$1" ] || unset 'HELD_FDS[i]'
	done
}

# conn_send FD TEXT: send TEXT and a newline (a broken connection fails the
# call instead of killing the test shell with SIGPIPE).
conn_send() { (trap '' PIPE && printf '%s\n' "$2" >&"$1") 2>/dev/null; }

# conn_echo FD TEXT: send a line, expect it back within 5 s.
conn_echo() {
	local line
	conn_send "$1" "$2" || return 1
	read -r -t 5 -u "$1" line || return 1
	[ "$line" = "$2" ] || {
		echo "conn_echo: sent '$2', got '$line'" >&2
		return 1
	}
}

# conn_closed FD [SECS]: the peer ends the connection (EOF or reset)
# within SECS (default 5) seconds and sends nothing before that.
conn_closed() {
	local line rc=0
	read -r -t "${2:-5}" -u "$1" line 2>/dev/null || rc=$?
	[ "$rc" -eq 1 ] && [ -z "$line" ]
}

# proxy_ticks: CPU in clock ticks of the whole proxy: the master, its live
# children, and (through the master's cutime and cstime) every child it
# has reaped, so a child that exits while it is measured still counts.
proxy_ticks() {
	local pid stat f sum
	read -r stat <"/proc/$PROXY_PID/stat" || return 1
	stat=${stat##*) }
	read -r -a f <<<"$stat"
	sum=$((f[11] + f[12] + f[13] + f[14]))
	for pid in $(pgrep -P "$PROXY_PID"); do
		read -r stat 2>/dev/null <"/proc/$pid/stat" || continue
		stat=${stat##*) }
		read -r -a f <<<"$stat"
		sum=$((sum + f[11] + f[12]))
	done
	echo "$sum"
}

# end_master PID STATUS LOG: the teardown of one proxy master.  Unless the
# test has waited for it (STATUS is its exit status then), it must have no
# zombie child and exit 0 within 10 s of a SIGTERM.  Then no process may
# be left in its session, and LOG no sanitizer report: a sanitizer build
# reports to stderr from any process, children too, whose exit status no
# test sees.  Says on stderr what is wrong, SIGKILLs what is left.
end_master() {
	local pid=$1 rc=0

	if [ -z "$2" ]; then
		if ! wait_until -t 5 no_zombies "$pid"; then
			echo "teardown: zombie children:" >&2
			ps -o pid,stat,args --ppid "$pid" >&2 || true
			rc=1
		fi
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_exit "$pid"; then
			echo "teardown: master $pid ignored SIGTERM" >&2
			kill -KILL -- -"$pid" 2>/dev/null || true
			rc=1
		elif [ "$EXIT_STATUS" -ne 0 ]; then
			echo "teardown: master $pid exited $EXIT_STATUS" >&2
			rc=1
		fi
	fi
	session_cleared 2 "$pid" "master $pid" || rc=1
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$3"; then
		echo "teardown: sanitizer report in $3" >&2
		rc=1
	fi
	return "$rc"
}

# common_teardown: end what the test started, stop the proxy (and the
# second master, if any) as end_master says; print their logs and
# EXTRA_LOGS on any failure.
common_teardown() {
	local rc=0 pid f

	close_all_conns
	for pid in "${TEST_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${TEST_PIDS[@]}"; do
		wait_until -t 5 gone "$pid" || rc=1
	done
	if [ -n "$PROXY_PID" ]; then
		end_master "$PROXY_PID" "$PROXY_STATUS" "$PROXY_LOG" || rc=1
	fi
	if [ -n "$OTHER_PID" ]; then
		end_master "$OTHER_PID" '' "$OTHER_LOG" || rc=1
	fi
	if [ -n "$NS" ]; then
		ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$NS" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] || [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		for f in ${PROXY_PID:+"$PROXY_LOG"} ${OTHER_PID:+"$OTHER_LOG"} \
		    "${EXTRA_LOGS[@]}"; do
			echo "--- $f ---" >&2
			cat "$f" >&2 || true
		done
	fi
	return "$rc"
}

teardown() { common_teardown; }

# cli ARGS...: run the proxy with ARGS (bounded, in case it wrongly starts),
# stderr apart in $stderr / $stderr_lines.  Standard input is /dev/null:
# a socket there would select inetd mode.
cli() {
	run --separate-stderr timeout -k 2 10 "$TCPPROXY" "$@" </dev/null
}

# usage_error MESSAGE: exit 2, MESSAGE then the hint on stderr, no stdout.
usage_error() {
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "tcpproxy: $1"
	assert_equal "${stderr_lines[1]}" \
	    "Try 'tcpproxy --help' for more information."
	assert_equal "${#stderr_lines[@]}" 2
	assert_output ''
}
