#!/usr/bin/env bats
# Goal: --user and --group drop root for good once the listening sockets,
# the log and the scoreboard are open: master and children run with the
# given uid and gid in all four fields, no other group and no capability,
# so root cannot be had back; clients, reloads and --status (by root)
# work as before.  Bad names get one line and exit 1; a standalone pool
# started as root without --user says so once.  --chroot puts master and
# children in another root first, where a reload resolves the
# destination with that root's /etc/hosts; a bad directory is one line.

load lib/common

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to drop privileges"
	NOBODY_UID=$(id -u nobody)
	NOBODY_GID=$(id -g nobody)
}

# runs_as PID UID GID: PID's real, effective, saved and filesystem ids are
# UID and GID, its only group GID, and it has no capability left.
runs_as() {
	local f=/proc/$1/status
	grep -qx "Uid:	$2	$2	$2	$2" "$f" &&
	    grep -qx "Gid:	$3	$3	$3	$3" "$f" &&
	    grep -qxE "Groups:	($3 ?)?" "$f" &&
	    grep -qx 'CapPrm:	0000000000000000' "$f" &&
	    grep -qx 'CapEff:	0000000000000000' "$f"
}

@test "--user nobody: master and children as nobody for good; served, reloaded" {
	local pid
	start_echod
	start_proxy -s 2 --user nobody 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
	runs_as "$PROXY_PID" "$NOBODY_UID" "$NOBODY_GID"
	for pid in $(pgrep -P "$PROXY_PID"); do
		runs_as "$pid" "$NOBODY_UID" "$NOBODY_GID"
	done
	echo_conn "$PROXY_PORT" "as nobody"
	run "$TCPPROXY" --status="$PROXY_PID"
	assert_success
	assert_line --index 1 --regexp "^[0-9]+ relaying 127\.0\.0\.1:$CONN_PORT "
	kill -HUP "$PROXY_PID"
	wait_until -t 5 grep -q ': reload: 127.0.0.1 unchanged$' "$PROXY_LOG"
	run grep -c 'running as root' "$PROXY_LOG"
	assert_output 0
}

@test "--group alone changes only the group" {
	start_echod
	start_proxy -s 2 --group nogroup 127.0.0.1 "$SERVER_PORT"
	grep -qx "Uid:	0	0	0	0" "/proc/$PROXY_PID/status"
	grep -qx "Gid:	$NOBODY_GID	$NOBODY_GID	$NOBODY_GID	$NOBODY_GID" \
	    "/proc/$PROXY_PID/status"
	echo_conn "$PROXY_PORT" "grouped"
}

@test "a standalone pool started as root without --user warns once" {
	start_echod
	start_proxy -s 2 127.0.0.1 "$SERVER_PORT"
	run grep -c ': running as root: --user would drop root once the listening sockets are open$' "$PROXY_LOG"
	assert_output 1
}

@test "an unknown user or group: one line, exit 1, nothing started" {
	local port
	port=$(free_port)
	run --separate-stderr "$TCPPROXY" -l 127.0.0.1 --user no-such-user-x 127.0.0.1 9 "$port"
	assert_failure 1
	assert_equal "$stderr" "tcpproxy: --user: no user 'no-such-user-x'"
	run --separate-stderr "$TCPPROXY" -l 127.0.0.1 --group no-such-group-x 127.0.0.1 9 "$port"
	assert_failure 1
	assert_equal "$stderr" "tcpproxy: --group: no group 'no-such-group-x'"
	refuses "$port"
}

# ---- the sandbox of a child, idle and relaying ----

# sandboxable: this binary locks its children down (sanitizer builds do
# not: their runtime makes system calls of its own).
sandboxable() { ! sanitizer_build; }

# relay_one OPTIONS...: a proxy started with OPTIONS, and one pair through
# it, left open in CONN; RELAY_PID is the child relaying it.
relay_one() {
	start_echod
	start_proxy -s 2 "$@" 127.0.0.1 "$SERVER_PORT"
	echo_conn "$PROXY_PORT" "locked?"
	RELAY_PID=$(child_for "$CONN_PORT")
}

# status_of PID FIELD: FIELD of /proc/PID/status.
status_of() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

@test "a relaying child is sandboxed: Seccomp 2, NoNewPrivs 1, both data paths" {
	sandboxable || skip "a sanitizer build has no sandbox"
	relay_one
	assert_equal "$(status_of "$RELAY_PID" Seccomp)" 2
	assert_equal "$(status_of "$RELAY_PID" NoNewPrivs)" 1
	conn_echo "$CONN" "still relaying"
	close_conn "$CONN"
	stop_proxy
	relay_one --no-splice
	assert_equal "$(status_of "$RELAY_PID" Seccomp)" 2
	conn_echo "$CONN" "copied, not spliced"
}

@test "an idle child is sandboxed before accept(): one filter, two once relaying; the master none" {
	local pid
	sandboxable || skip "a sanitizer build has no sandbox"
	relay_one
	[ -n "$(status_of "$RELAY_PID" Seccomp_filters)" ] ||
	    skip "this kernel does not count filters in /proc/PID/status"
	assert_equal "$(status_of "$RELAY_PID" Seccomp_filters)" 2
	wait_until -t 5 children_are 3
	for pid in $(pgrep -P "$PROXY_PID"); do
		[ "$pid" = "$RELAY_PID" ] && continue
		assert_equal "$(status_of "$pid" Seccomp)" 2
		assert_equal "$(status_of "$pid" NoNewPrivs)" 1
		assert_equal "$(status_of "$pid" Seccomp_filters)" 1
	done
	assert_equal "$(status_of "$PROXY_PID" Seccomp)" 0
	# the idle ones still take clients and connect
	conn_echo "$CONN" "first"
	echo_conn "$PROXY_PORT" "second"
}

@test "--no-sandbox: no child is filtered" {
	local pid
	relay_one --no-sandbox
	assert_equal "$(status_of "$RELAY_PID" Seccomp)" 0
	conn_echo "$CONN" "unfiltered"
	for pid in $(pgrep -P "$PROXY_PID"); do
		assert_equal "$(status_of "$pid" Seccomp)" 0
	done
}

@test "--chroot with --user: master and children rooted there; served; reload reads its /etc/hosts" {
	local root=$BATS_TEST_TMPDIR/root pid
	chroot_ok
	mkdir -p "$root/etc"
	start_echod
	# the name is resolved at start with this system's /etc/hosts
	start_proxy -s 2 --chroot "$root" --user nobody localhost "$SERVER_PORT"
	wait_until -t 5 children_are 2
	assert_equal "$(readlink "/proc/$PROXY_PID/root")" "$root"
	runs_as "$PROXY_PID" "$NOBODY_UID" "$NOBODY_GID"
	for pid in $(pgrep -P "$PROXY_PID"); do
		assert_equal "$(readlink "/proc/$pid/root")" "$root"
	done
	echo_conn "$PROXY_PORT" "chrooted"
	# and on SIGHUP, with the new root's
	printf '127.0.0.7 localhost\n' >"$root/etc/hosts"
	kill -HUP "$PROXY_PID"
	wait_until -t 10 grep -q ": reload: localhost now resolves to 127\.0\.0\.7:$SERVER_PORT$" "$PROXY_LOG"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" </dev/null
	wait_until -t 5 grep -qE "pair client=127\.0\.0\.1:[0-9]+ upstream=127\.0\.0\.7:$SERVER_PORT .* reason=refused" "$PROXY_LOG"
}

@test "--chroot: a missing directory is one line, exit 1; a relative one is a usage error" {
	local port
	port=$(free_port)
	run --separate-stderr "$TCPPROXY" -l 127.0.0.1 --chroot "$BATS_TEST_TMPDIR/none" 127.0.0.1 9 "$port"
	assert_equal "$status" 1
	assert_equal "$stderr" "tcpproxy: cannot change the root to '$BATS_TEST_TMPDIR/none': No such file or directory"
	run --separate-stderr "$TCPPROXY" -l 127.0.0.1 --chroot "rel/dir" 127.0.0.1 9 "$port"
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "tcpproxy: --chroot: 'rel/dir' is not an absolute path"
}
