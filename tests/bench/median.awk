# tests/bench/median.awk: the medians of a run's samples, shared by
# report.awk and chart.awk (awk -f median.awk -f report.awk ...): each
# fills vals[METRIC SUBSEP CANDIDATE] with the values, space-separated.
# Plain POSIX awk (Debian's mawk): no asort.

# Sort the n numbers of a[1..n] in place (insertion sort: n is small).
function sortn(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}

# The median of metric m for candidate c, or "" without samples.
function median(m, c,    a, n, i) {
	if (!((m SUBSEP c) in vals))
		return ""
	n = split(vals[m SUBSEP c], a, " ")
	for (i = 1; i <= n; i++)
		a[i] += 0
	sortn(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
