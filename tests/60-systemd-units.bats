# Goal: the systemd units in systemd/ are what systemd 252 accepts and
# what systemd/README.md promises: systemd-analyze verify has nothing to
# say about any of them, systemd-analyze security rates each service at an
# exposure of 2.0 or less, the services' command line uses only what the
# environment file sets and is one tcpproxy accepts, and make install puts
# the units, the environment file, the binary and the man page where
# documented, with the paths filled in.  systemd is not needed to run:
# the units are checked statically.

load lib/common

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
SYSTEMD_DIR=$ROOT/systemd
SERVICES=(tcpproxy.service tcpproxy-accept@.service)
SOCKETS=(tcpproxy.socket tcpproxy-accept.socket)
ENV_FILE=tcpproxy.default

# need_analyze: skip unless systemd-analyze can check unit files offline
# (security --offline came with systemd 250).
need_analyze() {
	command -v systemd-analyze >/dev/null ||
	    skip "systemd-analyze is not installed"
	systemd-analyze --help 2>/dev/null | grep -q -- '--offline' ||
	    skip "systemd-analyze has no --offline (systemd older than 250)"
}

# render DIR: the units as make install writes them, into DIR, naming the
# binary under test (the real one: copy-path.sh is a wrapper script).
render() {
	local bin=${TCPPROXY_BIN:-$TCPPROXY} u
	mkdir -p "$1"
	for u in "${SOCKETS[@]}"; do
		cp "$SYSTEMD_DIR/$u" "$1/"
	done
	for u in "${SERVICES[@]}"; do
		sed -e "s|@BINDIR@/tcpproxy|$bin|g" -e 's|@SYSCONFDIR@|/etc|g' \
		    "$SYSTEMD_DIR/$u.in" >"$1/$u"
	done
}

# exposure UNIT-FILE: the overall exposure systemd-analyze gives it.
exposure() {
	systemd-analyze security --offline=true "$1" 2>&1 |
	    sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*$/\1/p'
}

@test "systemd-analyze verify: every unit is clean" {
	local dir=$BATS_TEST_TMPDIR/units man=--man=yes
	need_analyze
	render "$dir"
	# Documentation=man:tcpproxy(1): found where make install puts it.
	mkdir -p "$BATS_TEST_TMPDIR/man/man1"
	cp "$ROOT/src/tcpproxy.1" "$BATS_TEST_TMPDIR/man/man1/"
	command -v man >/dev/null || man=--man=no
	refute grep -n '@[A-Z]*@' "${SERVICES[@]/#/$dir/}"
	run --separate-stderr env MANPATH="$BATS_TEST_TMPDIR/man" \
	    systemd-analyze verify "$man" "${SOCKETS[@]/#/$dir/}" \
	    "${SERVICES[@]/#/$dir/}"
	assert_equal "$stderr" ''
	assert_equal "$status" 0
}

@test "systemd-analyze security: each service's exposure is 2.0 or less" {
	local dir=$BATS_TEST_TMPDIR/units u level
	need_analyze
	render "$dir"
	for u in "${SERVICES[@]}"; do
		level=$(exposure "$dir/$u")
		[ -n "$level" ] || fail "$u: no overall exposure level"
		echo "$u: $level"
		awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' ||
		    fail "$u: exposure $level is above 2.0"
	done
}

@test "ExecStart: set by the environment file, accepted by tcpproxy" {
	local u var line vars host port want
	want='ExecStart=@BINDIR@/tcpproxy --systemd $TCPPROXY_OPTIONS'
	want+=' ${TCPPROXY_DEST_HOST} ${TCPPROXY_DEST_PORT}'
	for u in "${SERVICES[@]}"; do
		line=$(grep '^ExecStart=' "$SYSTEMD_DIR/$u.in")
		assert_equal "$line" "$want"
		grep -qx 'EnvironmentFile=@SYSCONFDIR@/default/tcpproxy' \
		    "$SYSTEMD_DIR/$u.in" || fail "$u: no EnvironmentFile="
	done
	vars=$(grep -o '\$[{]*[A-Z_]*' <<<"$line" | tr -d '${')
	for var in $vars; do
		grep -q "^$var=" "$SYSTEMD_DIR/$ENV_FILE" ||
		    fail "tcpproxy.default does not set $var"
	done
	# As systemd expands it with the example file and some options: the
	# arguments parse (exit 1 for the missing sockets, not 2 for a usage
	# error).
	host=$(sed -n 's/^TCPPROXY_DEST_HOST=//p' "$SYSTEMD_DIR/$ENV_FILE")
	port=$(sed -n 's/^TCPPROXY_DEST_PORT=//p' "$SYSTEMD_DIR/$ENV_FILE")
	run --separate-stderr env -u LISTEN_FDS -u LISTEN_PID timeout 10 \
	    "$TCPPROXY" --systemd -t 30 -q "$host" "$port" </dev/null
	assert_equal "$status" 1
	[[ $stderr == 'tcpproxy: --systemd: LISTEN_FDS is not set'* ]] ||
	    fail "unexpected error: $stderr"
}

@test "make install: units, env file, binary, man page; paths filled in" {
	local d=$BATS_TEST_TMPDIR/root u
	run_make install
	for u in "${SOCKETS[@]}"; do
		cmp "$SYSTEMD_DIR/$u" "$d/usr/lib/systemd/system/$u"
	done
	for u in "${SERVICES[@]}"; do
		sed -e 's|@BINDIR@|/usr/bin|g' -e 's|@SYSCONFDIR@|/etc|g' \
		    "$SYSTEMD_DIR/$u.in" | cmp - "$d/usr/lib/systemd/system/$u"
		grep -qx 'ExecStart=/usr/bin/tcpproxy .*' \
		    "$d/usr/lib/systemd/system/$u"
		grep -qx 'EnvironmentFile=/etc/default/tcpproxy' \
		    "$d/usr/lib/systemd/system/$u"
	done
	cmp "$SYSTEMD_DIR/$ENV_FILE" "$d/etc/default/tcpproxy"
	cmp "$ROOT/src/tcpproxy" "$d/usr/bin/tcpproxy"
	[ -x "$d/usr/bin/tcpproxy" ]
	cmp "$ROOT/src/tcpproxy.1" "$d/usr/share/man/man1/tcpproxy.1"
	run find "$d" -type f
	assert_equal "${#lines[@]}" 7
}

@test "make install keeps an edited env file; uninstall leaves only it" {
	local d=$BATS_TEST_TMPDIR/root
	run_make install
	echo 'TCPPROXY_DEST_HOST=db1.example.org' >>"$d/etc/default/tcpproxy"
	cp "$d/etc/default/tcpproxy" "$BATS_TEST_TMPDIR/edited"
	run_make install
	cmp "$BATS_TEST_TMPDIR/edited" "$d/etc/default/tcpproxy"
	run_make uninstall
	run find "$d" -type f
	assert_output "$d/etc/default/tcpproxy"
	# an unedited one goes
	rm "$d/etc/default/tcpproxy"
	run_make install
	run_make uninstall
	run find "$d" -type f
	assert_output ''
}

# run_make TARGET: make TARGET from the top directory into
# $BATS_TEST_TMPDIR/root with PREFIX=/usr, as the README documents it.
# Directory variables from the environment (or an enclosing make check)
# are kept out, so that the layout is the Makefile's own.
run_make() {
	run env -u MAKEFLAGS -u MAKELEVEL -u BINDIR -u MANDIR -u SYSCONFDIR \
	    -u SYSTEMDUNITDIR make -s -C "$ROOT" "$1" \
	    DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/usr
	assert_success
	assert_output ''
}
