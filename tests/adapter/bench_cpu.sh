#!/bin/bash
# Side-by-side server CPU per request of two adapter bench_server builds (e.g. a base commit's
# and this tree's), alternating: utime+stime of the server process over a 10 s wrk run (TLS
# keep-alive, 64 connections, the same request and 10,000 series as tests/adapter/bench.sh),
# divided by the requests wrk completed. On a shared machine CPU per request moves far less
# with the other load than req/s does.
#
#   tests/adapter/bench_cpu.sh OLD_BENCH_SERVER NEW_BENCH_SERVER [ROUNDS=4]
# (build each with `bazel --output_base=... build -c opt //tests/adapter:bench_server`)
set -euo pipefail
OLD="$1"; NEW="$2"; ROUNDS="${3:-4}"
W="$(mktemp -d /tmp/adapter-bench-cpu.XXXXXX)"
trap 'rm -rf "$W"' EXIT
python3 - "$W" <<'PY'
import json, sys
json.dump({"metrics": [{"namespace": "default", "metric": "smart_cpu_pressure",
  "deployment": "dep-%d" % i, "labels": {"node_pool": "pool-%d" % (i % 7)},
  "value": 0.5 + (i % 1000) / 1000.0, "windowSeconds": 60} for i in range(10000)]},
  open(sys.argv[1] + "/metrics.json", "w"))
PY
run() {  # label binary
  rm -f "$W/port"
  "$2" --static_metrics="$W/metrics.json" --port_file="$W/port" --threads=2 2>/dev/null &
  local pid=$!
  for _ in $(seq 1 100); do [ -s "$W/port" ] && break; sleep 0.1; done
  local url="https://127.0.0.1:$(cat "$W/port")/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure?labelSelector=deployment%3Ddep-4242"
  local t0 t1 req rps
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  wrk -t2 -c64 -d10s "$url" > "$W/wrk.txt"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  req=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
  rps=$(awk '/^Requests\/sec/ {print $2}' "$W/wrk.txt")
  echo "$1 requests=$req req/s=$rps cpu_us_per_request=$(python3 -c \
    "print(round(($t1 - $t0) * 1e6 / $(getconf CLK_TCK) / $req, 1))") load=$(cut -d' ' -f1 /proc/loadavg)"
}
for _ in $(seq 1 "$ROUNDS"); do run old "$OLD"; run new "$NEW"; done
