#!/usr/bin/env bash
# bench-parse.sh — how fast is `logferry parse` (decompress + split + parse + encode) next
# to `gzip -dc` of the same object, and is its memory flat in the object's size?
#
#   scripts/bench-parse.sh            # RUNS=5 SIZE=1300MB FORMAT=alb by default
#
# Generates (once) testdata/generated/<format>-<size>.log.gz — SIZE is uncompressed; the
# default 1300MB gives a gzip file of over 200 MB — and a 10MB one, builds bin/logferry,
# and times both commands pinned to one core (taskset -c 0), so the comparison is
# single-threaded work against single-threaded work. Uses hyperfine when installed (and
# installs it with apt-get when root), else repeated /usr/bin/time runs.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
SIZE=${SIZE:-1300MB}
FORMAT=${FORMAT:-alb}
GEN=testdata/generated
BIG=$GEN/$FORMAT-$SIZE.log.gz
SMALL=$GEN/$FORMAT-10MB.log.gz
BIN=bin/logferry

mkdir -p "$GEN" bin
go build -o "$BIN" ./cmd/logferry
[ -s "$BIG" ] || "$BIN" generate -format "$FORMAT" -size "$SIZE" -o "$BIG"
[ -s "$SMALL" ] || "$BIN" generate -format "$FORMAT" -size 10MB -o "$SMALL"

PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c 0); fi
if ! command -v hyperfine >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	apt-get install -y -qq hyperfine >/dev/null 2>&1 || echo "(hyperfine not installable; using /usr/bin/time)" >&2
fi

gz_bytes=$(stat -c %s "$BIG")
plain_bytes=$(gzip -dc "$BIG" | wc -c)
echo "input: $BIG — $((gz_bytes / 1000000)) MB gzip, $((plain_bytes / 1000000)) MB of log lines"

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

if command -v hyperfine >/dev/null; then
	csv=$GEN/bench-parse.csv
	hyperfine --style basic --warmup 1 --runs "$RUNS" --export-csv "$csv" \
		-n "gzip -dc" "${PIN[*]} gzip -dc $BIG" \
		-n "logferry parse" "${PIN[*]} $BIN parse $BIG" \
		-n "logferry parse (all cores)" "$BIN parse $BIG"
	t_gzip=$(awk -F, '$1=="gzip -dc" {print $4}' "$csv") # median
	t_parse=$(awk -F, '$1=="logferry parse" {print $4}' "$csv")
	t_multi=$(awk -F, '$1=="logferry parse (all cores)" {print $4}' "$csv")
	# CPU time is steadier than wall time on a shared machine: report its ratio too.
	u_gzip=$(awk -F, '$1=="gzip -dc" {print $5}' "$csv")
	u_parse=$(awk -F, '$1=="logferry parse" {print $5}' "$csv")
	awk -v g="$u_gzip" -v p="$u_parse" 'BEGIN { printf "user CPU: logferry parse %.2fs, gzip -dc %.2fs: %.2fx\n", p, g, p / g }'
else
	runs() {
		local pin=("${PIN[@]}")
		if [ "$1" = all ]; then pin=(); fi
		shift
		for _ in $(seq "$RUNS"); do
			/usr/bin/time -f %e "${pin[@]}" "$@" >/dev/null 2>>"$GEN/time.$$" || true
			tail -1 "$GEN/time.$$"
		done
		rm -f "$GEN/time.$$"
	}
	t_gzip=$(runs one gzip -dc "$BIG" | median)
	t_parse=$(runs one "$BIN" parse "$BIG" | median)
	t_multi=$(runs all "$BIN" parse "$BIG" | median)
	echo "medians of $RUNS runs: gzip -dc ${t_gzip}s, logferry parse ${t_parse}s (one core), ${t_multi}s (all cores)"
fi

rss() { /usr/bin/time -f %M "${PIN[@]}" "$BIN" parse "$1" 2>&1 >/dev/null | tail -1; }
rss_small=$(rss "$SMALL")
rss_big=$(rss "$BIG")

awk -v g="$t_gzip" -v p="$t_parse" -v m="$t_multi" -v b="$plain_bytes" -v s="$rss_small" -v l="$rss_big" 'BEGIN {
	printf "logferry parse / gzip -dc: %.2fx  (%.2fs vs %.2fs median, one core; target <= 1.5x)\n", p / g, p, g
	printf "with decompression on its own core (%d cores): %.2fs, %.2fx gzip -dc\n", '"$(nproc)"', m, m / g
	printf "throughput: %.0f MB/s of log lines through parse, %.0f MB/s through gzip -dc\n", b / p / 1e6, b / g / 1e6
	printf "peak RSS of logferry parse: %.1f MB on a 10 MB object, %.1f MB on a %.0f MB object\n", s / 1024, l / 1024, b / 1e6
}'
