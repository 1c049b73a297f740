#!/bin/bash
# tests/reliability.sh: run the reliability suite (make reliability) and
# write its figures into README.md, between the "reliability:begin" and
# "reliability:end" markers of its "Reliability" section.
#
# Usage: tests/reliability.sh [--no-readme]
#   SOAK_SECS  the soak's length (default 300)
#   FUZZ_SECS  each fuzzer's time (default 60)
#
# What it runs, in this order, against the normal build:
#   - the fault, hostile-peer and load files of the bats suite
#     (86-faults, 87-hostile, 88-scale), plus the peer faults already in
#     70-pair-log and the signal storms of 73-signals-drain;
#   - every libFuzzer target for FUZZ_SECS (tests/fuzz/run.sh);
#   - the soak (tests/soak.sh) for SOAK_SECS.
# The README is only rewritten when all of it passed: a failure prints
# what failed and exits 1, leaving the README as it was.  Figures are
# what this machine did on this run; the section names the machine and
# the commit.
set -u
cd "$(dirname "$0")/.." || exit 1

SOAK_SECS=${SOAK_SECS:-300}
FUZZ_SECS=${FUZZ_SECS:-60}
write=1
[ "${1:-}" = --no-readme ] && write=0

say() { printf 'reliability: %s\n' "$*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tcpproxy-reliability.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
failed=0

make -s all progs || exit 1
tests/deps.sh || exit 1

# ---- faults, hostile peers, load: TAP counts and the scale figures ----
files=(tests/70-pair-log.bats tests/73-signals-drain.bats
	tests/86-faults.bats tests/87-hostile.bats tests/88-scale.bats)
say "bats: ${files[*]}"
t0=$SECONDS
TCPPROXY_FIGURES=$work/figures TCPPROXY=$PWD/src/tcpproxy \
	bats --tap "${files[@]}" >"$work/bats.tap" 2>&1
bats_rc=$?
bats_secs=$((SECONDS - t0))
n_ok=$(grep -c '^ok ' "$work/bats.tap")
n_skip=$(grep -c '^ok .* # skip' "$work/bats.tap")
n_fail=$(grep -c '^not ok ' "$work/bats.tap")
if [ "$bats_rc" -ne 0 ] || [ "$n_fail" -ne 0 ]; then
	grep -A 15 '^not ok ' "$work/bats.tap" | head -n 60 >&2
	say "bats: $n_fail failed"
	failed=1
fi

# ---- fuzzing ----
say "fuzz: ${FUZZ_SECS}s per target"
tests/deps.sh clang || exit 1
make -s fuzz-bins >/dev/null || exit 1
tests/fuzz/run.sh "$FUZZ_SECS" tests/fuzz/*_fuzz >"$work/fuzz.out"
if [ $? -ne 0 ]; then
	cat "$work/fuzz.out" >&2
	failed=1
fi
fuzz_lines=$(grep '^fuzz ' "$work/fuzz.out")

# ---- soak ----
say "soak: ${SOAK_SECS}s"
SOAK_SECS=$SOAK_SECS tests/soak.sh >"$work/soak.out" 2>"$work/soak.err"
if [ $? -ne 0 ]; then
	tail -n 30 "$work/soak.err" >&2
	cat "$work/soak.out" >&2
	failed=1
fi
soak_line=$(grep '^soak secs=' "$work/soak.out" | tail -n 1)

if [ "$failed" -ne 0 ]; then
	say "FAILED: README.md left as it was"
	exit 1
fi

# kv LINE KEY: the value of KEY=... in LINE.
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
# thousands N: 1234567 as 1,234,567 (without a locale that knows it).
thousands() { sed ':a; s/\B[0-9]\{3\}\>/,&/; ta' <<<"$1"; }

section=$work/section.md
{
	echo "Figures from \`make reliability\` on $(date -u +%Y-%m-%d), commit" \
	    "\`$(git rev-parse --short HEAD 2>/dev/null || echo none)\`, on" \
	    "$(nproc) cores, Linux $(uname -r | cut -d- -f1); regenerate" \
	    "them with that one command."
	echo
	echo "| what | result |"
	echo "|---|---|"
	while read -r line; do
		[ -n "$line" ] || continue
		echo "| $(thousands "$(kv "$line" pairs)") pairs" \
		    "at once, \`--pairs-per-child $(kv "$line" pairs_per_child)\`" \
		    "| all set up and echoed in $(kv "$line" setup_ms) ms, all" \
		    "echoed again while every one was open; after the close," \
		    "every pair logged and counted, the pool back to its spares" \
		    "in $(kv "$line" cleared_ms) ms, no zombie, no slot and" \
		    "no descriptor left |"
	done <"$work/figures"
	echo "| faults and hostile peers (\`70-pair-log\`, \`73-signals-drain\`," \
	    "\`86-faults\`, \`87-hostile\`, \`88-scale\`) | $n_ok tests passed" \
	    "($n_skip skipped), none failed, in ${bats_secs} s |"
	if [ -n "$fuzz_lines" ]; then
		total=0
		parts=
		while read -r line; do
			runs=$(kv "$line" runs)
			total=$((total + runs))
			parts="$parts${parts:+, }\`$(awk '{ print $2 }' \
			    <<<"$line")\` $(thousands "$runs")"
		done <<<"$fuzz_lines"
		echo "| inputs fuzzed, ${FUZZ_SECS} s per target | $(thousands \
		    "$total") executions ($parts), no finding |"
	fi
	if [ -n "$soak_line" ]; then
		echo "| soak, $(kv "$soak_line" secs) s (two masters, one" \
		    "pair per child then \`--pairs-per-child 0\`) |" \
		    "$(thousands "$(kv "$soak_line" pairs)") pairs, every one" \
		    "logged and counted; $(thousands \
		    "$(kv "$soak_line" bytes_verified)") bytes verified end to" \
		    "end; $(kv "$soak_line" reloads) reloads," \
		    "$(kv "$soak_line" resets) client resets," \
		    "$(kv "$soak_line" stalls_aborted) stalled pairs aborted" \
		    "by the stall rule |"
		echo "| the master across the soak | RSS" \
		    "$(kv "$soak_line" master_rss_start) KiB →" \
		    "$(kv "$soak_line" master_rss_end) KiB, descriptors" \
		    "$(kv "$soak_line" master_fds_start) →" \
		    "$(kv "$soak_line" master_fds_end), no zombie |"
	fi
} >"$section"

cat "$section"
[ "$write" -eq 1 ] || exit 0
if ! grep -q '^<!-- reliability:begin -->$' README.md ||
    ! grep -q '^<!-- reliability:end -->$' README.md; then
	say "README.md has no reliability markers: not written"
	exit 1
fi
awk -v sec="$section" '
	/^<!-- reliability:end -->$/ { skip = 0 }
	!skip { print }
	/^<!-- reliability:begin -->$/ {
		while ((getline l < sec) > 0)
			print l
		skip = 1
	}
' README.md >"$work/README.md" && cat "$work/README.md" >README.md
say "README.md: Reliability section written"
