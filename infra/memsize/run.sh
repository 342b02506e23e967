#!/usr/bin/env bash
# infra/memsize/run.sh — how much memory does the ingest function need, and how fast is it
# at each Lambda memory size? Lambda gives a function CPU in proportion to its memory (one
# vCPU at 1,769 MB, on a VM that shows 2 vCPUs), so this runs the function's own code
# (`logferry ingest`, which runs shared/ingest's Shipper, as the function does) on one generated gzip object with
# GOMAXPROCS=2 inside a cgroup whose CPU quota is MEM/1769 of one CPU, and reports peak RSS
# (/usr/bin/time) and throughput per size. The receiver (memsize/main.go) answers 200 and
# counts documents outside the cgroup; every run must deliver every line. On a shared
# machine both get a high cpu.shares, so other work does not take the CPU the quota allows.
#
#   infra/memsize/run.sh                 # SIZES="512 1024 1769" SIZE=200MB RUNS=3
#
# Needs root (a cgroup v1 cpu controller at /sys/fs/cgroup/cpu), /usr/bin/time and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES=${SIZES:-"512 1024 1769"}
SIZE=${SIZE:-200MB}
FORMAT=${FORMAT:-alb}
RUNS=${RUNS:-3}
CG=/sys/fs/cgroup/cpu
[ -w "$CG" ] || { echo "needs a writable cgroup v1 cpu controller at $CG (run as root)" >&2; exit 1; }

mkdir -p bin tmp testdata/generated
go build -o bin/logferry ./cmd/logferry
go -C infra build -o ../tmp/memsize-receiver ./memsize
LOG=testdata/generated/$FORMAT-$SIZE.log.gz
[ -s "$LOG" ] || bin/logferry generate -format "$FORMAT" -size "$SIZE" -o "$LOG"
lines=$(gzip -dc "$LOG" | wc -l)
plain=$(gzip -dc "$LOG" | wc -c)
echo "input: $LOG — $(($(stat -c %s "$LOG") / 1000000)) MB gzip, $((plain / 1000000)) MB, $lines lines"

: >tmp/memsize.url
mkdir -p "$CG/logferry-memsize-receiver"
echo 262144 >"$CG/logferry-memsize-receiver/cpu.shares"
sh -c "echo \$\$ >$CG/logferry-memsize-receiver/cgroup.procs && exec tmp/memsize-receiver" >tmp/memsize.url &
srv=$!
cleanup() {
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	for m in $SIZES receiver; do rmdir "$CG/logferry-memsize-$m" 2>/dev/null || true; done
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s tmp/memsize.url ] && break; sleep 0.1; done
url=$(head -1 tmp/memsize.url)
[ -n "$url" ] || { echo "receiver did not start" >&2; exit 1; }
count() { curl -fsS "$url/count" | cut -d' ' -f1; }

printf '%-8s %-4s %9s %10s %9s %14s\n' "memory" "run" "seconds" "peak RSS" "MiB/s" "GB-s per GiB"
for mem in $SIZES; do
	cg=$CG/logferry-memsize-$mem
	mkdir -p "$cg"
	echo 262144 >"$cg/cpu.shares"
	echo 100000 >"$cg/cpu.cfs_period_us"
	echo $((100000 * mem / 1769)) >"$cg/cpu.cfs_quota_us"
	for run in $(seq "$RUNS"); do
		before=$(count)
		/usr/bin/time -f "%e %M" -o tmp/memsize.time sh -c \
			"echo \$\$ >$cg/cgroup.procs && exec env GOMAXPROCS=2 bin/logferry ingest -quiet -parallel 1 --to $url $LOG" >/dev/null
		got=$(($(count) - before))
		[ "$got" -eq "$lines" ] || { echo "MEM=$mem run $run: $got documents received, want $lines" >&2; exit 1; }
		read -r secs rss_kb <tmp/memsize.time
		awk -v m="$mem" -v r="$run" -v s="$secs" -v k="$rss_kb" -v b="$plain" 'BEGIN {
			mibs = b / 1048576 / s
			printf "%-8s %-4s %9.2f %7.1f MB %9.1f %14.1f\n", m " MB", r, s, k / 1024, mibs, (m / 1024) * (1024 / mibs)
		}'
	done
done
