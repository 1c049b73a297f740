#!/bin/bash
# tests/bench/run.sh: tcpproxy side by side with other TCP proxies, on
# loopback.  See tests/bench/README.md for what is measured and how.
#
# Usage: tests/bench/run.sh [options] [CANDIDATE...]
#   CANDIDATE  direct tcpproxy tcpproxy-reuse haproxy socat socket-proxyd
#              (default: all; direct is always added, the others are
#              measured against it)
#   --quick          about two minutes: 2 reps of 1 s, 5000 round trips,
#                    memory once, real workloads once, no scale test
#   --reps N         reps of every interleaved metric
#   --secs N         seconds per throughput and connection-rate sample
#   --pairs N        idle pairs for the memory test (default 1000)
#   --scale-pairs N  pairs for tcpproxy's scale test (default 10000)
#   --no-scale       skip the scale test
#   --json FILE      raw samples (default tests/bench/results/results-*.json)
#   --svg FILE       the chart (default tests/bench/chart.svg)
#   --keep           keep the temp dir (instance logs, configs, samples)
#   --only LIST      run only these phases (comma-separated): fork, thr
#                    (throughput and cpu), echo (conn/s and latency), real
#                    (redis-benchmark, ab, curl through nginx), mem, idle,
#                    scale
#
# Prints the Markdown report on stdout, progress on stderr.  A bad number
# never fails the run; a candidate that cannot start or forward is an
# error in the report; exit status 1 only for a broken set-up.
#
# Owns: the lock /tmp/tcpproxy-bench.lock, one temp dir
# /tmp/tcpproxy-bench.XXXXXX (removed at exit), tests/bench/build/,
# tests/bench/results/ and tests/bench/chart.svg.  Everything it starts is
# ended at exit, on INT/TERM/HUP too, by recorded pid or session, never by
# name.

set -u
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
BUILD=$BENCH_DIR/build
PROCSTAT=$BUILD/procstat
LOCK=/tmp/tcpproxy-bench.lock
PROXYD=/lib/systemd/systemd-socket-proxyd
ALL_CANDS=(direct tcpproxy tcpproxy-reuse haproxy socat socket-proxyd)
TP_SPARE=8		# tcpproxy -s, passed explicitly so the scale test
			# knows the level the pool must return to
PROXYD_MAX=16384	# socket-proxyd --connections-max (default 256)
CONC=32			# connections in flight for conn/s
IDLE_PAIRS=20		# open pairs during the idle-cost window
KEEP=0
ONLY=fork,thr,echo,real,mem,idle,scale
COMMAND="tests/bench/run.sh${*:+ $*}"

. "$BENCH_DIR/lib.sh"

usage() {
	awk '/^# Usage:/, /^#$/' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit "${1:-2}"
}

parse_args() {
	local quick=0 reps='' secs='' pairs='' scale='' json='' svg='' c known
	CANDS=()
	while [ $# -gt 0 ]; do
		case $1 in
		--quick) quick=1 ;;
		--reps) reps=${2:-}; shift ;;
		--secs) secs=${2:-}; shift ;;
		--pairs) pairs=${2:-}; shift ;;
		--scale-pairs) scale=${2:-}; shift ;;
		--no-scale) scale=0 ;;
		--json) json=${2:-}; shift ;;
		--svg) svg=${2:-}; shift ;;
		--keep) KEEP=1 ;;
		--only) ONLY=${2:-}; shift ;;
		-h|--help) usage 0 ;;
		-*) echo "run.sh: unknown option '$1'" >&2; usage ;;
		*)
			known=0
			for c in "${ALL_CANDS[@]}"; do
				[ "$1" = "$c" ] && known=1
			done
			if [ "$known" != 1 ]; then
				echo "run.sh: unknown candidate '$1'" >&2
				usage
			fi
			CANDS+=("$1")
			;;
		esac
		shift
	done
	if [ "$quick" = 1 ]; then
		PROFILE=quick REPS=2 SECS=1 LAT_WARM=500 LAT_N=5000
		MEM_REPS=1 IDLE_SECS=10 FORK_N=2000 SCALE_PAIRS=0
		REAL_REPS=1 REDIS_N=20000 REDIS_P16_N=100000 AB_N=2000
	else
		PROFILE=full REPS=5 SECS=5 LAT_WARM=2000 LAT_N=20000
		MEM_REPS=3 IDLE_SECS=10 FORK_N=5000 SCALE_PAIRS=10000
		REAL_REPS=3 REDIS_N=100000 REDIS_P16_N=400000 AB_N=10000
	fi
	CURL_BYTES=200000000	# the same file in both profiles
	PAIRS=1000
	[ -n "$reps" ] && REPS=$reps && MEM_REPS=$reps && REAL_REPS=$reps
	[ -n "$secs" ] && SECS=$secs
	[ -n "$pairs" ] && PAIRS=$pairs
	[ -n "$scale" ] && SCALE_PAIRS=$scale
	for c in REPS SECS PAIRS SCALE_PAIRS; do
		[[ ${!c} =~ ^[0-9]+$ ]] ||
		    { echo "run.sh: bad number '${!c}'" >&2; usage; }
	done
	((REPS >= 1 && SECS >= 1 && PAIRS >= 1)) || usage
	for c in ${ONLY//,/ }; do
		[[ " fork thr echo real mem idle scale " == *" $c "* ]] ||
		    { echo "run.sh: unknown phase '$c'" >&2; usage; }
	done
	[ ${#CANDS[@]} -eq 0 ] && CANDS=("${ALL_CANDS[@]}")
	dedupe_cands
	JSON=${json:-$BENCH_DIR/results/results-$(date -u +%Y%m%d-%H%M%S).json}
	SVG=${svg:-$BENCH_DIR/chart.svg}
}

# Keep the order given, drop repeats, put direct first.
dedupe_cands() {
	local c seen=" direct " list=(direct)
	for c in "${CANDS[@]}"; do
		[[ $seen == *" $c "* ]] && continue
		seen+="$c "
		list+=("$c")
	done
	CANDS=("${list[@]}")
	PROXIES=("${CANDS[@]:1}")
}

wanted() {
	[[ ,$ONLY, == *,"$1",* ]]
}

has_cand() {
	local c
	for c in "${CANDS[@]}"; do
		[ "$c" = "$1" ] && return 0
	done
	return 1
}

take_lock() {
	exec 9>>"$LOCK" || die "cannot open $LOCK"
	if ! flock -n 9; then
		say "another benchmark run holds $LOCK: waiting for it"
		flock 9 || die "cannot lock $LOCK"
	fi
}

# A run killed with SIGKILL leaves its temp dir and sessions behind; we
# hold the lock, so any such dir is stale: end what it recorded.
clean_stale() {
	local d
	for d in /tmp/tcpproxy-bench.??????; do
		if [ ! -O "$d" ] || [ "$d" = "$WORK" ] ||
		    [ ! -s "$d/sessions" ]; then
			continue
		fi
		say "cleaning up after an interrupted run: $d"
		stop_all "$d" && rm -rf "$d"
	done
}

CLEANED=0
cleanup() {
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	kill_tools
	[ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
	stop_all "$WORK" || return 0
	if [ "$KEEP" = 1 ]; then
		say "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}

on_signal() {
	trap '' INT TERM HUP
	say "interrupted by SIG$1: stopping everything this run started"
	cleanup
	trap - EXIT
	exit $((128 + $2))
}

missing_packages() {
	command -v cc >/dev/null 2>&1 || echo gcc
	command -v make >/dev/null 2>&1 || echo make
	command -v iperf3 >/dev/null 2>&1 || echo iperf3
	if has_cand haproxy && ! command -v haproxy >/dev/null 2>&1 &&
	    [ ! -x /usr/sbin/haproxy ]; then
		echo haproxy
	fi
	if has_cand socat && ! command -v socat >/dev/null 2>&1; then
		echo socat
	fi
	if has_cand socket-proxyd && { [ ! -x "$PROXYD" ] ||
	    ! command -v systemd-socket-activate >/dev/null 2>&1; }; then
		echo systemd
	fi
	wanted real || return 0
	command -v redis-server >/dev/null 2>&1 || echo redis-server
	command -v redis-benchmark >/dev/null 2>&1 &&
	    command -v redis-cli >/dev/null 2>&1 || echo redis-tools
	command -v ab >/dev/null 2>&1 || echo apache2-utils
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
	    echo nginx-light
	command -v curl >/dev/null 2>&1 || echo curl
}

apt_get() {
	local sudo=
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
		    die "not root and no sudo: install $* yourself"
		sudo=sudo
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q "$@" >&2
}

install_deps() {
	local need
	need=$(missing_packages | sort -u | tr '\n' ' ')
	[ -z "${need// /}" ] && return 0
	say "installing from Debian's packages: $need"
	command -v apt-get >/dev/null 2>&1 ||
	    die "no apt-get: install these packages yourself: $need"
	if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
		apt_get update || die "apt-get update failed"
	fi
	# shellcheck disable=SC2086
	if ! apt_get install -y $need; then
		apt_get update || die "apt-get update failed"
		apt_get install -y $need || die "apt-get install $need failed"
	fi
	need=$(missing_packages | tr '\n' ' ')
	[ -z "${need// /}" ] || die "still missing after install: $need"
}

build_tools() {
	local t
	mkdir -p "$BUILD" || die "cannot create $BUILD"
	for t in echosrv loadgen procstat; do
		[ -x "$BUILD/$t" ] && [ "$BUILD/$t" -nt "$BENCH_DIR/$t.c" ] &&
		    continue
		say "building $BUILD/$t"
		cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$BUILD/$t.tmp" \
		    "$BENCH_DIR/$t.c" || die "cannot build $t"
		mv "$BUILD/$t.tmp" "$BUILD/$t"
	done
}

# Bring src/tcpproxy up to date (make's output goes to stderr, so stdout
# stays the report), unless $TCPPROXY names another binary; then snapshot
# it, so that a rebuild during the run changes nothing.
find_tcpproxy() {
	local src=${TCPPROXY:-$REPO/src/tcpproxy}
	has_cand tcpproxy || has_cand tcpproxy-reuse || return 0
	if [ -z "${TCPPROXY:-}" ]; then
		make --no-print-directory -C "$REPO" src/tcpproxy >&2 ||
		    die "make src/tcpproxy failed"
	fi
	[ -x "$src" ] || die "no tcpproxy binary at $src"
	mkdir -p "$WORK/bin"
	cp "$src" "$WORK/bin/tcpproxy" || die "cannot copy $src"
	TCPPROXY_BIN=$WORK/bin/tcpproxy
	TCPPROXY_SRC=$src
}

HAPROXY=
NGINX=
haproxy_maxconn() {
	local n=$(( ($(ulimit -n) - 200) / 3 ))
	((n > 4000)) && n=4000
	echo "$n"
}

write_haproxy_cfg() {
	local m
	m=$(haproxy_maxconn)
	cat >"$1" <<EOF
global
	nbthread 2
	maxconn $m
defaults
	mode tcp
	option splice-request
	option splice-response
	timeout connect 5s
	timeout client 1h
	timeout server 1h
	maxconn $m
frontend fe
	bind 127.0.0.1:$2
	default_backend be
backend be
	server dst 127.0.0.1:$3
EOF
}

# The exact command line of candidate NAME listening on P, forwarding to D.
cand_cmd() {
	local name=$1 p=$2 d=$3 dir=$4 max=${5:-}
	case $name in
	tcpproxy)
		CMD=("$TCPPROXY_BIN" -q -s "$TP_SPARE" ${max:+-m "$max"}
		    -l 127.0.0.1 127.0.0.1 "$d" "$p") ;;
	tcpproxy-reuse)
		CMD=("$TCPPROXY_BIN" -q -s "$TP_SPARE" --pairs-per-child=0
		    ${max:+-m "$max"} -l 127.0.0.1 127.0.0.1 "$d" "$p") ;;
	haproxy)
		write_haproxy_cfg "$dir/haproxy.cfg" "$p" "$d"
		CMD=("$HAPROXY" -db -f "$dir/haproxy.cfg") ;;
	socat)
		CMD=(socat
		    "TCP-LISTEN:$p,bind=127.0.0.1,fork,reuseaddr,backlog=1024"
		    "TCP:127.0.0.1:$d") ;;
	socket-proxyd)
		CMD=(systemd-socket-activate -l "127.0.0.1:$p" "$PROXYD"
		    "--connections-max=$PROXYD_MAX" "127.0.0.1:$d") ;;
	esac
}

# record_config LABEL DIR: the first exact command line (and haproxy's
# config) of each kind of instance goes into the JSON.
declare -A CONFIG_SEEN
record_config() {
	[ -n "${CONFIG_SEEN[$1]:-}" ] && return 0
	CONFIG_SEEN[$1]=1
	meta config "$1" "${CMD[*]}"
	if [ -f "$2/haproxy.cfg" ]; then
		meta config "$1 haproxy.cfg" \
		    "$(tr '\n\t' '; ' <"$2/haproxy.cfg")"
	fi
}

declare -A INST_PID INST_PORT INST_DIR
INST_SEQ=0

log_tail() {
	[ -f "$1" ] && tail -n 5 "$1" | tr '\n' ' ' | cut -c1-400
}

# cand_start NAME DPORT [MAXCHILDREN]: an instance of NAME that forwards
# to DPORT, listening and checked; 1 (error recorded) if it failed.
cand_start() {
	local name=$1 d=$2 p dir
	if [ "$name" = direct ]; then
		INST_PORT[$name]=$d
		INST_PID[$name]=
		return 0
	fi
	p=$(next_port) || { error "$name: no free port"; return 1; }
	INST_SEQ=$((INST_SEQ + 1))
	dir=$WORK/$INST_SEQ-$name
	mkdir -p "$dir"
	cand_cmd "$name" "$p" "$d" "$dir" "${3:-}"
	printf '%s\n' "${CMD[*]}" >"$dir/cmd"
	record_config "$name${3:+ (scale)}" "$dir"
	launch "$name" "$dir/log" "${CMD[@]}"
	INST_PID[$name]=$LAUNCHED
	INST_PORT[$name]=$p
	INST_DIR[$name]=$dir
	if ! wait_listen "$p" "$LAUNCHED" 10; then
		if alive "$LAUNCHED"; then
			error "$name did not listen on 127.0.0.1:$p within 10 s:" \
			    "$(log_tail "$dir/log")"
		else
			error "$name exited before listening on 127.0.0.1:$p:" \
			    "$(log_tail "$dir/log")"
		fi
		cand_stop "$name"
		return 1
	fi
}

cand_stop() {
	stop "${INST_PID[$1]:-}"
	INST_PID[$1]=
}

cand_alive() {
	[ "$1" = direct ] || alive "${INST_PID[$1]:-0}"
}

# cand_check NAME KIND: one echo through the instance (KIND echo), a
# 4 MB iperf3 transfer (KIND iperf), a redis PING answered PONG (KIND
# redis), or nginx's /1k fetched intact (KIND http).
cand_check() {
	local name=$1 kind=$2 out=$WORK/check.out p=${INST_PORT[$1]}
	case $kind in
	iperf)
		run_tool "$out" timeout 20 iperf3 -c 127.0.0.1 -p "$p" -n 4M &&
		    return 0 ;;
	redis)
		run_tool "$out" timeout 10 redis-cli -h 127.0.0.1 -p "$p" ping &&
		    [ "$(cat "$out")" = PONG ] && return 0 ;;
	http)
		run_tool "$out" timeout 10 curl -s -f \
		    "http://127.0.0.1:$p/1k" && cmp -s "$out" "$WWW/1k" &&
		    return 0 ;;
	*)
		run_tool "$out" timeout 10 "$BUILD/loadgen" check "$p" &&
		    return 0 ;;
	esac
	error "$name does not forward ($kind): $(log_tail \
	    "${INST_DIR[$name]:-/nonexistent}/log")"
	return 1
}

# start_all KIND DPORT: one checked instance per candidate; those that
# fail are left out of READY.
start_all() {
	local c
	READY=()
	for c in "${CANDS[@]}"; do
		cand_start "$c" "$2" || continue
		if cand_check "$c" "$1"; then
			READY+=("$c")
		else
			cand_stop "$c"
		fi
	done
}

stop_all_cands() {
	local c
	for c in "${CANDS[@]}"; do
		cand_stop "$c"
	done
}

# still_up NAME KIND DPORT: the instance is alive; restart it once if it
# died (the sample it died in is already lost).
declare -A RESTARTED
still_up() {
	local c=$1
	cand_alive "$c" && return 0
	error "$c died: $(log_tail "${INST_DIR[$c]}/log")"
	cand_stop "$c"
	[ -n "${RESTARTED[$c]:-}" ] && return 1
	RESTARTED[$c]=1
	cand_start "$c" "$3" && cand_check "$c" "$2"
}

start_servers() {
	ECHO_PORT=$(next_port) || die "no free port"
	launch echosrv "$WORK/echosrv.log" "$BUILD/echosrv" "$ECHO_PORT"
	ECHO_PID=$LAUNCHED
	wait_listen "$ECHO_PORT" "$ECHO_PID" 5 ||
	    die "echo server: $(log_tail "$WORK/echosrv.log")"
	IPERF_PORT=$(next_port) || die "no free port"
	launch iperf3 "$WORK/iperf3.log" iperf3 -s -B 127.0.0.1 \
	    -p "$IPERF_PORT"
	IPERF_PID=$LAUNCHED
	wait_listen "$IPERF_PORT" "$IPERF_PID" 5 ||
	    die "iperf3 -s: $(log_tail "$WORK/iperf3.log")"
}

. "$BENCH_DIR/phases.sh"

main() {
	parse_args "$@"
	take_lock
	WORK=$(mktemp -d /tmp/tcpproxy-bench.XXXXXX) || die "mktemp failed"
	: >"$WORK/sessions"
	: >"$WORK/samples.tsv"
	: >"$WORK/meta.tsv"
	trap 'on_signal INT 2' INT
	trap 'on_signal TERM 15' TERM
	trap 'on_signal HUP 1' HUP
	trap cleanup EXIT
	clean_stale
	install_deps
	HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	build_tools
	find_tcpproxy
	ulimit -n "$(ulimit -Hn)" 2>/dev/null ||
	    say "cannot raise the open-files limit to $(ulimit -Hn)"
	describe_run
	start_servers
	wanted fork && phase_fork
	wanted thr && phase_throughput
	wanted echo && phase_echo
	wanted real && phase_real
	wanted mem && phase_memory
	wanted idle && phase_idle
	wanted scale && phase_scale
	stop "$ECHO_PID"
	stop "$IPERF_PID"
	meta run loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
	meta run ended "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	report
}

main "$@"
