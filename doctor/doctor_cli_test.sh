#!/bin/bash
# `smart-autoscaler doctor` end to end: the binary with a kubeconfig pointing at
# tests/kube_api_server (the stand-in for kube-apiserver) holding the healthy install of
# fixtures/doctor_healthy.json (APIServices with insecureSkipTLSVerify, as deploy/ ships them)
# and one broken RBAC rule; Prometheus and the serving address are closed ports. Checks the
# ✔/✘ lines, the exit codes (1 on any ✘, 2 without a cluster) and --json.
set -euo pipefail
root="$TEST_SRCDIR/smart_autoscaler"
bin="$root/cli/smart-autoscaler"
d="$TEST_TMPDIR"
python3 "$root/tests/kube_api_server/kube_api_server.py" --port-file "$d/port" \
  --fixtures "$root/tests/kube_api_server/fixtures/cluster.json" > "$d/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.1; done
port=$(cat "$d/port")
python3 - "$port" "$root/tests/kube_api_server/fixtures/doctor_healthy.json" <<'PY'
import datetime, json, sys, urllib.request
port, path = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
d = json.loads(open(path).read().replace("@NOW@", now))
for it in d["items"]:
    if it["kind"] == "APIService":
        it["spec"].pop("caBundle")
        it["spec"]["insecureSkipTLSVerify"] = True
def post(p, body):
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}{p}",
                           data=json.dumps(body).encode(), method="POST")).read()
post("/_fake/objects", {"ops": [{"op": "add", "object": i} for i in d["items"]]})
sa = "system:serviceaccount:smart-autoscaler:smart-autoscaler"
d["config"]["sar_rules"].insert(0, {"user": sa, "verb": "watch", "resource": "nodes", "allowed": False})
post("/_fake/config", d["config"])
PY
cat > "$d/kubeconfig" <<K
apiVersion: v1
kind: Config
clusters:
- {name: test, cluster: {server: "http://127.0.0.1:$port"}}
users:
- {name: admin, user: {token: admin-token}}
contexts:
- {name: test, context: {cluster: test, user: admin}}
current-context: test
K
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
run() { "$bin" doctor --kubeconfig "$d/kubeconfig" --prometheus-url "http://127.0.0.1:$closed" \
          --serving-address "127.0.0.1:$closed" --request-timeout 3s "$@"; }
set +e
run > "$d/out.txt" 2> "$d/err.txt"; rc=$?
set -e
cat "$d/out.txt"
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc, want 1"; cat "$d/err.txt"; exit 1; }
want=(
  "✔ APIService v1beta1.external.metrics.k8s.io — Available"
  "✔ Service smart-autoscaler/smart-autoscaler has ready endpoints — 1 ready address(es) on port https"
  "✘ RBAC: serviceaccount smart-autoscaler/smart-autoscaler has the reconciler's permissions — missing permission: watch nodes"
  "✔ RBAC: serviceaccount smart-autoscaler/smart-autoscaler has the adapter's permissions — 3 permissions allowed"
  "✘ serving certificate matches the caBundle and smart-autoscaler.smart-autoscaler.svc — cannot fetch it from 127.0.0.1:$closed"
  "✘ Prometheus answers queries — unreachable:"
  "9 of 12 checks passed, 3 failed"
)
for w in "${want[@]}"; do
  grep -qF -- "$w" "$d/out.txt" || { echo "FAIL: want line: $w"; exit 1; }
done
[ "$(grep -c '^    fix: ' "$d/out.txt")" -eq 3 ] || { echo "FAIL: want a fix line per ✘"; exit 1; }
set +e
run --json > "$d/out.json"; rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "FAIL: --json exit $rc, want 1"; exit 1; }
python3 - "$d/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is False and r["failed"] == 3, r
bad = sorted(c["id"] for c in r["checks"] if not c["ok"])
assert bad == ["prometheus", "rbac/reconciler", "serving-cert"], bad
assert all(c["fix"] for c in r["checks"] if not c["ok"])
PY
# Only the external API registered (KEDA-free cluster where prometheus-adapter owns custom):
# the custom APIServices are not checked.
set +e
run --json --api-services=v1beta1.external.metrics.k8s.io > "$d/ext.json"
set -e
python3 - "$d/ext.json" <<'PY'
import json, sys
ids = [c["id"] for c in json.load(open(sys.argv[1]))["checks"]]
assert "apiservice/v1beta1.external.metrics.k8s.io" in ids, ids
assert not any(i.startswith("apiservice/") and "custom" in i for i in ids), ids
assert "apiservice-owner/custom.metrics.k8s.io" not in ids, ids
PY
# No cluster at all: exit 2 with the hint.
set +e
env -u KUBERNETES_SERVICE_HOST "$bin" doctor > /dev/null 2> "$d/err2.txt"; rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q -- "--kubeconfig" "$d/err2.txt" || { echo "FAIL: no cluster: exit $rc"; cat "$d/err2.txt"; exit 1; }
"$bin" doctor --help | grep -q -- "--serving_address" || { echo "FAIL: doctor --help"; exit 1; }
[ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ] && cp "$d/out.txt" "$TEST_UNDECLARED_OUTPUTS_DIR/doctor-cli.txt"
echo "doctor CLI OK"
