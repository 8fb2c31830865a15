#!/bin/bash
# Adapter benchmark (BENCHMARKS.md, "Adapter (issue 4)"): wrk over TLS keep-alive, 64
# connections, against the external metric endpoint with 10,000 series in the table; adapter
# RSS; and, in the same run, the equivalent PromQL instant query against a real Prometheus
# over a promtool-built TSDB holding the same 10,000 series (what prometheus-adapter does per
# request).
#
#   tests/adapter/bench.sh [DURATION_SECONDS=20]
set -euo pipefail
DURATION="${1:-20}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUTPUT_BASE="${BENCH_OUTPUT_BASE:-$HOME/.cache/bazel-ob/adapter}"
WORK="$(mktemp -d /tmp/adapter-bench.XXXXXX)"
SERIES=10000
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

cd "$ROOT"
bazel --output_base="$OUTPUT_BASE" build -c opt //tests/adapter:bench_server >/dev/null 2>&1
BIN="$OUTPUT_BASE/execroot/smart_autoscaler/bazel-out/k8-opt/bin/tests/adapter/bench_server"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the same 10,000 series for both servers ---------------------------------------------------
T0=$(( $(date +%s) - 3 * 3600 ))  # backfilled blocks must be older than the head block
python3 - "$WORK" "$SERIES" "$T0" <<'PY'
import json, sys
work, n, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
value = lambda i: 0.5 + (i % 1000) / 1000.0
json.dump({"metrics": [{"namespace": "default", "metric": "smart_cpu_pressure",
                        "deployment": "dep-%d" % i, "labels": {"node_pool": "pool-%d" % (i % 7)},
                        "value": value(i), "windowSeconds": 60} for i in range(n)]},
          open(work + "/metrics.json", "w"))
with open(work + "/om.txt", "w") as f:
    f.write("# TYPE smart_cpu_pressure gauge\n")
    for i in range(n):
        for k in range(11):  # 10 minutes at 60 s
            f.write('smart_cpu_pressure{namespace="default",deployment="dep-%d",node_pool="pool-%d"} %g %d\n'
                    % (i, i % 7, value(i), t0 + 60 * k))
    f.write("# EOF\n")
PY
QUERY_TIME=$(( T0 + 600 ))

# --- adapter -----------------------------------------------------------------------------------
"$BIN" --static_metrics="$WORK/metrics.json" --port_file="$WORK/port" --threads=2 2>"$WORK/adapter.log" &
APID=$!; PIDS+=($APID)
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
URL="https://127.0.0.1:$PORT/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure?labelSelector=deployment%3Ddep-4242"
curl -skf "$URL" | grep -q '"value":"742m"' || { echo "adapter answer wrong"; curl -sk "$URL"; exit 1; }
RSS_IDLE=$(awk '/VmRSS/ {print $2}' /proc/$APID/status)
wrk -t1 -c1 -d5s --latency "$URL" > "$WORK/adapter-c1.txt"
wrk -t2 -c64 -d"${DURATION}s" --latency "$URL" > "$WORK/adapter-c64.txt"
RSS=$(awk '/VmRSS/ {print $2}' /proc/$APID/status)
HWM=$(awk '/VmHWM/ {print $2}' /proc/$APID/status)
kill $APID; wait $APID 2>/dev/null || true

# --- Prometheus over a promtool-built TSDB ------------------------------------------------------
mkdir -p "$WORK/tsdb"
promtool tsdb create-blocks-from openmetrics "$WORK/om.txt" "$WORK/tsdb" >/dev/null
: > "$WORK/prometheus.yml"
PPORT=$(free_port)
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$PPORT" \
  > "$WORK/prometheus.log" 2>&1 &
PPID_=$!; PIDS+=($PPID_)
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
PQ="http://127.0.0.1:$PPORT/api/v1/query?query=smart_cpu_pressure%7Bnamespace%3D%22default%22%2Cdeployment%3D%22dep-4242%22%7D&time=$QUERY_TIME"
curl -sf "$PQ" | grep -q '"0.742"' || { echo "prometheus answer wrong"; curl -s "$PQ"; exit 1; }
wrk -t1 -c1 -d5s --latency "$PQ" > "$WORK/prom-c1.txt"
wrk -t2 -c64 -d"${DURATION}s" --latency "$PQ" > "$WORK/prom-c64.txt"

field() { grep -E "$2" "$1" | awk '{print $2}' | head -1; }
row() {
  printf "| %s | %s | %s | %s | %s |\n" "$1" "$(field "$2" '^Requests/sec')" "$(field "$2" '^ +50%')" \
    "$(field "$2" '^ +99%')" "$3"
}
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "series in table: $SERIES; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); duration ${DURATION}s (c=64), 5s (c=1)"
echo
echo "| target | req/s | p50 | p99 | RSS |"
echo "|---|---|---|---|---|"
row "adapter, TLS keep-alive, 64 conns" "$WORK/adapter-c64.txt" "${RSS} kB (peak ${HWM} kB, idle ${RSS_IDLE} kB)"
row "adapter, TLS keep-alive, 1 conn" "$WORK/adapter-c1.txt" ""
row "Prometheus 2.42 instant query, HTTP, 64 conns" "$WORK/prom-c64.txt" ""
row "Prometheus 2.42 instant query, HTTP, 1 conn" "$WORK/prom-c1.txt" ""
