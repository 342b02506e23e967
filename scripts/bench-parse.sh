#!/usr/bin/env bash
# bench-parse.sh — how fast is `logferry parse` (decompress + split + parse + encode) next
# to `gzip -dc` of the same object, and is its memory flat in the object's size?
#
#   scripts/bench-parse.sh                      # RUNS=5 SIZE=1300MB FORMAT=alb
#   FORMAT=all SIZE=400MB scripts/bench-parse.sh # every format (alb classic nlb conn)
#   BASELINE=/tmp/logferry-main scripts/bench-parse.sh  # also time another build, interleaved
#
# Generates (once) testdata/generated/<format>-<size>.log.gz with `logferry generate`
# (SIZE is uncompressed) and a 10MB one, builds bin/logferry, and times both commands
# pinned to one core (taskset -c 0), so single-threaded work is compared with
# single-threaded work. The runs are interleaved — gzip -dc, parse, parse on all cores,
# then again — so that load from other processes on a shared machine falls on both
# sides alike; each run's parse/gzip ratio is taken, and the medians are reported, for
# wall time and for CPU time (user+sys, steadier than wall time when the core is shared).
# It also times shared/lines alone on the object (decompression and line splitting, the
# same code parse starts with): the floor under parse, so the budget left for parsing and
# encoding within 1.3x is plain to see.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
SIZE=${SIZE:-1300MB}
FORMAT=${FORMAT:-alb}
GEN=testdata/generated
BIN=bin/logferry
[ "$FORMAT" = all ] && FORMAT="alb classic nlb conn"

mkdir -p "$GEN" bin
go build -o "$BIN" ./cmd/logferry
# The floor under parse: the same decompression and line splitting, nothing parsed.
go test -c -o bin/lines.test ./shared/lines

PIN=()
# CORE picks the core (default 0), so that two runs on one machine need not share one.
if command -v taskset >/dev/null; then PIN=(taskset -c "${CORE:-0}"); fi

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# timed OUT CMD...: runs CMD with stdout to /dev/null, appends "wall cpu" to OUT.
timed() {
	local out=$1 t
	shift
	t=$(mktemp)
	/usr/bin/time -o "$t" -f '%e %U %S' "$@" >/dev/null 2>>"$GEN/bench-parse.stderr"
	awk '{printf "%s %.2f\n", $1, $2 + $3}' "$t" >>"$out"
	rm -f "$t"
}

for format in $FORMAT; do
	big=$GEN/$format-$SIZE.log.gz
	small=$GEN/$format-10MB.log.gz
	[ -s "$big" ] || "$BIN" generate -format "$format" -size "$SIZE" -o "$big"
	[ -s "$small" ] || "$BIN" generate -format "$format" -size 10MB -o "$small"
	gz_bytes=$(stat -c %s "$big")
	plain_bytes=$(gzip -dc "$big" | wc -c)
	echo "== $format: $big — $((gz_bytes / 1000000)) MB gzip, $((plain_bytes / 1000000)) MB of log lines, $RUNS interleaved runs"

	g=$(mktemp) p=$(mktemp) m=$(mktemp) o=$(mktemp) f=$(mktemp)
	for _ in $(seq "$RUNS"); do
		timed "$g" "${PIN[@]}" gzip -dc "$big"
		timed "$f" env LINES_BENCH_FILE="$big" "${PIN[@]}" bin/lines.test -test.run XXX -test.bench BenchmarkReaderFile -test.benchtime 1x
		timed "$p" "${PIN[@]}" "$BIN" parse "$big"
		timed "$m" "$BIN" parse "$big"
		if [ -n "${BASELINE:-}" ]; then timed "$o" "${PIN[@]}" "$BASELINE" parse "$big"; fi
	done
	if [ -n "${BASELINE:-}" ]; then
		paste -d' ' "$o" "$g" | awk '{print $1 / $3, $2 / $4}' >"$o.r"
		echo "baseline $BASELINE parse / gzip -dc, one core: $(cut -d' ' -f1 "$o.r" | median)x wall, $(cut -d' ' -f2 "$o.r" | median)x CPU"
		rm -f "$o.r"
	fi
	t_gzip=$(cut -d' ' -f1 "$g" | median)
	t_parse=$(cut -d' ' -f1 "$p" | median)
	t_multi=$(cut -d' ' -f1 "$m" | median)
	r_wall=$(paste -d' ' "$p" "$g" | awk '{print $1 / $3}' | median)
	r_cpu=$(paste -d' ' "$p" "$g" | awk '{print $2 / $4}' | median)
	r_floor=$(paste -d' ' "$f" "$g" | awk '{print $2 / $4}' | median)
	rm -f "$g" "$p" "$m" "$o" "$f"

	rss() { /usr/bin/time -f %M "${PIN[@]}" "$BIN" parse "$1" 2>&1 >/dev/null | tail -1; }
	rss_small=$(rss "$small")
	rss_big=$(rss "$big")

	awk -v g="$t_gzip" -v p="$t_parse" -v m="$t_multi" -v rw="$r_wall" -v rc="$r_cpu" -v b="$plain_bytes" \
		-v s="$rss_small" -v l="$rss_big" -v n="$(nproc)" -v fl="$r_floor" 'BEGIN {
		printf "logferry parse / gzip -dc, one core: %.2fx wall, %.2fx CPU (medians of per-run ratios; target <= 1.3x)\n", rw, rc
		printf "floor: decompression and line splitting alone (shared/lines) / gzip -dc, CPU: %.2fx\n", fl
		printf "median wall: gzip -dc %.2fs, logferry parse %.2fs; on all %d cores %.2fs (%.2fx gzip -dc)\n", g, p, n, m, m / g
		printf "throughput: %.0f MB/s of log lines through parse, %.0f MB/s through gzip -dc\n", b / p / 1e6, b / g / 1e6
		printf "peak RSS of logferry parse: %.1f MB on a 10 MB object, %.1f MB on a %.0f MB object\n", s / 1024, l / 1024, b / 1e6
	}'
done
