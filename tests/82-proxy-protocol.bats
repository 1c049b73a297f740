#!/usr/bin/env bats
# Goal: the PROXY protocol, both ways.  --accept-proxy reads a v1 or v2
# header before anything else and takes the client it names for the log,
# --status, --allow/--deny, --max-per-source and --send-proxy; v2 LOCAL
# keeps the connection's own address; a malformed, truncated, oversized
# or slow header ends the client with reason=bad-header and nothing goes
# upstream; --accept-proxy-from names the peers that may send one at all.
# --send-proxy sends one before any client byte.  Real producers and
# consumers check it: nginx (listen ... proxy_protocol) and HAProxy
# (accept-proxy; send-proxy, send-proxy-v2); and the scale-out of the
# README: HAProxy (TCP, round robin, health checks, send-proxy-v2) in
# front of two instances in front of nginx, one of them stopped mid-run.

load lib/common

# v2 header bytes, as printf(1) escapes.
V2SIG='\r\n\r\n\0\r\nQUIT\n'
# PROXY TCP4 10.1.2.3:4242 -> 10.9.9.9:443
V2_TCP4="${V2SIG}"'\041\021\000\014\012\001\002\003\012\011\011\011\020\222\001\273'
# LOCAL, no address
V2_LOCAL="${V2SIG}"'\040\000\000\000'

# log_lines_are N ERE FILE: FILE has N lines that match.
log_lines_are() { [ "$(grep -cE "$2" "$3")" -eq "$1" ]; }

# through PORT HEADER LINE: send the header (printf escapes), then LINE;
# the reply on stdout.
through() {
	{ printf "$2"; printf '%s\n' "$3"; } | timeout 5 nc -N 127.0.0.1 "$1"
}

@test "--accept-proxy v1: the header is not relayed; its client is logged, shown and sent on" {
	start_echod
	start_proxy -s 2 --accept-proxy 127.0.0.1 "$SERVER_PORT"
	run through "$PROXY_PORT" 'PROXY TCP4 192.0.2.7 127.0.0.1 40001 80\r\n' "after the header"
	assert_output "after the header"
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "pair client=192\.0\.2\.7:40001 upstream=127\.0\.0\.1:$SERVER_PORT up=17 down=17 .* reason=eof\$"
	# a held pair: --status and the title name the carried client
	open_conn "$PROXY_PORT"
	printf 'PROXY TCP6 2001:db8::5 ::1 40002 80\r\n' >&"$CONN"
	conn_echo "$CONN" "held"
	wait_until -t 5 status_shows "\[2001:db8::5\]:40002"
	under_valgrind ||	# ps shows valgrind's command line there
	    pgrep -f -a 'tcpproxy: relay \[2001:db8::5\]:40002 > ' >/dev/null
}

@test "--accept-proxy v2: TCP4 with TLVs; LOCAL keeps the connection's own address" {
	start_echod
	start_proxy -s 2 --accept-proxy 127.0.0.1 "$SERVER_PORT"
	run through "$PROXY_PORT" "$V2_TCP4" "v2"
	assert_output "v2"
	# the same with 7 bytes of TLV (length 12 + 7)
	run through "$PROXY_PORT" "${V2SIG}"'\041\021\000\023\012\001\002\003\012\011\011\011\020\222\001\273\004\000\004abcd' "tlv"
	assert_output "tlv"
	run through "$PROXY_PORT" "$V2_LOCAL" "local"
	assert_output "local"
	wait_until -t 5 pair_count_is 3
	run pair_lines
	assert_line --index 0 --regexp 'pair client=10\.1\.2\.3:4242 .* up=3 down=3 .* reason=eof$'
	assert_line --index 1 --regexp 'pair client=10\.1\.2\.3:4242 .* up=4 down=4 .* reason=eof$'
	assert_line --index 2 --regexp 'pair client=127\.0\.0\.1:[0-9]+ .* up=6 down=6 .* reason=eof$'
}

@test "--accept-proxy: malformed, truncated, oversized and slow headers are bad-header; nothing goes upstream" {
	start_echod
	start_proxy -s 2 -v --accept-proxy 127.0.0.1 "$SERVER_PORT"
	run through "$PROXY_PORT" 'GET / HTTP/1.0\r\n' "not a header"
	assert_output ""
	run through "$PROXY_PORT" 'PROXY TCP4 192.0.2.1  127.0.0.1 1 2\r\n' "two spaces"
	assert_output ""
	run bash -c "printf 'PROXY TCP4 192.0.2.1 127.0' | timeout 5 nc -N 127.0.0.1 $PROXY_PORT"
	assert_output ""
	# v2 saying 5000 bytes follow: over the 4096-byte limit
	run through "$PROXY_PORT" "${V2SIG}"'\041\021\023\210' ""
	assert_output ""
	wait_until -t 5 pair_count_is 4
	# a client that sends nothing is ended after 5 s
	open_conn "$PROXY_PORT"
	wait_until -t 10 pair_count_is 5
	run pair_lines
	assert_line --index 0 --regexp 'pair client=127\.0\.0\.1:[0-9]+ upstream=- up=0 down=0 .* reason=bad-header detail=EPROTO$'
	assert_line --index 1 --regexp 'reason=bad-header detail=EPROTO$'
	assert_line --index 2 --regexp 'upstream=- .* reason=bad-header detail=ENODATA$'
	assert_line --index 3 --regexp 'upstream=- .* reason=bad-header detail=EPROTO$'
	assert_line --index 4 --regexp 'upstream=- .* duration=5\.[0-9]+s reason=bad-header detail=ETIMEDOUT$'
	run grep -c 'PROXY header from 127\.0\.0\.1:[0-9]*: ' "$PROXY_LOG"
	assert_output 3
	# the destination never saw a connection
	run grep -c 'connect to ' "$PROXY_LOG"
	assert_output 0
}

@test "--accept-proxy: --allow, --deny and --max-per-source apply to the carried address" {
	start_echod
	start_proxy -s 4 --accept-proxy --allow 10.0.0.0/8 --max-per-source 1 \
	    127.0.0.1 "$SERVER_PORT"
	run through "$PROXY_PORT" 'PROXY TCP4 192.0.2.1 127.0.0.1 1000 80\r\n' "denied"
	assert_output ""
	open_conn "$PROXY_PORT"
	printf 'PROXY TCP4 10.5.5.5 127.0.0.1 1001 80\r\n' >&"$CONN"
	conn_echo "$CONN" "first from 10.5.5.5"
	run through "$PROXY_PORT" 'PROXY TCP4 10.5.5.5 127.0.0.1 1002 80\r\n' "second"
	assert_output ""
	run through "$PROXY_PORT" 'PROXY TCP4 10.6.6.6 127.0.0.1 1003 80\r\n' "another source"
	assert_output "another source"
	wait_until -t 5 pair_count_is 3
	run pair_lines
	assert_line --index 0 --regexp 'pair client=192\.0\.2\.1:1000 upstream=- .* reason=denied$'
	assert_line --index 1 --regexp 'pair client=10\.5\.5\.5:1002 upstream=- .* reason=limit$'
	assert_line --index 2 --regexp 'pair client=10\.6\.6\.6:1003 .* reason=eof$'
}

@test "--accept-proxy-from: a peer not named is denied before any header is read" {
	start_echod
	start_proxy -s 2 --accept-proxy --accept-proxy-from 127.0.0.2 \
	    --accept-proxy-from ::1 127.0.0.1 "$SERVER_PORT"
	run through "$PROXY_PORT" 'PROXY TCP4 10.1.1.1 127.0.0.1 1 2\r\n' "from .1"
	assert_output ""
	run bash -c "{ printf 'PROXY TCP4 10.1.1.1 127.0.0.1 1 2\r\n'; echo from .2; } | timeout 5 nc -N -s 127.0.0.2 127.0.0.1 $PROXY_PORT"
	assert_output "from .2"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 0 --regexp 'pair client=127\.0\.0\.1:[0-9]+ upstream=- .* reason=denied$'
	assert_line --index 1 --regexp 'pair client=10\.1\.1\.1:1 .* reason=eof$'
}

# port_bytes PORT: its two bytes in network order, as printf escapes.
port_bytes() { printf '\\%03o\\%03o' $(($1 >> 8)) $(($1 & 255)); }

@test "--send-proxy: the header comes first, byte for byte; with --accept-proxy it carries the client on" {
	local np sp out=$BATS_TEST_TMPDIR/got
	np=$(free_port)
	sp=$(free_port)
	start_nc_server "$np" /dev/null "$out"
	start_proxy -s 2 --send-proxy=v1 127.0.0.1 "$np"
	echo data | timeout 5 nc -N -s 127.0.0.3 -p "$sp" 127.0.0.1 "$PROXY_PORT"
	wait_until -t 5 gone "$NC_PID"
	printf 'PROXY TCP4 127.0.0.3 127.0.0.1 %s %s\r\ndata\n' "$sp" "$PROXY_PORT" >"$out.want"
	cmp "$out" "$out.want"
	stop_proxy

	sp=$(free_port)
	start_nc_server "$np" /dev/null "$out"
	start_proxy -s 2 --send-proxy=v2 127.0.0.1 "$np"
	echo data | timeout 5 nc -N -s 127.0.0.3 -p "$sp" 127.0.0.1 "$PROXY_PORT"
	wait_until -t 5 gone "$NC_PID"
	# PROXY, TCP4, 12 bytes: 127.0.0.3 127.0.0.1, the two ports
	printf "${V2SIG}"'\041\021\000\014\177\000\000\003\177\000\000\001'"$(port_bytes "$sp")$(port_bytes "$PROXY_PORT")"'data\n' >"$out.want"
	cmp "$out" "$out.want"
	stop_proxy

	start_nc_server "$np" /dev/null "$out"
	start_proxy -s 2 --accept-proxy --send-proxy=v1 127.0.0.1 "$np"
	run through "$PROXY_PORT" 'PROXY TCP6 2001:db8::7 2001:db8::1 4242 443\r\n' "carried"
	wait_until -t 5 gone "$NC_PID"
	printf 'PROXY TCP6 2001:db8::7 2001:db8::1 4242 443\r\ncarried\n' >"$out.want"
	cmp "$out" "$out.want"
}

@test "PROXY protocol options: bad values are usage errors" {
	cli --send-proxy=v3 127.0.0.1 1 2
	usage_error "invalid --send-proxy value 'v3': v1 or v2"
	cli --accept-proxy-from 10.0.0.0/8 127.0.0.1 1 2
	usage_error "--accept-proxy-from needs --accept-proxy"
	cli --accept-proxy --accept-proxy-from 10.0.0.0/33 127.0.0.1 1 2
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]%%:*}" "tcpproxy"
	[[ ${stderr_lines[0]} == "tcpproxy: invalid --accept-proxy-from value '10.0.0.0/33': "* ]]
}

# ---- real producers and consumers ----

# start_nginx: nginx on 127.0.0.1:NGINX_PORT reading a PROXY header
# (v1 or v2) and logging "$proxy_protocol_addr:$proxy_protocol_port" to
# $NGINX_LOG.
start_nginx() {
	local d=$BATS_TEST_TMPDIR/nginx
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
	    skip "nginx is not installed"
	mkdir -p "$d"
	NGINX_PORT=$(free_port)
	NGINX_LOG=$d/access.log
	cat >"$d/nginx.conf" <<-EOF
	worker_processes 1;
	pid $d/nginx.pid;
	error_log $d/error.log;
	events { worker_connections 64; }
	http {
		access_log off;
		client_body_temp_path $d;
		proxy_temp_path $d;
		fastcgi_temp_path $d;
		uwsgi_temp_path $d;
		scgi_temp_path $d;
		log_format pp '\$proxy_protocol_addr:\$proxy_protocol_port \$remote_addr';
		server {
			listen 127.0.0.1:$NGINX_PORT proxy_protocol;
			access_log $NGINX_LOG pp;
			location / { return 200 "hello from nginx\n"; }
		}
	}
	EOF
	spawn "$(command -v nginx || echo /usr/sbin/nginx)" -c "$d/nginx.conf" \
	    -g 'daemon off;' </dev/null 2>"$d/stderr"
	TEST_PIDS+=("$!")
	EXTRA_LOGS+=("$d/error.log" "$d/stderr")
	wait_until -t 10 port_listening "$NGINX_PORT"
}

# start_haproxy CONFIG-BODY: HAProxy in the foreground with that
# configuration after a common head; its log lines in $HAPROXY_OUT.
start_haproxy() {
	local d=$BATS_TEST_TMPDIR/haproxy
	command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] ||
	    skip "haproxy is not installed"
	mkdir -p "$d"
	HAPROXY_OUT=$d/out
	{
		printf 'global\n\tlog stdout format raw local0\n'
		printf 'defaults\n\tmode tcp\n\tlog global\n'
		printf '\ttimeout connect 5s\n\ttimeout client 10s\n\ttimeout server 10s\n'
		printf '%s\n' "$1"
	} >"$d/haproxy.cfg"
	spawn "$(command -v haproxy || echo /usr/sbin/haproxy)" -db \
	    -f "$d/haproxy.cfg" >"$HAPROXY_OUT" 2>&1 </dev/null
	TEST_PIDS+=("$!")
	EXTRA_LOGS+=("$HAPROXY_OUT")
}

@test "nginx reads our --send-proxy v1 and v2 headers: it logs the client's address and port" {
	local v
	start_nginx
	for v in v1 v2; do
		start_proxy -s 2 --send-proxy=$v 127.0.0.1 "$NGINX_PORT"
		run curl -sS --max-time 5 --interface 127.0.0.9 --local-port 40100-40200 \
		    "http://127.0.0.1:$PROXY_PORT/"
		assert_output "hello from nginx"
		# the header's client, and the connection's own (tcpproxy)
		wait_until -t 5 grep -qE '^127\.0\.0\.9:401[0-9][0-9] 127\.0\.0\.1$' "$NGINX_LOG"
		: >"$NGINX_LOG"
		stop_proxy
	done
}

@test "HAProxy accept-proxy reads our v1 and v2 headers" {
	local hp v
	start_echod
	hp=$(free_port)
	start_haproxy "frontend fe
	bind 127.0.0.1:$hp accept-proxy
	log-format \"client=%ci:%cp\"
	default_backend be
backend be
	server s1 127.0.0.1:$SERVER_PORT"
	wait_until -t 10 port_listening "$hp"
	for v in v1 v2; do
		start_proxy -s 2 --send-proxy=$v 127.0.0.1 "$hp"
		run bash -c "echo via $v | timeout 5 nc -N -s 127.0.0.8 127.0.0.1 $PROXY_PORT"
		assert_output "via $v"
		stop_proxy
	done
	wait_until -t 5 log_lines_are 2 '^client=127\.0\.0\.8:[0-9]+$' "$HAPROXY_OUT"
}

@test "HAProxy send-proxy and send-proxy-v2 in front of --accept-proxy: the real client is logged" {
	local hp hp2
	start_echod
	start_proxy -s 2 --accept-proxy --accept-proxy-from 127.0.0.1 \
	    127.0.0.1 "$SERVER_PORT"
	hp=$(free_port)
	hp2=$(free_port)
	start_haproxy "frontend fe
	bind 127.0.0.1:$hp
	default_backend be
	no log
backend be
	server v1 127.0.0.1:$PROXY_PORT send-proxy
frontend fe2
	bind 127.0.0.1:$hp2
	default_backend be2
	no log
backend be2
	server v2 127.0.0.1:$PROXY_PORT send-proxy-v2"
	wait_until -t 10 port_listening "$hp"
	wait_until -t 10 port_listening "$hp2"
	run bash -c "echo v1 | timeout 5 nc -N -s 127.0.0.6 127.0.0.1 $hp"
	assert_output "v1"
	run bash -c "echo v2 | timeout 5 nc -N -s 127.0.0.7 127.0.0.1 $hp2"
	assert_output "v2"
	wait_until -t 5 pair_count_is 2
	run pair_lines
	assert_line --index 0 --regexp "pair client=127\.0\.0\.6:[0-9]+ upstream=127\.0\.0\.1:$SERVER_PORT up=3 down=3 .* reason=eof\$"
	assert_line --index 1 --regexp "pair client=127\.0\.0\.7:[0-9]+ upstream=127\.0\.0\.1:$SERVER_PORT up=3 down=3 .* reason=eof\$"
}

# ---- scale-out: HAProxy in front of two instances in front of nginx ----

# client9_pairs_are N LOG...: the LOGs hold N pair lines of the client
# 127.0.0.9 in all (a child logs its pair once the client has its answer).
client9_pairs_are() {
	local n=$1 sum=0 f
	shift
	for f in "$@"; do
		sum=$((sum + $(grep -c 'pair client=127\.0\.0\.9:' "$f")))
	done
	[ "$sum" -eq "$n" ]
}

@test "scale-out: HAProxy round robin over two --accept-proxy instances; one dies, the other serves; nginx sees the real client" {
	local a b ap bp alog=$BATS_TEST_TMPDIR/a.log blog hp i na nb
	start_nginx
	start_proxy -s 2 --accept-proxy --accept-proxy-from 127.0.0.1 \
	    --send-proxy=v2 --allow 127.0.0.0/8 127.0.0.1 "$NGINX_PORT"
	a=$PROXY_PID ap=$PROXY_PORT
	mv "$PROXY_LOG" "$alog"		# it goes on writing there
	start_proxy -s 2 --accept-proxy --accept-proxy-from 127.0.0.1 \
	    --send-proxy=v2 --allow 127.0.0.0/8 127.0.0.1 "$NGINX_PORT"
	b=$PROXY_PID bp=$PROXY_PORT blog=$PROXY_LOG
	OTHER_PID=$a OTHER_LOG=$alog
	hp=$(free_port)
	start_haproxy "frontend fe
	bind 127.0.0.1:$hp
	default_backend be
	no log
backend be
	balance roundrobin
	retries 3
	option redispatch
	default-server send-proxy-v2 check check-send-proxy inter 300 fall 2 rise 1
	server a 127.0.0.1:$ap
	server b 127.0.0.1:$bp"
	wait_until -t 10 port_listening "$hp"
	for i in $(seq 1 10); do
		run curl -sS --max-time 5 --interface 127.0.0.9 "http://127.0.0.1:$hp/"
		assert_output "hello from nginx"
	done
	# both served (in turn, 5 and 5, unless a slow check took one out for
	# a while); nginx saw the client, not HAProxy
	wait_until -t 5 client9_pairs_are 10 "$alog" "$blog"
	na=$(grep -c 'pair client=127\.0\.0\.9:' "$alog")
	nb=$(grep -c 'pair client=127\.0\.0\.9:' "$blog")
	((na >= 1 && nb >= 1 && na + nb == 10)) || fail "a=$na b=$nb"
	[ "$(grep -cE '^127\.0\.0\.9:[0-9]+ 127\.0\.0\.1$' "$NGINX_LOG")" -eq 10 ]
	# one instance goes away mid-run: every later client is still served
	kill -TERM "$a"
	wait "$a" || fail "the first instance exited $?"
	OTHER_PID=
	for i in $(seq 1 10); do
		run curl -sS --max-time 5 --interface 127.0.0.9 "http://127.0.0.1:$hp/"
		assert_output "hello from nginx"
	done
	wait_until -t 5 client9_pairs_are 20 "$alog" "$blog"
	[ "$(grep -cE '^127\.0\.0\.9:[0-9]+ 127\.0\.0\.1$' "$NGINX_LOG")" -eq 20 ]
	[ "$(grep -c 'pair client=127\.0\.0\.9:' "$alog")" -eq "$na" ]
	[ "$(grep -c 'pair client=127\.0\.0\.9:' "$blog")" -eq $((20 - na)) ]
}

@test "--send-proxy: a header that cannot be sent ends the pair, reason=reset side=upstream" {
	sanitizer_build && skip "a sanitizer's runtime must be the first library"
	start_echod
	LD_PRELOAD=$PROGS/failsend.so start_proxy -s 2 --send-proxy=v1 \
	    127.0.0.1 "$SERVER_PORT"
	run timeout 5 nc -N 127.0.0.1 "$PROXY_PORT" <<<"never relayed"
	assert_output ""
	wait_until -t 5 pair_count_is 1
	run pair_lines
	assert_output --regexp "upstream=127\.0\.0\.1:$SERVER_PORT up=0 down=0 .* reason=reset detail=ECONNRESET side=upstream\$"
}
