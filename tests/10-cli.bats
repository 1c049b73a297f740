# Goal: the command line does what the contract says: --help and --version
# answer on stdout and exit 0; every bad input is refused before anything
# starts, with exit 2 (usage) or 1 (runtime), one first line on stderr that
# names the problem and the value, and never a crash.

load lib/common

setup() {
	LPORT=$(free_port)
}

# runtime_error REGEX: exit 1, a single stderr line matching REGEX.
runtime_error() {
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 1
	[[ ${stderr_lines[0]} =~ ^tcpproxy:\ $1$ ]] ||
	    fail "stderr '${stderr_lines[0]}' does not match '$1'"
	assert_output ''
}

@test "--help prints usage with every option on stdout and exits 0" {
	local opt o
	for opt in --help -h; do
		cli "$opt"
		assert_equal "$status" 0
		assert_equal "$stderr" ''
		assert_output --partial 'destination-host'
		assert_output --partial 'destination-port'
		assert_output --partial 'listen-port'
		# each as a word of its own ("-b" inside "--buffer-size" is not it)
		for o in -b --buffer-size -c --connect-timeout \
		    -l --listen-address -m --max-children -s --spare \
		    -t --stall-timeout -q --quiet -v --verbose -h --help \
		    -V --version; do
			assert_output --regexp "(^|[^-[:alnum:]])$o([^-[:alnum:]]|\$)"
		done
	done
}

@test "--version prints 'tcpproxy VERSION' (the Makefile's) and exits 0" {
	local version opt
	version=$(sed -n 's/^VERSION *= *//p' "$BATS_TEST_DIRNAME/../Makefile")
	for opt in --version -V; do
		cli "$opt"
		assert_equal "$status" 0
		assert_equal "$stderr" ''
		assert_output "tcpproxy $version"
	done
}

@test "missing arguments: none, one or two of the three" {
	local msg='missing arguments: expected destination-host destination-port listen-port'
	cli
	usage_error "$msg"
	cli -l 127.0.0.1
	usage_error "$msg"
	cli -l 127.0.0.1 localhost
	usage_error "$msg"
	cli --standalone -l 127.0.0.1 localhost 80
	usage_error "$msg"
	# Without a listen port the socket must come from systemd or inetd.
	cli -l 127.0.0.1 localhost 80
	usage_error 'missing listen-port, and no socket was passed by systemd or inetd'
}

@test "too many arguments names the first extra one" {
	cli -l 127.0.0.1 localhost 80 "$LPORT" extra more
	usage_error "too many arguments: 'extra'"
}

@test "unknown long and short options" {
	cli -l 127.0.0.1 --foo localhost 80 "$LPORT"
	usage_error "unknown option '--foo'"
	cli -l 127.0.0.1 -z localhost 80 "$LPORT"
	usage_error "unknown option '-z'"
}

@test "an option without its value" {
	local o
	for o in buffer-size connect-timeout max-children spare stall-timeout; do
		cli -l 127.0.0.1 localhost 80 "$LPORT" "--$o"
		usage_error "option '--$o' needs a value"
	done
	cli localhost 80 "$LPORT" --listen-address
	usage_error "option '--listen-address' needs a value"
	# The short form is refused too (the contract spells only the long one).
	cli -l 127.0.0.1 localhost 80 "$LPORT" -s
	assert_equal "$status" 2
	[[ ${stderr_lines[0]} =~ ^tcpproxy:\ option\ \'(-s|--spare)\'\ needs\ a\ value$ ]] ||
	    fail "unexpected message: '${stderr_lines[0]}'"
	assert_output ''
}

@test "bad destination ports: not a number, 0, negative, too big, huge" {
	cli -l 127.0.0.1 localhost abc "$LPORT"
	usage_error "invalid destination port 'abc': not a number"
	local p
	for p in 0 -1 65536 99999999999; do
		cli -l 127.0.0.1 localhost "$p" "$LPORT"
		usage_error "invalid destination port '$p': out of range (1-65535)"
	done
	# the same after "--", where "-1" cannot be taken for an option
	cli -l 127.0.0.1 -- localhost -1 "$LPORT"
	usage_error "invalid destination port '-1': out of range (1-65535)"
}

@test "bad listen ports: not a number, 0, negative, too big, huge" {
	cli -l 127.0.0.1 localhost 80 abc
	usage_error "invalid listen port 'abc': not a number"
	local p
	for p in 0 -1 65536 99999999999; do
		cli -l 127.0.0.1 localhost 80 "$p"
		usage_error "invalid listen port '$p': out of range (1-65535)"
	done
	cli -l 127.0.0.1 -- localhost 80 -1
	usage_error "invalid listen port '-1': out of range (1-65535)"
}

@test "bad --max-children and --spare values" {
	local o
	for o in max-children spare; do
		cli -l 127.0.0.1 "--$o" x localhost 80 "$LPORT"
		usage_error "invalid --$o value 'x': not a number"
		cli -l 127.0.0.1 "--$o=0" localhost 80 "$LPORT"
		usage_error "invalid --$o value '0': out of range (1-1000000)"
		cli -l 127.0.0.1 "--$o" 1000001 localhost 80 "$LPORT"
		usage_error "invalid --$o value '1000001': out of range (1-1000000)"
	done
	# the short options get the same checks
	cli -l 127.0.0.1 -m 0 localhost 80 "$LPORT"
	usage_error "invalid --max-children value '0': out of range (1-1000000)"
	cli -l 127.0.0.1 -s x localhost 80 "$LPORT"
	usage_error "invalid --spare value 'x': not a number"
}

# bad_value OPTION VALUE RANGE-REGEX: the option is refused as out of range;
# the range may be spelt in plain numbers or with the k/m suffix.
bad_value() {
	cli -l 127.0.0.1 "--$1" "$2" localhost 80 "$LPORT"
	assert_equal "$status" 2
	assert_equal "${#stderr_lines[@]}" 2
	[[ ${stderr_lines[0]} =~ ^tcpproxy:\ invalid\ --$1\ value\ \'$2\':\ out\ of\ range\ \($3\)$ ]] ||
	    fail "unexpected message: '${stderr_lines[0]}'"
	assert_equal "${stderr_lines[1]}" \
	    "Try 'tcpproxy --help' for more information."
}

@test "bad --buffer-size values" {
	cli -l 127.0.0.1 --buffer-size x localhost 80 "$LPORT"
	usage_error "invalid --buffer-size value 'x': not a number"
	local range='(1024|1k)-(67108864|64m)'
	bad_value buffer-size 0 "$range"
	bad_value buffer-size 1023 "$range"
	bad_value buffer-size 67108865 "$range"
	bad_value buffer-size 65m "$range"
}

@test "bad --connect-timeout and --stall-timeout values" {
	local o
	for o in connect-timeout stall-timeout; do
		cli -l 127.0.0.1 "--$o" x localhost 80 "$LPORT"
		usage_error "invalid --$o value 'x': not a number"
	done
	bad_value connect-timeout 0 '0\.001-3600'
	bad_value connect-timeout 3601 '0\.001-3600'
	bad_value stall-timeout 0 '0\.001-86400'
	bad_value stall-timeout 86401 '0\.001-86400'
}

@test "--spare more than --max-children" {
	cli -l 127.0.0.1 --spare 50 --max-children 10 localhost 80 "$LPORT"
	usage_error "--spare 50 is more than --max-children 10"
	cli -l 127.0.0.1 -m 10 -s 50 localhost 80 "$LPORT"
	usage_error "--spare 50 is more than --max-children 10"
}

@test "-m 2 alone lowers the default --spare to 2; -s 3 -m 2 is refused" {
	local fd
	start_echod
	# no -s: the default of 8 spare children becomes 2
	start_proxy -t 1 -m 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
	open_conn "$PROXY_PORT"
	fd=$CONN
	conn_echo "$fd" "served with -m 2 alone"
	close_conn "$fd"
	wait_until -t 5 pair_count_is 1
	wait_until -t 5 children_are 2
	# an explicit --spare above --max-children is still refused
	cli -l 127.0.0.1 -s 3 -m 2 localhost 80 "$LPORT"
	usage_error "--spare 3 is more than --max-children 2"
	cli -l 127.0.0.1 -m 2 -s 3 localhost 80 "$LPORT"
	usage_error "--spare 3 is more than --max-children 2"
}

@test "a destination that does not resolve: exit 1" {
	cli -l 127.0.0.1 no.such.host.invalid 80 "$LPORT"
	runtime_error "cannot resolve destination 'no\.such\.host\.invalid': .+"
}

@test "a listen address that does not resolve: exit 1" {
	cli -l 'bogus..' 127.0.0.1 80 "$LPORT"
	runtime_error "cannot resolve listen address 'bogus\.\.': .+"
}

@test "a listen port already in use: exit 1" {
	start_echod
	cli -l 127.0.0.1 127.0.0.1 80 "$SERVER_PORT"
	runtime_error "cannot listen on 127\.0\.0\.1:$SERVER_PORT: Address already in use"
}

@test "the limits of each range are accepted" {
	start_echod
	start_proxy -b 1k -c 0.001 -t 0.001 -m 1 -s 1 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 1
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
	start_proxy --buffer-size=64m --connect-timeout=3600 \
	    --stall-timeout=86400 --max-children=1000000 --spare=2 \
	    127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
}
