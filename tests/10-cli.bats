# Goal: the command line does what the contract says: --help and --version
# answer on stdout and exit 0; every bad input is refused before anything
# starts, with exit 2 (usage) or 1 (runtime), one first line on stderr that
# names the problem and the value, and never a crash; the limits of each
# range are accepted.  The man page and --help document the same options,
# and the page formats without a warning.

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

@test "control characters in what the user typed are shown as '?'" {
	cli -l 127.0.0.1 localhost $'8\e[31m0' "$LPORT"
	usage_error "invalid destination port '8?[31m0': not a number"
	cli --spare $'\e]0;title\a' localhost 80 "$LPORT"
	usage_error "invalid --spare value '?]0;title?': not a number"
	cli $'--b\x01ad' localhost 80 "$LPORT"
	usage_error "unknown option '--b?ad'"
	cli -l 127.0.0.1 localhost 80 "$LPORT" $'extra\r'
	usage_error "too many arguments: 'extra?'"
}

@test "bad --idle-timeout values" {
	cli --idle-timeout 0 localhost 80 "$LPORT"
	usage_error "invalid --idle-timeout value '0': out of range (0.001-31536000)"
	cli --idle-timeout 1x localhost 80 "$LPORT"
	usage_error "invalid --idle-timeout value '1x': not a number"
	cli --idle-timeout 31536000.001 localhost 80 "$LPORT"
	usage_error "invalid --idle-timeout value '31536000.001': out of range (0.001-31536000)"
}

@test "bad --max-per-source values" {
	invalid_value max-per-source 0 'out of range (1-1000000)'
	invalid_value max-per-source 1000001 'out of range (1-1000000)'
	invalid_value max-per-source x 'not a number'
}

@test "bad --keepalive values: each of the three named" {
	cli --keepalive=0 localhost 80 "$LPORT"
	usage_error "invalid --keepalive IDLE '0': out of range (1-32767)"
	cli --keepalive=5,x localhost 80 "$LPORT"
	usage_error "invalid --keepalive INTVL 'x': not a number"
	cli --keepalive=5,1,128 localhost 80 "$LPORT"
	usage_error "invalid --keepalive CNT '128': out of range (1-127)"
	cli --keepalive=5,,3 localhost 80 "$LPORT"
	usage_error "invalid --keepalive INTVL '': not a number"
	cli --keepalive=1,2,3,4 localhost 80 "$LPORT"
	usage_error "--keepalive takes at most three values: '1,2,3,4'"
}

@test "bad --allow and --deny values: what is wrong with each" {
	cli --allow 10.1.2.3/8 localhost 80 "$LPORT"
	usage_error "invalid --allow value '10.1.2.3/8': bits set after the prefix length"
	cli --deny 10.0.0.0/33 localhost 80 "$LPORT"
	usage_error "invalid --deny value '10.0.0.0/33': prefix length not in 0-32"
	cli --deny ::1/129 localhost 80 "$LPORT"
	usage_error "invalid --deny value '::1/129': prefix length not in 0-128"
	cli --allow example.org localhost 80 "$LPORT"
	usage_error "invalid --allow value 'example.org': not an IPv4 or IPv6 address"
	cli --allow '' localhost 80 "$LPORT"
	usage_error "invalid --allow value '': not an IPv4 or IPv6 address"
	cli --deny 10.0.0.0/ localhost 80 "$LPORT"
	usage_error "invalid --deny value '10.0.0.0/': prefix length not in 0-32"
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

# invalid_value OPTION VALUE WHY: --OPTION VALUE is a usage error that
# says WHY.
invalid_value() {
	cli -l 127.0.0.1 "--$1" "$2" localhost 80 "$LPORT"
	usage_error "invalid --$1 value '$2': $3"
}

@test "bad --max-children and --spare values" {
	local o
	for o in max-children spare; do
		invalid_value "$o" x 'not a number'
		cli -l 127.0.0.1 "--$o=0" localhost 80 "$LPORT"
		usage_error "invalid --$o value '0': out of range (1-1000000)"
		invalid_value "$o" 1000001 'out of range (1-1000000)'
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
	invalid_value buffer-size x 'not a number'
	local range='(1024|1k)-(67108864|64m)'
	bad_value buffer-size 0 "$range"
	bad_value buffer-size 1023 "$range"
	bad_value buffer-size 67108865 "$range"
	bad_value buffer-size 65m "$range"
}

@test "bad --connect-timeout and --stall-timeout values" {
	local o
	for o in connect-timeout stall-timeout; do
		invalid_value "$o" x 'not a number'
	done
	bad_value connect-timeout 0 '0\.001-3600'
	bad_value connect-timeout 3601 '0\.001-3600'
	bad_value stall-timeout 0 '0\.001-86400'
	bad_value stall-timeout 86401 '0\.001-86400'
}

@test "--status=abc is a usage error like any other: the hint line follows" {
	cli --status=abc
	usage_error "--status: invalid process ID 'abc'"
}

@test "bad values of --drain-timeout, --pair-max-seconds, --pair-max-bytes" {
	invalid_value drain-timeout -1 'out of range (0-86400)'
	invalid_value drain-timeout abc 'not a number'
	invalid_value drain-timeout 86401 'out of range (0-86400)'
	invalid_value drain-timeout 0.0001 'out of range (0-86400)'
	invalid_value pair-max-seconds 0 'out of range (0.001-31536000)'
	invalid_value pair-max-seconds abc 'not a number'
	invalid_value pair-max-seconds 31536001 'out of range (0.001-31536000)'
	invalid_value pair-max-bytes 0 'out of range (1-1048576g)'
	invalid_value pair-max-bytes 5x 'not a number'
	invalid_value pair-max-bytes 2000000g 'out of range (1-1048576g)'
	cli -l 127.0.0.1 --drain-timeout=x localhost 80 "$LPORT"
	usage_error "invalid --drain-timeout value 'x': not a number"
	local o
	for o in drain-timeout pair-max-seconds pair-max-bytes; do
		cli -l 127.0.0.1 localhost 80 "$LPORT" "--$o"
		usage_error "option '--$o' needs a value"
	done
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

@test "the limits of --drain-timeout, --pair-max-seconds, --pair-max-bytes are accepted" {
	start_echod
	start_proxy --drain-timeout 86400 --pair-max-seconds 31536000 \
	    --pair-max-bytes 1048576g -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
	stop_proxy
	assert_equal "$PROXY_STATUS" 0
	start_proxy --drain-timeout=0 --pair-max-seconds=0.001 \
	    --pair-max-bytes=1 -s 2 127.0.0.1 "$SERVER_PORT"
	wait_until -t 5 children_are 2
}

# help_options: "short long" per option of --help ("-" for no short one).
help_options() {
	local line
	"$TCPPROXY" --help | while IFS= read -r line; do
		[[ $line =~ ^\ \ (-([A-Za-z]),\ )?\ *--([a-z][a-z0-9-]*) ]] ||
		    continue
		echo "${BASH_REMATCH[2]:--} ${BASH_REMATCH[3]}"
	done
}

# mdoc_flags FROM TO FILE: the flags named by "Fl" between the line
# matching FROM and the next line matching TO, one a line: "--name" for
# "Fl Fl name", "-x" for each letter of "Fl xyz".
mdoc_flags() {
	awk -v from="$1" -v to="$2" '
	    on && $0 ~ to { exit }
	    on && /^\.(It|Op|Fl) / {
		line = $0
		sub(/^\./, "", line)
		n = split(line, w, " ")
		for (i = 1; i < n; i++) {
			if (w[i] != "Fl")
				continue
			if (w[i + 1] == "Fl") {
				print "--" w[i + 2]
				i += 2
			} else if (w[i + 1] ~ /^[A-Za-z]+$/) {
				k = split(w[i + 1], ch, "")
				for (j = 1; j <= k; j++)
					print "-" ch[j]
				i++
			}
		}
	    }
	    $0 ~ from { on = 1 }' "$3"
}

@test "the man page and --help document the same options" {
	local page=$BATS_TEST_DIRNAME/../src/tcpproxy.1 help man synopsis
	local short long missing=
	help=$(help_options | while read -r short long; do
		[ "$short" = - ] || echo "-$short"
		echo "--$long"
	done | sort -u)
	[ "$(wc -l <<<"$help")" -ge 20 ] || fail "--help parsed badly: $help"
	man=$(mdoc_flags '^The options are:' '^\.El' "$page" | sort -u)
	[ "$(wc -l <<<"$man")" -ge 20 ] || fail "man page parsed badly: $man"
	assert_equal "$man" "$help"
	# the synopsis names each option, by its short form where it has one
	synopsis=$(mdoc_flags '^\.Sh SYNOPSIS' '^\.Sh ' "$page" | sort -u)
	while read -r short long; do
		if [ "$short" = - ]; then
			grep -qx -- "--$long" <<<"$synopsis" ||
			    missing+=" --$long"
		else
			grep -qx -- "-$short" <<<"$synopsis" ||
			    missing+=" -$short"
		fi
	done < <(help_options)
	[ -z "$missing" ] || fail "not in the SYNOPSIS:$missing"
}

@test "the man page formats without a warning" {
	command -v man >/dev/null || skip "man is missing"
	local page=$BATS_TEST_DIRNAME/../src/tcpproxy.1
	run --separate-stderr man --warnings -l "$page"
	assert_success
	assert_equal "$stderr" ''
	assert_output --partial 'tcpproxy'
}
