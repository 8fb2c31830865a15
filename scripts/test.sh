#!/bin/bash
# The test command of the README: installs what is missing, builds everything, runs every
# test (`bazel test //...`: unit, integration with real Prometheus/kubectl/RocksDB crash
# tests), then a short libFuzzer run of each fuzz target, checks that the README's
# bazel-bin/cli/smart-autoscaler still runs, and ends with one line `tests: N passed, M failed`
# counted from Bazel's results plus one per fuzz target and one for the README path.
#
#   scripts/test.sh                                   # everything, 30 s per fuzz target
#   FUZZ_SECONDS=0 scripts/test.sh                    # skip fuzzing
#   scripts/test.sh --test_env=CRASH_ROUNDS=100       # extra args go to `bazel test`
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }
log=$(mktemp)
bazel test //... "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Bazel prints one summary line per test target: "//pkg:name  PASSED in 1.2s" (or FAILED,
# TIMEOUT, FLAKY, NO STATUS, FAILED TO BUILD).
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE)' "$log")
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # the build itself failed before any test ran
fi

fuzz_seconds="${FUZZ_SECONDS:-30}"
if [ "$fuzz_seconds" -gt 0 ] && [ -x tests/fuzz/run_fuzz.sh ]; then
  tests/fuzz/run_fuzz.sh "$fuzz_seconds" 2>&1 | tee "$log"
  fuzz_rc=${PIPESTATUS[0]}
  fuzz_ok=$(grep -cE '^== [a-z_]+: ok$' "$log")
  fuzz_failed=$(grep -cE '^== [a-z_]+: FAILED' "$log")
  if [ "$fuzz_rc" -ne 0 ] && [ "$fuzz_failed" -eq 0 ]; then
    fuzz_failed=1  # the clang build failed
  fi
  passed=$((passed + fuzz_ok))
  failed=$((failed + fuzz_failed))
fi
# A newcomer's paths: after everything above, the README's binary path still is the GCC build
# of this workspace (the fuzz build must not move bazel-bin) and runs.
readme_bin=bazel-bin/cli/smart-autoscaler
if [ "$(readlink -f "$readme_bin")" = "$(readlink -f "$(bazel info bazel-bin 2>/dev/null)/cli/smart-autoscaler")" ] &&
   "$readme_bin" --help >/dev/null && "$readme_bin" version >/dev/null; then
  echo "== readme-paths: ok ($readme_bin)"
  passed=$((passed + 1))
else
  echo "== readme-paths: FAILED: $readme_bin is missing, not this workspace's build, or does not run"
  failed=$((failed + 1))
fi
rm -f "$log"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
