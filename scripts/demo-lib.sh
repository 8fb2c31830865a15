# Shell functions shared by scripts/demo.sh and the end-to-end tests (sourced, not run).
# They start real processes (Prometheus, the reconciler, the adapter) in $W and remember their
# PIDs in $W/pids so that demo_stop_all can always clean up.

# The snapshot socket: in $W when its path fits a Unix socket address (107 bytes), else in a
# short private directory under /tmp (removed by demo_stop_all).
demo_socket() {
  if [ -z "${DEMO_SOCK:-}" ]; then
    if [ ${#W} -lt 80 ]; then
      DEMO_SOCK="$W/snapshots.sock"
    else
      DEMO_SOCK_DIR=$(mktemp -d /tmp/smart-autoscaler.XXXXXX)
      DEMO_SOCK="$DEMO_SOCK_DIR/snapshots.sock"
    fi
  fi
  echo "$DEMO_SOCK"
}

# A free TCP port on 127.0.0.1.
demo_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts "$@" in the background with its output in $W/<name>.log and records its PID.
demo_spawn() {  # name command...
  local name=$1; shift
  "$@" >"$W/$name.log" 2>&1 &
  echo "$! $name" >>"$W/pids"
  eval "PID_${name//-/_}=$!"
}

# Stops every process demo_spawn started (SIGTERM, then SIGKILL after 10 s).
demo_stop_all() {
  [ -f "$W/pids" ] || return 0
  local pid name
  while read -r pid name; do kill -TERM "$pid" 2>/dev/null || true; done <"$W/pids"
  for _ in $(seq 1 100); do
    local alive=0
    while read -r pid name; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$W/pids"
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  while read -r pid name; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done <"$W/pids"
  rm -f "$W/pids"
  if [ -n "${DEMO_SOCK_DIR:-}" ]; then rm -rf "$DEMO_SOCK_DIR"; fi
}

# Waits until `cmd` succeeds, up to $1 seconds, while process <name> (started by demo_spawn)
# runs; fails with the last lines of its log.
demo_wait() {  # seconds what name command...
  local secs=$1 what=$2 name=$3; shift 3
  local log="$W/$name.log" pidvar="PID_${name//-/_}"
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "${!pidvar}" 2>/dev/null; then
      echo "demo: $name exited while waiting for $what; last lines of $log:" >&2
      tail -n 15 "$log" >&2 || true
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "demo: timed out after ${secs}s waiting for $what; last lines of $log:" >&2
      tail -n 15 "$log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# A CA, a serving certificate for 127.0.0.1/localhost and a client certificate for a
# cluster-admin user (O=system:masters), all in $W/pki.
demo_pki() {
  mkdir -p "$W/pki"
  (
    cd "$W/pki"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    key ca.key
    openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj /CN=smart-autoscaler-demo-ca 2>/dev/null
    sign() {
      key "$1.key"
      openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf "%b" "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
        -days 30 -extfile "$1.ext" 2>/dev/null
    }
    sign serving "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
    sign client "/O=system:masters/CN=demo-admin" "extendedKeyUsage=clientAuth\n"
  )
}

# A kubeconfig for kubectl against the adapter on port $1.
demo_kubeconfig() {
  cat >"$W/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: smart-autoscaler-demo
  cluster: {server: "https://127.0.0.1:$1", certificate-authority: "$W/pki/ca.pem"}
users:
- name: demo-admin
  user: {client-certificate: "$W/pki/client.pem", client-key: "$W/pki/client.key"}
contexts:
- name: smart-autoscaler-demo
  context: {cluster: smart-autoscaler-demo, user: demo-admin}
current-context: smart-autoscaler-demo
KC
}

# The demo data (backfill.om, cluster.json, prometheus.yml) and the live exporter.
demo_start_exporter() {  # bin traces_dir
  rm -f "$W/exporter.port"
  demo_spawn exporter "$1" demo-exporter --out "$W" --traces-dir "$2" \
    --exporter-port-file "$W/exporter.port"
  demo_wait 60 "the demo exporter" exporter test -s "$W/exporter.port"
}

# Backfills the TSDB with promtool and starts Prometheus on port $PROM_PORT.
demo_start_prometheus() {
  if [ ! -d "$W/prom-data" ] || [ "$W/backfill.om" -nt "$W/prom-data" ]; then
    rm -rf "$W/prom-data"
    promtool tsdb create-blocks-from openmetrics "$W/backfill.om" "$W/prom-data" \
      >"$W/promtool.log" 2>&1 || { echo "demo: promtool failed; see $W/promtool.log" >&2; return 1; }
  fi
  demo_spawn prometheus prometheus --config.file="$W/prometheus.yml" \
    --storage.tsdb.path="$W/prom-data" --web.listen-address="127.0.0.1:$PROM_PORT" \
    --storage.tsdb.retention.time=30d
  demo_wait 60 "Prometheus to be ready" prometheus \
    curl -sf "http://127.0.0.1:$PROM_PORT/-/ready"
}

# The test API server (tests/kube_api_server, which stands in for kube-apiserver in tests) with
# the demo cluster's objects ($W/cluster.json, from demo_start_exporter). Sets KUBE_PORT and
# writes $W/reconciler.kubeconfig (bearer token sa-token).
demo_start_test_api_server() {  # repo_root
  demo_spawn kube-api python3 "$1/tests/kube_api_server/kube_api_server.py" \
    --port-file "$W/kube.port" --fixtures "$W/cluster.json"
  demo_wait 30 "the test API server" kube-api test -s "$W/kube.port" || return 1
  KUBE_PORT=$(cat "$W/kube.port")
  cat >"$W/reconciler.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "http://127.0.0.1:$KUBE_PORT"}}]
users: [{name: sa, user: {token: sa-token}}]
contexts: [{name: test, context: {cluster: test, user: sa}}]
current-context: test
KC
}

# The adapter on a free port, fed by the reconciler's snapshot socket (demo_socket).
demo_start_adapter() {  # bin [extra flags...]
  local bin=$1; shift
  rm -f "$W/adapter.port"
  demo_spawn adapter "$bin" adapter --secure-port=0 --bind-address=127.0.0.1 \
    --port-file="$W/adapter.port" --snapshot-address="unix://$DEMO_SOCK" \
    --tls-cert-file="$W/pki/serving.pem" --tls-private-key-file="$W/pki/serving.key" \
    --client-ca-file="$W/pki/ca.pem" --requestheader-client-ca-file="$W/pki/ca.pem" \
    --authentication-skip-lookup "$@"
  demo_wait 30 "the adapter" adapter test -s "$W/adapter.port"
  demo_kubeconfig "$(cat "$W/adapter.port")"
}

# How the demo reads the APIs ($DEMO_CLIENT, kept when already set): kubectl when it is on the
# PATH; else Debian's kubernetes-client (its kubectl 1.20 does `get --raw` with client
# certificates), installed when we are root with apt-get (not with DEMO_NO_APT=1); else curl with
# the demo's client certificate: the same requests, the same answers. $DEMO_CLIENT_NOTE says
# which happened.
demo_pick_client() {
  if [ -n "${DEMO_CLIENT:-}" ]; then
    DEMO_CLIENT_NOTE="${DEMO_CLIENT_NOTE:-$DEMO_CLIENT (chosen by DEMO_CLIENT)}"
    return 0
  fi
  if command -v kubectl >/dev/null; then
    DEMO_CLIENT=kubectl
    DEMO_CLIENT_NOTE="kubectl found at $(command -v kubectl)"
    return 0
  fi
  if [ "${DEMO_NO_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client \
      >"$W/apt-kubernetes-client.log" 2>&1 || true
    if command -v kubectl >/dev/null; then
      DEMO_CLIENT=kubectl
      DEMO_CLIENT_NOTE="kubectl was missing: installed Debian's kubernetes-client ($W/apt-kubernetes-client.log)"
      return 0
    fi
  fi
  DEMO_CLIENT=curl
  DEMO_CLIENT_NOTE="kubectl is missing and Debian's kubernetes-client could not be installed: each kubectl command is printed and its curl equivalent (the demo's client certificate) is run"
}

# Prints the kubectl command for GET $1 (and, with DEMO_CLIENT=curl, the curl that runs).
demo_show_raw() {
  echo "\$ kubectl --kubeconfig $W/kubeconfig get --raw \"$1\""
  if [ "${DEMO_CLIENT:-kubectl}" = curl ]; then
    echo "  (curl equivalent) \$ curl --cacert $W/pki/ca.pem --cert $W/pki/client.pem --key $W/pki/client.key \"https://127.0.0.1:$(cat "$W/adapter.port")$1\""
  fi
}

# GET $1 from the adapter: kubectl get --raw, or its curl equivalent (demo_pick_client).
demo_kubectl_raw() {
  if [ "${DEMO_CLIENT:-kubectl}" = curl ]; then
    curl -sS --fail-with-body --cacert "$W/pki/ca.pem" --cert "$W/pki/client.pem" \
      --key "$W/pki/client.key" "https://127.0.0.1:$(cat "$W/adapter.port")$1"
  else
    kubectl --kubeconfig "$W/kubeconfig" get --raw "$1"
  fi
}
