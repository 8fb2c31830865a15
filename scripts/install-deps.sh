#!/bin/bash
# Installs the Debian 12 packages smart-autoscaler builds, tests and runs with.
# Idempotent: apt-get only installs what is missing. Needs root (or sudo).
set -euo pipefail
PACKAGES=(
  bazel-bootstrap                          # Bazel 4.2.3
  g++ libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcurl4-openssl-dev rapidjson-dev librocksdb-dev libeigen3-dev
  prometheus-cpp-dev libgoogle-glog-dev libgtest-dev libgmock-dev libssl-dev
  libbenchmark-dev libsqlite3-dev libcivetweb-dev libyaml-dev
  prometheus                               # real Prometheus + promtool for tests and the demo
  clang-14 libclang-rt-14-dev              # libFuzzer targets
  curl openssl ca-certificates python3 python3-yaml   # test helpers
  procps time                              # pgrep in the demo test; /usr/bin/time in benchmarks
  libboost-dev wrk                         # adapter: Boost.Beast HTTPS server; its benchmark
  golang golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev  # tests/helm renderer (no helm)
  chromium                                 # reconciler/web: the headless page test
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl is not a Debian 12 package (Debian's kubernetes-client is 1.20, too old for the
# kustomize features deploy/ uses); the test machines come with it. Say so when it is missing.
if ! command -v kubectl >/dev/null; then
  echo "install-deps: warning: kubectl not found; the kubectl-based tests need kubectl >= 1.27" >&2
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Kubernetes/Prometheus Operator/cert-manager schema packages that //tests/schema validates
# manifests with (npm's kubernetes-models family, pinned by tests/schema/package-lock.json; not
# vendored: 35 MB of generated validators). Installed outside the tree, where the test looks.
# nodejs/npm: Debian's, unless a node with npm is already there.
SCHEMA_DIR="${SMART_AUTOSCALER_SCHEMA_DIR:-/opt/smart-autoscaler-schema}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v npm >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ -d "$SCHEMA_DIR/node_modules/kubernetes-models" ] &&
   cmp -s "$repo/tests/schema/package-lock.json" "$SCHEMA_DIR/package-lock.json"; then
  echo "install-deps: schema packages present in $SCHEMA_DIR"
else
  echo "install-deps: installing the schema packages into $SCHEMA_DIR (npm ci)"
  $SUDO mkdir -p "$SCHEMA_DIR"
  $SUDO cp "$repo/tests/schema/package.json" "$repo/tests/schema/package-lock.json" "$SCHEMA_DIR/"
  (cd "$SCHEMA_DIR" && $SUDO npm ci --no-audit --no-fund --loglevel=error)
fi
