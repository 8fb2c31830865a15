# Shared set-up of the adapter's shell integration tests (sourced): a work directory, a short
# snapshot socket path, process cleanup, pass/fail helpers, a test CA with a system:masters
# client certificate, and starting the adapter binary on a free port.
#
#   source tests/testing/adapter_harness.sh
#   harness_init stream                 # WORK, SOCK, PIDS, trap; cd "$WORK"
#   harness_pki stream-test-ca          # ca.pem, client.pem, client.key in $WORK
#   harness_start_adapter "$BIN" --max-staleness=2s   # URL, APID; C=(curl ...) for requests

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

harness_init() {  # name
  WORK="${TEST_TMPDIR:-$(mktemp -d)}/$1"
  rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
  SOCK="/tmp/adapter-$1-test-$$.sock"  # TEST_TMPDIR is too long for a socket path
  rm -f "$SOCK"
  PIDS=()
  PASS=0
  trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; rm -f "$SOCK"' EXIT
}

ok() { PASS=$((PASS + 1)); echo "ok: $*"; }

harness_pki() {  # CA common name
  local key="openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out"
  $key ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=$1" 2>/dev/null
  $key client.key 2>/dev/null
  openssl req -new -key client.key -out client.csr -subj "/O=system:masters/CN=hpa" 2>/dev/null
  printf "extendedKeyUsage=clientAuth\n" > ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
    -days 2 -extfile ext 2>/dev/null
}

harness_start_adapter() {  # binary, extra flags...
  local bin=$1; shift
  "$bin" adapter --secure-port=0 --bind-address=127.0.0.1 --port-file="$WORK/port" \
    --snapshot-address="unix://$SOCK" --client-ca-file=ca.pem --authentication-skip-lookup \
    "$@" > adapter.log 2>&1 &
  APID=$!; PIDS+=($APID)
  for _ in $(seq 1 200); do [ -s port ] && break; sleep 0.05; done
  [ -s port ] || fail "adapter did not start"
  URL="https://127.0.0.1:$(cat port)"
  C=(curl -sk --max-time 5 --cert client.pem --key client.key -o body -w '%{http_code}')
}
