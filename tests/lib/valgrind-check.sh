#!/bin/sh
# valgrind-check.sh DIR: after make valgrind's bats run, read every
# memcheck report tests/lib/valgrind.sh left under DIR.  A report fails
# if it counts an error (a definite or indirect leak is one), or if its
# process died of a signal that means a bug; each such report is printed
# whole, and the exit status is 1.  A report without a summary is from a
# process killed by SIGKILL (or still running): counted, not judged.
dir=${1:?usage: valgrind-check.sh DIR}
bad=0 total=0 open=0
for f in "$dir"/run.*/*.log; do
	[ -e "$f" ] || continue
	total=$((total + 1))
	if ! grep -q 'ERROR SUMMARY: ' "$f"; then
		open=$((open + 1))
		continue
	fi
	if grep -qE 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]|default action of signal [0-9]+ \(SIG(SEGV|BUS|ILL|FPE|ABRT|SYS)\)' "$f"; then
		bad=$((bad + 1))
		echo "--- $f ---"
		cat "$f"
	fi
done
echo "valgrind: $total reports, $bad with errors, $open without a summary"
[ "$total" -gt 0 ] && [ "$bad" -eq 0 ]
