#!/bin/bash
# Renders deploy/ with kubectl's built-in kustomize (offline) and checks the objects an
# aggregated metrics server needs: three APIServices pointing at the Service, the auth RBAC,
# a Deployment whose adapter listens where the Service points and shares the snapshot socket
# with the reconciler, and example HPAs that name served metrics.
set -euo pipefail
# kustomize will not read through the runfiles' symlinks: render a real copy.
dir="$TEST_TMPDIR/deploy"
cp -rL "$TEST_SRCDIR/smart_autoscaler/deploy" "$dir"
out="$TEST_TMPDIR/rendered.yaml"
kubectl kustomize "$dir" > "$out"
/usr/bin/python3 - "$out" "$dir/examples" <<'PY'
import glob, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
by = {}
for d in docs:
    by.setdefault(d["kind"], []).append(d)
errors = []
def check(cond, msg):
    if not cond: errors.append(msg)

names = sorted(a["metadata"]["name"] for a in by.get("APIService", []))
check(names == ["v1beta1.custom.metrics.k8s.io", "v1beta1.external.metrics.k8s.io",
                "v1beta2.custom.metrics.k8s.io"], f"APIServices: {names}")
svc = by["Service"][0]
for a in by.get("APIService", []):
    s = a["spec"]
    check(a["metadata"]["name"] == f'{s["version"]}.{s["group"]}', "APIService name must be version.group")
    check(s["service"] == {"name": svc["metadata"]["name"], "namespace": svc["metadata"]["namespace"], "port": 443},
          f"APIService {a['metadata']['name']} points at {s['service']}")
    check(not (s.get("insecureSkipTLSVerify") and s.get("caBundle")), "caBundle with insecureSkipTLSVerify")
prio = {a["metadata"]["name"]: a["spec"]["versionPriority"] for a in by["APIService"]}
check(prio["v1beta2.custom.metrics.k8s.io"] > prio["v1beta1.custom.metrics.k8s.io"], "v1beta2 must be preferred")

roles = {(b["kind"], b["roleRef"]["name"]) for b in by.get("ClusterRoleBinding", []) + by.get("RoleBinding", [])}
check(("ClusterRoleBinding", "system:auth-delegator") in roles, "auth-delegator binding missing")
check(("RoleBinding", "extension-apiserver-authentication-reader") in roles, "auth-reader binding missing")
reader = [rb for rb in by["RoleBinding"] if rb["roleRef"]["name"] == "extension-apiserver-authentication-reader"][0]
check(reader["metadata"]["namespace"] == "kube-system", "auth-reader binding must live in kube-system")
for rule in [r for cr in by["ClusterRole"] for r in cr["rules"]]:
    check("patch" not in rule["verbs"] or False, f"default install must not patch anything: {rule}")

dep = by["Deployment"][0]
pod = dep["spec"]["template"]["spec"]
check(dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(),
      "Deployment selector does not match its template")
check(svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(),
      "Service selector does not match the pods")
containers = {c["name"]: c for c in pod["containers"]}
check(set(containers) == {"adapter", "reconciler"}, f"containers: {set(containers)}")
https = [p for p in svc["spec"]["ports"] if p["port"] == 443][0]
check(any(p.get("name") == https["targetPort"] for p in containers["adapter"]["ports"]), "Service 443 -> adapter port")
sock = [a for a in containers["adapter"]["args"] if a.startswith("--snapshot-address=")]
pub = [a.replace("--publish-address=", "--snapshot-address=") for a in containers["reconciler"]["args"]
       if a.startswith("--publish-address=")]
check(sock and sock == pub, "adapter (--snapshot-address) and reconciler (--publish-address) must share one socket")
renv = {e["name"]: e for e in containers["reconciler"].get("env", [])}
check(renv.get("OPERATOR_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
      "the reconciler's Lease must live in its own namespace (OPERATOR_NAMESPACE from metadata.namespace)")
leases = [r for role in by.get("Role", []) for r in role.get("rules", []) if "leases" in r.get("resources", [])]
check(leases and {"get", "create", "update"} <= set(leases[0].get("verbs", [])), "Role must allow Lease get/create/update")
check(sock and sock[0].startswith("--snapshot-address=unix://"), "snapshot stream must be a Unix socket")
mounts = lambda c: {m["name"] for m in c["volumeMounts"]}
check("snapshots" in mounts(containers["adapter"]) & mounts(containers["reconciler"]), "shared socket volume")
check(containers["reconciler"]["envFrom"][0]["configMapRef"]["name"] in
      [c["metadata"]["name"] for c in by["ConfigMap"]], "reconciler ConfigMap missing")

served = {"smart_cpu_blended", "smart_cpu_predicted", "smart_cpu_pressure", "smart_cpu_target", "smart_memory_blended"}
for f in glob.glob(sys.argv[2] + "/hpa-*.yaml"):
    hpa = yaml.safe_load(open(f))
    check(hpa["apiVersion"] == "autoscaling/v2", f"{f}: apiVersion")
    for m in hpa["spec"]["metrics"]:
        name = m[m["type"].lower()]["metric"]["name"]
        check(name in served, f"{f}: {name} is not a served metric")
if errors:
    print("\n".join(errors)); sys.exit(1)
print(f"deploy OK: {len(docs)} objects")
PY
