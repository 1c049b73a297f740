# tests/bench/lib.sh: helpers for run.sh (sourced, not run).
#
# Owns the bookkeeping of what the benchmark starts: every long-lived
# process (candidate, echo server, iperf3 server) runs in a session of its
# own, recorded in $WORK/sessions as "PID STARTTIME NAME"; short-lived
# tools run in the background and are waited for, so that a trapped signal
# interrupts the wait at once.  Nothing is ever killed by name: only by a
# recorded pid, or by session id checked against the start time.
#
# Needs: WORK, BUILD (tools), PROCSTAT.  Sets: LAUNCHED, TOOL_PID.

TOOL_PID=	# the foreground tool being waited for
HOLD_PIDS=()	# loadgen hold processes still open
ERRORS=()	# real problems, listed in the report
NEXT_PORT=

say() {
	printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2
}

die() {
	printf 'tests/bench/run.sh: %s\n' "$*" >&2
	exit 1
}

# error MSG: a problem worth showing in the report; the run goes on.
error() {
	ERRORS+=("$*")
	say "ERROR: $*"
}

# sample PHASE METRIC CANDIDATE REP VALUE: one raw measurement.
sample() {
	[ -n "$5" ] || return 0	# a tool that failed is an error already
	printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$WORK/samples.tsv"
}

# meta SECTION KEY VALUE: a fact about the run (machine, versions, ...).
meta() {
	printf '%s\t%s\t%s\n' "$1" "$2" "${3//$'\t'/ }" >>"$WORK/meta.tsv"
}

# kv LINE KEY: print the value of KEY=VALUE in LINE; fail if absent.
kv() {
	local w
	for w in $1; do
		if [ "${w%%=*}" = "$2" ]; then
			printf '%s\n' "${w#*=}"
			return 0
		fi
	done
	return 1
}

# kvn LINE KEY: the integer value of KEY in LINE, 0 if absent or not an
# integer (for arithmetic; callers check that LINE is there at all).
kvn() {
	local v
	v=$(kv "$1" "$2") || v=0
	[[ $v =~ ^-?[0-9]+$ ]] || v=0
	echo "$v"
}

# calc EXPR: evaluate a floating-point expression (awk syntax).
calc() {
	awk "BEGIN { x = $1; printf \"%.6g\\n\", x }"
}

now_ms() {
	local t=$EPOCHREALTIME
	echo $(( ${t/./} / 1000 ))
}

# pause SECS: sleep, but let a trapped signal in at once.
pause() {
	sleep "$1" 9>&- &
	TOOL_PID=$!
	wait "$TOOL_PID"
	TOOL_PID=
}

# run_tool OUT CMD...: run CMD with stdout to OUT and stderr to the tools
# log, wait for it, return its status.
run_tool() {
	local out=$1 rc
	shift
	"$@" <"/dev/null" >"$out" 2>>"$WORK/tools.log" 9>&- &
	TOOL_PID=$!
	wait "$TOOL_PID"
	rc=$?
	TOOL_PID=
	return "$rc"
}

# alive PID: the process exists and is not a zombie.
alive() {
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# session_of PID: the session id of PID.
session_of() {
	local st f
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	read -r -a f <<<"$st"
	echo "${f[3]}"
}

# launch NAME LOG CMD...: start CMD in a new session (setsid), with
# stdin from /dev/null and output to LOG, and record it.  Sets LAUNCHED.
launch() {
	local name=$1 log=$2 pid start sid i
	shift 2
	setsid "$@" </dev/null >"$log" 2>&1 9>&- &
	pid=$!
	disown "$pid"
	start=$("$PROCSTAT" start "$pid") || start=0
	printf '%s %s %s\n' "$pid" "$start" "$name" >>"$WORK/sessions"
	LAUNCHED=$pid
	# setsid(1) forks when it is a group leader: then we would have lost
	# track of the process.  In a script it never is; check anyway.
	for ((i = 0; i < 100; i++)); do
		sid=$(session_of "$pid") || break
		[ "$sid" = "$pid" ] && return 0
		sleep 0.01
	done
	alive "$pid" || return 0	# died at once: the caller sees it
	die "$name: not in a session of its own (sid $sid, pid $pid)"
}

# session_procs SID: how many live (non-zombie) processes SID has.
session_procs() {
	local line
	line=$("$PROCSTAT" stat "$1") || return 1
	echo $(( $(kvn "$line" procs) - $(kvn "$line" zombies) ))
}

# stop_session PID START: SIGTERM every process of the session, then
# SIGKILL what is left after a grace period; wait until it is empty.
stop_session() {
	local pid=$1 start=$2 sig i n
	for sig in 15 9; do
		for ((i = 0; i < 50; i++)); do
			n=$("$PROCSTAT" kill 0 "$pid" "$start") || n=0
			[ "$n" -eq 0 ] && return 0
			((i % 10 == 0)) &&
			    "$PROCSTAT" kill "$sig" "$pid" "$start" >/dev/null
			sleep 0.1
		done
	done
	echo "tests/bench/run.sh: session $pid did not go away" >&2
	return 1
}

# stop LAUNCHED_PID: stop one session recorded by launch, forget it.
stop() {
	local pid start name rest
	[ -n "$1" ] || return 0
	[ -f "$WORK/sessions" ] || return 0
	while read -r pid start name; do
		[ "$pid" = "$1" ] && stop_session "$pid" "$start"
	done <"$WORK/sessions"
	rest=$(awk -v p="$1" '$1 != p' "$WORK/sessions")
	if [ -n "$rest" ]; then
		printf '%s\n' "$rest" >"$WORK/sessions"
	else
		: >"$WORK/sessions"
	fi
}

# stop_all DIR: stop every session recorded in DIR/sessions (also used on
# a dead run's directory).
stop_all() {
	local pid start name
	[ -f "$1/sessions" ] || return 0
	while read -r pid start name; do
		[ -n "$pid" ] && stop_session "$pid" "$start"
	done <"$1/sessions"
	: >"$1/sessions"
}

# port_in_use PORT: some TCP socket (any state) has PORT as local port.
port_in_use() {
	local hex
	printf -v hex '%04X' "$1"
	grep -q "^ *[0-9]*: [0-9A-F]*:$hex " /proc/net/tcp /proc/net/tcp6 \
	    2>/dev/null
}

# next_port: a free loopback port for a listener.  Ports are taken from
# 61000-65535 (or 30000-32767) minus the kernel's ephemeral range, so no
# outgoing connection of the run can have taken it, and never from
# 20000-29999, which another job on shared machines uses.
next_port() {
	local lo hi p
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	if [ -z "$NEXT_PORT" ]; then
		if ((hi < 61000)); then
			NEXT_PORT=61000
		else
			NEXT_PORT=30000
		fi
	fi
	for ((p = NEXT_PORT; p <= 65535; p++)); do
		((p >= lo && p <= hi)) && continue
		((p >= 20000 && p <= 29999)) && continue
		port_in_use "$p" && continue
		NEXT_PORT=$((p + 1))
		echo "$p"
		return 0
	done
	return 1
}

# wait_listen PORT PID SECS: PORT shows as LISTEN while PID lives.
wait_listen() {
	local hex end
	printf -v hex '%04X' "$1"
	end=$(( $(now_ms) + $3 * 1000 ))
	while ! grep -q "^ *[0-9]*: 0100007F:$hex [0-9A-F]*:[0-9A-F]* 0A " \
	    /proc/net/tcp; do
		alive "$2" || return 1
		(( $(now_ms) < end )) || return 1
		sleep 0.02
	done
}

# hold_start OUT PORT COUNT CONC TIMEOUT: open COUNT verified connections
# in the background; sets HOLD_PID.  hold_ready OUT SECS waits for them.
hold_start() {
	local out=$1
	shift
	"$BUILD/loadgen" hold "$@" <"/dev/null" >"$out" \
	    2>>"$WORK/tools.log" 9>&- &
	HOLD_PID=$!
	HOLD_PIDS+=("$HOLD_PID")
}

hold_ready() {
	local end=$(( $(now_ms) + $2 * 1000 ))
	until grep -q '^ready ' "$1" 2>/dev/null; do
		alive "$HOLD_PID" || return 1
		(( $(now_ms) < end )) || return 1
		sleep 0.05
	done
}

# hold_release PID OUT: let the holder check and close its connections;
# sets HOLD_DONE to its "done" line.
hold_release() {
	local i keep=()
	kill -USR1 "$1" 2>/dev/null
	TOOL_PID=$1
	wait "$1"
	TOOL_PID=
	for i in "${HOLD_PIDS[@]}"; do
		[ "$i" != "$1" ] && keep+=("$i")
	done
	HOLD_PIDS=("${keep[@]}")
	HOLD_DONE=$(grep '^done ' "$2")
}

# kill_tools: end the foreground tool and any holder (by pid).
kill_tools() {
	local p
	for p in $TOOL_PID "${HOLD_PIDS[@]}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	done
	for p in $TOOL_PID "${HOLD_PIDS[@]}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null
	done
	TOOL_PID=
	HOLD_PIDS=()
}
