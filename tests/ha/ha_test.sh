#!/bin/bash
# High availability over real processes: two adapter + reconciler pairs (each reconciler with
# its own store, as with an emptyDir per Pod) against one Debian Prometheus (the demo workload,
# backfilled + live scrapes) and tests/kube_api_server (a test server STANDING IN FOR
# kube-apiserver: the demo cluster's objects and the Lease), alerts to a real local HTTP
# receiver as the generic webhook.
#   1. both adapters serve every deployment; the values agree between the replicas (measured);
#   2. thrashing on batch/reports (the HPA's currentReplicas moved 3 <-> 7): exactly one alert arrives,
#      counted by the Lease holder only;
#   3. the leader's pair is SIGKILLed while the survivor's adapter is polled through curl with
#      the e2e client certificate: every request answered 200 with a value no older than two
#      cycles, the survivor takes the Lease, the first alert is not sent again, and a second
#      thrashing episode (shop/checkout) is alerted exactly once, by the survivor.
# Assertions are on counts and on the served values' age in cycles, with generous waits.
set -euo pipefail
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
ROOT="$PWD"
TOOL="$ROOT/tests/ha/ha_tool.py"
W="${TEST_TMPDIR:-$(mktemp -d)}/ha"
rm -rf "$W" && mkdir -p "$W"
export HOME="$W"
source "$ROOT/scripts/demo-lib.sh"
SOCKS=$(mktemp -d /tmp/smart-autoscaler-ha.XXXXXX)
trap 'touch "$W/poll.stop"; demo_stop_all; rm -rf "$SOCKS"' EXIT
INTERVAL=10
PASS=0
fail() {
  echo "FAIL: $*" >&2
  for f in reconciler-a reconciler-b adapter-a adapter-b kube-api receiver; do
    echo "--- $f.log" >&2; tail -n 15 "$W/$f.log" >&2 || true
  done
  exit 1
}
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }

demo_start_exporter "$BIN" "$ROOT/data/traces" || fail "exporter"
PROM_PORT=$(demo_free_port)
demo_start_prometheus || fail "prometheus"
demo_start_test_api_server "$ROOT" || fail "kube api server"
demo_spawn receiver python3 "$TOOL" receiver "$W/receiver.port" "$W/alerts.jsonl"
demo_wait 20 "the webhook receiver" receiver test -s "$W/receiver.port" || fail "receiver"
touch "$W/alerts.jsonl"
demo_pki

# Pair X: reconciler-X (store $W/store-X, snapshots on $SOCKS/X.sock) and adapter-X.
start_pair() {
  local x=$1 api
  api=$(demo_free_port)
  eval "API_$x=$api"
  PROMETHEUS_URL="http://127.0.0.1:$PROM_PORT" CHECK_INTERVAL=$INTERVAL DB_PATH="$W/store-$x" \
    SNAPSHOT_ADDRESS="unix://$SOCKS/$x.sock" API_ADDRESS="127.0.0.1:$api" \
    METRICS_ADDRESS="127.0.0.1:$api" OPERATOR_NAMESPACE=autoscaler-system PROMETHEUS_TIMEOUT=5 \
    GENERIC_WEBHOOK="http://127.0.0.1:$(cat "$W/receiver.port")/hook" \
    demo_spawn "reconciler-$x" "$BIN" reconciler --kubeconfig="$W/reconciler.kubeconfig" \
    --identity="ha-$x"
  demo_spawn "adapter-$x" "$BIN" adapter --secure-port=0 --bind-address=127.0.0.1 \
    --port-file="$W/adapter-$x.port" --snapshot-address="unix://$SOCKS/$x.sock" \
    --tls-cert-file="$W/pki/serving.pem" --tls-private-key-file="$W/pki/serving.key" \
    --client-ca-file="$W/pki/ca.pem" --requestheader-client-ca-file="$W/pki/ca.pem" \
    --authentication-skip-lookup --max-staleness=60s
}
start_pair a
start_pair b
EXT=/apis/external.metrics.k8s.io/v1beta1
url() { echo "https://127.0.0.1:$(cat "$W/adapter-$1.port")$EXT/namespaces/$2/$3?labelSelector=deployment%3D$4"; }
export CURL_CA="$W/pki/ca.pem" CURL_CERT="$W/pki/client.pem" CURL_KEY="$W/pki/client.key"
get() { curl -sf --cacert "$CURL_CA" --cert "$CURL_CERT" --key "$CURL_KEY" "$@"; }
for x in a b; do
  demo_wait 120 "pair $x ready" "reconciler-$x" curl -sf "http://127.0.0.1:$(eval echo \$API_$x)/readyz" \
    || fail "reconciler-$x not ready"
  demo_wait 60 "adapter-$x port" "adapter-$x" test -s "$W/adapter-$x.port" || fail "adapter-$x"
  for ns_dep in shop/api shop/checkout batch/reports; do
    demo_wait 60 "adapter-$x values" "adapter-$x" sh -c \
      "curl -sf --cacert '$CURL_CA' --cert '$CURL_CERT' --key '$CURL_KEY' '$(url $x ${ns_dep%/*} smart_cpu_pressure ${ns_dep#*/})' | grep -q value" \
      || fail "adapter-$x serves no smart_cpu_pressure for $ns_dep"
  done
done
ok "both adapters serve smart_cpu_pressure for all 3 deployments (every replica computes)"

lease_holder() {
  curl -sf -H 'Authorization: Bearer sa-token' \
    "http://127.0.0.1:$KUBE_PORT/apis/coordination.k8s.io/v1/namespaces/autoscaler-system/leases/smart-autoscaler-reconciler" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"].get("holderIdentity") or "")'
}
demo_wait 60 "a Lease holder" kube-api sh -c "[ -n \"\$(curl -sf -H 'Authorization: Bearer sa-token' http://127.0.0.1:$KUBE_PORT/apis/coordination.k8s.io/v1/namespaces/autoscaler-system/leases/smart-autoscaler-reconciler | grep -o 'ha-[ab]')\" ]" \
  || fail "nobody holds the Lease"
LEADER=$(lease_holder); LEADER=${LEADER#ha-}
SURVIVOR=$([ "$LEADER" = a ] && echo b || echo a)
ok "ha-$LEADER holds the Lease; ha-$SURVIVOR serves too"

# Backfill: each fresh reconciler loaded every deployment in the background.
for x in a b; do
  demo_wait 60 "backfill on $x" "reconciler-$x" sh -c \
    "curl -sf http://127.0.0.1:$(eval echo \$API_$x)/api/v1/status | grep -q '\"backfill\":{\"enabled\":true,\"pending\":0,\"done\":3,\"failed\":0'" \
    || fail "reconciler-$x did not backfill its 3 deployments: $(curl -s http://127.0.0.1:$(eval echo \$API_$x)/api/v1/status)"
done
ok "both reconcilers backfilled 3 of 3 deployments in the background"

# 1. The value difference between the replicas: both polled in the same rounds for 3 cycles.
METRICS="smart_cpu_pressure smart_cpu_blended smart_cpu_predicted smart_cpu_target"
DIFF_URLS=()
for m in $METRICS; do for ns_dep in shop/api batch/reports; do
  DIFF_URLS+=("$(url a ${ns_dep%/*} $m ${ns_dep#*/})" "$(url b ${ns_dep%/*} $m ${ns_dep#*/})")
done; done
export POLL_STOP="$W/diff.stop"
python3 "$TOOL" poll "$W/diff.jsonl" "${DIFF_URLS[@]}" &
DIFF_PID=$!
sleep $((3 * INTERVAL))
touch "$W/diff.stop"; wait $DIFF_PID
i=0
for m in $METRICS; do for ns_dep in shop/api batch/reports; do
  line=$(python3 "$TOOL" diff "$W/diff.jsonl" "${DIFF_URLS[$i]}" "${DIFF_URLS[$((i + 1))]}") \
    || fail "no paired values for $m $ns_dep"
  echo "difference a vs b: $m $ns_dep: $line" | tee -a "$W/difference.txt"
  # Same Prometheus data, cycles up to one interval apart: far below 25 %.
  python3 -c "import sys; sys.exit(0 if float('$line'.split('median_pct=')[1].split()[0]) < 25 else 1)" \
    || fail "replicas disagree on $m for $ns_dep: $line"
  i=$((i + 2))
done; done
ok "values agree between the replicas (median differences in $W/difference.txt)"

# 2. Thrashing: >4 changes of the HPA's status.currentReplicas within 30 min, each seen by a
# cycle of every named pair (the HPA controller's status updates, as the informer sees them).
hpa_replicas_of() {  # pair ns dep
  curl -sf "http://127.0.0.1:$(eval echo \$API_$1)/api/v1/deployments/$2/$3" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["hpaCurrentReplicas"])'
}
thrash() {  # ns dep pairs...
  local ns=$1 dep=$2; shift 2
  local want
  for k in 1 2 3 4 5 6; do
    if [ $((k % 2)) = 1 ]; then want=7; else want=3; fi
    python3 "$TOOL" hpa $want "$KUBE_PORT" "$W/cluster.json" "$ns" "$dep" || fail "hpa $want"
    for x in "$@"; do
      demo_wait 90 "$ns/$dep's HPA at $want replicas on $x" "reconciler-$x" sh -c "[ \"\$(curl -sf http://127.0.0.1:$(eval echo \$API_$x)/api/v1/deployments/$ns/$dep | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"hpaCurrentReplicas\"])')\" = $want ]" \
        || fail "$ns/$dep's HPA never showed $want replicas on $x (now $(hpa_replicas_of "$x" "$ns" "$dep"))"
    done
  done
}
alerts_sent() {  # pair: the reconciler's successful notifications
  curl -sf "http://127.0.0.1:$(eval echo \$API_$1)/metrics" \
    | awk '/^autoscaler_alerts_sent_total\{.*result="sent"/ {n += $2} END {print n + 0}'
}
# Waits up to 3 cycles for pair $1's sent counter (fed after each cycle) to equal the
# notifications received minus $2 (those before); fails when it never does.
sent_matches() {
  local deadline=$((SECONDS + 3 * INTERVAL))
  until [ "$(alerts_sent "$1")" = $(( $(received) - $2 )) ]; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 1
  done
}
# Notifications received: all of them, or those of one anomaly start ("<type> on ns/dep" with
# no "resolved"/"still active"). The demo's live data may raise others (a CPU spike): every
# notification is counted, and each must come from the Lease holder alone.
received() { grep -c . "$W/alerts.jsonl" || true; }
received_start() { python3 "$TOOL" started "$W/alerts.jsonl" scaling_thrashing "$1"; }
thrash batch reports a b
demo_wait 60 "the thrashing alert" receiver sh -c "[ \"\$(python3 '$TOOL' started '$W/alerts.jsonl' scaling_thrashing batch/reports)\" != 0 ]" \
  || fail "no thrashing alert for batch/reports: $(cat "$W/alerts.jsonl")"
sleep $((2 * INTERVAL))  # two more cycles of both replicas: a duplicate would arrive now
[ "$(received_start batch/reports)" = 1 ] \
  || fail "$(received_start batch/reports) thrashing alerts for batch/reports, want 1: $(cat "$W/alerts.jsonl")"
[ "$(alerts_sent $SURVIVOR)" = 0 ] || fail "the replica without the Lease sent $(alerts_sent $SURVIVOR)"
sent_matches "$LEADER" 0 || fail "the leader sent $(alerts_sent $LEADER), the receiver has $(received)"
ok "batch/reports thrashing: exactly one alert; all $(received) notification(s) sent by the Lease holder ha-$LEADER"

# 3. SIGKILL the leader's pair while the survivor's adapter is polled.
export POLL_STOP="$W/poll.stop"
SURVIVOR_URL=$(url $SURVIVOR shop smart_cpu_pressure api)
python3 "$TOOL" poll "$W/poll.jsonl" "$SURVIVOR_URL" &
POLL_PID=$!
sleep 3
KILL_EPOCH=$(date +%s.%N)
kill -KILL "$(eval echo \$PID_reconciler_$LEADER)" "$(eval echo \$PID_adapter_$LEADER)"
wait "$(eval echo \$PID_reconciler_$LEADER)" "$(eval echo \$PID_adapter_$LEADER)" 2>/dev/null || true
BEFORE_KILL=$(received)  # everything the dead leader sent
demo_wait 90 "the survivor to take the Lease" "reconciler-$SURVIVOR" sh -c \
  "curl -sf -H 'Authorization: Bearer sa-token' http://127.0.0.1:$KUBE_PORT/apis/coordination.k8s.io/v1/namespaces/autoscaler-system/leases/smart-autoscaler-reconciler | grep -q '\"holderIdentity\": *\"ha-$SURVIVOR\"'" \
  || fail "ha-$SURVIVOR never took the Lease"
ok "ha-$SURVIVOR took the Lease after the SIGKILL"
thrash shop checkout "$SURVIVOR"
demo_wait 60 "the second alert" receiver sh -c "[ \"\$(python3 '$TOOL' started '$W/alerts.jsonl' scaling_thrashing shop/checkout)\" != 0 ]" \
  || fail "no thrashing alert for shop/checkout after the failover"
sleep $((2 * INTERVAL))
touch "$W/poll.stop"; wait $POLL_PID
[ "$(received_start shop/checkout)" = 1 ] || fail "$(received_start shop/checkout) alerts for shop/checkout, want 1"
[ "$(received_start batch/reports)" = 1 ] || fail "the batch/reports alert was sent again after the failover"
sent_matches "$SURVIVOR" "$BEFORE_KILL" || fail "the survivor sent $(alerts_sent $SURVIVOR), the receiver got $(( $(received) - BEFORE_KILL )) since the kill"
ok "after the failover: the first alert not repeated, shop/checkout alerted once, every later notification by ha-$SURVIVOR"
python3 "$TOOL" analyse "$W/poll.jsonl" "$SURVIVOR_URL" "$KILL_EPOCH" "$INTERVAL" | tee "$W/survivor.txt" \
  || fail "the survivor's adapter had a failure or a value older than two cycles"
ok "every request to the survivor's adapter after the SIGKILL: 200 and fresh ($(head -1 "$W/survivor.txt"))"
# Published for BENCHMARKS.md by the caller when HA_REPORT is set.
if [ -n "${HA_REPORT:-}" ]; then cat "$W/difference.txt" "$W/survivor.txt" >"$HA_REPORT"; fi
echo "PASS: $PASS checks"
