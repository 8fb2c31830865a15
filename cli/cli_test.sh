#!/bin/bash
# End-to-end checks of the smart-autoscaler binary's command line: exit codes and output.
set -u
bin="$TEST_SRCDIR/smart_autoscaler/cli/smart-autoscaler"
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect CODE PATTERN -- ARGS...: runs the binary, checks exit code and that output matches.
expect() {
  local code="$1" pattern="$2"; shift 3
  local out rc
  out="$("$bin" "$@" 2>&1)"; rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, want $code; output: $out"
  echo "$out" | grep -qE -- "$pattern" || fail "'$*' output lacks /$pattern/: $out"
}

expect 0 '^smart-autoscaler [0-9]+\.[0-9]+\.[0-9]+' -- version
expect 0 'Commands:' -- --help
expect 0 'ingest' -- help
expect 2 'Commands:' --
expect 2 "unknown command 'frobnicate'" -- frobnicate
expect 0 -- '--series' -- ingest --help
expect 2 'takes no arguments' -- version extra
expect 2 'out of range' -- ingest --series=0
expect 1 'Unknown command line flag' -- ingest --no-such-flag

# The default job: the bundled trace, stored and read back.
expect 0 'verify     OK' -- ingest --series=3 --batch=500

# A persistent store path is reported and reusable.
expect 0 "store      $tmp/db" -- ingest --series=2 --db="$tmp/db"

# A bad CSV names the line and loses nothing silently.
printf 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,oops\n' > "$tmp/bad.csv"
expect 1 "bad.csv:3: bad value 'oops'" -- ingest --input="$tmp/bad.csv"
expect 1 'cannot open' -- ingest --input="$tmp/missing.csv"

# backtest: the bundled RDS trace through the four policies; --series and --plot files.
rds="$TEST_SRCDIR/smart_autoscaler/data/traces/nab/rds_cpu_utilization_cc0c53.csv"
expect 2 'is required' -- backtest
expect 2 'needs --deployment namespace/name' -- backtest --prometheus=http://127.0.0.1:1
expect 1 'api' -- backtest --prometheus=http://127.0.0.1:1 --deployment=shop/api
expect 2 'p95-cores must be > 0' -- backtest --input="$rds" --p95-cores=0
expect 2 'pod-memory-bytes must be >= 0' -- backtest --input="$rds" --pod-memory-bytes=-1
expect 1 'cannot open' -- backtest --input="$tmp/missing.csv"
expect 1 "bad.csv:3: bad value 'oops'" -- backtest --input="$tmp/bad.csv"
printf 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n' > "$tmp/short.csv"
expect 1 'needs more than' -- backtest --input="$tmp/short.csv"
expect 0 'native_cost_matched' -- backtest --input="$rds" --series "$tmp/s.csv" --plot="$tmp/p.svg"
head -1 "$tmp/s.csv" | grep -q '^time,demand_cores,native_ready_cores,smart_ready_cores' \
  || fail "backtest --series header: $(head -1 "$tmp/s.csv")"
grep -q '</svg>' "$tmp/p.svg" || fail "backtest --plot wrote no SVG"
expect 0 '"policy":"oracle"' -- backtest --input="$rds" --json

# forecast: five days of a 5-minute daily sine, generated here.
awk 'BEGIN { print "timestamp,value"; for (i = 0; i < 1440; i++)
  printf "%d,%.4f\n", 1700006400 + 300 * i, 50 + 20 * sin(2 * 3.14159265 * i / 288) }' \
  > "$tmp/sine.csv"
expect 0 '"at_horizon":' -- forecast --input="$tmp/sine.csv" --horizon=60m --output="$tmp/f.csv"
[ "$(wc -l < "$tmp/f.csv")" -eq 13 ] || fail "forecast --output: want 12 rows and a header"
expect 0 '"ensemble":\{"origins":24' -- forecast --input="$tmp/sine.csv" --evaluate \
  --origin-step 60m --eval-days 1 --train-days 4 --output="$tmp/e.csv"
head -1 "$tmp/e.csv" | grep -q '^origin,target,actual,forecast,p10,p90,peak_lead,peak_lead_p90$' \
  || fail "forecast --evaluate --output header"
expect 1 "bad.csv:3: bad value 'oops'" -- forecast --input="$tmp/bad.csv"
# Every bad row on its own line, each with the command's prefix: one run shows all to fix.
printf 'timestamp,value\n10,1\nfoo,2\n20,inf\n30,3\n30,4\n' > "$tmp/bad2.csv"
out="$("$bin" forecast --input="$tmp/bad2.csv" 2>&1)"
[ "$(echo "$out" | grep -cE '^forecast: .*bad2.csv:(3|4|6): ')" -eq 3 ] \
  || fail "want 3 prefixed problem lines (rows 3, 4, 6): $out"
expect 2 'required' -- forecast
expect 2 'unknown model' -- forecast --input="$tmp/sine.csv" --evaluate --models=nope

# check-config: the original's variables, one line per problem, exit 2.
expect 0 'config OK' -- check-config
expect 0 '^\| `CHECK_INTERVAL` \| 60 \| 10-3600 s' -- check-config --list
out="$(CHECK_INTERVAL=5 DRY_RUN=maybe DEPLOYMENT_0_NAMESPACE=x "$bin" check-config 2>&1)"; rc=$?
[ "$rc" -eq 2 ] || fail "check-config with bad variables exited $rc, want 2"
[ "$(echo "$out" | grep -c '^config: ')" -eq 3 ] || fail "want 3 problem lines: $out"
echo "$out" | grep -q '^config: CHECK_INTERVAL=5: is out of range' || fail "CHECK_INTERVAL line: $out"
# Alert channels: each missing or unreadable setting named, never a secret's content.
printf 's3cr3t-token\n' > "$tmp/grafana-token"
out="$(JIRA_URL=https://jira.example.com SLACK_WEBHOOK_FILE="$tmp/nope" \
  GRAFANA_URL=https://grafana.example.com GRAFANA_TOKEN_FILE="$tmp/grafana-token" \
  "$bin" check-config 2>&1)"; rc=$?
[ "$rc" -eq 2 ] || fail "check-config with bad alert channels exited $rc, want 2"
echo "$out" | grep -q '^config: alerts: SLACK_WEBHOOK_FILE: cannot read' || fail "slack file line: $out"
echo "$out" | grep -q '^config: alerts: jira: JIRA_TOKEN_FILE is required' || fail "jira line: $out"
echo "$out" | grep -q 's3cr3t' && fail "a secret was printed: $out"
out="$(GRAFANA_URL=https://grafana.example.com GRAFANA_TOKEN_FILE="$tmp/grafana-token" \
  ALERT_RENOTIFY_INTERVAL=30m "$bin" check-config 2>&1)" || fail "valid channels refused: $out"
echo "$out" | grep -q '^ALERT_CHANNEL_VARIABLES=ALERT_RENOTIFY_INTERVAL,GRAFANA_TOKEN_FILE,GRAFANA_URL$' \
  || fail "channel variables not described: $out"
echo "$out" | grep -q 's3cr3t' && fail "a secret was printed: $out"

# The README's configuration table is exactly what check-config --list prints.
"$bin" check-config --list > "$tmp/table.md"
grep -qxFf "$tmp/table.md" "$TEST_SRCDIR/smart_autoscaler/README.md" || fail "README lacks check-config --list lines"
missing=$(grep -vxFf "$TEST_SRCDIR/smart_autoscaler/README.md" "$tmp/table.md" || true)
[ -z "$missing" ] || fail "README configuration table out of date; missing rows: $missing"
mkdir -p "$tmp/cm" && echo 0 > "$tmp/cm/TARGET_NODE_UTILIZATION"
expect 2 'TARGET_NODE_UTILIZATION=0' -- check-config --config-dir="$tmp/cm"
expect 2 'config directory .*: not found' -- check-config --config-dir="$tmp/nope"
expect 0 'CHECK_INTERVAL=90' -- check-config --check-interval=90s
# LOG_FORMAT=json: one JSON object per log line (a cycle against a missing cluster file).
out="$(LOG_FORMAT=json PROMETHEUS_URL=http://127.0.0.1:1 "$bin" reconciler --cycles=1 \
  --cluster-file="$tmp/none.json" --db-path="$tmp/jdb" --publish-address="unix:///tmp/cli-test-$$.sock" \
  --api-address=127.0.0.1:0 --metrics-address=127.0.0.1:0 2>&1)"
echo "$out" | grep -q '^{"ts":"[0-9T:.-]*Z","level":"WARNING","file":"loop.cc","line":[0-9]*,"msg":"cycle skipped: cluster file' \
  || fail "LOG_FORMAT=json output: $out"
echo "$out" | grep -v '^{"ts":' | grep -q . && fail "non-JSON log lines: $out"
# reconciler: bad config and a missing cluster are clear errors, not crashes.
expect 2 'CHECK_INTERVAL=1' -- reconciler --check-interval=1 --cluster-file=/nonexistent
expect 2 'not in a Pod\?' -- reconciler --db-path="$tmp/rdb" --publish-address="unix://$tmp/s.sock"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "all CLI checks passed"
