#!/bin/bash
# End to end, every process real except the Kubernetes API: the reconciler (informers, Lease
# leader election) against tests/kube_api_server (a test server STANDING IN FOR kube-apiserver,
# serving the demo cluster's Deployments, ReplicaSets, Pods, Nodes and HPAs), Debian's Prometheus
# over the demo workload (backfilled + live scrapes), the adapter on the snapshot socket, and the
# real kubectl.
#   1. kubectl get --raw returns smart_cpu_pressure for shop/api equal to what the reconciler
#      published (its JSON API), and every smart_* metric for every deployment;
#   2. Prometheus killed: the value is still served until the adapter's staleness limit, then
#      503; the reconciler reports the failed queries and never serves zeros;
#   3. Prometheus restarted: values return within one cycle.
set -euo pipefail
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$PWD"
W="${TEST_TMPDIR:-$(mktemp -d)}/e2e"
rm -rf "$W" && mkdir -p "$W"
export HOME="$W"  # kubectl's cache
source "$ROOT/scripts/demo-lib.sh"
trap 'demo_stop_all' EXIT
PASS=0
fail() { echo "FAIL: $*" >&2; for f in reconciler adapter prometheus kube-api; do echo "--- $f.log" >&2; tail -n 20 "$W/$f.log" >&2 || true; done; exit 1; }
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }

demo_start_exporter "$BIN" "$ROOT/data/traces" || fail "exporter"
PROM_PORT=$(demo_free_port)
demo_start_prometheus || fail "prometheus"

demo_start_test_api_server "$ROOT" || fail "kube api server"

demo_socket >/dev/null
API_PORT=$(demo_free_port)
METRICS_PORT=$(demo_free_port)
mkdir -p "$W/config" && echo 70 >"$W/config/TARGET_NODE_UTILIZATION"  # a ConfigMap as a directory
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" CHECK_INTERVAL=10 DB_PATH="$W/tsdb" \
  SNAPSHOT_ADDRESS="unix://$DEMO_SOCK" API_ADDRESS="127.0.0.1:$API_PORT" \
  METRICS_ADDRESS="127.0.0.1:$METRICS_PORT" OPERATOR_NAMESPACE=autoscaler-system \
  PROMETHEUS_TIMEOUT=2 \
  demo_spawn reconciler "$BIN" reconciler --kubeconfig="$W/reconciler.kubeconfig" --identity=e2e-0 \
  --config-dir="$W/config"
demo_wait 60 "the first cycle" reconciler curl -sf "http://127.0.0.1:$API_PORT/readyz" || fail "reconciler not ready"
ok "reconciler synced its informers and ran a cycle"
curl -sf "http://127.0.0.1:$API_PORT/" | grep -q '<title>smart-autoscaler</title>' || fail "web page"
curl -sf "http://127.0.0.1:$API_PORT/api/v1/deployments/shop/api" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["readyPods"] == 4 and d["pods"] == 4, d
assert d["nodePressure"]["level"] in ("safe", "warning", "critical"), d
assert d["forecast"]["historyPoints"] >= 7 * 24 * 12 - 1, d["forecast"]
assert d["served"]["smart_cpu_pressure"] > 0, d' || fail "JSON API for shop/api"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/api/v1/deployments/shop/nope")
[ "$code" = 404 ] || fail "unknown deployment answered $code"
ok "web page and JSON API (4 ready pods, known node pressure, a week of backfilled history)"

# Leader election: the reconciler holds the Lease in the test API server.
demo_wait 20 "the Lease" reconciler sh -c "curl -sf -H 'Authorization: Bearer sa-token' http://127.0.0.1:$KUBE_PORT/apis/coordination.k8s.io/v1/namespaces/autoscaler-system/leases/smart-autoscaler-reconciler | grep -q '\"holderIdentity\": *\"e2e-0\"'" \
  || fail "no Lease held by e2e-0"
ok "the reconciler holds the Lease"

demo_pki
demo_start_adapter "$BIN" --max-staleness=25s || fail "adapter"
EXT=/apis/external.metrics.k8s.io/v1beta1
demo_wait 60 "served values" adapter sh -c "kubectl --kubeconfig '$W/kubeconfig' get --raw '$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi' | grep -q value" \
  || fail "no smart_cpu_pressure served"

# 1. The served value is the one the reconciler published.
json_value() {  # extracts items[0].value from a MetricValueList and turns the Quantity into a float
  python3 -c '
import json, sys
q = json.load(sys.stdin)["items"][0]["value"]
mult = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}
print(float(q[:-1]) * mult[q[-1]] if q[-1] in mult else float(q))'
}
check_matches_reconciler() {
  local served published
  served=$(demo_kubectl_raw "$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi" | json_value)
  published=$(curl -sf "http://127.0.0.1:$API_PORT/api/v1/metrics" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    if p["namespace"] == "shop" and p["deployment"] == "api" and p["metric"] == "smart_cpu_pressure":
        print(p["value"])')
  python3 -c "import sys; s, p = $served, $published; sys.exit(0 if abs(s - p) <= 1e-6 * max(1, abs(p)) and 0.05 < p < 5 else 1)"
}
# A cycle may land between the two reads; retry a few times.
for i in 1 2 3 4 5; do check_matches_reconciler && break; [ $i = 5 ] && fail "kubectl value differs from the published one"; sleep 1; done
ok "kubectl smart_cpu_pressure for shop/api equals the reconciler's published value"
for ns_dep in shop/api shop/checkout batch/reports; do
  ns=${ns_dep%/*}; dep=${ns_dep#*/}
  for metric in smart_cpu_pressure smart_cpu_blended smart_cpu_predicted smart_cpu_target smart_memory_blended; do
    out=$(demo_kubectl_raw "$EXT/namespaces/$ns/$metric?labelSelector=deployment%3D$dep") || fail "kubectl $metric $ns_dep"
    echo "$out" | grep -q "\"metricName\":\"$metric\"" || fail "no $metric for $ns_dep: $out"
  done
done
ok "every smart_* metric is served for all 3 deployments"
demo_kubectl_raw "/apis/custom.metrics.k8s.io/v1beta2/namespaces/batch/deployments.apps/reports/smart_cpu_target" | grep -q '"name":"reports"' \
  || fail "custom metrics API"
ok "custom.metrics.k8s.io serves the same values"

# 2. Prometheus down: last-known-good until the staleness limit, then 503.
BEFORE=$(demo_kubectl_raw "$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi" | json_value)
kill -KILL "$PID_prometheus"
wait "$PID_prometheus" 2>/dev/null || true
# A cycle with Prometheus down: retries with backoff, then the circuit breaker opens.
demo_wait 45 "a cycle with Prometheus down" reconciler sh -c "curl -sf http://127.0.0.1:$API_PORT/api/v1/status | grep -q '\"queryFailures\":6'" \
  || fail "the reconciler did not report the failed queries"
ok "the cycle without Prometheus reports its 6 failed queries (the six grouped signal queries)"
AFTER=$(demo_kubectl_raw "$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi" | json_value) \
  || fail "value not served right after the outage began"
[ "$BEFORE" = "$AFTER" ] || fail "value changed during the outage: $BEFORE -> $AFTER"
ok "last-known-good value still served during the outage ($AFTER)"
demo_wait 40 "the value to go stale" adapter sh -c "! kubectl --kubeconfig '$W/kubeconfig' get --raw '$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi' 2>/dev/null" \
  || fail "value never went stale"
code=$(curl -s -o "$W/stale.json" -w '%{http_code}' --cacert "$W/pki/ca.pem" --cert "$W/pki/client.pem" --key "$W/pki/client.key" \
  "https://127.0.0.1:$(cat "$W/adapter.port")$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi")
[ "$code" = 503 ] && grep -q '"kind":"Status"' "$W/stale.json" || fail "stale answer was $code: $(cat "$W/stale.json")"
ok "after the staleness limit the adapter answers a 503 Status"

# 3. Prometheus back: values return within one cycle (10 s) plus the adapter's stream delay.
demo_spawn prometheus prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/prom-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=30d
demo_wait 60 "Prometheus to restart" prometheus curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" || fail "prometheus restart"
demo_wait 15 "fresh values" adapter sh -c "kubectl --kubeconfig '$W/kubeconfig' get --raw '$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi' | grep -q value" \
  || fail "values did not return within one cycle"
ok "values return within one cycle of Prometheus coming back"

# Hot reload: a changed ConfigMap file applies within a cycle; an invalid one is refused.
echo 65 >"$W/config/TARGET_NODE_UTILIZATION"
demo_wait 25 "the reload" reconciler sh -c "curl -sf http://127.0.0.1:$API_PORT/api/v1/status | grep -q 'TARGET_NODE_UTILIZATION=65'" \
  || fail "changed ConfigMap file not applied"
echo 5 >"$W/config/CHECK_INTERVAL"
kill -HUP "$PID_reconciler"
demo_wait 25 "the refusal" reconciler grep -q 'config reload refused: CHECK_INTERVAL=5' "$W/reconciler.log" \
  || fail "invalid reload not refused"
curl -sf "http://127.0.0.1:$API_PORT/api/v1/status" | grep -q 'CHECK_INTERVAL=10' || fail "invalid reload changed the config"
rm "$W/config/CHECK_INTERVAL"
ok "hot reload: a changed ConfigMap file applies, an invalid one is refused and the old config stays"

# The reconciler's /metrics parse with promtool.
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$W/metrics.txt" || fail "/metrics"
promtool check metrics <"$W/metrics.txt" >"$W/promtool-check.log" 2>&1 || { cat "$W/promtool-check.log" >&2; fail "promtool check metrics"; }
grep -q 'smart_autoscaler_cpu_pressure_ratio{namespace="shop",deployment="api"}' "$W/metrics.txt" || fail "per-deployment gauges missing"
awk '/^smart_autoscaler_kubernetes_informer_ops\{kind="list"\}/ {found = $2 >= 5} END {exit !found}' "$W/metrics.txt" \
  || fail "informer LIST counter missing (want >= 5: one per kind)"
grep -q '^smart_autoscaler_prometheus_breaker_open 0' "$W/metrics.txt" || fail "breaker gauge missing or open"
# Every metric the Grafana dashboard charts is exported by the reconciler or the adapter.
curl -sf --cacert "$W/pki/ca.pem" --cert "$W/pki/client.pem" --key "$W/pki/client.key" \
  "https://127.0.0.1:$(cat "$W/adapter.port")/metrics" >>"$W/metrics.txt" || fail "adapter /metrics"
for name in $(grep -oE '(smart_autoscaler|adapter)_[a-z0-9_]+' "$ROOT/deploy/grafana/smart-autoscaler-dashboard.json" | sort -u); do
  grep -qE "^# TYPE ${name%_bucket} " "$W/metrics.txt" || fail "dashboard charts $name, which nothing exports"
done
ok "every metric on the Grafana dashboard is exported"
ok "/metrics passes promtool check metrics"

# Graceful shutdown within 10 s, releasing the Lease.
t0=$SECONDS
kill -TERM "$PID_reconciler"
wait "$PID_reconciler" || fail "reconciler exited non-zero on SIGTERM"
[ $((SECONDS - t0)) -le 10 ] || fail "shutdown took $((SECONDS - t0)) s"
curl -sf -H 'Authorization: Bearer sa-token' "http://127.0.0.1:$KUBE_PORT/apis/coordination.k8s.io/v1/namespaces/autoscaler-system/leases/smart-autoscaler-reconciler" \
  | python3 -c 'import json,sys; sys.exit(0 if not json.load(sys.stdin)["spec"].get("holderIdentity") else 1)' \
  || fail "the Lease was not released"
ok "SIGTERM: stopped in $((SECONDS - t0)) s and released the Lease"
echo "PASS: $PASS checks"
