#!/bin/bash
# Fault campaign (on demand, not in CI; results in BENCHMARKS.md). Every process real except
# the Kubernetes API (tests/kube_api_server, a stand-in speaking its wire format): Prometheus
# behind scripts/prometheus_fault_proxy.py, the reconciler (CHECK_INTERVAL=10 s,
# PROMETHEUS_TIMEOUT=2 s) and the adapter. Phases of PHASE_SECONDS each:
#   baseline; Prometheus slow (10 s answers); Prometheus partial (half the series missing);
#   the API server answering watches and lists with 500, 429 and dropped connections; recovery.
# Every 2 s it reads smart_cpu_pressure for three deployments from the adapter and what the
# reconciler published. Goals: no process crashes; every 200 equals the published value (no wrong
# value); no 0 is served for missing data. Prints one line per phase; exit 1 if a goal is missed.
#
#   scripts/fault_campaign.sh [PHASE_SECONDS=40]
set -euo pipefail
PHASE="${1:-40}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bazel build -c opt //cli:smart-autoscaler >/dev/null 2>&1
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)/cli/smart-autoscaler"
W="$(mktemp -d /tmp/fault-campaign.XXXXXX)"
export HOME="$W"
source "$ROOT/scripts/demo-lib.sh"
trap 'demo_stop_all; rm -rf "$W"' EXIT
die() { echo "fault campaign: $*" >&2; for f in reconciler adapter kube-api proxy; do echo "--- $f.log" >&2; tail -n 15 "$W/$f.log" >&2 || true; done; exit 1; }

demo_start_exporter "$BIN" "$ROOT/data/traces" || die "exporter"
PROM_PORT=$(demo_free_port)
demo_start_prometheus || die "prometheus"
echo pass >"$W/mode"
demo_spawn proxy python3 "$ROOT/scripts/prometheus_fault_proxy.py" \
  --upstream "http://127.0.0.1:$PROM_PORT" --mode-file "$W/mode" --port-file "$W/proxy.port"
demo_wait 20 "the proxy" proxy test -s "$W/proxy.port" || die "proxy"
demo_start_test_api_server "$ROOT" || die "kube api server"
KUBE="http://127.0.0.1:$KUBE_PORT"
demo_socket >/dev/null
API_PORT=$(demo_free_port)
PROMETHEUS_URL="http://127.0.0.1:$(cat "$W/proxy.port")" CHECK_INTERVAL=10 DB_PATH="$W/tsdb" \
  SNAPSHOT_ADDRESS="unix://$DEMO_SOCK" API_ADDRESS="127.0.0.1:$API_PORT" \
  METRICS_ADDRESS="127.0.0.1:$(demo_free_port)" OPERATOR_NAMESPACE=autoscaler-system \
  PROMETHEUS_TIMEOUT=2 \
  demo_spawn reconciler "$BIN" reconciler --kubeconfig="$W/reconciler.kubeconfig" --identity=fault-0
demo_wait 90 "the first cycle" reconciler curl -sf "http://127.0.0.1:$API_PORT/readyz" || die "reconciler not ready"
demo_pki
demo_start_adapter "$BIN" --max-staleness=60s || die "adapter"
DEMO_CLIENT=curl
EXT=/apis/external.metrics.k8s.io/v1beta1
demo_wait 60 "served values" adapter sh -c "curl -sf --cacert '$W/pki/ca.pem' --cert '$W/pki/client.pem' --key '$W/pki/client.key' 'https://127.0.0.1:$(cat "$W/adapter.port")$EXT/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi' | grep -q value" \
  || die "no values served"

# One sample: for each deployment, the adapter's answer and the reconciler's published value.
# Prints "<code> <served> <published>" lines (served/published "-" when absent).
sample() {
  local published
  published=$(curl -sf -m 5 "http://127.0.0.1:$API_PORT/api/v1/metrics" || echo '{"items":[]}')
  for dep in shop/api shop/checkout batch/reports; do
    local ns=${dep%/*} name=${dep#*/} code
    code=$(curl -s -m 5 -o "$W/answer.json" -w '%{http_code}' --cacert "$W/pki/ca.pem" \
      --cert "$W/pki/client.pem" --key "$W/pki/client.key" \
      "https://127.0.0.1:$(cat "$W/adapter.port")$EXT/namespaces/$ns/smart_cpu_pressure?labelSelector=deployment%3D$name" || true)
    python3 - "$code" "$W/answer.json" "$ns" "$name" "$published" <<'PY'
import json, sys
code, path, ns, name, published = sys.argv[1:]
mult = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9}
served = "-"
if code == "200":
    q = json.load(open(path))["items"][0]["value"]
    served = float(q[:-1]) * mult[q[-1]] if q[-1] in mult else float(q)
pub = [p["value"] for p in json.loads(published)["items"]
       if p["namespace"] == ns and p["deployment"] == name and p["metric"] == "smart_cpu_pressure"]
print(code, served, pub[0] if pub else "-")
PY
  done
}

# Runs one phase: samples every 2 s for PHASE seconds and prints its line.
TOTAL_BAD=0
phase() {
  local label=$1 n=0 ok=0 unavailable=0 wrong=0 zero=0 other=0 line
  local end=$((SECONDS + PHASE)) prev=""
  while [ $SECONDS -lt $end ]; do
    for p in reconciler adapter; do
      local pidvar="PID_$p"; kill -0 "${!pidvar}" 2>/dev/null || die "$p crashed during '$label'"
    done
    while read -r code served pub; do
      n=$((n + 1))
      case "$code" in
        200)
          if python3 -c "import sys; sys.exit(0 if float('$served') == 0 else 1)"; then zero=$((zero + 1))
          elif [ "$pub" != "-" ] && python3 -c "import sys; s, p = $served, $pub; sys.exit(0 if abs(s - p) <= 1e-6 * max(1, abs(p)) else 1)"; then ok=$((ok + 1))
          else
            # A cycle may land between the two reads: a mismatch counts only if it persists.
            line=$(sample | sed -n "$(( (n - 1) % 3 + 1 ))p")
            set -- $line
            if [ "$1" = 200 ] && [ "$3" != "-" ] && python3 -c "import sys; s, p = $2, $3; sys.exit(0 if abs(s - p) <= 1e-6 * max(1, abs(p)) else 1)"; then ok=$((ok + 1)); else wrong=$((wrong + 1)); echo "  mismatch in '$label': served $served, published $pub (recheck: $line)"; fi
          fi ;;
        503) unavailable=$((unavailable + 1)) ;;
        *) other=$((other + 1)) ;;
      esac
    done < <(sample)
    sleep 2
  done
  local failures
  failures=$(curl -sf -m 5 "http://127.0.0.1:$API_PORT/api/v1/status" | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d.get("lastCycle") or {}).get("queryFailures", "?"))' || echo "?")
  printf '%-44s answers=%-4d 200=%-4d 503=%-4d other=%-3d wrong=%d zero=%d last-cycle-query-failures=%s\n' \
    "$label" "$n" "$ok" "$unavailable" "$other" "$wrong" "$zero" "$failures"
  TOTAL_BAD=$((TOTAL_BAD + wrong + zero))
}
fake() { curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$KUBE/_fake/config" >/dev/null; }

phase "baseline"
echo slow:10 >"$W/mode"; phase "Prometheus slow (10 s answers, 2 s timeout)"
echo partial >"$W/mode"; phase "Prometheus partial (half the series dropped)"
echo pass >"$W/mode"
fake '{"faults": {"watch:pods": {"status": 500, "count": 20}, "watch:deployments": {"status": 429, "count": 20}, "watch:replicasets": {"status": "close", "count": 20}, "pods": {"status": 500, "count": 3}}}'
curl -sf -X POST "$KUBE/_fake/compact" >/dev/null  # open watches end and must be re-established
phase "API server: watch 500/429/reset, list 500"
curl -sf -X POST -H 'Content-Type: application/json' -d '{}' "$KUBE/_fake/reset" >/dev/null || true

phase "recovery"
echo "reconciler log: $(grep -c 'ERROR\|WARNING' "$W/reconciler.log") warning/error lines; adapter: $(grep -c 'stale\|503' "$W/adapter.log" || true) stale lines"
[ "$TOTAL_BAD" = 0 ] || { echo "fault campaign: $TOTAL_BAD wrong or zero values served" >&2; exit 1; }
echo "fault campaign: no crash, no wrong value, no zero served"
