#!/bin/bash
# The store maintenance commands on a real RocksDB store written by `ingest`:
#   1. backup, restore into an empty directory, verify: the same series and sample counts;
#   2. a second, larger backup SIGKILLed at several moments: every time, restore still gives a
#      complete backup that verifies (the earlier one, or the new one if it finished first);
#   3. bad input: restore over a non-empty directory without --force, verify of a missing
#      store, an unknown action: clear errors and non-zero exits, nothing overwritten.
set -uo pipefail
BIN="$TEST_SRCDIR/$TEST_WORKSPACE/cli/smart-autoscaler"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
counts() { "$BIN" store verify --db "$1" 2>&1 | sed -n 's/.*: \([0-9]* series, [0-9]* samples\).*/\1/p'; }

"$BIN" ingest --db "$W/db" --series 20 > "$W/ingest1.log" 2>&1 || fail "ingest 1: $(tail -3 "$W/ingest1.log")"
"$BIN" store backup --db "$W/db" --to "$W/backup" > "$W/b1.log" 2>&1 || fail "backup 1: $(cat "$W/b1.log")"
"$BIN" store restore --from "$W/backup" --db "$W/r1" > /dev/null 2>&1 || fail "restore 1"
want1="$(counts "$W/db")"
got1="$(counts "$W/r1")"
[ -n "$want1" ] && [ "$want1" = "$got1" ] && ok "restored copy holds $got1" ||
  fail "restored '$got1', store has '$want1'"
"$BIN" store verify --db "$W/r1" > "$W/v1.log" 2>&1 && grep -q ' 0 problems' "$W/v1.log" &&
  ok "verify: $(cat "$W/v1.log")" || fail "verify of the restored copy: $(cat "$W/v1.log")"

# A bigger store: the next backup copies new files, long enough to be killed mid-way.
"$BIN" ingest --db "$W/db" --series 400 > "$W/ingest2.log" 2>&1 || fail "ingest 2"
want2="$(counts "$W/db")"
killed=0
for delay in 0.02 0.05 0.1 0.2 0.4; do
  "$BIN" store backup --db "$W/db" --to "$W/backup" > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null
  rm -rf "$W/r2"
  if ! "$BIN" store restore --from "$W/backup" --db "$W/r2" > "$W/r2.log" 2>&1; then
    fail "restore after a backup killed at ${delay}s: $(cat "$W/r2.log")"
    continue
  fi
  got="$(counts "$W/r2")"
  if [ "$got" = "$want1" ] || [ "$got" = "$want2" ]; then
    ok "backup killed at ${delay}s: restore gives a complete backup ($got)"
  else
    fail "backup killed at ${delay}s: restored '$got', expected '$want1' or '$want2'"
  fi
done
[ "$killed" -gt 0 ] && ok "$killed of 5 backups were killed while running" ||
  fail "no backup was still running when killed (the store is too small to test a crash)"
"$BIN" store backup --db "$W/db" --to "$W/backup" > /dev/null 2>&1 || fail "backup after the kills"
rm -rf "$W/r3"
"$BIN" store restore --from "$W/backup" --db "$W/r3" > /dev/null 2>&1 || fail "restore 3"
[ "$(counts "$W/r3")" = "$want2" ] && ok "a later complete backup restores the new data" ||
  fail "restore 3 gave '$(counts "$W/r3")', want '$want2'"

# Bad input.
out="$("$BIN" store restore --from "$W/backup" --db "$W/r1" 2>&1)"; rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q 'not empty' && [ "$(counts "$W/r1")" = "$want1" ] &&
  ok "restore over a non-empty store refused, nothing overwritten" || fail "restore over r1: rc=$rc $out"
out="$("$BIN" store verify --db "$W/missing" 2>&1)"; rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q 'no store at' && ok "verify of a missing store: $out" ||
  fail "verify missing: rc=$rc $out"
out="$("$BIN" store compact 2>&1)"; rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "unknown action" && ok "unknown action: $out" ||
  fail "unknown action: rc=$rc $out"
out="$("$BIN" store backup --db "$W/db" 2>&1)"; rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q -- '--to is required' && ok "backup without --to" ||
  fail "backup without --to: rc=$rc $out"

echo "store_backup_test: $fails failures"
[ "$fails" -eq 0 ]
