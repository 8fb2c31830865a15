#!/bin/bash
# The main job of the README: installs what is missing, builds, and runs smart-autoscaler on
# its embedded default. Extra arguments replace the default subcommand and flags.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
bazel build //:smart-autoscaler
if [ $# -eq 0 ]; then
  set -- ingest
fi
exec bazel-bin/cli/smart-autoscaler "$@"
