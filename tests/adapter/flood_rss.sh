#!/bin/bash
# The adapter binary's memory under a connection flood (BENCHMARKS.md): RSS idle, with COUNT
# hostile connections open (a quarter each silent, stalled TLS handshake, 60 KB unfinished
# header, idle unauthenticated /healthz) from ADDRESSES loopback addresses, and 3 s after they
# close; VmHWM is the peak. Extra arguments go to the adapter (e.g. --max-connections=4096).
#
#   tests/adapter/flood_rss.sh [COUNT=4000] [ADDRESSES=40] [adapter flags...]
set -euo pipefail
COUNT="${1:-4000}"
ADDRESSES="${2:-40}"
shift 2 2>/dev/null || shift $#
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/adapter-flood.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$ROOT"
bazel build -c opt //cli:smart-autoscaler //tests/adapter:hostile_flood >/dev/null 2>&1
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"
echo '{"metrics": [{"namespace": "default", "metric": "smart_cpu_pressure", "deployment": "api", "value": 0.85}]}' >"$WORK/metrics.json"
ulimit -n "$(ulimit -Hn)"
"$BIN/cli/smart-autoscaler" adapter --secure-port=0 --bind-address=127.0.0.1 \
  --static-metrics="$WORK/metrics.json" --port-file="$WORK/port" --authentication-skip-lookup \
  "$@" 2>"$WORK/adapter.log" &
APID=$!; PIDS+=($APID)
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
rss() { awk -v k="$1:" '$1 == k {print int($2 / 1024)}' /proc/$APID/status; }
echo "idle: VmRSS $(rss VmRSS) MiB"
"$BIN/tests/adapter/hostile_flood" "$PORT" "$COUNT" "$ADDRESSES" 5 >"$WORK/flood.out" &
FPID=$!; PIDS+=($FPID)
for _ in $(seq 1 600); do grep -q '^open' "$WORK/flood.out" 2>/dev/null && break; sleep 0.1; done
echo "flood: $(head -1 "$WORK/flood.out") (client side: not refused at connect); VmRSS $(rss VmRSS) MiB"
# Reserve slots taken by the flood free within --first-request-timeout's 1 s probe share.
for i in $(seq 1 30); do
  code=$(curl -sk -m 5 -o /dev/null -w "%{http_code}" "https://127.0.0.1:$PORT/healthz" || true)
  [ "$code" = 200 ] && break; sleep 0.2
done
echo "  /healthz during the flood: $code after $i tries"
wait $FPID
sleep 3
echo "3 s after close: VmRSS $(rss VmRSS) MiB; peak VmHWM $(rss VmHWM) MiB"
curl -sk -o /dev/null -w "  /healthz after: %{http_code}\n" "https://127.0.0.1:$PORT/healthz"
grep -c "reached\|connections open; closing" "$WORK/adapter.log" | sed 's/^/  limit warnings logged: /'
