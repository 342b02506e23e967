#!/usr/bin/env bash
# bench-instructions.sh — instructions per line of elblog's Encoder.Append, per format,
# counted by valgrind's callgrind: a figure that does not move with the machine's load, for
# comparing two builds on a shared machine where timings drift by ±30%.
#
#   scripts/bench-instructions.sh                   # this tree
#   BASELINE=<commit> scripts/bench-instructions.sh # and that commit, side by side
#   FORMATS="alb nlb" N=50000 scripts/bench-instructions.sh
#
# Counts Append inclusive (parse + encode), over N iterations of BenchmarkAppend (the same
# 4096 generated lines in turn), with the GC off (a GC cycle's write barriers would land on
# whichever line is running) and async preemption off (valgrind mishandles its signals).
# Instructions are not time (a memmove of 1 KB is a few instructions), so use them to see
# which build does less, and scripts/bench-parse.sh for the ratio to gzip -dc.
# Needs valgrind (Debian: apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-20000}
FORMATS=${FORMATS:-alb classic nlb conn}
command -v valgrind >/dev/null || { echo "bench-instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"; [ -d "$work.base" ] && git worktree remove --force "$work.base" >/dev/null 2>&1 || true' EXIT

go test -c -o "$work/new.test" ./shared/elblog
if [ -n "${BASELINE:-}" ]; then
	git worktree add -q --detach "$work.base" "$BASELINE"
	(cd "$work.base" && go test -c -o "$work/old.test" ./shared/elblog)
fi

# per_line BIN FORMAT: Append's inclusive instruction count divided by the iterations.
per_line() {
	local out=$work/cg.out total=""
	for _ in 1 2 3; do # valgrind occasionally stops a Go program early; retry
		(cd shared/elblog && GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
			--callgrind-out-file="$out" "$1" -test.run XXX -test.bench "BenchmarkAppend/$2\$" \
			-test.benchtime "${N}x" -test.count 1 -test.cpu 1 >/dev/null 2>&1) || true
		total=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
			grep -F 'elblog.(*Encoder).Append [' | head -1 | awk '{gsub(",", "", $1); print $1}')
		rm -f "$out"
		[ -n "$total" ] && break
	done
	[ -n "$total" ] || { echo "bench-instructions.sh: no count for $2 from $1" >&2; exit 1; }
	echo $((total / (N + 1)))
}

if [ -n "${BASELINE:-}" ]; then
	printf '%-8s %12s %12s %8s\n' format "$BASELINE" "this tree" change
else
	printf '%-8s %12s\n' format "this tree"
fi
for f in $FORMATS; do
	new=$(per_line "$work/new.test" "$f")
	if [ -n "${BASELINE:-}" ]; then
		old=$(per_line "$work/old.test" "$f")
		awk -v f="$f" -v o="$old" -v n="$new" 'BEGIN { printf "%-8s %12d %12d %+7.1f%%\n", f, o, n, (n - o) * 100 / o }'
	else
		printf '%-8s %12d\n' "$f" "$new"
	fi
done
echo "(instructions per line in Encoder.Append, callgrind, N=$N)"
