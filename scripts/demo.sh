#!/bin/bash
# Command 1 of the README: the demo. On a fresh Debian 12 machine it installs what is missing,
# builds, and runs the whole product on real data without a cluster:
#   - a synthetic cluster (3 deployments, 9 pods, 3 nodes) whose CPU follows bundled real traces;
#   - Debian's Prometheus over a TSDB backfilled with 7 days of that history (promtool), scraping
#     live samples that continue it, so values move while the demo runs;
#   - the reconciler in standalone mode (the cluster from a file; the same loop otherwise);
#   - the adapter with a generated CA, serving and client certificates;
# then prints each served metric as the exact `kubectl get --raw` command and its output.
#
#   scripts/demo.sh                      # runs until Ctrl-C, then stops everything it started
#   scripts/demo.sh --exit-after-first   # non-interactive: exits once values are served
#
# Environment: DEMO_DIR (default ~/.cache/smart-autoscaler/demo), SMART_AUTOSCALER_BIN (use this
# binary instead of building), SKIP_INSTALL=1 (do not run scripts/install-deps.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EXIT_AFTER_FIRST=0
for arg in "$@"; do
  case "$arg" in
    --exit-after-first) EXIT_AFTER_FIRST=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
W="${DEMO_DIR:-$HOME/.cache/smart-autoscaler/demo}"
mkdir -p "$W"
W="$(cd "$W" && pwd)"
# shellcheck source=scripts/demo-lib.sh
source "$ROOT/scripts/demo-lib.sh"
step() { printf '\n==> %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
demo_stop_all  # a previous run killed hard
trap 'demo_stop_all' EXIT
trap 'echo; echo "demo: stopping..."; demo_stop_all; echo "demo: stopped every process it started; data lives in $W"; exit 0' INT TERM

T0=$SECONDS
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  step "Installing missing Debian packages (scripts/install-deps.sh)"
  "$ROOT/scripts/install-deps.sh" || die "installing packages failed; run scripts/install-deps.sh as root and retry"
fi
for tool in promtool prometheus openssl curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found; run scripts/install-deps.sh"
done
demo_pick_client
echo "    API client: $DEMO_CLIENT_NOTE"

BIN="${SMART_AUTOSCALER_BIN:-}"
if [ -z "$BIN" ]; then
  step "Building smart-autoscaler (bazel build //:smart-autoscaler)"
  (cd "$ROOT" && bazel build //:smart-autoscaler) || die "the build failed; see the Bazel output above"
  BIN="$ROOT/bazel-bin/cli/smart-autoscaler"
fi
[ -x "$BIN" ] || die "no binary at $BIN"

step "Generating 7 days of history for 3 deployments from bundled real traces"
demo_start_exporter "$BIN" "$ROOT/data/traces" || die "the demo exporter failed; see $W/exporter.log"
echo "    cluster: $W/cluster.json (3 Deployments, 3 ReplicaSets, 9 Pods, 3 Nodes, 3 HPAs)"

step "Starting Prometheus over the backfilled TSDB (promtool), scraping live samples"
PROM_PORT=$(demo_free_port)
demo_start_prometheus || die "Prometheus did not start; see $W/prometheus.log"
echo "    http://127.0.0.1:$PROM_PORT"

step "Starting the reconciler (standalone: the cluster from $W/cluster.json)"
demo_socket >/dev/null
API_PORT=$(demo_free_port)
METRICS_PORT=$(demo_free_port)
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" CHECK_INTERVAL=15 DB_PATH="$W/tsdb" \
  SNAPSHOT_ADDRESS="unix://$DEMO_SOCK" API_ADDRESS="127.0.0.1:$API_PORT" \
  METRICS_ADDRESS="127.0.0.1:$METRICS_PORT" LOG_LEVEL=INFO \
  demo_spawn reconciler "$BIN" reconciler --cluster-file="$W/cluster.json"
demo_wait 60 "the reconciler's first cycle" reconciler \
  curl -sf "http://127.0.0.1:$API_PORT/readyz" || die "the reconciler is not ready; see $W/reconciler.log"

step "Starting the adapter (HTTPS, client certificates from a generated CA)"
demo_pki || die "openssl failed to generate the demo PKI"
demo_start_adapter "$BIN" || die "the adapter did not start; see $W/adapter.log"
ADAPTER_PORT=$(cat "$W/adapter.port")

has_items() { demo_kubectl_raw "$1" | grep -q '"value"'; }
demo_wait 60 "served values" adapter \
  has_items "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi" \
  || die "no values served; see $W/reconciler.log and $W/adapter.log"
echo "    set-up took $((SECONDS - T0)) s"

step "Served metrics ($DEMO_CLIENT against the adapter on 127.0.0.1:$ADAPTER_PORT)"
for metric in smart_cpu_pressure smart_cpu_blended smart_cpu_predicted smart_cpu_target smart_memory_blended; do
  path="/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/$metric?labelSelector=deployment%3Dapi"
  echo
  demo_show_raw "$path"
  demo_kubectl_raw "$path" || die "$DEMO_CLIENT failed for $metric"
  echo
done
path="/apis/custom.metrics.k8s.io/v1beta2/namespaces/shop/deployments.apps/*/smart_cpu_pressure"
echo
demo_show_raw "$path"
demo_kubectl_raw "$path" || die "$DEMO_CLIENT failed for the custom metrics API"
echo

step "What each deployment costs (the last hour; /api/overview, at COST_PER_VCPU_HOUR and COST_PER_GB_MEMORY_HOUR)"
echo "\$ curl -s http://127.0.0.1:$API_PORT/api/overview?hours=1"
curl -sf "http://127.0.0.1:$API_PORT/api/overview?hours=1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
money = lambda v: "unknown" if v is None else "$%.4f" % v
for x in d["deployments"]:
    u = x["cpu_utilization_percent"]
    print("    %-16s %s requested, %s wasted, cpu %s, %s/month  %s" % (
        x["namespace"] + "/" + x["deployment"], money(x["total_cost"]), money(x["total_wasted_cost"]),
        "unknown" if u is None else "%.0f %%" % u, money(x["estimated_monthly_cost"]), x["recommendation"]))
print("    total: %s over %d deployments, %s/month" % (money(d["total_cost"]), d["deployments_count"],
      money(d["estimated_monthly_cost"])))' || die "the cost overview failed"
echo "    one deployment: http://127.0.0.1:$API_PORT/api/deployment/shop/api/cost?hours=24"
echo "    weekly report:  http://127.0.0.1:$API_PORT/api/v1/report/weekly?format=text"

step "Also look at"
echo "    web page:        http://127.0.0.1:$API_PORT/"
echo "    JSON API:        http://127.0.0.1:$API_PORT/api/v1/deployments  (and /api/v1/status, /api/v1/metrics)"
echo "    /metrics:        http://127.0.0.1:$METRICS_PORT/metrics"
echo "    Prometheus:      http://127.0.0.1:$PROM_PORT/graph"
echo "    logs and data:   $W"

if [ $EXIT_AFTER_FIRST = 1 ]; then
  demo_stop_all
  echo
  echo "demo: stopped every process it started; data lives in $W"
  exit 0
fi
echo
echo "demo: running; values refresh every 15 s. Press Ctrl-C to stop."
while true; do sleep 1; done
