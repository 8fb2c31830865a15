#!/bin/bash
# Smoke test: storage_bench at a tiny size must finish, verify every read and report both engines.
set -euo pipefail
bench="$1"
out="$("$bench" --series=20 --days=1 --reads=20 --dir="${TEST_TMPDIR}/bench")"
echo "$out"
for engine in rocksdb sqlite; do
  if ! grep -q "^RESULT engine=${engine} samples=28800 " <<<"$out"; then
    echo "FAIL: no RESULT line for ${engine}" >&2
    exit 1
  fi
done
# Backfill order and a batch size that does not divide the total exercise the other paths.
"$bench" --series=3 --days=1 --batch=1000 --order=backfill --reads=3 \
  --dir="${TEST_TMPDIR}/bench2" >/dev/null
echo PASS
