#!/bin/bash
# Integration test of the Values path: the adapter binary fed by a stand-in reconciler over the
# gRPC snapshot stream on a Unix socket. Checks: not ready and 503 before the first snapshot;
# values served once it arrives; when the feeder dies the last values are still served while
# fresh, then 503 + not ready after --max-staleness; a new feeder is picked up (reconnect with
# backoff) and values come back.
set -euo pipefail
source "$TEST_SRCDIR/smart_autoscaler/tests/testing/adapter_harness.sh"
BIN="$(abs "$1")"
FEEDER="$(abs "$2")"
harness_init stream
fail() { echo "FAIL: $*" >&2; tail -20 adapter.log >&2 || true; exit 1; }
harness_pki stream-test-ca
harness_start_adapter "$BIN" --max-staleness=2s --snapshot-max-message-bytes=16777216
VALUE="$URL/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure?labelSelector=deployment%3Dapi"
wait_code() {  # url code seconds
  local deadline=$((SECONDS + $3)) code=""
  while [ $SECONDS -le $deadline ]; do
    code=$("${C[@]}" "$1") || true
    [ "$code" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$1: HTTP $code, want $2 after $3 s: $(cat body)"
}

wait_code "$URL/readyz" 500 2; ok "not ready before the first snapshot"
wait_code "$VALUE" 503 2; grep -q 'no metric snapshot received yet' body || fail "503 body: $(cat body)"
ok "metric requests 503 before the first snapshot"

start_feeder() {
  "$FEEDER" --listen="unix://$SOCK" --values="default/smart_cpu_pressure/api=$1,default/smart_cpu_pressure/web=0.25" \
    > "feeder-$1.log" 2>&1 &
  FPID=$!; PIDS+=($FPID)
}
start_feeder 1.5
wait_code "$VALUE" 200 15
grep -q '"metricLabels":{"deployment":"api"},"timestamp":"[^"]*","window":60,"value":"1500m"' body || fail "value: $(cat body)"
ok "value from the stream (1500m)"
wait_code "$URL/readyz" 200 2; ok "ready once a fresh snapshot arrived"
wait_code "$URL/metrics" 200 1
grep -q '^adapter_snapshot_stream_connected 1$' body && grep -q '^adapter_served_series 2$' body \
  && grep -q '^adapter_snapshot_updates_total{kind="full"} 1$' body || fail "/metrics while connected: $(cat body)"
ok "/metrics: stream connected, 2 series, 1 full snapshot"
sleep 2.5   # longer than --max-staleness: the feeder's deltas keep values fresh
wait_code "$VALUE" 200 1; ok "periodic deltas keep values fresh"

kill -9 $FPID
wait_code "$VALUE" 200 1; ok "last values still served right after the stream dropped"
wait_code "$VALUE" 503 5; grep -q 'is stale' body || fail "stale body: $(cat body)"
ok "503 once the values are older than --max-staleness"
wait_code "$URL/readyz" 500 2; ok "not ready while stale"
wait_code "$URL/metrics" 200 1
grep -q '^adapter_snapshot_stream_connected 0$' body && grep -q '^adapter_stale_responses_total [1-9]' body \
  || fail "/metrics while disconnected: $(cat body)"
ok "/metrics: stream disconnected, stale answers counted"

rm -f "$SOCK"
start_feeder 0.5
wait_code "$VALUE" 200 40
grep -q '"value":"500m"' body || fail "value after reconnect: $(cat body)"
ok "reconnects to a new feeder and serves its values (500m)"
wait_code "$URL/readyz" 200 2; ok "ready again"
kill -0 $APID || fail "adapter died"
echo "tests: $PASS passed, 0 failed"
