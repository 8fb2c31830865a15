#!/bin/bash
# Issue 6's end-to-end test: runs the README's demo (scripts/demo.sh) non-interactively with the
# built binary, asserts the kubectl output of every served metric, and checks that no process
# it started is left running.
set -euo pipefail
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$PWD"
export DEMO_DIR="${TEST_TMPDIR:-$(mktemp -d)}/demo"
export HOME="${TEST_TMPDIR:-$DEMO_DIR}"
export SKIP_INSTALL=1 SMART_AUTOSCALER_BIN="$BIN"
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$ROOT/scripts/demo.sh" --exit-after-first >"$TEST_TMPDIR/demo.out" 2>&1 \
  || { cat "$TEST_TMPDIR/demo.out"; fail "demo.sh exited non-zero"; }
cat "$TEST_TMPDIR/demo.out"
out="$TEST_TMPDIR/demo.out"
for metric in smart_cpu_pressure smart_cpu_blended smart_cpu_predicted smart_cpu_target smart_memory_blended; do
  grep -q "^\$ kubectl --kubeconfig .* get --raw \"/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/$metric?labelSelector=deployment%3Dapi\"" "$out" \
    || fail "no kubectl command printed for $metric"
  grep -q "{\"kind\":\"ExternalMetricValueList\".*\"metricName\":\"$metric\",\"metricLabels\":{\"deployment\":\"api\"}.*\"value\":\"[0-9]" "$out" \
    || fail "no served value printed for $metric"
done
grep -q '"kind":"MetricValueList".*"name":"checkout"' "$out" || fail "custom metrics output missing"
grep -qE '^    shop/api +\$[0-9.]+ requested, ' "$out" || fail "no cost line for shop/api"
grep -qE '^    total: \$[0-9.]+ over 3 deployments' "$out" || fail "no cost total"
grep -q "web page: *http://127.0.0.1:[0-9]*/" "$out" || fail "web page URL missing"
grep -q "/metrics: *http://127.0.0.1:[0-9]*/metrics" "$out" || fail "/metrics URL missing"
grep -q "stopped every process it started; data lives in $DEMO_DIR" "$out" || fail "no stop message"
# Nothing it started is still running.
sleep 0.5
if pgrep -f "$DEMO_DIR" >/dev/null; then
  pgrep -fa "$DEMO_DIR" >&2
  fail "processes left running"
fi
[ ! -f "$DEMO_DIR/pids" ] || fail "pid file left behind"
echo "PASS: demo served every metric and left nothing running"
