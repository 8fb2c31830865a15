#!/bin/bash
# End to end: the `smart-autoscaler adapter` binary fed by the real snapshot::Publisher
# (publisher_feeder) over a Unix socket. Checks: published values are served over HTTPS; a
# changed value, a removed series and a new series arrive as deltas; after the publisher
# restarts, the adapter reconnects and serves the new table.
set -euo pipefail
source "$TEST_SRCDIR/smart_autoscaler/tests/testing/adapter_harness.sh"
BIN="$(abs "$1")"
FEEDER="$(abs "$2")"
harness_init publisher
fail() { echo "FAIL: $*" >&2; tail -n 20 adapter.log feeder-*.log >&2 || true; exit 1; }
harness_pki publisher-test-ca
start_feeder() {  # log suffix
  "$FEEDER" --listen="unix://$SOCK" --values_file="$WORK/values.txt" --interval=200ms \
    > "feeder-$1.log" 2>&1 &
  FPID=$!; PIDS+=($FPID)
}
printf 'default/smart_cpu_pressure/api=1.5\ndefault/smart_cpu_pressure/web=0.25\n' > values.txt
start_feeder 1
harness_start_adapter "$BIN" --max-staleness=30s
EXT="$URL/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure?labelSelector=deployment%3D"
CUSTOM="$URL/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/deployments.apps"
wait_for() {  # url code body-regex seconds
  local deadline=$((SECONDS + $4)) code=""
  while [ $SECONDS -le $deadline ]; do
    code=$("${C[@]}" "$1") || true
    if [ "$code" = "$2" ] && grep -Eq "$3" body; then return 0; fi
    sleep 0.1
  done
  fail "$1: HTTP $code, want $2 and /$3/ after $4 s: $(cat body)"
}

wait_for "${EXT}api" 200 '"metricLabels":\{"deployment":"api"\},"timestamp":"[^"]*","window":60,"value":"1500m"' 20
ok "published value served (api 1500m)"
wait_for "${EXT}web" 200 '"value":"250m"' 2; ok "second value served (web 250m)"

# One changed, one removed, one new: arrives as a delta on the same stream.
printf 'default/smart_cpu_pressure/api=0.75\ndefault/smart_cpu_pressure/db=2\n' > values.tmp
mv values.tmp values.txt
wait_for "${EXT}api" 200 '"value":"750m"' 10; ok "changed value served (api 750m)"
wait_for "${EXT}db" 200 '"value":"2"' 2; ok "new value served (db 2)"
wait_for "$CUSTOM/web/smart_cpu_pressure" 404 'could not find the metric' 2
ok "removed value no longer served (web 404)"

kill -TERM $FPID; wait $FPID || fail "feeder did not stop cleanly"
[ ! -e "$SOCK" ] || fail "socket file left behind after Stop"
printf 'default/smart_cpu_pressure/api=3\n' > values.tmp; mv values.tmp values.txt
start_feeder 2
wait_for "${EXT}api" 200 '"value":"3"' 40; ok "adapter reconnects to the restarted publisher (api 3)"
wait_for "$CUSTOM/db/smart_cpu_pressure" 404 'could not find the metric' 2
ok "full snapshot after reconnect replaces the table (db gone)"
kill -0 $APID || fail "adapter died"
echo "tests: $PASS passed, 0 failed"
