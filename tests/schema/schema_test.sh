#!/bin/bash
# Validates every manifest we ship against the Kubernetes OpenAPI schemas (npm's
# kubernetes-models; the Prometheus Operator's for the ServiceMonitor, cert-manager's for the
# Certificate and Issuer): the kustomize base, overlays/cert-manager, deploy/examples, and the
# Helm chart rendered with its default values and the three test variants. Then checks that a
# file of broken objects fails with each object and field named.
# The packages are installed by scripts/install-deps.sh (npm ci) into
# /opt/smart-autoscaler-schema, or $SMART_AUTOSCALER_SCHEMA_DIR.
set -euo pipefail
root="$TEST_SRCDIR/smart_autoscaler"
modules="${SMART_AUTOSCALER_SCHEMA_DIR:-/opt/smart-autoscaler-schema}/node_modules"
if [ ! -d "$modules/kubernetes-models" ]; then
  echo "schema_test: $modules/kubernetes-models is missing: run scripts/install-deps.sh"; exit 1
fi
dir="$TEST_TMPDIR/deploy"
cp -rL "$root/deploy" "$dir"
out="$TEST_TMPDIR/out"
mkdir -p "$out"
kubectl kustomize "$dir" > "$out/kustomize-base.yaml"
kubectl kustomize "$dir/overlays/cert-manager" > "$out/kustomize-cert-manager.yaml"
render="$root/tests/helm/helm_render"
"$render" --chart "$dir/helm/smart-autoscaler" --namespace smart-autoscaler > "$out/helm-default.yaml"
for v in cert-manager secret legacy; do
  "$render" --chart "$dir/helm/smart-autoscaler" --namespace smart-autoscaler \
    --values "$root/tests/helm/variants/$v.yaml" > "$out/helm-$v.yaml"
done

# YAML streams -> [{"source", "object"}] for validate.mjs.
to_json() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys, yaml
items = []
for path in sys.argv[2:]:
    for doc in yaml.safe_load_all(open(path)):
        if doc:
            items.append({"source": path.split("/out/")[-1].split("runfiles/smart_autoscaler/")[-1].split("/deploy/")[-1], "object": doc})
json.dump(items, open(sys.argv[1], "w"))
print(f"{len(items)} objects from {len(sys.argv) - 2} files")
PY
}
to_json "$out/shipped.json" "$out"/kustomize-*.yaml "$out"/helm-*.yaml "$dir"/examples/*.yaml
node "$root/tests/schema/validate.mjs" "$modules" "$out/shipped.json"

# The broken objects: every error named, exit status 1.
to_json "$out/broken.json" "$root/tests/schema/testdata/broken.yaml"
if node "$root/tests/schema/validate.mjs" "$modules" "$out/broken.json" > "$out/broken.txt"; then
  echo "FAIL: broken.yaml validated"; exit 1
fi
src="$root/tests/schema/testdata/broken.yaml"
want=(
  "tests/schema/testdata/broken.yaml: Deployment demo/broken: /spec/replicas must be integer"
  "Deployment demo/broken: /spec/template/spec/containers/0/ports/0/containerPort must be integer"
  "APIService v1beta1.external.metrics.k8s.io: /spec/groupPriorityMinimum is required"
  "ServiceMonitor demo/broken: /spec/endpoints/0/interval must match pattern"
  "HorizontalPodAutoscaler demo/broken: /spec/maxReplicas is required"
  "Widget unknown: no schema for example.com/v1 Widget"
  "schema: 5 objects, 5 failed"
)
for w in "${want[@]}"; do
  grep -qF -- "$w" "$out/broken.txt" || { echo "FAIL: want '$w' in:"; cat "$out/broken.txt"; exit 1; }
done
echo "broken objects reported:"; cat "$out/broken.txt"
