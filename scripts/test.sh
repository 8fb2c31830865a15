#!/bin/bash
# The test command of the README: installs what is missing, builds everything, runs every
# test, and ends with one line `tests: N passed, M failed` counted from Bazel's results.
# Extra arguments go to `bazel test` (e.g. --test_env=CRASH_ROUNDS=100).
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
rm -f "$log"
echo "tests: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
