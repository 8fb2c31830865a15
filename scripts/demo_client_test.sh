#!/bin/bash
# scripts/demo.sh on a machine without kubectl: demo_pick_client falls back to curl (here with
# kubectl hidden from the PATH and apt disabled), and the curl equivalent of each printed
# `kubectl get --raw` returns the same answer as kubectl from the real adapter over HTTPS with
# the demo's client certificate.
set -euo pipefail
ROOT="$TEST_SRCDIR/smart_autoscaler"
W="$TEST_TMPDIR/w"
mkdir -p "$W"
source "$ROOT/scripts/demo-lib.sh"
trap demo_stop_all EXIT
demo_pki
cat > "$W/metrics.json" <<'J'
{"metrics": [{"namespace": "shop", "metric": "smart_cpu_pressure", "deployment": "api", "value": 0.85, "windowSeconds": 60}]}
J
demo_spawn adapter "$ROOT/cli/smart-autoscaler" adapter --secure-port=0 --bind-address=127.0.0.1 \
  --port-file="$W/adapter.port" --static-metrics="$W/metrics.json" \
  --tls-cert-file="$W/pki/serving.pem" --tls-private-key-file="$W/pki/serving.key" \
  --client-ca-file="$W/pki/ca.pem" --requestheader-client-ca-file="$W/pki/ca.pem" \
  --authentication-skip-lookup
demo_wait 30 "the adapter" adapter test -s "$W/adapter.port"
demo_kubeconfig "$(cat "$W/adapter.port")"
path="/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/smart_cpu_pressure?labelSelector=deployment%3Dapi"

# No kubectl on the PATH, no apt: curl.
nokube="$TEST_TMPDIR/bin"
mkdir -p "$nokube"
for t in curl python3 openssl cat id grep; do ln -sf "$(command -v $t)" "$nokube/$t"; done
(
  PATH="$nokube" DEMO_NO_APT=1
  unset DEMO_CLIENT
  demo_pick_client
  [ "$DEMO_CLIENT" = curl ] || { echo "FAIL: picked $DEMO_CLIENT without kubectl"; exit 1; }
  echo "$DEMO_CLIENT_NOTE" | grep -q "curl equivalent" || { echo "FAIL: note: $DEMO_CLIENT_NOTE"; exit 1; }
  demo_show_raw "$path" > "$W/shown.txt"
  demo_kubectl_raw "$path" > "$W/curl.json"
) || exit 1
grep -qF "\$ kubectl --kubeconfig $W/kubeconfig get --raw \"$path\"" "$W/shown.txt" || { cat "$W/shown.txt"; exit 1; }
grep -qF "(curl equivalent) \$ curl --cacert $W/pki/ca.pem --cert $W/pki/client.pem" "$W/shown.txt" || { cat "$W/shown.txt"; exit 1; }
grep -q '"value":"850m"' "$W/curl.json" || { echo "FAIL: curl answer"; cat "$W/curl.json"; exit 1; }

# With kubectl: the same answer (timestamps aside).
if command -v kubectl >/dev/null; then
  unset DEMO_CLIENT DEMO_CLIENT_NOTE
  demo_pick_client
  [ "$DEMO_CLIENT" = kubectl ] || { echo "FAIL: kubectl present but picked $DEMO_CLIENT"; exit 1; }
  demo_kubectl_raw "$path" > "$W/kubectl.json"
  strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [i.pop("timestamp") for i in d["items"]]; print(json.dumps(d, sort_keys=True))' "$1"; }
  [ "$(strip "$W/curl.json")" = "$(strip "$W/kubectl.json")" ] || { echo "FAIL: curl and kubectl differ"; exit 1; }
fi
echo "demo client OK"
