#!/bin/sh
# run.sh SECS FUZZER...: run each libFuzzer target for SECS seconds,
# starting from its seed corpus (corpus/NAME, NAME being the target without
# "_fuzz") and its dictionary (NAME.dict) if it has one.  What a run adds
# to the corpus, and any crash, go to a directory of its own under
# ${TMPDIR:-/tmp}, so the tree is never written.  One line per target:
#   fuzz NAME runs=N secs=S corpus=N result=ok
# and on a finding, result=FAIL, the input as hex, and exit status 1.
set -u
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tcpproxy-fuzz.XXXXXX")
status=0
for bin in "$@"; do
	name=$(basename "$bin" _fuzz)
	mkdir -p "$work/$name"
	set -- -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/$name-"
	[ -f "$here/$name.dict" ] && set -- "$@" -dict="$here/$name.dict"
	case $name in
	# They end the program on bad input, and glibc keeps what setenv()
	# was given: both stay allocated by design (see their comments).
	cli | activate) leaks=0 ;;
	*) leaks=1 ;;
	esac
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=$leaks \
		"$bin" "$@" -detect_leaks=$leaks "$work/$name" \
		"$here/corpus/$name" >"$work/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$work/$name.log" | head -n 1)
	n=$(ls "$work/$name" | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name runs=${runs:-0} secs=$secs corpus=$n result=ok"
		continue
	fi
	status=1
	echo "fuzz $name runs=${runs:-0} secs=$secs result=FAIL (exit $rc)"
	grep -E 'ERROR|SUMMARY|^ *#[0-9]+ .* in ' "$work/$name.log" | head -20
	for c in "$work/$name"-*; do
		[ -f "$c" ] || continue
		echo "input $c:"
		od -An -tx1 -c "$c" | head -20
	done
done
if [ "$status" -eq 0 ]; then
	rm -rf "$work"
else
	echo "logs and inputs kept in $work" >&2
fi
exit "$status"
