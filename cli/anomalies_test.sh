#!/bin/bash
# `smart-autoscaler anomalies` end to end: the detections CSV, a disordered input, and a NAB
# scoring run over the two bundled NAB files with their labelled windows.
set -u
bin="$TEST_SRCDIR/smart_autoscaler/cli/smart-autoscaler"
data="$TEST_SRCDIR/smart_autoscaler/data/traces/nab"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# One output row per input row, the four columns, 0/1 flags, scores in [0, 1].
"$bin" anomalies --input "$data/rds_cpu_utilization_cc0c53.csv" --output "$tmp/d.csv" \
  2>"$tmp/err" || fail "anomalies --input failed: $(cat "$tmp/err")"
[ "$(head -1 "$tmp/d.csv")" = "timestamp,value,score,is_anomaly" ] || fail "header: $(head -1 "$tmp/d.csv")"
[ "$(wc -l <"$tmp/d.csv")" = "$(wc -l <"$data/rds_cpu_utilization_cc0c53.csv")" ] || fail "row count"
awk -F, 'NR > 1 && (($4 != 0 && $4 != 1) || $3 < 0 || $3 > 1) { bad = 1 } END { exit bad }' \
  "$tmp/d.csv" || fail "a row with a bad score or flag"
# The labelled spike of 2014-02-25 07:15 (value 25.1) is detected at that row.
grep -q '^2014-02-25 07:15:00,25.1033,1.000000,1$' "$tmp/d.csv" || fail "the labelled spike is not detected"

# Newest-first input is refused with the offending line, not reversed silently.
{ echo "timestamp,value"; tail -n +2 "$data/rds_cpu_utilization_cc0c53.csv" | head -50 | tac; } >"$tmp/rev.csv"
out="$("$bin" anomalies --input "$tmp/rev.csv" 2>&1)"; rc=$?
[ "$rc" -eq 1 ] || fail "reversed input exited $rc"
echo "$out" | grep -q "rev.csv:3: timestamp" || fail "reversed input message: $out"

# NAB scoring over the two bundled files with their windows from NAB's combined_windows.json.
mkdir -p "$tmp/nab"
cp "$data/rds_cpu_utilization_cc0c53.csv" "$data/ec2_cpu_utilization_5f5533.csv" "$tmp/nab/"
cat >"$tmp/nab/combined_windows.json" <<'JSON'
{"realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv": [["2014-02-18 16:02:00.000000", "2014-02-19 08:42:00.000000"], ["2014-02-24 10:17:00.000000", "2014-02-25 02:57:00.000000"]],
 "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv": [["2014-02-24 22:50:00.000000", "2014-02-25 15:35:00.000000"], ["2014-02-26 16:30:00.000000", "2014-02-27 09:10:00.000000"]]}
JSON
out="$("$bin" anomalies --nab-score "$tmp/nab" 2>&1)" || fail "nab-score failed: $out"
echo "$out" | grep -qE '^ec2_cpu_utilization_5f5533.csv +92\.62 ' || fail "5f5533 standard score: $out"
[ "$(echo "$out" | grep -c '^TOTAL')" -eq 3 ] || fail "three totals (detector, optimised, Gaussian): $out"
echo '{"x.csv": [["2014-01-01 00:00:00", "2014-01-01 01:00:00"]], "rds_cpu_utilization_cc0c53.csv": [["2014-02-24 22:51:00", "2014-02-25 15:35:00"]]}' \
  >"$tmp/nab/combined_windows.json"
out="$("$bin" anomalies --nab-score "$tmp/nab" 2>&1)"; rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "does not start and end on rows" || fail "bad window: $rc $out"

[ "$failures" -eq 0 ] && echo "PASS" || { echo "$failures failure(s)"; exit 1; }
