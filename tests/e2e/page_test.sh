#!/bin/bash
# The web page in a real browser: Debian's chromium, headless, against the reconciler fed by
# real Prometheus over the demo workload, with tests/kube_api_server STANDING IN FOR
# kube-apiserver (as in reconciler_e2e_test.sh). Asserts
#   1. the overview has a row for every managed deployment, no page error, and takes three
#      requests per refresh whatever the number of deployments (one of them /api/overview);
#   2. the deployment view drew its uPlot charts (canvases) with data points from the store, and
#      the explain panel names the deciding rule (the same as the API's);
#   3. a narrow window (400 px) renders without errors;
#   4. `smart-autoscaler explain shop/api` prints the rule, the arithmetic and persistence's
#      accuracy over the same origins;
# and saves screenshots (wide and narrow) as test outputs. Skips only when chromium is absent
# and CI is not set.
set -euo pipefail
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$PWD"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$CHROMIUM" ]; then
  if [ -n "${CI:-}" ]; then
    echo "FAIL: chromium not found and CI is set (scripts/install-deps.sh installs it)" >&2
    exit 1
  fi
  echo "SKIP: chromium not found (apt-get install chromium, or scripts/install-deps.sh)"
  exit 0
fi
W="${TEST_TMPDIR:-$(mktemp -d)}/page"
OUT="${TEST_UNDECLARED_OUTPUTS_DIR:-$W/out}"
rm -rf "$W" && mkdir -p "$W" "$OUT"
export HOME="$W"
source "$ROOT/scripts/demo-lib.sh"
trap 'demo_stop_all' EXIT
PASS=0
fail() { echo "FAIL: $*" >&2; for f in reconciler prometheus kube-api; do echo "--- $f.log" >&2; tail -n 20 "$W/$f.log" >&2 || true; done; exit 1; }
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }

demo_start_exporter "$BIN" "$ROOT/data/traces" || fail "exporter"
PROM_PORT=$(demo_free_port)
demo_start_prometheus || fail "prometheus"
demo_start_test_api_server "$ROOT" || fail "kube api server"
demo_socket >/dev/null
API_PORT=$(demo_free_port)
METRICS_PORT=$(demo_free_port)
API="http://127.0.0.1:$API_PORT"
PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" CHECK_INTERVAL=10 DB_PATH="$W/tsdb" \
  SNAPSHOT_ADDRESS="unix://$DEMO_SOCK" API_ADDRESS="127.0.0.1:$API_PORT" \
  METRICS_ADDRESS="127.0.0.1:$METRICS_PORT" OPERATOR_NAMESPACE=autoscaler-system \
  demo_spawn reconciler "$BIN" reconciler --kubeconfig="$W/reconciler.kubeconfig" --identity=page-0
demo_wait 120 "the first cycle" reconciler curl -sf "$API/readyz" || fail "reconciler not ready"
# Three cycles stored, so the charts have points to draw.
cycles() { curl -sf "$API/api/v1/deployments/shop/api/history?range=1h" | python3 -c '
import json, sys
s = json.load(sys.stdin)["series"]["cpu_demand_cores"]
sys.exit(0 if sum(v is not None for v in s) >= 3 else 1)'; }
demo_wait 120 "three stored cycles" reconciler cycles || fail "no history after three cycles"
ok "reconciler ready with three cycles of history"

# Runs the page in headless chromium; extra args after the URL (e.g. --dump-dom).
browse() {  # url window-size args...
  local url=$1 size=$2; shift 2
  timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$W/chrome" --window-size="$size" \
    --virtual-time-budget=20000 "$@" "$url" 2>>"$W/chromium.log"
}
# The page's own record of what it rendered (#pagestate: rows, chartPoints, canvases,
# decidingRule, errors), from a dumped DOM.
pagestate() {
  python3 -c '
import html, json, re, sys
m = re.search(r"<pre id=\"pagestate\"[^>]*>(.*?)</pre>", open(sys.argv[1]).read(), re.S)
print(html.unescape(m.group(1)) if m else "{}")' "$1"
}

# 1. The overview: a row per managed deployment.
browse "$API/" 1280,1000 --dump-dom >"$W/overview.html" || fail "chromium (overview)"
curl -sf "$API/api/v1/deployments" >"$W/deployments.json"
pagestate "$W/overview.html" >"$W/overview.state"
python3 - "$W/overview.html" "$W/deployments.json" "$W/overview.state" <<'PY' || fail "overview rows"
import json, sys
dom = open(sys.argv[1]).read()
items = json.load(open(sys.argv[2]))["items"]
state = json.load(open(sys.argv[3]))
assert items, "no managed deployments"
assert state.get("rows") == len(items), (state, len(items))
for d in items:
    key = '%s/%s' % (d["namespace"], d["name"])
    assert 'data-deployment="%s"' % key in dom, key
assert not state.get("errors"), state["errors"]
# One /api/overview per refresh (with /api/v1/status and /api/v1/deployments), not one
# request per deployment.
assert state.get("overviewFetches") == 3, state
print("rows:", state["rows"], "requests per refresh:", state["overviewFetches"])
PY
ok "overview: a row for each of $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$W/deployments.json") deployments, no page errors"

# 2. The deployment view: charts drawn from the store, the explain panel's deciding rule.
browse "$API/#/d/shop/api" 1280,2200 --dump-dom >"$W/detail.html" || fail "chromium (detail)"
pagestate "$W/detail.html" >"$W/detail.state"
curl -sf "$API/api/v1/deployments/shop/api/explain" >"$W/explain.json"
curl -sf "$API/api/v1/deployments/shop/api" >"$W/shop-api.json"
python3 - "$W/detail.html" "$W/detail.state" "$W/explain.json" "$W/shop-api.json" <<'PY' || fail "deployment view"
import json, re, sys
dom = open(sys.argv[1]).read()
state = json.load(open(sys.argv[2]))
explain = json.load(open(sys.argv[3]))
rule = explain["decidingRule"]
# The trust gate shows persistence over the same origins next to the forecast's accuracy, in
# the page and in explain's inputs (null there until a forecast is validated).
forecast = json.load(open(sys.argv[4]))["forecast"]  # printed for the log
inputs = {i["name"]: i for i in explain["inputs"]}
assert "persistence_accuracy_pct" in inputs and "persistence_mae_cores" in inputs, inputs.keys()
m = re.search(r'id="trust-persistence">(.*?)</small>', dom, re.S)
assert m, "no persistence next to the forecast's accuracy"
# (The page and the API are read a cycle apart, so the figure itself may differ.)
assert re.search(r"\d+%, MAE", m.group(1)) or "not available" in m.group(1), m.group(1)
print("persistence:", re.sub("<[^>]+>", "", m.group(1)), "| API:", forecast.get("persistenceAccuracy"))
assert not state.get("errors"), state["errors"]
assert state.get("canvases", 0) >= 3, state
assert dom.count('class="uplot') >= 3, "uPlot charts missing"
assert state.get("chartPoints", 0) >= 3, state
assert rule and state.get("decidingRule") == rule, (state, rule)
assert 'id="deciding-rule">%s<' % rule in dom, rule
print("canvases:", state["canvases"], "points:", state["chartPoints"], "rule:", rule)
PY
ok "deployment view: $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["canvases"], "canvases,", s["chartPoints"], "points, rule", s["decidingRule"])' "$W/detail.state")"
browse "$API/#/d/shop/api" 1280,2200 --screenshot="$OUT/page-deployment.png" >/dev/null \
  || fail "chromium screenshot"
browse "$API/" 1280,800 --screenshot="$OUT/page-overview.png" >/dev/null || fail "screenshot"
[ -s "$OUT/page-deployment.png" ] && [ -s "$OUT/page-overview.png" ] || fail "no screenshot"
ok "screenshots saved in $OUT"

# 3. A narrow window.
browse "$API/#/d/shop/api" 400,1800 --dump-dom >"$W/narrow.html" || fail "chromium (narrow)"
pagestate "$W/narrow.html" >"$W/narrow.state"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert not s.get("errors") and s.get("canvases", 0) >= 3, s' "$W/narrow.state" || fail "narrow window"
browse "$API/#/d/shop/api" 400,1800 --screenshot="$OUT/page-narrow.png" >/dev/null || fail "screenshot"
ok "narrow window (400 px): charts drawn, no errors"

# 4. The CLI.
"$BIN" explain shop/api --api "$API" >"$W/explain.txt" || fail "smart-autoscaler explain"
grep -q "^deciding rule: " "$W/explain.txt" || fail "explain: no deciding rule: $(head -3 "$W/explain.txt")"
grep -q "^smart_cpu_pressure = " "$W/explain.txt" || fail "explain: no smart_cpu_pressure"
grep -q "^  persistence_accuracy_pct = " "$W/explain.txt" || fail "explain: no persistence input"
if "$BIN" explain shop/nope --api "$API" 2>"$W/explain.err"; then fail "explain of an unknown deployment succeeded"; fi
grep -q "HTTP 404" "$W/explain.err" || fail "explain: $(cat "$W/explain.err")"
ok "smart-autoscaler explain prints the rule and the arithmetic; 404 for an unknown deployment"
echo "PASS: $PASS checks"
