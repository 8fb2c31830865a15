#!/bin/bash
# Costs end to end, every process real: the demo exporter (the demo cluster file and its
# workload's cAdvisor-style metrics), Debian's Prometheus scraping it, and the reconciler in
# standalone mode (--cluster-file) with its RocksDB store. After a few 10-s cycles:
#   1. /api/deployment/shop/api/cost?hours=1&detail=usage equals, field by field, the costs
#      check_costs.py computes itself from the pods of the cluster file (requests, creation
#      times) and the usage samples the route priced, at COST_PER_VCPU_HOUR=0.05 and
#      COST_PER_GB_MEMORY_HOUR=0.006;
#   2. the /api/v1 form answers the same; bad hours -> 400, an unknown deployment -> 404;
#   3. /api/overview sums the deployments; /api/v1/report/weekly in JSON and text;
#   4. /metrics carries the cost gauges and passes promtool check metrics.
set -euo pipefail
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$PWD"
W="${TEST_TMPDIR:-$(mktemp -d)}/costs"
rm -rf "$W" && mkdir -p "$W"
source "$ROOT/scripts/demo-lib.sh"
trap 'demo_stop_all' EXIT
PASS=0
fail() { echo "FAIL: $*" >&2; for f in reconciler prometheus exporter; do echo "--- $f.log" >&2; tail -n 20 "$W/$f.log" >&2 || true; done; exit 1; }
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }

demo_start_exporter "$BIN" "$ROOT/data/traces" || fail "exporter"
PROM_PORT=$(demo_free_port)
demo_start_prometheus || fail "prometheus"
demo_socket >/dev/null
API_PORT=$(demo_free_port)
METRICS_PORT=$(demo_free_port)
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" CHECK_INTERVAL=10 DB_PATH="$W/tsdb" \
  SNAPSHOT_ADDRESS="unix://$DEMO_SOCK" API_ADDRESS="127.0.0.1:$API_PORT" \
  METRICS_ADDRESS="127.0.0.1:$METRICS_PORT" COST_PER_VCPU_HOUR=0.05 COST_PER_GB_MEMORY_HOUR=0.006 \
  PROMETHEUS_TIMEOUT=5 LOG_FORMAT=text \
  demo_spawn reconciler "$BIN" reconciler --cluster-file="$W/cluster.json"
demo_wait 90 "the first cycle" reconciler curl -sf "http://127.0.0.1:$API_PORT/readyz" || fail "reconciler not ready"
API="http://127.0.0.1:$API_PORT"
# Three cycles' samples priced (the first at the first cycle; generous for a loaded machine).
demo_wait 180 "three measured cycles" reconciler sh -c "curl -sf '$API/api/deployment/shop/api/cost?hours=1&detail=usage' | python3 -c 'import json,sys; sys.exit(0 if len(json.load(sys.stdin)[\"usage\"]) >= 3 else 1)'" \
  || fail "the cost route never priced three cycles"
ok "the reconciler priced three cycles of shop/api"

# 1. The route against the independent computation.
for dep in shop/api shop/checkout batch/reports; do
  curl -sf "$API/api/deployment/$dep/cost?hours=1&detail=usage" >"$W/cost.json" || fail "cost route for $dep"
  python3 "$ROOT/tests/costs/check_costs.py" "$W/cluster.json" "${dep%/*}" "${dep#*/}" 0.05 0.006 <"$W/cost.json" \
    || { cat "$W/cost.json" >&2; fail "cost route of $dep differs from the independent computation"; }
done
ok "the cost route's values equal the independent computation for all 3 deployments"

# 2. The /api/v1 form; errors.
curl -sf "$API/api/v1/deployments/shop/api/cost?hours=1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["managed"] is True and d["guardrail"]["pod_hourly_cost"] > 0, d["guardrail"]
assert d["cpu_utilization_percent"] is not None and d["total_cost"] > 0, d' || fail "/api/v1 cost route"
for q in abc 0 -2 100000; do
  code=$(curl -s -o "$W/err.json" -w '%{http_code}' "$API/api/deployment/shop/api/cost?hours=$q")
  [ "$code" = 400 ] && grep -q "hours=$q" "$W/err.json" || fail "hours=$q answered $code: $(cat "$W/err.json")"
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$API/api/deployment/shop/nope/cost")
[ "$code" = 404 ] || fail "unknown deployment answered $code"
ok "the /api/v1 form; bad hours -> 400 naming the value; unknown deployment -> 404"

# 3. Overview and weekly report.
curl -sf "$API/api/overview?hours=1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["deployments_count"] == 3, d
s = sum(x["total_cost"] for x in d["deployments"])
assert abs(s - d["total_cost"]) < 1e-5 and d["total_cost"] > 0, d' || fail "overview totals"
curl -sf "$API/api/v1/report/weekly" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["hours"] == 168 and d["totals"]["deployments"] == 3, d["totals"]' || fail "weekly report JSON"
curl -sf "$API/api/v1/report/weekly?format=text" | grep -q '^3 deployment(s): \$' || fail "weekly report text"
ok "overview totals and the weekly report (JSON, text)"

# 4. The gauges on /metrics.
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$W/metrics.txt" || fail "/metrics"
promtool check metrics <"$W/metrics.txt" >"$W/promtool.log" 2>&1 || { cat "$W/promtool.log" >&2; fail "promtool check metrics"; }
for m in autoscaler_monthly_cost_usd autoscaler_wasted_capacity_percent autoscaler_hourly_cost_usd; do
  grep -q "^$m{deployment=\"api\",namespace=\"shop\"" "$W/metrics.txt" || fail "$m missing for shop/api"
done
grep -q '^autoscaler_hourly_cost_usd{deployment="api",namespace="shop",resource="memory"}' "$W/metrics.txt" || fail "memory hourly cost"
ok "/metrics has the cost gauges and passes promtool check metrics"

kill -TERM "$PID_reconciler"
wait "$PID_reconciler" || fail "reconciler exited non-zero on SIGTERM"
echo "PASS: $PASS checks"
