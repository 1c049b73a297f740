#!/bin/bash
# Make sure what the bats suite needs is installed: bats, the bats-support
# and bats-assert libraries, OpenBSD netcat (an nc that knows -N), procps
# (pgrep, ps), iproute2 (ip, for tests in network namespaces), and the
# real PROXY protocol peers: nginx, HAProxy and curl; the Prometheus
# Python client, whose parser checks --status --format=prometheus; and
# strace, which injects errors (ENFILE) into children.
# When something is missing, install the Debian packages with apt-get
# (through sudo when not root).  Silent when everything is there.
# Arguments name more commands that a target needs, each installed from
# the package of the same name (make valgrind: valgrind; make fuzz:
# clang).

PKGS=(bats bats-assert bats-support netcat-openbsd procps iproute2
	nginx-light haproxy curl python3-prometheus-client strace "$@")
EXTRA=("$@")

missing() {
	command -v bats >/dev/null 2>&1 || echo bats
	[ -f /usr/lib/bats/bats-support/load.bash ] || echo bats-support
	[ -f /usr/lib/bats/bats-assert/load.bash ] || echo bats-assert
	# OpenBSD nc lists "-N  Shutdown the network socket after EOF on stdin"
	# in its help; traditional and busybox nc do not have -N.
	nc -h 2>&1 | grep -q '^[[:space:]]*-N[[:space:]]' || echo netcat-openbsd
	command -v pgrep >/dev/null 2>&1 || echo procps
	command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || echo iproute2
	[ -x /usr/sbin/nginx ] || echo nginx-light
	[ -x /usr/sbin/haproxy ] || echo haproxy
	command -v curl >/dev/null 2>&1 || echo curl
	/usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null ||
	    echo python3-prometheus-client
	command -v strace >/dev/null 2>&1 || echo strace
	for extra in "${EXTRA[@]}"; do
		command -v "$extra" >/dev/null 2>&1 || echo "$extra"
	done
}

fail() {
	echo "tests/deps.sh: $*" >&2
	echo "tests/deps.sh: install these packages: ${PKGS[*]}" >&2
	exit 1
}

apt() {
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

need=$(missing)
[ -z "$need" ] && exit 0
echo "tests/deps.sh: missing: ${need//$'\n'/ }" >&2

command -v apt-get >/dev/null 2>&1 || fail "no apt-get on this machine"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || fail "not root and no sudo"
	SUDO=sudo
fi

# A fresh container has empty package lists: update before installing.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	apt update -q || fail "apt-get update failed"
fi
if ! apt install -y -q "${PKGS[@]}"; then
	apt update -q || fail "apt-get update failed"
	apt install -y -q "${PKGS[@]}" || fail "apt-get install failed"
fi

need=$(missing)
[ -z "$need" ] || fail "still missing after install: ${need//$'\n'/ }"
exit 0
