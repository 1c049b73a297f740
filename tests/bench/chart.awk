# tests/bench/chart.awk: one self-contained SVG of a run, on stdout: for
# each workload, a group of horizontal bars, one per proxy, each the
# proxy's median ÷ direct's median (for latency direct's ÷ the proxy's),
# so that higher is better everywhere and 1.0 is "no proxy".
#
# Input files, tab-separated (awk -F'\t'), in this order:
#   meta.tsv     SECTION KEY VALUE
#   samples.tsv  PHASE METRIC CANDIDATE REP VALUE
# Exit status 3, and no output, when no workload has a single bar.
# Plain POSIX awk (Debian's mawk).

FILENAME == ARGV[1] {
	M[$1 "." $2] = $3
	next
}

FILENAME == ARGV[2] {
	k = $2 SUBSEP $3
	vals[k] = (k in vals) ? vals[k] " " $5 : $5
	next
}

function xml(s) {
	gsub(/&/, "\\&amp;", s)
	gsub(/</, "\\&lt;", s)
	gsub(/>/, "\\&gt;", s)
	gsub(/"/, "\\&quot;", s)
	gsub(/'/, "\\&apos;", s)
	return s
}

# x(V): the horizontal position of ratio V.
function x(v) {
	return L + v / xmax * PW
}

function out(s) {
	svg = svg s "\n"
}

# A workload: metric, label, 1 if lower is better (plotted inverted).
function workload(m, label, inv) {
	nw++
	wm[nw] = m; wl[nw] = label; winv[nw] = inv
}

# Colours by name, so that a candidate keeps its colour from run to run
# (Okabe-Ito palette: tells apart with the common colour blindnesses).
function colour(c) {
	if (c in fixed)
		return fixed[c]
	if (!(c in extra))
		extra[c] = spare[(nextra++ % 3) + 1]
	return extra[c]
}

END {
	fixed["tcpproxy"] = "#0072B2"
	fixed["tcpproxy-reuse"] = "#56B4E9"
	fixed["haproxy"] = "#E69F00"
	fixed["socat"] = "#009E73"
	fixed["socket-proxyd"] = "#CC79A7"
	spare[1] = "#D55E00"; spare[2] = "#000000"; spare[3] = "#999999"

	workload("conn_per_s", "connections/s (echo, 32 in flight)", 0)
	workload("thr1_gbps", "one stream, iperf3 (thr1)", 0)
	workload("redis_rps", "redis SET+GET, 50 clients", 0)
	workload("redis_p16_rps", "redis SET+GET, 50 clients, -P 16", 0)
	workload("ab_rps", "ab, 1 KB, a new connection each", 0)
	workload("curl_mbps", "curl, " M["config.curl_bytes"] / 1e6 \
	    " MB download", 0)
	workload("lat_p50_us", "latency p50 (direct ÷ candidate)", 1)

	n = split(M["run.candidates"], all, " ")
	np = 0
	for (i = 1; i <= n; i++)
		if (all[i] != "direct")
			prox[++np] = all[i]

	# The bars: r[w, p] for each workload w and proxy p with both medians.
	rmax = 1.1
	ng = 0
	for (w = 1; w <= nw; w++) {
		d = median(wm[w], "direct")
		if (d == "" || d == 0)
			continue
		nb = 0
		for (p = 1; p <= np; p++) {
			v = median(wm[w], prox[p])
			if (v == "" || v == 0)
				continue
			r[w, p] = winv[w] ? d / v : v / d
			tip[w, p] = prox[p] ": " v " vs direct " d
			if (r[w, p] > rmax)
				rmax = r[w, p]
			nb++
		}
		if (nb > 0)
			group[++ng] = w
	}
	if (ng == 0)
		exit 3

	# Layout, in px.
	W = 780; L = 140; R = 70; PW = W - L - R
	BH = 14; BG = 4; GH = 20; GG = 12
	xmax = rmax
	raw = xmax / 6
	mag = 1
	while (mag > raw)
		mag /= 10
	while (mag * 10 <= raw)
		mag *= 10
	norm = raw / mag
	step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : \
	    norm <= 5 ? 5 : 10) * mag

	y0 = 104
	y = y0
	for (g = 1; g <= ng; g++) {
		w = group[g]
		gy[g] = y
		y += GH
		for (p = 1; p <= np; p++)
			if ((w, p) in r)
				y += BH + BG
		y += GG
	}
	yend = y - GG + 4
	H = yend + 40

	title = "tcpproxy benchmark, " M["run.date"] " (" M["run.profile"] \
	    " profile)"
	sub1 = M["machine.cores"] " cores, " M["machine.model"]
	sub2 = "higher is better; ratio to no proxy (direct), medians"

	out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
	out(sprintf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" " \
	    "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" " \
	    "font-size=\"12\">", W, H, W, H))
	out("<title>" xml(title) "</title>")
	out("<desc>" xml(sub1 "; " sub2 ". Written by tests/bench/chart.awk " \
	    "from the run `" M["run.command"] "`.") "</desc>")
	out(sprintf("<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>", W, H))
	out(sprintf("<text x=\"%d\" y=\"24\" font-size=\"16\" " \
	    "font-weight=\"bold\">%s</text>", 12, xml(title)))
	out(sprintf("<text x=\"%d\" y=\"42\" fill=\"#333333\">%s</text>", 12,
	    xml(sub1)))
	out(sprintf("<text x=\"%d\" y=\"58\" fill=\"#333333\">%s</text>", 12,
	    xml(sub2)))

	# Legend.
	lx = 12
	for (p = 1; p <= np; p++) {
		out(sprintf("<rect x=\"%d\" y=\"68\" width=\"12\" height=\"12\" " \
		    "fill=\"%s\"/>", lx, colour(prox[p])))
		out(sprintf("<text x=\"%d\" y=\"78\">%s</text>", lx + 16,
		    xml(prox[p])))
		lx += 16 + 7 * length(prox[p]) + 18
	}

	# Grid and axis.
	for (k = 0; k * step <= xmax + 1e-9; k++) {
		t = k * step
		out(sprintf("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
		    "stroke=\"#dddddd\"/>", x(t), y0 - 4, x(t), yend))
		out(sprintf("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" " \
		    "fill=\"#555555\">%s</text>", x(t), yend + 14,
		    xml(sprintf("%g×", t))))
	}
	out(sprintf("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" " \
	    "stroke=\"#555555\"/>", L, yend, L + PW, yend))
	out(sprintf("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" " \
	    "fill=\"#555555\">%s</text>", L + PW / 2, yend + 30,
	    xml("candidate ÷ direct")))

	# The groups.
	for (g = 1; g <= ng; g++) {
		w = group[g]
		y = gy[g]
		out(sprintf("<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s" \
		    "</text>", 12, y + 14, xml(wl[w])))
		y += GH
		for (p = 1; p <= np; p++) {
			if (!((w, p) in r))
				continue
			out(sprintf("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">" \
			    "%s</text>", L - 6, y + BH - 3, xml(prox[p])))
			out(sprintf("<rect x=\"%d\" y=\"%d\" width=\"%.1f\" " \
			    "height=\"%d\" fill=\"%s\"><title>%s</title></rect>",
			    L, y, x(r[w, p]) - L, BH, colour(prox[p]),
			    xml(tip[w, p])))
			out(sprintf("<text x=\"%.1f\" y=\"%d\">%s</text>",
			    x(r[w, p]) + 4, y + BH - 3,
			    xml(sprintf("%.2f×", r[w, p]))))
			y += BH + BG
		}
	}

	# No proxy: 1.0, over the bars.
	out(sprintf("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" " \
	    "stroke=\"#cc0000\" stroke-width=\"1.5\" " \
	    "stroke-dasharray=\"5,3\"/>", x(1), y0 - 8, x(1), yend))
	out(sprintf("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" " \
	    "fill=\"#cc0000\">%s</text>", x(1), y0 - 12,
	    xml("no proxy (1.0)")))
	out("</svg>")
	printf "%s", svg
}
