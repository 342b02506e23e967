#!/usr/bin/env bash
# Orchestration overhead of `logferry reindex` (the state machine in aws-local-stepfunctions,
# one Lambda invocation per step, waits between checks) against a bare _reindex of the same
# index into the same mappings, on the same node, alternating, ROUNDS times each.
# Also the local interpreter's start-up cost (node + aws-local-stepfunctions import, and a
# whole dry run). Needs `make build sfn-tools`; ES_URL or a node of its own (tmp/es-bench).
# Usage: DOCS=500000 ROUNDS=3 bash scripts/bench-reindex.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${DOCS:-500000}
ROUNDS=${ROUNDS:-3}
SHARDS=${SHARDS:-2}
own=""
if [ -z "${ES_URL:-}" ]; then
  ES_URL=$(make -s es-up ES_DIR=tmp/es-bench | tail -1); own=1
fi
trap '[ -n "$own" ] && make -s es-down ES_DIR=tmp/es-bench' EXIT
src=bench-src
es() { curl -sf -H 'content-type: application/json' "$@"; }
now() { date +%s.%N; }
mappings='{"properties":{"@timestamp":{"type":"date"},"code":{"type":"long"},"msg":{"type":"keyword"}}}'
echo "$mappings" > tmp/bench-mappings.json

curl -s -XDELETE "$ES_URL/bench-*" >/dev/null || true
es -XPUT "$ES_URL/$src" -d "{\"settings\":{\"number_of_shards\":$SHARDS,\"number_of_replicas\":0,\"refresh_interval\":\"-1\"},
  \"mappings\":{\"properties\":{\"@timestamp\":{\"type\":\"date\"},\"code\":{\"type\":\"keyword\"},\"msg\":{\"type\":\"text\"}}}}" >/dev/null
echo "loading $DOCS documents into $src ($SHARDS shards)…" >&2
python3 - "$DOCS" > tmp/bench-bulk.ndjson <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print('{"index":{}}')
    print('{"@timestamp":"2026-10-01T%02d:%02d:%02dZ","code":"%d","msg":"GET /api/v1/items/%d 200"}' % (i//3600%24, i//60%60, i%60, 200+i%300, i))
PY
split -l 20000 tmp/bench-bulk.ndjson tmp/bench-bulk.part.
for f in tmp/bench-bulk.part.*; do
  curl -sf -H 'content-type: application/x-ndjson' -XPOST "$ES_URL/$src/_bulk" --data-binary @"$f" | grep -q '"errors":false' || { echo "bulk failed" >&2; exit 1; }
done
rm -f tmp/bench-bulk.part.* tmp/bench-bulk.ndjson
es -XPOST "$ES_URL/$src/_refresh" >/dev/null
es -XPUT "$ES_URL/$src/_settings" -d '{"index":{"refresh_interval":"1s"}}' >/dev/null
echo "source: $(es "$ES_URL/$src/_count")" >&2

bare() {
  local dst=bench-bare
  curl -s -XDELETE "$ES_URL/$dst" >/dev/null || true
  local t0; t0=$(now)
  es -XPUT "$ES_URL/$dst" -d "{\"settings\":{\"number_of_shards\":$SHARDS,\"number_of_replicas\":0},\"mappings\":$mappings}" >/dev/null
  es -XPOST "$ES_URL/_reindex?wait_for_completion=true&timeout=30m" -d "{\"source\":{\"index\":\"$src\"},\"dest\":{\"index\":\"$dst\"}}" >/dev/null
  es -XPOST "$ES_URL/$dst/_refresh" >/dev/null
  local t1; t1=$(now)
  echo "$t1 - $t0" | bc
  curl -s -XDELETE "$ES_URL/$dst" >/dev/null
}
ferry() {
  local t0; t0=$(now)
  ./bin/logferry reindex --es "$ES_URL" --index "$src" --mappings tmp/bench-mappings.json --quiet-minutes 0 --poll-seconds 1 >/dev/null 2>tmp/bench-ferry.err
  local t1; t1=$(now)
  echo "$t1 - $t0" | bc
}
echo "round bare_s logferry_s ratio"
for r in $(seq 1 "$ROUNDS"); do
  b=$(bare); f=$(ferry)
  echo "$r $b $f $(echo "scale=3; $f / $b" | bc)"
done
M=$PWD/tmp/sfn/node_modules/aws-local-stepfunctions/build/main.node.esm.js
for r in 1 2 3; do
  t0=$(now); tmp/sfn/node_modules/.bin/node --input-type=module -e "await import('file://$M')"; t1=$(now)
  t2=$(now); ./bin/logferry reindex --es "$ES_URL" --index "$src" --dry-run --quiet-minutes 0 >/dev/null 2>&1; t3=$(now)
  echo "startup: node+import $(echo "$t1 - $t0" | bc) s, whole dry run $(echo "$t3 - $t2" | bc) s"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
