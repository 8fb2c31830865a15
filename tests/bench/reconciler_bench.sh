#!/bin/bash
# Reconciler benchmark (issue 5): cycles over a large synthetic cluster served by the test
# Kubernetes API server (tests/kube_api_server, standing in for kube-apiserver) and a real
# Prometheus (Debian's, backfilled by promtool), measured on the real `smart-autoscaler
# reconciler` process with /usr/bin/time -v.
#
#   tests/bench/reconciler_bench.sh [DEPLOYMENTS=5000] [PODS=10] [NODES=500] [SEED_DAYS=0]
#
# SEED_DAYS > 0 first fills the reconciler's RocksDB store with that many days of demand history
# per deployment (tests/bench:seed_store); the reconciler loads those histories from the store
# (no Prometheus queries) within its per-cycle budget and fits a forecaster on 7 days for each:
# the memory figure "RSS at N deployments with 30 days of history". Check that the "histories
# loaded" of the cycles add up to N.
# Prints one line per cycle (from the reconciler's log) and the process' max RSS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DEPLOYMENTS=${1:-5000}
PODS=${2:-10}
NODES=${3:-500}
SEED_DAYS=${4:-0}
W=${BENCH_DIR:-/tmp/smart-autoscaler-bench}
rm -rf "$W" && mkdir -p "$W"
source "$ROOT/scripts/demo-lib.sh"
trap demo_stop_all EXIT
cd "$ROOT"
bazel build //cli:smart-autoscaler //tests/bench:seed_store >/dev/null 2>&1
BIN="$ROOT/bazel-bin/cli/smart-autoscaler"
SEED="$ROOT/bazel-bin/tests/bench/seed_store"
cp "$BIN" "$W/smart-autoscaler"; cp "$SEED" "$W/seed_store"  # bazel-bin may move under us

echo "== generating $DEPLOYMENTS deployments x $PODS pods on $NODES nodes"
t0=$SECONDS
"$W/smart-autoscaler" demo-exporter --out "$W" --traces-dir "$ROOT/data/traces" --serve=false \
  --scale-deployments="$DEPLOYMENTS" --scale-pods="$PODS" --scale-nodes="$NODES" \
  --history-minutes=12 --future-minutes=25 --sample-seconds=120
printf 'global:\n  scrape_interval: 15s\n' >"$W/prometheus.yml"
echo "   files in $((SECONDS - t0)) s: $(du -sh "$W/backfill.om" | cut -f1) OpenMetrics, $(du -sh "$W/cluster.json" | cut -f1) cluster"
t0=$SECONDS
PROM_PORT=$(demo_free_port)
demo_start_prometheus
echo "   promtool + Prometheus ready in $((SECONDS - t0)) s"
demo_spawn kube-api python3 "$ROOT/tests/kube_api_server/kube_api_server.py" \
  --port-file "$W/kube.port" --fixtures "$W/cluster.json"
demo_wait 300 "the test API server" kube-api test -s "$W/kube.port"
KUBE_PORT=$(cat "$W/kube.port")
printf 'apiVersion: v1\nkind: Config\nclusters: [{name: t, cluster: {server: "http://127.0.0.1:%s"}}]\nusers: [{name: t, user: {token: x}}]\ncontexts: [{name: t, context: {cluster: t, user: t}}]\ncurrent-context: t\n' \
  "$KUBE_PORT" >"$W/kubeconfig"
BACKFILLS=3
INTERVAL=10
CYCLES=3
if [ "$SEED_DAYS" -gt 0 ]; then
  # Histories load from the store within a per-cycle budget of CHECK_INTERVAL/4 (at most 15 s):
  # use the default 60 s interval and enough cycles for every deployment to load.
  INTERVAL=60
  CYCLES=4
  "$W/seed_store" --db="$W/tsdb" --deployments="$DEPLOYMENTS" --pods="$PODS" --days="$SEED_DAYS" \
    --traces_dir="$ROOT/data/traces"
fi
echo "== reconciler: $CYCLES cycles"
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" CHECK_INTERVAL=$INTERVAL DB_PATH="$W/tsdb" \
  SNAPSHOT_ADDRESS="unix://$W/s.sock" API_ADDRESS=127.0.0.1:0 METRICS_ADDRESS=127.0.0.1:0 \
  LEADER_ELECT=false K8S_API_RATE_LIMIT=1000 BACKFILLS_PER_CYCLE=$BACKFILLS \
  /usr/bin/time -v "$W/smart-autoscaler" reconciler --kubeconfig="$W/kubeconfig" --cycles=$CYCLES \
  >"$W/reconciler.log" 2>&1 || { tail -30 "$W/reconciler.log"; exit 1; }
grep -o 'cycle: [^"]*' "$W/reconciler.log"
grep -E 'Maximum resident set size|Elapsed \(wall|User time|System time' "$W/reconciler.log"
