#!/bin/bash
# Soak campaign (BENCHMARKS.md; on demand, not in CI): the adapter binary with client-certificate
# authentication on, fed by the snapshot stream (a full re-publish every 15 s), under RATE
# requests/s over CONNECTIONS keep-alive TLS connections for MINUTES. Prints per-minute counts
# and RSS, then errors (non-200 or a wrong value), p50/p99 and RSS growth; exit 1 on any error.
#
#   tests/adapter/soak.sh [MINUTES=30] [RATE=5000] [CONNECTIONS=16]
set -euo pipefail
MINUTES="${1:-30}"
RATE="${2:-5000}"
CONNECTIONS="${3:-16}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/adapter-soak.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$ROOT"
bazel build -c opt //cli:smart-autoscaler //tests/adapter:soak_load //tests/adapter:snapshot_feeder \
  >/dev/null 2>&1
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"

# A client CA and a leaf in system:masters (as the aggregator's identity would be authorized).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=soak-ca \
  -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=system:masters/CN=soak" \
  -keyout "$WORK/client.key" -out "$WORK/client.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$WORK/ext"
openssl x509 -req -in "$WORK/client.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -days 2 -extfile "$WORK/ext" -out "$WORK/client.pem" 2>/dev/null

"$BIN/tests/adapter/snapshot_feeder" --listen="unix://$WORK/s.sock" --interval=15s \
  --values=default/smart_cpu_pressure/api=1.5 2>"$WORK/feeder.log" &
PIDS+=($!)
"$BIN/cli/smart-autoscaler" adapter --secure-port=0 --bind-address=127.0.0.1 \
  --snapshot-address="unix://$WORK/s.sock" --client-ca-file="$WORK/ca.pem" \
  --authentication-skip-lookup --port-file="$WORK/port" 2>"$WORK/adapter.log" &
APID=$!; PIDS+=($APID)
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
for _ in $(seq 1 100); do
  [ "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/readyz")" = 200 ] && break
  sleep 0.2
done
TARGET="/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure?labelSelector=deployment%3Dapi"
echo "soak: ${MINUTES} min at ${RATE} req/s over ${CONNECTIONS} connections, adapter pid $APID"
"$BIN/tests/adapter/soak_load" "$PORT" "$WORK/client.pem" "$WORK/client.key" "$TARGET" \
  '"value":"1500m"' "$RATE" $((MINUTES * 60)) "$CONNECTIONS" "$APID" 60
