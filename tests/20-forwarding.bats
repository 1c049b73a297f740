#!/usr/bin/env bats
# Goal: the forwarding rules hold, as tests/progs/tester (the checks of
# the classic TCP proxy assignment) drives them against the real binary,
# one phase per test: echo through one connection, chains of 2 and 20
# connections, 2 MB both ways through 20, the same beside a pair that
# never drains (which must then be aborted on time while the 20 carry on
# undisturbed), half-close, a server that closes at once, an active client
# with idle gaps longer than the stall timeout, and the abort of a pair
# whose client or server never reads.
#
# tests/progs/tester plays both the client and the server, starts the proxy
# itself ("$TCPPROXY" OPTIONS 127.0.0.1 SERVERPORT PROXYPORT) in a process
# group of its own, and ends it with SIGTERM: every phase also checks that
# the proxy exits 0 and leaves no zombie or orphan behind.  The tester
# kills that group itself on failure, interruption or its own watchdog, so
# there are no pids for a teardown to track here.  --stall tells the
# tester which -t the proxy was given; one lazy phase keeps the default 10 s.
# Moves data: make check runs it on both data paths.
# bats file_tags=data

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

# Outer bound, only for a tester that hangs despite its own watchdog
# (120 s plus twice the stall timeout); SIGTERM lets it kill its proxy.
TESTER_LIMIT=200

setup() {
	TESTER="$BATS_TEST_DIRNAME/progs/tester"
	[ -n "$TCPPROXY" ] || fail "TCPPROXY is not set (run 'make check')"
	[ -x "$TCPPROXY" ] || fail "no proxy binary at '$TCPPROXY'"
	[ -x "$TESTER" ] || fail "tester not built: run 'make progs'"
}

# run_phase STALL PHASE [PROXY OPTIONS...]
run_phase() {
	local stall=$1 phase=$2
	shift 2
	run timeout -k 10 "$TESTER_LIMIT" "$TESTER" --stall "$stall" \
	    "$phase" -- "$TCPPROXY" -l 127.0.0.1 "$@"
}

@test "tester: single echo connection" {
	run_phase 1 single -t 1
	assert_success
	assert_output --partial "PASS: phase single"
}

@test "tester: chain of two connections" {
	run_phase 1 two -t 1
	assert_success
	assert_output --partial "PASS: phase two"
}

@test "tester: chain of twenty connections" {
	run_phase 1 twenty -t 1
	assert_success
	assert_output --partial "PASS: phase twenty"
}

@test "tester: 2 MB both ways through twenty connections" {
	run_phase 1 bulk -t 1
	assert_success
	assert_output --partial "PASS: phase bulk"
}

@test "tester: bulk beside a pair that never drains, then its abort" {
	run_phase 1 mix -t 1
	assert_success
	assert_output --partial "PASS: phase mix"
}

@test "tester: one-way shutdown keeps the other direction" {
	run_phase 1 halfclose -t 1
	assert_success
	assert_output --partial "PASS: phase halfclose"
}

@test "tester: server closing at once closes the client" {
	run_phase 1 earlyclose -t 1
	assert_success
	assert_output --partial "PASS: phase earlyclose"
}

@test "tester: active client with idle gaps is not timed out" {
	run_phase 1 active -t 1
	assert_success
	assert_output --partial "PASS: phase active"
}

@test "tester: client that never reads is aborted after the stall time" {
	run_phase 1 lazy-client -t 1
	assert_success
	assert_output --partial "PASS: phase lazy-client"
}

@test "tester: server that never reads is aborted after the default 10 s" {
	# No -t: the real default, so one test covers it.
	run_phase 10 lazy-server
	assert_success
	assert_output --partial "PASS: phase lazy-server"
}
