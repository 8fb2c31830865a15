#!/bin/bash
# Renders deploy/helm/smart-autoscaler with helm_render (a stand-in for `helm template`) for the
# default values and three variants and checks each rendering's kinds and names against the
# kustomize base / overlay, plus what each TLS mode must wire: a caBundle that verifies the
# generated certificate (self-signed), the given caBundle (secret), inject-ca-from and a
# Certificate for the Service's names (cert-manager). Bad values must fail with their message.
set -euo pipefail
root="$TEST_SRCDIR/smart_autoscaler"
render="$root/tests/helm/helm_render"
dir="$TEST_TMPDIR/deploy"
cp -rL "$root/deploy" "$dir"   # kustomize will not read through the runfiles' symlinks
chart="$dir/helm/smart-autoscaler"
out="$TEST_TMPDIR/out"
mkdir -p "$out"
kubectl kustomize "$dir" > "$out/kustomize-base.yaml"
kubectl kustomize "$dir/overlays/cert-manager" > "$out/kustomize-cert-manager.yaml"

r() { "$render" --chart "$chart" --namespace smart-autoscaler "$@"; }
r > "$out/default.yaml"
variants="$root/tests/helm/variants"
for v in cert-manager secret legacy; do
  r --values "$variants/$v.yaml" > "$out/$v.yaml"
done

# Failures name the value.
fail_with() {
  local want="$1"; shift
  if r "$@" > "$out/bad.yaml" 2> "$out/bad.err"; then
    echo "FAIL: rendering with $* succeeded"; exit 1
  fi
  grep -q -- "$want" "$out/bad.err" || { echo "FAIL: want '$want' in:"; cat "$out/bad.err"; exit 1; }
}
fail_with "tls.secretName is required" --set tls.mode=secret --set tls.caBundle=Q0E=
fail_with "tls.caBundle" --set tls.mode=secret --set tls.secretName=x
fail_with 'tls.mode "acme"' --set tls.mode=acme
fail_with "prometheus.url is required" --set prometheus.url=

/usr/bin/python3 - "$out" "$dir/examples/legacy-hpa-patch-rbac.yaml" <<'PY'
import base64, subprocess, sys, yaml
out, legacy_rbac = sys.argv[1], sys.argv[2]
load = lambda f: [d for d in yaml.safe_load_all(open(f)) if d]
names = lambda docs: {(d["kind"], d["metadata"]["name"]) for d in docs}
base = names(load(f"{out}/kustomize-base.yaml"))
overlay = names(load(f"{out}/kustomize-cert-manager.yaml"))
errors = []
def same(label, got, want):
    if got != want:
        errors.append(f"{label}: extra {sorted(got - want)}, missing {sorted(want - got)}")

ns = {("Namespace", "smart-autoscaler")}
ext = {("APIService", "v1beta1.external.metrics.k8s.io")}
custom = {("APIService", "v1beta2.custom.metrics.k8s.io"), ("APIService", "v1beta1.custom.metrics.k8s.io")}
renders = {v: load(f"{out}/{v}.yaml") for v in ("default", "cert-manager", "secret", "legacy")}
same("default", names(renders["default"]), base - ns | {("Secret", "smart-autoscaler-tls")})
same("cert-manager (vs overlays/cert-manager)", names(renders["cert-manager"]), overlay)
same("secret", names(renders["secret"]), base - ns - custom - {("ServiceMonitor", "smart-autoscaler")}
     | {("PodDisruptionBudget", "smart-autoscaler"), ("NetworkPolicy", "smart-autoscaler")})
same("legacy", names(renders["legacy"]), base - ns - ext - {("PersistentVolumeClaim", "smart-autoscaler-data")}
     | names(load(legacy_rbac)) | {("Secret", "smart-autoscaler-tls")})

def by(docs, kind):
    return [d for d in docs if d["kind"] == kind]
def check(cond, msg):
    if not cond: errors.append(msg)

# Every variant: APIServices point at the Service; the Deployment mounts the TLS Secret.
for v, docs in renders.items():
    svc = by(docs, "Service")[0]["metadata"]
    for a in by(docs, "APIService"):
        s = a["spec"]
        check(s["service"] == {"name": svc["name"], "namespace": svc["namespace"], "port": 443},
              f"{v}: {a['metadata']['name']} points at {s['service']}")
        check(not s.get("insecureSkipTLSVerify"), f"{v}: {a['metadata']['name']} skips TLS verification")
    pod = by(docs, "Deployment")[0]["spec"]["template"]["spec"]
    adapter = [c for c in pod["containers"] if c["name"] == "adapter"][0]
    check("--tls-cert-file=/etc/smart-autoscaler/tls/tls.crt" in adapter["args"], f"{v}: adapter cert flag")
    vols = {x["name"]: x for x in pod["volumes"]}
    check("tls" in vols and "secret" in vols["tls"], f"{v}: tls volume")

# self-signed: the caBundle verifies the generated certificate for the Service's DNS name.
sec = by(renders["default"], "Secret")[0]["data"]
ca = base64.b64decode(sec["ca.crt"]).decode()
for a in by(renders["default"], "APIService"):
    check(a["spec"].get("caBundle") == sec["ca.crt"], f"default: {a['metadata']['name']} caBundle is not the Secret's CA")
open(f"{out}/ca.pem", "w").write(ca)
open(f"{out}/tls.pem", "w").write(base64.b64decode(sec["tls.crt"]).decode())
v = subprocess.run(["openssl", "verify", "-CAfile", f"{out}/ca.pem", "-verify_hostname",
                    "smart-autoscaler.smart-autoscaler.svc", f"{out}/tls.pem"], capture_output=True, text=True)
check(v.returncode == 0, f"default: generated certificate does not verify: {v.stdout}{v.stderr}")

# cert-manager: inject-ca-from names the Certificate; same SANs as the overlay's.
cert = by(renders["cert-manager"], "Certificate")[0]
for a in by(renders["cert-manager"], "APIService"):
    check(a["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from") == "smart-autoscaler/smart-autoscaler",
          f"cert-manager: {a['metadata']['name']} has no inject-ca-from")
    check("caBundle" not in a["spec"], "cert-manager: caBundle must be left to the cainjector")
ocert = by(load(f"{out}/kustomize-cert-manager.yaml"), "Certificate")[0]
check(cert["spec"]["dnsNames"] == ocert["spec"]["dnsNames"], "cert-manager: dnsNames differ from the overlay")
check(cert["spec"]["secretName"] == "smart-autoscaler-tls", "cert-manager: secretName")

# secret: the given Secret and caBundle.
for a in by(renders["secret"], "APIService"):
    check(a["spec"].get("caBundle") == "Q0EtUEVN", "secret: caBundle not passed through")
vols = by(renders["secret"], "Deployment")[0]["spec"]["template"]["spec"]["volumes"]
check({"name": "tls", "secret": {"secretName": "my-serving-cert"}} in vols, "secret: Secret not mounted")

# legacy: patch mode on, token from the Secret, headers, extra env, no PVC volume, 2 replicas.
dep = by(renders["legacy"], "Deployment")[0]
rec = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "reconciler"][0]
env = {e["name"]: e for e in rec["env"]}
check(env.get("PROMETHEUS_BEARER_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef") == {"name": "prom-token", "key": "token"},
      "legacy: bearer token not from the Secret")
check(env.get("TARGET_NODE_UTILIZATION", {}).get("value") == "65", "legacy: extraEnv missing")
cm = by(renders["legacy"], "ConfigMap")[0]["data"]
check(cm.get("HPA_PATCH_MODE") == "true" and cm.get("PROMETHEUS_HEADERS") == "X-Scope-OrgID: team-a"
      and cm.get("PROMETHEUS_URL") == "https://mimir.example/prometheus", f"legacy: ConfigMap {cm}")
check(dep["spec"]["replicas"] == 2 and "strategy" not in dep["spec"], "legacy: replicas/strategy")
check({"name": "data", "emptyDir": {}} in dep["spec"]["template"]["spec"]["volumes"], "legacy: data volume")

# The default ConfigMap equals the base's.
bcm = [d for d in load(f"{out}/kustomize-base.yaml") if d["kind"] == "ConfigMap"][0]["data"]
same("default ConfigMap keys", set(by(renders["default"], "ConfigMap")[0]["data"].items()), set(bcm.items()))
if errors:
    print("\n".join(errors)); sys.exit(1)
print("chart OK: " + ", ".join(f"{v} {len(d)} objects" for v, d in renders.items()))
PY
