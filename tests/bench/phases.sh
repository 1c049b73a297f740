# tests/bench/phases.sh: the measurements of run.sh (sourced, not run).
#
# Each phase starts the instances it needs, takes its samples interleaved
# across candidates (rep 1: A B C ..., rep 2: A B C ...), records every raw
# value with sample(), and stops its instances.  A bad number is only
# recorded; a candidate that cannot forward is an error and is skipped.

HZ=$(getconf CLK_TCK)

describe_run() {
	local model mem os v
	model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' \
	    /proc/meminfo)
	os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
	[ -f /etc/debian_version ] && os="$os ($(cat /etc/debian_version))"
	meta run date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	meta run command "$COMMAND"
	meta run profile "$PROFILE"
	meta run phases "$ONLY"
	meta run candidates "${CANDS[*]}"
	meta run loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
	meta machine cores "$(nproc)"
	meta machine model "${model:-unknown}"
	meta machine memory "$mem"
	meta machine kernel "$(uname -r)"
	meta machine os "$os"
	meta machine open_files "$(ulimit -n)"
	meta machine somaxconn "$(cat /proc/sys/net/core/somaxconn)"
	meta machine clk_tck "$HZ"
	meta config reps "$REPS"
	meta config sample_secs "$SECS"
	meta config latency "$LAT_N round trips after $LAT_WARM warm-up"
	meta config conc "$CONC"
	meta config pairs "$PAIRS"
	meta config mem_reps "$MEM_REPS"
	meta config idle_pairs "$IDLE_PAIRS"
	meta config idle_secs "$IDLE_SECS"
	meta config fork_n "$FORK_N"
	meta config scale_pairs "$SCALE_PAIRS"
	meta config real_reps "$REAL_REPS"
	meta config redis_n "$REDIS_N"
	meta config redis_p16_n "$REDIS_P16_N"
	meta config ab_n "$AB_N"
	meta config curl_bytes "$CURL_BYTES"
	if has_cand tcpproxy || has_cand tcpproxy-reuse; then
		v=$("$TCPPROXY_BIN" -V 2>&1 | head -n 1)
		meta versions tcpproxy "$v ($TCPPROXY_SRC$(tcpproxy_commit))"
	fi
	has_cand haproxy &&
	    meta versions haproxy "$("$HAPROXY" -v | head -n 1)"
	if has_cand socat; then
		v=$(socat -V | awk '/socat version/ { print $3 }')
		meta versions socat "$v"
	fi
	has_cand socket-proxyd && meta versions systemd \
	    "$(systemd-socket-activate --version 2>/dev/null | head -n 1)"
	meta versions iperf3 "$(iperf3 -v | head -n 1)"
	if wanted real; then
		meta versions redis-benchmark \
		    "$(redis-benchmark --version 2>&1 | head -n 1)"
		meta versions ab "$(ab -V 2>&1 | head -n 1)"
		meta versions nginx "$("$NGINX" -v 2>&1 | head -n 1 |
		    sed "s/^nginx version: //")"
		meta versions curl "$(curl --version 2>&1 | head -n 1)"
	fi
	meta versions cc "$(cc --version | head -n 1)"
}

tcpproxy_commit() {
	local c dirty
	[ -z "${TCPPROXY:-}" ] || return 0
	c=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) || return 0
	dirty=$(git -C "$REPO" status --porcelain -- src 2>/dev/null)
	printf ', commit %s%s' "$c" "${dirty:+ with local changes in src/}"
}

phase_fork() {
	local out=$WORK/fork.out line
	say "fork floor: $FORK_N x fork+_exit+waitpid"
	if run_tool "$out" "$BUILD/loadgen" fork "$FORK_N"; then
		line=$(cat "$out")
		sample fork fork_mean_us machine 1 "$(kv "$line" mean_us)"
		sample fork fork_p50_us machine 1 "$(kv "$line" p50_us)"
	else
		error "fork floor: loadgen fork failed"
	fi
}

# iperf3 -J: the sum_received block's bytes and bits_per_second.
iperf_result() {
	awk '/"sum_received"/ { in_sum = 1 }
	    in_sum && /"bytes"/ { gsub(/[^0-9.]/, "", $2); bytes = $2 }
	    in_sum && /"bits_per_second"/ { gsub(/[^0-9.e+]/, "", $2);
	        bps = $2; print bytes, bps; exit }' "$1"
}

ticks_of() {
	local line
	line=$("$PROCSTAT" stat "$1") || return 1
	kv "$line" ticks
}

thr_sample() {
	local c=$1 rep=$2 out=$WORK/iperf.out t0='' t1 res bytes bps pid
	pid=${INST_PID[$c]}
	[ -n "$pid" ] && t0=$(ticks_of "$pid")
	if ! run_tool "$out" timeout $((SECS + 20)) iperf3 -c 127.0.0.1 \
	    -p "${INST_PORT[$c]}" -t "$SECS" -J; then
		error "$c: iperf3 failed in rep $rep: $(grep '"error"' "$out")"
		return
	fi
	pause 0.3		# let per-connection children exit and be reaped
	res=$(iperf_result "$out")
	read -r bytes bps <<<"$res"
	[ -n "$bps" ] || { error "$c: no iperf3 result in rep $rep"; return; }
	sample thr thr1_gbps "$c" "$rep" "$(calc "$bps / 1e9")"
	sample thr bytes "$c" "$rep" "$bytes"
	[ -n "$t0" ] || return
	t1=$(ticks_of "$pid") || return
	sample thr cpu_ticks "$c" "$rep" $((t1 - t0))
	sample thr cpu_s_per_gb "$c" "$rep" \
	    "$(calc "($t1 - $t0) / $HZ / ($bytes / 1e9)")"
}

phase_throughput() {
	local rep c
	say "throughput: instances forwarding to iperf3 -s on $IPERF_PORT"
	start_all iperf "$IPERF_PORT"
	for ((rep = 1; rep <= REPS; rep++)); do
		for c in "${READY[@]}"; do
			still_up "$c" iperf "$IPERF_PORT" || continue
			thr_sample "$c" "$rep"
			say "  thr1 rep $rep $c:" \
			    "$(last_value thr1_gbps "$c") Gbit/s," \
			    "$(last_value cpu_s_per_gb "$c") cpu s/GB"
			pause 0.3
		done
	done
	stop_all_cands
}

# last_value METRIC CAND: the latest sample, for progress lines.
last_value() {
	awk -F'\t' -v m="$1" -v c="$2" '$2 == m && $3 == c { v = $5 }
	    END { print (v == "" ? "-" : v) }' "$WORK/samples.tsv"
}

connrate_sample() {
	local c=$1 rep=$2 out=$WORK/connrate.out line k
	if ! run_tool "$out" "$BUILD/loadgen" connrate "${INST_PORT[$c]}" \
	    "$CONC" "$SECS"; then
		error "$c: connrate tool failed in rep $rep"
		return
	fi
	line=$(cat "$out")
	sample echo conn_per_s "$c" "$rep" "$(kv "$line" rate)"
	sample echo conn_fails "$c" "$rep" "$(kv "$line" fails)"
	for k in refused reset eof mismatch timeout addrnotavail other; do
		sample echo "conn_fail_$k" "$c" "$rep" "$(kv "$line" "fail_$k")"
	done
	sample echo conn_p99_ms "$c" "$rep" "$(kv "$line" conn_p99_ms)"
	say "  conn/s rep $rep $c: $(kv "$line" rate)" \
	    "($(kv "$line" fails) failed)"
}

latency_sample() {
	local c=$1 rep=$2 out=$WORK/latency.out line
	if ! run_tool "$out" "$BUILD/loadgen" latency "${INST_PORT[$c]}" \
	    "$LAT_WARM" "$LAT_N"; then
		error "$c: latency tool failed in rep $rep"
		return
	fi
	line=$(cat "$out")
	sample echo lat_p50_us "$c" "$rep" "$(kv "$line" p50_us)"
	sample echo lat_p99_us "$c" "$rep" "$(kv "$line" p99_us)"
	say "  latency rep $rep $c: p50 $(kv "$line" p50_us) us," \
	    "p99 $(kv "$line" p99_us) us"
}

phase_echo() {
	local rep c
	say "connection rate and latency: instances forwarding to the" \
	    "echo server on $ECHO_PORT"
	start_all echo "$ECHO_PORT"
	for ((rep = 1; rep <= REPS; rep++)); do
		for c in "${READY[@]}"; do
			still_up "$c" echo "$ECHO_PORT" || continue
			connrate_sample "$c" "$rep"
			pause 0.5	# the kernel retires closed sockets
		done
	done
	for ((rep = 1; rep <= REPS; rep++)); do
		for c in "${READY[@]}"; do
			still_up "$c" echo "$ECHO_PORT" || continue
			latency_sample "$c" "$rep"
		done
	done
	stop_all_cands
}

# quoted CMD...: a command line as the shell would take it back: words
# with nothing special as they are, the others in single quotes.
quoted() {
	local a line='' q="'"
	for a in "$@"; do
		if ! [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
			a="'${a//$q/$q\\$q$q}'"
		fi
		line+="${line:+ }$a"
	done
	printf '%s\n' "$line"
}

# real_tool OUT SECS CMD...: run_tool under timeout SECS; on failure
# sets WHY to what went wrong (the tool's own stderr when it said
# something).
real_tool() {
	local out=$1 secs=$2 before rc
	shift 2
	before=$(wc -c <"$WORK/tools.log" 2>/dev/null) || before=0
	run_tool "$out" timeout "$secs" "$@" && return 0
	rc=$?
	if [ "$rc" = 124 ]; then
		WHY="timed out after $secs s"
	else
		WHY="exit status $rc: $(tail -c +$((before + 1)) \
		    "$WORK/tools.log" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
	fi
	return "$rc"
}

write_nginx_conf() {
	local dir=$1 port=$2 t
	{
		# As root the master would run its worker as nobody, which
		# cannot enter the 0700 temp dir: keep it root.
		[ "$(id -u)" -eq 0 ] && echo "user root;"
		cat <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events {
	worker_connections 4096;
}
http {
	access_log off;
	sendfile on;
	default_type application/octet-stream;
EOF
		for t in client_body proxy fastcgi uwsgi scgi; do
			printf '\t%s_temp_path %s;\n' "$t" "$dir/$t"
		done
		cat <<EOF
	server {
		listen 127.0.0.1:$port;
		root $WWW;
	}
}
EOF
	} >"$dir/nginx.conf"
}

# start_real_servers: redis-server and nginx, each in a session of its
# own; nginx serves WWW (1k and 200m, random bytes written once).  1
# (error recorded) if either cannot start.
start_real_servers() {
	local dir=$WORK/real size
	WWW=$dir/www
	REDIS_PID='' NGINX_PID=''
	mkdir -p "$WWW" "$dir/redis" "$dir/nginx" ||
	    { error "real: cannot create $dir"; return 1; }
	head -c 1024 /dev/urandom >"$WWW/1k"
	head -c "$CURL_BYTES" /dev/urandom >"$WWW/200m"
	# Written back now rather than during the first download.
	sync "$WWW/200m"
	size=$(wc -c <"$WWW/200m")
	if [ "$size" != "$CURL_BYTES" ]; then
		error "real: cannot write $CURL_BYTES bytes to $WWW/200m"
		return 1
	fi
	REDIS_PORT=$(next_port) || { error "real: no free port"; return 1; }
	CMD=(redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save ''
	    --appendonly no --daemonize no --dir "$dir/redis")
	meta config redis-server "$(quoted "${CMD[@]}")"
	launch redis-server "$dir/redis/log" "${CMD[@]}"
	REDIS_PID=$LAUNCHED
	if ! wait_listen "$REDIS_PORT" "$REDIS_PID" 10; then
		error "real: redis-server: $(log_tail "$dir/redis/log")"
		return 1
	fi
	NGINX_PORT=$(next_port) || { error "real: no free port"; return 1; }
	write_nginx_conf "$dir/nginx" "$NGINX_PORT"
	CMD=("$NGINX" -p "$dir/nginx" -e "$dir/nginx/error.log"
	    -c "$dir/nginx/nginx.conf")
	meta config nginx "$(quoted "${CMD[@]}")"
	meta config nginx.conf "$(tr '\n\t' '  ' <"$dir/nginx/nginx.conf" |
	    tr -s ' ' | sed 's/ $//')"
	launch nginx "$dir/nginx/log" "${CMD[@]}"
	NGINX_PID=$LAUNCHED
	if ! wait_listen "$NGINX_PORT" "$NGINX_PID" 10; then
		error "real: nginx: $(log_tail "$dir/nginx/log")" \
		    "$(log_tail "$dir/nginx/error.log")"
		return 1
	fi
}

stop_real_servers() {
	stop "$REDIS_PID"
	stop "$NGINX_PID"
	REDIS_PID='' NGINX_PID=''
}

# redis_sample NAME REP [PIPELINE]: redis-benchmark SET and GET, 50
# clients; the metric is the mean of the two rates.
redis_sample() {
	local c=$1 rep=$2 p=${3:-} out=$WORK/redis.out n=$REDIS_N m=redis
	local secs set get
	secs=$((2 * n / 1000 + 30))
	if [ -n "$p" ]; then
		n=$REDIS_P16_N m=redis_p$p
		secs=$((2 * n / 5000 + 30))
	fi
	CMD=(redis-benchmark -h 127.0.0.1 -p "${INST_PORT[$c]}" -c 50 -n "$n"
	    ${p:+-P "$p"} -t "set,get" --csv)
	[ "$rep" = 1 ] && [ "$c" = direct ] &&
	    meta config "$m" "timeout $secs $(quoted "${CMD[@]}")"
	if ! real_tool "$out" "$secs" "${CMD[@]}"; then
		error "$c: redis-benchmark${p:+ -P $p} failed in rep $rep: $WHY"
		return
	fi
	# --csv: a header line, then "SET","rps",... and "GET","rps",...
	read -r set get < <(awk -F, '{ gsub(/"/, "") }
	    $1 == "SET" { s = $2 } $1 == "GET" { g = $2 }
	    END { print s, g }' "$out")
	if ! [[ $set =~ ^[0-9.]+$ && $get =~ ^[0-9.]+$ ]]; then
		error "$c: no SET and GET rate from redis-benchmark${p:+ -P $p}" \
		    "in rep $rep: $(head -c 300 "$out" | tr '\n' ' ')"
		return
	fi
	sample real "${m}_set_rps" "$c" "$rep" "$set"
	sample real "${m}_get_rps" "$c" "$rep" "$get"
	sample real "${m}_rps" "$c" "$rep" "$(calc "($set + $get) / 2")"
	say "  redis${p:+ -P $p} rep $rep $c: SET $set, GET $get req/s"
}

# ab_sample NAME REP: ab, 20 in flight, a new connection per request.
ab_sample() {
	local c=$1 rep=$2 out=$WORK/ab.out secs rps done_n failed non2xx
	secs=$((AB_N / 200 + 30))
	CMD=(ab -q -c 20 -n "$AB_N" "http://127.0.0.1:${INST_PORT[$c]}/1k")
	[ "$rep" = 1 ] && [ "$c" = direct ] &&
	    meta config ab "timeout $secs $(quoted "${CMD[@]}")"
	if ! real_tool "$out" "$secs" "${CMD[@]}"; then
		error "$c: ab failed in rep $rep: $WHY"
		return
	fi
	rps=$(awk '/^Requests per second:/ { print $4 }' "$out")
	done_n=$(awk '/^Complete requests:/ { print $3 }' "$out")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$out")
	non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$out")
	sample real ab_failed "$c" "$rep" "$failed"
	sample real ab_non2xx "$c" "$rep" "${non2xx:-0}"
	if [ -z "$rps" ] || [ "$done_n" != "$AB_N" ] || [ "$failed" != 0 ] ||
	    [ -n "$non2xx" ]; then
		error "$c: ab in rep $rep: ${done_n:-no} complete requests" \
		    "of $AB_N, ${failed:-?} failed${non2xx:+, $non2xx non-2xx}"
		return
	fi
	sample real ab_rps "$c" "$rep" "$rps"
	say "  ab rep $rep $c: $rps req/s"
}

# curl_sample NAME REP: one download of the 200 MB file, and the
# candidate's CPU per byte meanwhile (read as thr_sample does).
curl_sample() {
	local c=$1 rep=$2 out=$WORK/curl.out pid t0='' t1 secs speed size code
	pid=${INST_PID[$c]}
	secs=$((CURL_BYTES / 20000000 + 30))
	CMD=(curl -s -o /dev/null
	    -w '%{speed_download} %{size_download} %{http_code}\n'
	    "http://127.0.0.1:${INST_PORT[$c]}/200m")
	[ "$rep" = 1 ] && [ "$c" = direct ] &&
	    meta config curl "timeout $secs $(quoted "${CMD[@]}")"
	[ -n "$pid" ] && t0=$(ticks_of "$pid")
	if ! real_tool "$out" "$secs" "${CMD[@]}"; then
		error "$c: curl failed in rep $rep: $WHY"
		return
	fi
	pause 0.3		# let per-connection children exit and be reaped
	read -r speed size code <"$out"
	if [ "$code" != 200 ] || [ "$size" != "$CURL_BYTES" ] ||
	    [[ ! $speed =~ ^[0-9.]+$ ]]; then
		error "$c: curl in rep $rep: HTTP ${code:-?}, ${size:-?} of" \
		    "$CURL_BYTES bytes"
		return
	fi
	sample real curl_mbps "$c" "$rep" "$(calc "$speed / 1e6")"
	sample real curl_bytes "$c" "$rep" "$size"
	if [ -n "$t0" ] && t1=$(ticks_of "$pid"); then
		sample real curl_cpu_ticks "$c" "$rep" $((t1 - t0))
		sample real curl_cpu_s_per_gb "$c" "$rep" \
		    "$(calc "($t1 - $t0) / $HZ / ($size / 1e9)")"
	fi
	say "  curl rep $rep $c: $(last_value curl_mbps "$c") MB/s," \
	    "$(last_value curl_cpu_s_per_gb "$c") cpu s/GB"
}

# Real clients and servers through each candidate: redis-benchmark to
# redis-server (plain, then pipelined), then ab and curl to nginx.
phase_real() {
	local rep c p
	say "real workloads: redis-server and nginx, $REAL_REPS reps"
	if ! start_real_servers; then
		stop_real_servers
		return 0
	fi
	say "redis: instances forwarding to redis-server on $REDIS_PORT"
	start_all redis "$REDIS_PORT"
	for p in '' 16; do
		for ((rep = 1; rep <= REAL_REPS; rep++)); do
			for c in "${READY[@]}"; do
				still_up "$c" redis "$REDIS_PORT" || continue
				redis_sample "$c" "$rep" "$p"
				pause 0.5
			done
		done
	done
	stop_all_cands
	say "http: instances forwarding to nginx on $NGINX_PORT"
	start_all http "$NGINX_PORT"
	for ((rep = 1; rep <= REAL_REPS; rep++)); do
		for c in "${READY[@]}"; do
			still_up "$c" http "$NGINX_PORT" || continue
			ab_sample "$c" "$rep"
			pause 0.5	# the kernel retires closed sockets
		done
	done
	# One download first, unmeasured, so that the first candidate
	# measured (direct) does not pay for warming anything up.
	real_tool "$WORK/curl.out" 60 curl -s -o /dev/null \
	    "http://127.0.0.1:$NGINX_PORT/200m" ||
	    say "  curl warm-up download failed: $WHY"
	for ((rep = 1; rep <= REAL_REPS; rep++)); do
		for c in "${READY[@]}"; do
			still_up "$c" http "$NGINX_PORT" || continue
			curl_sample "$c" "$rep"
		done
	done
	stop_all_cands
	stop_real_servers
}

# mem_sample NAME REP: a fresh instance, its idle footprint, then PAIRS
# verified idle pairs through it and its footprint again.
mem_sample() {
	local c=$1 rep=$2 out=$WORK/hold.out idle loaded done_line r pid
	cand_start "$c" "$ECHO_PORT" || return
	cand_check "$c" echo || { cand_stop "$c"; return; }
	pid=${INST_PID[$c]}
	pause 0.5
	idle=$("$PROCSTAT" stat "$pid")
	hold_start "$out" "${INST_PORT[$c]}" "$PAIRS" "$CONC" 30
	if ! hold_ready "$out" 300; then
		error "$c: $PAIRS pairs were not set up: $(cat "$out")"
		kill_tools
		cand_stop "$c"
		return
	fi
	pause 0.5
	loaded=$("$PROCSTAT" stat "$pid")
	r=$(grep '^ready ' "$out")
	hold_release "$HOLD_PID" "$out"
	done_line=$HOLD_DONE
	record_mem "$c" "$rep" "$idle" "$loaded" "$r" "$done_line"
	cand_stop "$c"
}

# check_held NAME WANTED READY DONE: the holder's "ready" and "done" lines;
# sets HELD and LOST, records an error for any pair that failed to open,
# was closed by the proxy, or could not be checked.
check_held() {
	local c=$1 n=$2 r=$3 d=$4
	HELD=$(kvn "$r" held)
	LOST=$(( $(kvn "$d" closed) + $(kvn "$d" reset) ))
	[ "$(kvn "$r" fails)" = 0 ] ||
	    error "$c: $(kvn "$r" fails) of $n pairs failed to open ($r)"
	if [ -z "$d" ]; then
		error "$c: the holder of $n pairs gave no final check"
	elif [ "$LOST" != 0 ]; then
		error "$c closed $LOST of $HELD idle pairs"
	fi
}

record_mem() {
	local c=$1 rep=$2 idle=$3 loaded=$4 r=$5 d=$6 held lost
	check_held "$c" "$PAIRS" "$r" "$d"
	held=$HELD lost=$LOST
	sample mem pairs_held "$c" "$rep" "$held"
	sample mem pairs_lost "$c" "$rep" "$lost"
	sample mem hold_setup_s "$c" "$rep" "$(kv "$r" setup_s)"
	sample mem idle_pss_kib "$c" "$rep" "$(kv "$idle" pss_kib)"
	sample mem loaded_pss_kib "$c" "$rep" "$(kv "$loaded" pss_kib)"
	sample mem procs_loaded "$c" "$rep" "$(kv "$loaded" procs)"
	((held > 0)) || return
	sample mem pss_per_pair_kib "$c" "$rep" "$(calc "($(kv "$loaded" \
	    pss_kib) - $(kv "$idle" pss_kib)) / $held")"
	sample mem priv_per_pair_kib "$c" "$rep" "$(calc "($(kv "$loaded" \
	    priv_kib) - $(kv "$idle" priv_kib)) / $held")"
	say "  memory rep $rep $c: $(last_value pss_per_pair_kib "$c") KiB" \
	    "Pss per pair, $(kv "$loaded" procs) processes, set up in" \
	    "$(kv "$r" setup_s) s"
}

phase_memory() {
	local rep c
	[ ${#PROXIES[@]} -gt 0 ] || return 0
	say "memory: fresh instances, $PAIRS idle pairs each"
	for ((rep = 1; rep <= MEM_REPS; rep++)); do
		for c in "${PROXIES[@]}"; do
			mem_sample "$c" "$rep"
		done
	done
}

# All candidates at once: each has IDLE_PAIRS open pairs and nothing to
# do; count what they do anyway during IDLE_SECS.
phase_idle() {
	local c before after
	declare -A hold_pid hold_out s0
	[ ${#PROXIES[@]} -gt 0 ] || return 0
	say "idle cost: $IDLE_PAIRS open pairs per candidate," \
	    "${IDLE_SECS}s window"
	start_all echo "$ECHO_PORT"
	for c in "${READY[@]}"; do
		[ "$c" = direct ] && continue
		hold_out[$c]=$WORK/idle-$c.out
		hold_start "${hold_out[$c]}" "${INST_PORT[$c]}" "$IDLE_PAIRS" \
		    "$IDLE_PAIRS" 30
		hold_pid[$c]=$HOLD_PID
	done
	for c in "${!hold_pid[@]}"; do
		HOLD_PID=${hold_pid[$c]}
		hold_ready "${hold_out[$c]}" 60 ||
		    error "$c: idle pairs not set up: $(cat "${hold_out[$c]}")"
	done
	pause 1
	for c in "${!hold_pid[@]}"; do
		s0[$c]=$("$PROCSTAT" stat "${INST_PID[$c]}")
	done
	pause "$IDLE_SECS"
	for c in "${!hold_pid[@]}"; do
		before=${s0[$c]}
		after=$("$PROCSTAT" stat "${INST_PID[$c]}")
		sample idle idle_csw "$c" 1 \
		    $(( $(kvn "$after" csw) - $(kvn "$before" csw) ))
		sample idle idle_ticks "$c" 1 \
		    $(( $(kvn "$after" ticks) - $(kvn "$before" ticks) ))
		sample idle idle_procs "$c" 1 "$(kv "$after" procs)"
		say "  idle $c: $(last_value idle_csw "$c") context switches," \
		    "$(last_value idle_ticks "$c") ticks in ${IDLE_SECS}s"
	done
	for c in "${!hold_pid[@]}"; do
		hold_release "${hold_pid[$c]}" "${hold_out[$c]}"
		check_held "$c" "$IDLE_PAIRS" \
		    "$(grep '^ready ' "${hold_out[$c]}")" "$HOLD_DONE"
	done
	stop_all_cands
}

# Why the machine cannot hold SCALE_PAIRS pairs as processes; empty if it
# can.
scale_obstacles() {
	local n=$SCALE_PAIRS need have cg f
	need=$((n + 200))
	have=$(ulimit -n)
	((have >= need)) || echo "open-files limit $have < $need (the holder" \
	    "and the echo server need one descriptor per pair)"
	have=$(printf '%s\n' /proc/[0-9]* | wc -l)
	need=$(( have + n + TP_SPARE + 500 ))
	for f in pid_max threads-max; do
		have=$(cat "/proc/sys/kernel/$f")
		((have >= need)) || echo "kernel.$f $have < $need processes"
	done
	if [ "$(id -u)" -ne 0 ] && [ "$(ulimit -u)" != unlimited ] &&
	    (( $(ulimit -u) < need )); then
		echo "max user processes (ulimit -u) $(ulimit -u) < $need"
	fi
	for cg in $(awk -F: '$2 == "pids" || $2 == "" { print $3 }' \
	    /proc/self/cgroup); do
		for f in "/sys/fs/cgroup/pids$cg/pids.max" \
		    "/sys/fs/cgroup$cg/pids.max"; do
			[ -r "$f" ] && [ "$(cat "$f")" != max ] &&
			    (( $(cat "$f") < need )) &&
			    echo "cgroup $f: $(cat "$f") < $need processes"
		done
	done
	have=$(awk '/^MemAvailable/ { print $2 }' /proc/meminfo)
	need=$(( n * 512 + 524288 ))
	((have >= need)) || echo "MemAvailable $((have / 1024)) MiB <" \
	    "$((need / 1024)) MiB (512 KiB per pair, kernel included," \
	    "+ 512 MiB)"
}

mem_available() {
	awk '/^MemAvailable/ { print $2 }' /proc/meminfo
}

# scale_drain PID SECS: wait until the pool is back to its spares.
scale_drain() {
	local pid=$1 end n line
	end=$(( $(now_ms) + $2 * 1000 ))
	while :; do
		# Back to its spares means every ended child reaped too.
		line=$("$PROCSTAT" stat "$pid") || return 1
		n=$(kvn "$line" procs)
		((n <= 1 + TP_SPARE)) && return 0
		(( $(now_ms) < end )) || return 1
		sleep 0.1
	done
}

phase_scale() {
	local why c=tcpproxy out=$WORK/scale.out pid idle loaded r d t0
	local m0 m1 after
	((SCALE_PAIRS > 0)) && has_cand tcpproxy || return 0
	why=$(scale_obstacles)
	if [ -n "$why" ]; then
		meta scale skipped "${why//$'\n'/; }"
		say "scale test skipped: $why"
		return 0
	fi
	say "scale: $SCALE_PAIRS concurrent pairs through" \
	    "tcpproxy -m $((SCALE_PAIRS + 2000))"
	cand_start "$c" "$ECHO_PORT" $((SCALE_PAIRS + 2000)) || return
	cand_check "$c" echo || { cand_stop "$c"; return; }
	pid=${INST_PID[$c]}
	pause 0.5
	idle=$("$PROCSTAT" stat "$pid")
	m0=$(mem_available)
	hold_start "$out" "${INST_PORT[$c]}" "$SCALE_PAIRS" 128 120
	if ! hold_ready "$out" 900; then
		error "scale: pairs not set up in 900 s: $(cat "$out")"
		kill_tools
		cand_stop "$c"
		return
	fi
	pause 1
	loaded=$("$PROCSTAT" stat "$pid")
	m1=$(mem_available)
	r=$(grep '^ready ' "$out")
	t0=$(now_ms)
	hold_release "$HOLD_PID" "$out"
	d=$HOLD_DONE
	scale_drain "$pid" 300 ||
	    error "scale: tcpproxy still has $(session_procs "$pid")" \
	    "processes after 300 s"
	sample scale scale_drain_s "$c" 1 "$(calc "($(now_ms) - $t0) / 1000")"
	# A second later nothing may have come back: no zombie, no extra.
	pause 1
	after=$("$PROCSTAT" stat "$pid")
	record_scale "$idle" "$loaded" "$r" "$d" "$after" "$m0" "$m1"
	cand_stop "$c"
}

record_scale() {
	local c=tcpproxy idle=$1 loaded=$2 r=$3 d=$4 after=$5 m0=$6 m1=$7 held
	check_held "$c" "$SCALE_PAIRS" "$r" "$d"
	held=$HELD
	sample scale scale_pairs "$c" 1 "$SCALE_PAIRS"
	sample scale scale_held "$c" 1 "$held"
	sample scale scale_fails "$c" 1 "$(kvn "$r" fails)"
	sample scale scale_lost "$c" 1 "$LOST"
	sample scale scale_setup_s "$c" 1 "$(kv "$r" setup_s)"
	sample scale scale_conn_p99_ms "$c" 1 "$(kv "$r" conn_p99_ms)"
	sample scale scale_procs_loaded "$c" 1 "$(kv "$loaded" procs)"
	sample scale scale_pss_total_kib "$c" 1 "$(kv "$loaded" pss_kib)"
	sample scale scale_idle_pss_kib "$c" 1 "$(kv "$idle" pss_kib)"
	((held > 0)) && sample scale scale_pss_per_pair_kib "$c" 1 "$(calc \
	    "($(kv "$loaded" pss_kib) - $(kv "$idle" pss_kib)) / $held")"
	((held > 0)) && sample scale scale_memavail_per_pair_kib "$c" 1 \
	    "$(calc "($m0 - $m1) / $held")"
	sample scale scale_procs_after "$c" 1 "$(kv "$after" procs)"
	sample scale scale_zombies_after "$c" 1 "$(kv "$after" zombies)"
	say "  scale: $held of $SCALE_PAIRS pairs in $(kv "$r" setup_s) s," \
	    "$(kv "$loaded" procs) processes," \
	    "$(last_value scale_pss_per_pair_kib "$c") KiB Pss per pair;" \
	    "$(kv "$after" procs) processes after closing"
}

report() {
	mkdir -p "${JSON%/*}" || die "cannot create ${JSON%/*}"
	printf '%s\n' "${ERRORS[@]}" >"$WORK/errors.txt"
	awk -F'\t' -v cands="${CANDS[*]}" -v json="$JSON" \
	    -v jsonname="${JSON#"$REPO"/}" -f "$BENCH_DIR/median.awk" \
	    -f "$BENCH_DIR/report.awk" \
	    "$WORK/meta.tsv" "$WORK/samples.tsv" "$WORK/errors.txt"
	say "raw samples: $JSON"
	chart
}

# chart: the SVG of the ratios to direct, to SVG (a temp file first, so
# that a failed run leaves the previous chart alone).
chart() {
	local tmp=$WORK/chart.svg rc
	awk -F'\t' -f "$BENCH_DIR/median.awk" -f "$BENCH_DIR/chart.awk" \
	    "$WORK/meta.tsv" "$WORK/samples.tsv" >"$tmp"
	rc=$?
	if [ "$rc" = 3 ]; then
		say "no chart: no workload was measured against direct"
		return 0
	fi
	if [ "$rc" != 0 ] || [ ! -s "$tmp" ]; then
		say "chart.awk failed: $SVG left as it was"
		return 0
	fi
	if mkdir -p "$(dirname "$SVG")" && cp "$tmp" "$SVG.tmp" &&
	    mv "$SVG.tmp" "$SVG"; then
		say "chart: $SVG"
	else
		say "cannot write $SVG"
	fi
}
