#!/bin/bash
# Cold-start benchmark of the background backfiller: a fresh `smart-autoscaler reconciler`
# (empty store) over the demo workload scaled up (demo::ScaledDeployments: 20 namespaces) in a
# real Prometheus (Debian's, backfilled by promtool) and the test Kubernetes API server
# (tests/kube_api_server, standing in for kube-apiserver). Runs until the reconciler logs
# "backfill done" (or TIMEOUT_S), then stops it with SIGTERM; /usr/bin/time -v measures it.
#
#   tests/ha/backfill_bench.sh [DEPLOYMENTS=5000] [PODS=10] [NODES=500] [HISTORY_MINUTES=120]
#   BACKFILL_QUERIES_PER_SECOND=2 TIMEOUT_S=1800 BENCH_DIR=/tmp/... (environment)
#
# Prints the backfill plan and done lines, the cycles' log lines, the status's backfill object
# and the process' CPU, wall and max RSS. The plan covers 7 days whatever HISTORY_MINUTES is;
# Prometheus holds only HISTORY_MINUTES of samples, so answers outside it are empty. Samples
# are 120 s apart: rate(...[5m]) needs two in its window (300 s spacing gives no points).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEPLOYMENTS=${1:-5000}
PODS=${2:-10}
NODES=${3:-500}
HISTORY_MINUTES=${4:-120}
QPS=${BACKFILL_QUERIES_PER_SECOND:-2}
TIMEOUT_S=${TIMEOUT_S:-1800}
W=${BENCH_DIR:-/tmp/smart-autoscaler-backfill-bench}
rm -rf "$W" && mkdir -p "$W"
source "$ROOT/scripts/demo-lib.sh"
trap demo_stop_all EXIT
cd "$ROOT"
bazel build //cli:smart-autoscaler >/dev/null 2>&1
cp "$ROOT/bazel-bin/cli/smart-autoscaler" "$W/smart-autoscaler"  # bazel-bin may move under us

echo "== generating $DEPLOYMENTS deployments x $PODS pods on $NODES nodes, $HISTORY_MINUTES min of history"
t0=$SECONDS
"$W/smart-autoscaler" demo-exporter --out "$W" --traces-dir "$ROOT/data/traces" --serve=false \
  --scale-deployments="$DEPLOYMENTS" --scale-pods="$PODS" --scale-nodes="$NODES" \
  --history-minutes="$HISTORY_MINUTES" --future-minutes=15 --sample-seconds=120
printf 'global:\n  scrape_interval: 15s\n' >"$W/prometheus.yml"
echo "   files in $((SECONDS - t0)) s: $(du -sh "$W/backfill.om" | cut -f1) OpenMetrics"
t0=$SECONDS
PROM_PORT=$(demo_free_port)
demo_start_prometheus
echo "   promtool + Prometheus ready in $((SECONDS - t0)) s"
demo_spawn kube-api python3 "$ROOT/tests/kube_api_server/kube_api_server.py" \
  --port-file "$W/kube.port" --fixtures "$W/cluster.json"
demo_wait 300 "the test API server" kube-api test -s "$W/kube.port"
printf 'apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "http://127.0.0.1:%s"}}]\nusers: [{name: t, user: {token: x}}]\ncontexts: [{name: t, context: {cluster: t, user: t}}]\ncurrent-context: t\n' \
  "$(cat "$W/kube.port")" >"$W/kubeconfig"
API_PORT=$(demo_free_port)

echo "== reconciler: BACKFILL_QUERIES_PER_SECOND=$QPS, BACKFILLS_PER_CYCLE=0, until the backfill is done"
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" CHECK_INTERVAL=10 DB_PATH="$W/tsdb" \
  SNAPSHOT_ADDRESS="unix://$W/s.sock" API_ADDRESS="127.0.0.1:$API_PORT" \
  METRICS_ADDRESS="127.0.0.1:$API_PORT" LEADER_ELECT=false K8S_API_RATE_LIMIT=1000 \
  BACKFILLS_PER_CYCLE=0 BACKFILL_QUERIES_PER_SECOND="$QPS" \
  demo_spawn reconciler /usr/bin/time -v "$W/smart-autoscaler" reconciler --kubeconfig="$W/kubeconfig"
demo_wait "$TIMEOUT_S" "the backfill" reconciler grep -q 'backfill done' "$W/reconciler.log" \
  || echo "   backfill NOT done within $TIMEOUT_S s"
sleep 12  # one more cycle takes the last histories
curl -sf "http://127.0.0.1:$API_PORT/api/v1/status" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("status backfill:", json.dumps(s["backfill"]))
print("last cycle:", json.dumps({k: s["lastCycle"][k] for k in ("deployments", "cpuSeconds", "wallSeconds", "historiesLoaded", "backfillQueries")}))'
# SIGTERM to the reconciler itself (the child of /usr/bin/time, which then reports).
kill -TERM "$(pgrep -P "$PID_reconciler")"
wait "$PID_reconciler" || true
grep -oE 'backfill(: | done: )[^"]*' "$W/reconciler.log" | sed 's/^/   /'
grep -o 'cycle: [^"]*' "$W/reconciler.log" | awk '{print "   " $0}' | head -3
echo "   ... $(grep -c 'cycle: ' "$W/reconciler.log") cycles; the last:"
grep -o 'cycle: [^"]*' "$W/reconciler.log" | tail -2 | sed 's/^/   /'
grep -E 'Maximum resident set size|Elapsed \(wall|User time|System time' "$W/reconciler.log" \
  || echo "   (no /usr/bin/time figures)"
