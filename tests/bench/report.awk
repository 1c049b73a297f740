# tests/bench/report.awk: turns a run's raw samples into the Markdown
# report (stdout) and the JSON file (-v json=PATH).
#
# Input files, tab-separated, in this order:
#   meta.tsv     SECTION KEY VALUE       (run, machine, versions, config,
#                                         scale)
#   samples.tsv  PHASE METRIC CANDIDATE REP VALUE
#   errors.txt   one message a line
# Variables: cands (space-separated, direct first), json, jsonname.
# Plain POSIX awk (Debian's mawk): no asort, no strtonum.

FILENAME == ARGV[1] {
	nmeta++
	msec[nmeta] = $1; mkey[nmeta] = $2; mval[nmeta] = $3
	M[$1 "." $2] = $3
	next
}

FILENAME == ARGV[2] {
	ns++
	sph[ns] = $1; smet[ns] = $2; scand[ns] = $3; srep[ns] = $4
	sval[ns] = $5
	k = $2 SUBSEP $3
	vals[k] = (k in vals) ? vals[k] " " $5 : $5
	cnt[k]++
	sum[k] += $5
	next
}

FILENAME == ARGV[3] {
	if ($0 != "")
		errs[++nerr] = $0
	next
}

function has(m, c) {
	return (m SUBSEP c) in vals
}

# (max - min) / median in percent, "" with fewer than two samples.
function spread(m, c,    a, n, med, i) {
	if (!has(m, c) || cnt[m SUBSEP c] < 2)
		return ""
	n = split(vals[m SUBSEP c], a, " ")
	for (i = 1; i <= n; i++)
		a[i] += 0
	sortn(a, n)
	med = median(m, c)
	if (med == 0)
		return ""
	return (a[n] - a[1]) / med * 100
}

function fmt(v, f) {
	return v == "" ? "—" : sprintf(f, v)
}

function ratio(a, b) {
	if (a == "" || b == "" || b == 0)
		return "—"
	return sprintf("%.2f×", a / b)
}

function added(m, c,    v, d) {
	v = median(m, c)
	d = median(m, "direct")
	if (v == "" || d == "")
		return ""
	return v - d
}

function jstr(s,    n, p, i) {
	# Backslashes first, without gsub: mawk and gawk read "\\\\" in a
	# replacement differently.
	n = split(s, p, /\\/)
	s = p[1]
	for (i = 2; i <= n; i++)
		s = s "\\\\" p[i]
	gsub(/"/, "\\\"", s)
	gsub(/\t/, "\\t", s)
	gsub(/\r/, "\\r", s)
	gsub(/\n/, "\\n", s)
	return "\"" s "\""
}

function jnum(v) {
	return (v ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) ? v : jstr(v)
}

function header(    i) {
	print "# tcpproxy benchmark (" M["run.profile"] " profile)"
	print ""
	print "- Date: " M["run.date"] " (ended " M["run.ended"] ")"
	print "- Machine: " M["machine.cores"] " cores, " M["machine.model"] \
	    ", " M["machine.memory"] " RAM, kernel " M["machine.kernel"] \
	    ", " M["machine.os"]
	print "- Load average at start / end: " M["run.loadavg_start"] \
	    " / " M["run.loadavg_end"]
	print "- Command: `" M["run.command"] "`"
	for (i = 1; i <= nmeta; i++)
		if (msec[i] == "versions")
			print "- " mkey[i] ": " mval[i]
	print "- Samples: " M["config.reps"] " reps of " \
	    M["config.sample_secs"] " s for throughput and conn/s (" \
	    M["config.conc"] " in flight), latency " M["config.latency"] \
	    ", memory " M["config.pairs"] " idle pairs × " \
	    M["config.mem_reps"] ", idle cost " M["config.idle_pairs"] \
	    " pairs for " M["config.idle_secs"] " s" real_samples()
	print ""
}

function ran(phase) {
	return index("," M["run.phases"] ",", "," phase ",") > 0
}

function real_samples() {
	if (!ran("real"))
		return ""
	return "; real workloads × " M["config.real_reps"] ": " \
	    "redis-benchmark -n " M["config.redis_n"] " (" \
	    M["config.redis_p16_n"] " with -P 16), ab -n " M["config.ab_n"] \
	    ", curl of " M["config.curl_bytes"] / 1e6 " MB"
}

function medians_table(    c, i) {
	print "## Medians"
	print ""
	print "| candidate | thr1 Gbit/s | cpu s/GB | conn/s | conn fails | " \
	    "p50 µs | p99 µs | +p50 µs | +p99 µs | Pss KiB/pair | " \
	    "priv KiB/pair | idle Pss KiB | procs @" M["config.pairs"] \
	    " | idle csw | idle ticks |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" \
	    "---:|---:|---:|"
	for (i = 1; i <= ncand; i++) {
		c = cand[i]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | " \
		    "%s | %s | %s | %s | %s |\n", c,
		    fmt(median("thr1_gbps", c), "%.2f"),
		    fmt(median("cpu_s_per_gb", c), "%.3f"),
		    fmt(median("conn_per_s", c), "%.0f"),
		    has("conn_fails", c) ? sum["conn_fails" SUBSEP c] : "—",
		    fmt(median("lat_p50_us", c), "%.1f"),
		    fmt(median("lat_p99_us", c), "%.1f"),
		    fmt(added("lat_p50_us", c), "%.1f"),
		    fmt(added("lat_p99_us", c), "%.1f"),
		    fmt(median("pss_per_pair_kib", c), "%.1f"),
		    fmt(median("priv_per_pair_kib", c), "%.1f"),
		    fmt(median("idle_pss_kib", c), "%.0f"),
		    fmt(median("procs_loaded", c), "%d"),
		    fmt(median("idle_csw", c), "%d"),
		    fmt(median("idle_ticks", c), "%d")
	}
	print ""
	print "thr1: one iperf3 stream; cpu s/GB: the candidate's CPU " \
	    "seconds per 10^9 bytes during thr1; conn fails: summed over " \
	    "the reps; +p50/+p99: minus direct; Pss/priv KiB/pair: " \
	    "(footprint with the idle pairs − idle footprint) / pairs; " \
	    "idle csw/ticks: context switches and CPU ticks (1/" \
	    M["machine.clk_tck"] " s) of all its processes in " \
	    M["config.idle_secs"] " s with " M["config.idle_pairs"] \
	    " idle pairs open."
	print ""
	negative_note()
}

function real_table(    c, i) {
	if (!ran("real"))
		return
	print "## Real workloads (medians)"
	print ""
	print "| candidate | redis SET+GET req/s | redis -P16 req/s | " \
	    "ab req/s (1 KB, new connection each) | curl MB/s (" \
	    M["config.curl_bytes"] / 1e6 " MB) | curl cpu s/GB |"
	print "|---|---:|---:|---:|---:|---:|"
	for (i = 1; i <= ncand; i++) {
		c = cand[i]
		printf "| %s | %s | %s | %s | %s | %s |\n", c,
		    fmt(median("redis_rps", c), "%.0f"),
		    fmt(median("redis_p16_rps", c), "%.0f"),
		    fmt(median("ab_rps", c), "%.0f"),
		    fmt(median("curl_mbps", c), "%.0f"),
		    fmt(median("curl_cpu_s_per_gb", c), "%.3f")
	}
	print ""
	print "Real clients and servers through each candidate: " \
	    "redis-server and nginx (one worker, sendfile) on loopback. " \
	    "redis: `redis-benchmark -c 50 -t set,get`, the mean of the " \
	    "SET and GET requests/s, one request in flight per connection " \
	    "(-P16: 16 pipelined, so bytes matter more than round trips); " \
	    "ab: `ab -c 20` of a 1 KB file, a new connection for every " \
	    "request, so it is mostly connection set-up (every response " \
	    "checked: no failed or non-2xx request); curl: one download " \
	    "of a " M["config.curl_bytes"] / 1e6 " MB file (MB = 10^6 " \
	    "bytes), its full size checked; curl cpu s/GB: the " \
	    "candidate's CPU seconds per 10^9 bytes during that download " \
	    "(ticks of 1/" M["machine.clk_tck"] " s, rough for one " \
	    "short transfer)."
	print ""
}

# A negative added latency means direct's own samples were noisier than
# the proxy's; say so rather than let it pass for a fast proxy.
function negative_note(    c, i, m, j, neg) {
	for (i = 1; i <= ncand; i++)
		for (j = 1; j <= 2; j++) {
			m = j == 1 ? "lat_p50_us" : "lat_p99_us"
			if (added(m, cand[i]) != "" && added(m, cand[i]) < 0)
				neg = 1
		}
	if (neg)
		print "A negative +p50 or +p99 is noise: direct's own " \
		    "round trips were slower in that window (see the spread " \
		    "table); more reps or round trips settle it.\n"
}

# ratio_tables(T): candidate T ÷ every other candidate, if T ran.
function ratio_tables(t,    c, i) {
	if (!(t in isCand))
		return
	print "## " t " ÷ each peer"
	print ""
	print "Higher is better for thr1, conn/s, redis, redis -P16, ab and " \
	    "curl; lower is better for the others."
	print ""
	print "| peer | thr1 | cpu s/GB | conn/s | p50 | p99 | +p50 | +p99 | " \
	    "Pss/pair | redis | redis -P16 | ab | curl | curl cpu s/GB |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" \
	    "---:|---:|"
	for (i = 1; i <= ncand; i++) {
		c = cand[i]
		if (c == t)
			continue
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | " \
		    "%s | %s | %s | %s |\n", c,
		    mratio("thr1_gbps", t, c), mratio("cpu_s_per_gb", t, c),
		    mratio("conn_per_s", t, c), mratio("lat_p50_us", t, c),
		    mratio("lat_p99_us", t, c),
		    ratio(added("lat_p50_us", t), added("lat_p50_us", c)),
		    ratio(added("lat_p99_us", t), added("lat_p99_us", c)),
		    mratio("pss_per_pair_kib", t, c), mratio("redis_rps", t, c),
		    mratio("redis_p16_rps", t, c), mratio("ab_rps", t, c),
		    mratio("curl_mbps", t, c),
		    mratio("curl_cpu_s_per_gb", t, c)
	}
	print ""
}

# mratio(M, A, B): A's median of M ÷ B's.
function mratio(m, a, b) {
	return ratio(median(m, a), median(m, b))
}

function direct_table(    c, i) {
	print "## Each candidate ÷ direct"
	print ""
	print "| candidate | thr1 | conn/s | p50 | p99 | redis | " \
	    "redis -P16 | ab | curl |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= ncand; i++) {
		c = cand[i]
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c,
		    mratio("thr1_gbps", c, "direct"),
		    mratio("conn_per_s", c, "direct"),
		    mratio("lat_p50_us", c, "direct"),
		    mratio("lat_p99_us", c, "direct"),
		    mratio("redis_rps", c, "direct"),
		    mratio("redis_p16_rps", c, "direct"),
		    mratio("ab_rps", c, "direct"),
		    mratio("curl_mbps", c, "direct")
	}
	print ""
}

function fork_floor(    m) {
	m = median("fork_mean_us", "machine")
	print "## Fork floor of this machine"
	print ""
	if (m == "") {
		print "Not measured."
		print ""
		return
	}
	printf "fork() + _exit() + waitpid() of a small process: %.1f µs " \
	    "mean, %.1f µs median over %d. One process per pair cannot " \
	    "open more than about %.0f pairs/s per core that forks, " \
	    "before any relaying.\n", m, median("fork_p50_us", "machine"),
	    M["config.fork_n"], 1e6 / m
	print ""
}

function scale_section(    c) {
	c = "tcpproxy"
	if (M["config.scale_pairs"] == 0 || !(c in isCand))
		return
	print "## Scale: " M["config.scale_pairs"] " concurrent pairs " \
	    "through tcpproxy"
	print ""
	if ("scale.skipped" in M) {
		print "Skipped: " M["scale.skipped"]
		print ""
		return
	}
	if (!has("scale_held", c)) {
		print "Not measured (see errors)."
		print ""
		return
	}
	print "| pairs held | failed | closed by proxy | set-up s | " \
	    "conn p99 ms | processes | Pss MiB | Pss KiB/pair | " \
	    "MemAvailable drop KiB/pair | back to spares in s | " \
	    "processes after | zombies after |"
	print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf "| %d | %d | %d | %.2f | %.1f | %d | %.0f | %.1f | %.1f | " \
	    "%.2f | %d | %d |\n", median("scale_held", c),
	    median("scale_fails", c), median("scale_lost", c),
	    median("scale_setup_s", c), median("scale_conn_p99_ms", c),
	    median("scale_procs_loaded", c),
	    median("scale_pss_total_kib", c) / 1024,
	    median("scale_pss_per_pair_kib", c),
	    median("scale_memavail_per_pair_kib", c),
	    median("scale_drain_s", c), median("scale_procs_after", c),
	    median("scale_zombies_after", c)
	print ""
	print "Each pair is verified with one 64-byte echo, held, then " \
	    "all are closed; \"back to spares\" is when the master and " \
	    "its spare children are all that is left, every ended child " \
	    "reaped; \"processes after\" and \"zombies after\" are read " \
	    "1 s later. The MemAvailable drop includes kernel " \
	    "memory (sockets, page tables, task structs), which Pss does " \
	    "not; it is machine-wide and approximate."
	print ""
}

function spread_table(    c, i, j, nm, m, line) {
	nm = split("thr1_gbps cpu_s_per_gb conn_per_s lat_p50_us " \
	    "lat_p99_us pss_per_pair_kib redis_rps redis_p16_rps ab_rps " \
	    "curl_mbps curl_cpu_s_per_gb", m, " ")
	print "## Spread of the reps: (max − min) / median, %"
	print ""
	print "| candidate | thr1 | cpu s/GB | conn/s | p50 | p99 | Pss/pair | " \
	    "redis | redis -P16 | ab | curl | curl cpu s/GB |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= ncand; i++) {
		c = cand[i]
		line = "| " c
		for (j = 1; j <= nm; j++)
			line = line " | " fmt(spread(m[j], c), "%.0f")
		print line " |"
	}
	print ""
	print "Compare candidates through the ratios of one run; a " \
	    "difference smaller than the spread is noise."
	print ""
}

function errors_section(    i) {
	print "## Errors"
	print ""
	if (nerr == 0)
		print "None."
	for (i = 1; i <= nerr; i++)
		print "- " errs[i]
	print ""
	print "Raw samples: `" jsonname "`"
}

function json_section(sec,    i, first) {
	printf "  %s: {", jstr(sec) > json
	first = 1
	for (i = 1; i <= nmeta; i++) {
		if (msec[i] != sec)
			continue
		printf "%s\n    %s: %s", (first ? "" : ","), jstr(mkey[i]),
		    jstr(mval[i]) > json
		first = 0
	}
	printf "\n  },\n" > json
}

function write_json(    i, sec, seen, k, n, mets, parts) {
	printf "{\n" > json
	for (i = 1; i <= nmeta; i++) {
		sec = msec[i]
		if (!(sec in seen))
			json_section(sec)
		seen[sec] = 1
	}
	printf "  \"samples\": [\n" > json
	for (i = 1; i <= ns; i++)
		printf "    {\"phase\": %s, \"metric\": %s, " \
		    "\"candidate\": %s, \"rep\": %d, \"value\": %s}%s\n",
		    jstr(sph[i]), jstr(smet[i]), jstr(scand[i]), srep[i],
		    jnum(sval[i]),
		    (i < ns ? "," : "") > json
	printf "  ],\n  \"medians\": {\n" > json
	n = 0
	for (k in vals) {
		split(k, parts, SUBSEP)
		mets[++n] = parts[2] "\t" parts[1]
	}
	for (i = 1; i <= n; i++) {
		split(mets[i], parts, "\t")
		printf "    %s: %s%s\n", jstr(parts[1] "." parts[2]),
		    jnum(median(parts[2], parts[1])), (i < n ? "," : "") > json
	}
	printf "  },\n  \"errors\": [" > json
	for (i = 1; i <= nerr; i++)
		printf "%s\n    %s", (i > 1 ? "," : ""), jstr(errs[i]) > json
	printf "\n  ]\n}\n" > json
	close(json)
}

END {
	ncand = split(cands, cand, " ")
	for (i = 1; i <= ncand; i++)
		isCand[cand[i]] = 1
	header()
	medians_table()
	real_table()
	ratio_tables("tcpproxy")
	ratio_tables("tcpproxy-reuse")
	direct_table()
	fork_floor()
	scale_section()
	spread_table()
	errors_section()
	write_json()
}
