#!/usr/bin/env bats
# Goal: the pool's totals where --status reads them, and --status in
# three formats: the table (text, the default, unchanged), one JSON
# document, and Prometheus's text exposition format, which the Prometheus
# Python client's own parser reads (as node_exporter's textfile collector
# would).  Every pair that ends, and every client refused, is counted by
# its reason; bytes by direction; children, forks and waiting clients as
# the master sees them.

load lib/common

PY=/usr/bin/python3

# some_traffic: an echo server, a proxy that denies 127.0.0.5, three
# pairs that end (3 bytes each way each), one refused client, and one
# pair held open in CONN.
some_traffic() {
	local i
	start_echod
	start_proxy -s 2 --deny 127.0.0.5 127.0.0.1 "$SERVER_PORT"
	for i in 1 2 3; do
		run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"hi"
		assert_output "hi"
	done
	run bash -c "echo no | timeout 5 nc -N -s 127.0.0.5 127.0.0.1 $PROXY_PORT"
	wait_until -t 5 pair_count_is 4
	open_conn "$PROXY_PORT"
	conn_echo "$CONN" "held"
	conn_port "$CONN"
}

@test "--status --format=prometheus: the Prometheus client's parser reads it; it counts what happened" {
	local out=$BATS_TEST_TMPDIR/metrics
	$PY -c 'import prometheus_client.parser' 2>/dev/null ||
	    skip "python3-prometheus-client is not installed"
	some_traffic
	wait_until -t 5 status_shows "relaying 127\.0\.0\.1:$CONN_PORT "
	"$TCPPROXY" --status="$PROXY_PID" --format=prometheus >"$out"
	run $PY - "$out" <<-'EOF'
	import sys
	from prometheus_client.parser import text_string_to_metric_families
	got = {}
	for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
	    for s in fam.samples:
	        got[(s.name, tuple(sorted(s.labels.items())))] = s.value
	def want(name, value, **labels):
	    v = got.get((name, tuple(sorted(labels.items()))))
	    if v != value:
	        print("%s%s: %r, not %r" % (name, labels, v, value))
	want("tcpproxy_pairs_total", 3, reason="eof")
	want("tcpproxy_pairs_total", 1, reason="denied")
	want("tcpproxy_pairs_total", 0, reason="reset")
	want("tcpproxy_bytes_total", 9, direction="up")
	want("tcpproxy_bytes_total", 9, direction="down")
	want("tcpproxy_open_pairs", 1)
	want("tcpproxy_children", 1, state="busy")
	want("tcpproxy_clients_waiting", 0)
	want("tcpproxy_fork_failures_total", 0)
	if got.get(("tcpproxy_forks_total", ())) < 5:
	    print("forks_total", got.get(("tcpproxy_forks_total", ())))
	EOF
	assert_success
	assert_output ""
	# every series has its HELP and TYPE, counters end in _total
	run grep -c '^# TYPE tcpproxy_[a-z_]*_total counter$' "$out"
	assert_output 4
}

@test "--status --format=json: one document with the totals and the live pairs" {
	some_traffic
	wait_until -t 5 status_shows "relaying 127\.0\.0\.1:$CONN_PORT "
	run --separate-stderr "$TCPPROXY" --status="$PROXY_PID" --format=json
	assert_success
	run $PY -c '
import json, sys
d = json.loads(sys.argv[1])
t = d["totals"]
assert d["master"] == int(sys.argv[2]), d["master"]
assert t["pairs"]["eof"] == 3 and t["pairs"]["denied"] == 1, t["pairs"]
assert t["bytes"] == {"up": 9, "down": 9}, t["bytes"]
assert t["children"]["busy"] == 1, t["children"]
assert len(d["pairs"]) == 1, d["pairs"]
p = d["pairs"][0]
assert p["client"] == "127.0.0.1:" + sys.argv[3], p
assert p["state"] == "relaying" and p["up"] == 5 and p["down"] == 5, p
' "$output" "$PROXY_PID" "$CONN_PORT"
	assert_success
}

@test "--status --format=text is the table --status prints" {
	some_traffic
	wait_until -t 5 status_shows "relaying 127\.0\.0\.1:$CONN_PORT "
	diff <("$TCPPROXY" --status="$PROXY_PID" | cut -d' ' -f1-6) \
	    <("$TCPPROXY" --status="$PROXY_PID" --format=text | cut -d' ' -f1-6)
}

@test "--format: without --status, or an unknown format, is a usage error" {
	cli --format=json 127.0.0.1 80 8080
	usage_error "--format goes with --status"
	cli --status --format=xml
	usage_error "invalid --format value 'xml': text, json or prometheus"
}
