#!/bin/bash
# Builds the libFuzzer targets with clang-14 (own Bazel output base, so the GCC cache stays
# warm) and runs each for N seconds (default 60). The watch-stream seeds are ~6 KB, hence
# -max_len=8192.
#
#   tests/fuzz/run_fuzz.sh            # 60 s per target
#   tests/fuzz/run_fuzz.sh 10         # CI smoke run
#   FUZZ_TARGETS="selector_fuzzer" tests/fuzz/run_fuzz.sh 30
#
# Exit status is non-zero when a build fails or a target finds a crash (the reproducer is kept
# under $FUZZ_WORK/<target>/).
set -euo pipefail
SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUTPUT_BASE="${FUZZ_OUTPUT_BASE:-$HOME/.cache/bazel-ob/fuzz-clang}"
FUZZ_WORK="${FUZZ_WORK:-${TMPDIR:-/tmp}/smart-autoscaler-fuzz}"
ALL_TARGETS="quantity_fuzzer router_fuzzer selector_fuzzer prometheus_response_fuzzer
  kube_objects_fuzzer kube_watch_fuzzer kubeconfig_fuzzer trace_csv_fuzzer"
TARGETS=(${FUZZ_TARGETS:-$ALL_TARGETS})
JOBS="${FUZZ_BUILD_JOBS:-2}"

cd "$ROOT"
labels=()
for t in "${TARGETS[@]}"; do labels+=("//tests/fuzz:$t"); done
# Instrument our own code for coverage and ASan (-fsanitize=fuzzer-no-link); the targets' own
# copts/linkopts add the libFuzzer main.
# --symlink_prefix=/: no bazel-bin/bazel-out symlinks for this build, so the workspace's
# bazel-bin keeps pointing at the GCC build (the README's bazel-bin/cli/smart-autoscaler).
CC=clang-14 CXX=clang++-14 bazel --output_base="$OUTPUT_BASE" build --jobs="$JOBS" \
  --symlink_prefix=/ \
  --copt=-fsanitize=fuzzer-no-link,address --linkopt=-fsanitize=address \
  --copt=-Wno-unused-command-line-argument "${labels[@]}"
BIN="$OUTPUT_BASE/execroot/smart_autoscaler/bazel-out/k8-opt/bin/tests/fuzz"

status=0
for t in "${TARGETS[@]}"; do
  dir="$FUZZ_WORK/$t"
  mkdir -p "$dir/corpus"
  seeds="$ROOT/tests/fuzz/seeds/$t"
  echo "== $t: ${SECONDS_PER_TARGET}s"
  if ASAN_OPTIONS=detect_leaks=1 "$BIN/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 \
      -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$dir/" \
      "$dir/corpus" $( [ -d "$seeds" ] && echo "$seeds" ) > "$dir/log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" "$dir/log" | tail -2 || true
    echo "== $t: ok"
  else
    echo "== $t: FAILED (see $dir/log)"
    tail -30 "$dir/log"
    status=1
  fi
done
exit $status
