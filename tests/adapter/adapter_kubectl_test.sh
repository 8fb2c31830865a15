#!/bin/bash
# Integration test: starts the real `smart-autoscaler adapter` binary on a free port with
# --static-metrics and a serving certificate from a test CA, then talks to it with the real
# kubectl (kubeconfig holding a client certificate from the same CA) and with curl edge cases.
# Every answer must be the expected body or a clean metav1.Status; the server must survive all.
set -euo pipefail

BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
WORK="${TEST_TMPDIR:-$(mktemp -d)}/adapter"
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
export HOME="$WORK"  # kubectl's cache dir
PASS=0
fail() { echo "FAIL: $*" >&2; [ -f adapter.log ] && tail -20 adapter.log >&2; exit 1; }
ok() { PASS=$((PASS + 1)); echo "ok: $*"; }

# --- test PKI: a CA, a serving cert for 127.0.0.1/localhost, a client cert, a rogue client ---
gen_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
gen_key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=adapter-test-ca 2>/dev/null
sign() {  # name subject extfile-lines
  gen_key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf "%b" "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "${4:-ca}.pem" -CAkey "${4:-ca}.key" -CAcreateserial \
    -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
}
sign serving "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
sign client "/O=system:masters/CN=jane" "extendedKeyUsage=clientAuth\n"
sign plain "/CN=bob" "extendedKeyUsage=clientAuth\n"
gen_key rogue-ca.key
openssl req -x509 -new -key rogue-ca.key -out rogue-ca.pem -days 2 -subj /CN=rogue-ca 2>/dev/null
sign rogue "/CN=mallory" "extendedKeyUsage=clientAuth\n" rogue-ca
# The aggregator's front-proxy identity, from its own CA; and a front-proxy cert with a CN
# that is not in --requestheader-allowed-names.
gen_key proxy-ca.key
openssl req -x509 -new -key proxy-ca.key -out proxy-ca.pem -days 2 -subj /CN=front-proxy-ca 2>/dev/null
sign proxy "/CN=front-proxy-client" "extendedKeyUsage=clientAuth\n" proxy-ca
sign proxy-other "/CN=not-the-aggregator" "extendedKeyUsage=clientAuth\n" proxy-ca

cat > metrics.json <<'JSON'
{"metrics": [
  {"namespace": "default", "metric": "smart_cpu_pressure", "deployment": "api-service",
   "labels": {"node_pool": "general"}, "value": 0.85, "windowSeconds": 60},
  {"namespace": "default", "metric": "smart_cpu_pressure", "deployment": "worker", "value": 2},
  {"namespace": "default", "metric": "smart_cpu_blended", "deployment": "api-service", "value": 73.5,
   "timestamp": "2030-01-01T00:00:00Z"},
  {"namespace": "default", "metric": "smart_cpu_target", "deployment": "api-service", "value": 70,
   "timestamp": "2020-01-01T00:00:00Z"}
]}
JSON

"$BIN" adapter --secure-port=0 --bind-address=127.0.0.1 --port-file="$WORK/port" \
  --static-metrics=metrics.json --tls-cert-file=serving.pem --tls-private-key-file=serving.key \
  --client-ca-file=ca.pem --requestheader-client-ca-file=proxy-ca.pem \
  --requestheader-allowed-names=front-proxy-client --authentication-skip-lookup > adapter.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do [ -s port ] && break; kill -0 $PID 2>/dev/null || fail "adapter exited"; sleep 0.05; done
PORT=$(cat port)
URL="https://127.0.0.1:$PORT"

cat > kubeconfig <<YAML
apiVersion: v1
kind: Config
clusters:
- name: adapter
  cluster: {server: "$URL", certificate-authority: "$WORK/ca.pem"}
users:
- name: jane
  user: {client-certificate: "$WORK/client.pem", client-key: "$WORK/client.key"}
contexts:
- name: adapter
  context: {cluster: adapter, user: jane}
current-context: adapter
YAML
export KUBECONFIG="$WORK/kubeconfig"

# --- kubectl get --raw -------------------------------------------------------------------------
out=$(kubectl get --raw /apis/external.metrics.k8s.io/v1beta1)
[ "$out" = '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[{"name":"smart_cpu_blended","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]},{"name":"smart_cpu_pressure","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]},{"name":"smart_cpu_target","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]}]}' ] \
  || fail "external discovery: $out"
ok "kubectl discovery external.metrics.k8s.io/v1beta1"

out=$(kubectl get --raw /apis/custom.metrics.k8s.io/v1beta2)
echo "$out" | grep -q '"name":"deployments.apps/smart_cpu_pressure","singularName":"","namespaced":true,"kind":"MetricValueList"' \
  || fail "custom discovery: $out"
ok "kubectl discovery custom.metrics.k8s.io/v1beta2"

out=$(kubectl get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure?labelSelector=deployment%3Dapi-service")
echo "$out" | grep -Eq '^\{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":\{\},"items":\[\{"metricName":"smart_cpu_pressure","metricLabels":\{"deployment":"api-service","node_pool":"general"\},"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z","window":60,"value":"850m"\}\]\}$' \
  || fail "external value: $out"
ok "kubectl external value 850m"

out=$(kubectl get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/SMART_CPU_BLENDED")
echo "$out" | grep -q '"timestamp":"2030-01-01T00:00:00Z","value":"73500m"' || fail "case-insensitive: $out"
ok "kubectl case-insensitive metric name, 73500m"

out=$(kubectl get --raw "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/worker/smart_cpu_pressure")
echo "$out" | grep -Eq '"describedObject":\{"kind":"Deployment","namespace":"default","name":"worker","apiVersion":"apps/v1"\},"metric":\{"name":"smart_cpu_pressure","selector":null\},"timestamp":"[^"]+","value":"2"\}\]\}$' \
  || fail "custom object v1beta2: $out"
ok "kubectl custom object metric v1beta2"

out=$(kubectl get --raw "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/deployments.apps/api-service/smart_cpu_pressure?metricLabelSelector=node_pool%3Dgeneral")
echo "$out" | grep -q '"metricName":"smart_cpu_pressure","timestamp":"[^"]*","window":60,"value":"850m","selector":{"matchLabels":{"node_pool":"general"}}' \
  || fail "custom object v1beta1: $out"
ok "kubectl custom object metric v1beta1"

set +e
err=$(kubectl get --raw /apis/external.metrics.k8s.io/v1beta1/namespaces/default/nope 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && [ "$err" = 'Error from server (NotFound): the server could not find the metric nope for namespaces default' ] \
  || fail "404: rc=$rc $err"
ok "kubectl 404 NotFound"

set +e
err=$(kubectl get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure?labelSelector=deployment+in+%28a" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && [ "$err" = "Error from server (BadRequest): unable to parse requirement: found '', expected: ',' or ')'" ] \
  || fail "bad selector: rc=$rc $err"
ok "kubectl 400 BadRequest on a bad selector"

set +e
err=$(kubectl get --raw "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_target" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && echo "$err" | grep -q '^Error from server (ServiceUnavailable): the metric smart_cpu_target for deployment api-service in namespace default is stale' \
  || fail "stale: rc=$rc $err"
ok "kubectl 503 on a stale value"

# --- curl edge cases: each a clean Status (or the right body), never a crash --------------------
C=(curl -sS --max-time 10 --cacert ca.pem --cert client.pem --key client.key)
expect() {  # name expected-code [curl args...]; the body must be JSON Status unless code 200
  local name="$1" want="$2"; shift 2
  local code
  code=$("${C[@]}" -o body -w '%{http_code}' "$@") || fail "$name: curl failed"
  [ "$code" = "$want" ] || fail "$name: HTTP $code, want $want: $(head -c 300 body)"
  if [ "$want" != 200 ]; then
    grep -q "\"kind\":\"Status\",\"apiVersion\":\"v1\".*\"code\":$want}" body || fail "$name: not a Status: $(head -c 300 body)"
  fi
  ok "$name -> $want"
}
EXT="$URL/apis/external.metrics.k8s.io/v1beta1/namespaces/default"
code=$(curl -sS --cacert ca.pem -o body -w '%{http_code}' "$EXT/smart_cpu_pressure"); [ "$code" = 401 ] && grep -q '"reason":"Unauthorized"' body || fail "no cert: $code"
ok "no client certificate -> 401"
code=$(curl -sS --cacert ca.pem --cert rogue.pem --key rogue.key -o body -w '%{http_code}' "$EXT/smart_cpu_pressure"); [ "$code" = 401 ] || fail "rogue CA: $code"
ok "certificate from another CA -> 401"
code=$(curl -sS --cacert ca.pem -o body -w '%{http_code}' "$URL/healthz"); [ "$code" = 200 ] && [ "$(cat body)" = ok ] || fail "healthz without cert: $code"
ok "healthz without credentials -> 200 ok"
P=(curl -sS --max-time 10 --cacert ca.pem -o body -w '%{http_code}')
code=$("${P[@]}" --cert proxy.pem --key proxy.key -H 'X-Remote-User: system:kube-aggregator' \
  -H 'X-Remote-Group: system:masters' "$URL/apis/external.metrics.k8s.io/v1beta1")
[ "$code" = 200 ] && grep -q '"kind":"APIResourceList"' body || fail "front proxy probe: $code $(cat body)"
ok "front-proxy cert + X-Remote-User/Group (aggregator probe) -> 200"
code=$("${P[@]}" --cert proxy-other.pem --key proxy-other.key -H 'X-Remote-User: system:kube-aggregator' \
  -H 'X-Remote-Group: system:masters' "$URL/apis/external.metrics.k8s.io/v1beta1")
[ "$code" = 401 ] || fail "front proxy with a CN not allowed: $code $(cat body)"
ok "front-proxy cert with a CN not allowed -> 401"
code=$("${P[@]}" --cert plain.pem --key plain.key -H 'X-Remote-User: system:kube-aggregator' \
  -H 'X-Remote-Group: system:masters' "$EXT/smart_cpu_pressure")
[ "$code" = 403 ] || fail "client-ca cert with forged X-Remote headers: $code $(cat body)"
ok "forged X-Remote-* headers on a client-ca cert are ignored (user bob) -> 403"
code=$("${P[@]}" --cert proxy.pem --key proxy.key -H 'X-Remote-User: jane' "$EXT/smart_cpu_pressure")
[ "$code" = 403 ] && grep -q '"reason":"Forbidden"' body || fail "front proxy, ordinary user without a Kubernetes API: $code $(cat body)"
ok "front-proxy user outside system:masters, no SubjectAccessReview API -> 403 (fail closed)"
expect "HTTP/1.0" 200 -0 "$EXT/smart_cpu_pressure"
code=$("${C[@]}" -0 -sv -o /dev/null "$EXT/smart_cpu_pressure" 2>&1 | grep -c '^< HTTP/1.0 200') || true
[ "$code" = 1 ] || fail "HTTP/1.0 response version"
ok "HTTP/1.0 answered as HTTP/1.0"
{ printf 'X-Big: '; head -c 200000 /dev/zero | tr '\0' a; echo; } > big-header
expect "huge header (200 KB)" 431 -H @big-header "$EXT/smart_cpu_pressure"
expect "10k-character key in a selector" 400 "$EXT/smart_cpu_pressure?labelSelector=$(head -c 10000 /dev/zero | tr '\0' k)%3Dv"
sel=""; for i in $(seq 1 1200); do sel="${sel}k$i%3Dv%2C"; done; sel="${sel}deployment%3Dapi-service"
[ ${#sel} -gt 10000 ] || fail "selector too short"
expect "10k-character valid selector" 200 "$EXT/smart_cpu_pressure?labelSelector=$sel"
grep -q '"items":\[\]' body || fail "long selector should match nothing"
expect "path traversal" 400 --path-as-is "$URL/apis/../../etc/passwd"
expect "encoded path traversal" 400 --path-as-is "$URL/apis/%2e%2e/%2e%2e/etc/passwd"
expect "encoded slash" 400 "$URL/apis/external.metrics.k8s.io%2Fv1beta1"
expect "bad percent escape in path" 400 "$EXT/smart%zzcpu"
expect "truncated percent escape in query" 400 "$EXT/smart_cpu_pressure?labelSelector=%4"
expect "encoded NUL" 400 "$EXT/smart%00cpu"
expect "percent-encoded metric name" 200 "$EXT/smart%5Fcpu%5Fpressure?labelSelector=deployment%3Dworker"
grep -q '"value":"2"' body || fail "percent-encoded name body"
expect "plus is a space in selectors" 200 "$EXT/smart_cpu_pressure?labelSelector=deployment+in+%28worker%29"
grep -q '"deployment":"worker"' body || fail "plus-as-space body"
expect "invalid UTF-8 metric name" 404 "$EXT/%ff%fe"
expect "POST" 405 -X POST -d x "$EXT/smart_cpu_pressure"
expect "watch" 405 "$EXT/smart_cpu_pressure?watch=true"
expect "aggregated discovery" 406 -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' "$URL/apis"
expect "protobuf only" 406 -H 'Accept: application/vnd.kubernetes.protobuf' "$EXT/smart_cpu_pressure"
expect "unknown path" 404 "$URL/api/v1/pods"
expect "openapi v2" 404 "$URL/openapi/v2"
# /metrics: a non-resource path behind authentication and authorization (like prometheus-adapter).
code=$(curl -sS --cacert ca.pem -o body -w '%{http_code}' "$URL/metrics"); [ "$code" = 401 ] || fail "metrics without credentials: $code"
ok "/metrics without credentials -> 401"
code=$("${P[@]}" --cert plain.pem --key plain.key "$URL/metrics"); [ "$code" = 403 ] || fail "metrics as bob: $code $(cat body)"
ok "/metrics as a user without access -> 403"
ctype=$("${C[@]}" -o body -w '%{content_type}' \
  -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' "$URL/metrics") \
  || fail "metrics: curl failed"
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "metrics content type: $ctype"
for line in 'adapter_requests_total{code="200",resource="externalmetrics",verb="list"} ' \
    'adapter_requests_total{code="503",resource="externalmetrics",verb="list"} 1' \
    'adapter_requests_total{code="403",resource="/metrics",verb="get"} 1' \
    'adapter_stale_responses_total 1' 'adapter_served_series 4' 'adapter_snapshot_age_seconds 0' \
    'adapter_request_duration_seconds_bucket{resource="externalmetrics",le="+Inf"} '; do
  grep -qF "$line" body || fail "/metrics lacks '$line': $(head -c 3000 body)"
done
if [ -x /usr/bin/promtool ]; then
  /usr/bin/promtool check metrics < body || fail "promtool check metrics: $(head -c 3000 body)"
  ok "/metrics passes promtool check metrics"
else
  echo "promtool not installed: lint of /metrics skipped"
fi
ok "/metrics as jane (system:masters) -> 200 text/plain; version=0.0.4 with request metrics"
# A malformed request line straight over TLS.
resp=$(printf 'GARBAGE\r\n\r\n' | timeout 10 openssl s_client -quiet -connect 127.0.0.1:$PORT -CAfile ca.pem 2>/dev/null || true)
echo "$resp" | grep -q '"reason":"BadRequest","code":400' || fail "garbage request: $resp"
ok "garbage request line -> 400"
# Keep-alive: two requests on one connection.
n=$("${C[@]}" -sv -o /dev/null -o /dev/null "$URL/healthz" "$URL/livez" 2>&1 | grep -c 'Re-using existing connection') || true
[ "$n" -ge 1 ] || fail "keep-alive"
ok "keep-alive reuses the connection"
# ALPN: only http/1.1, even when the client offers h2.
"${C[@]}" --http2 -sv -o /dev/null "$URL/healthz" 2>&1 | grep -q 'ALPN: server accepted http/1.1' || fail "ALPN"
ok "ALPN http/1.1 only"
# TLS 1.1 is refused.
if curl -sS --cacert ca.pem --tls-max 1.1 -o /dev/null "$URL/healthz" 2>/dev/null; then fail "TLS 1.1 accepted"; fi
ok "TLS < 1.2 refused"

kill -0 $PID || fail "adapter died"
expect "still serving" 200 "$URL/readyz"
echo "tests: $PASS passed, 0 failed"
