// config: the reconciler's settings, from the original project's environment variables (same
// names and meaning), a ConfigMap mounted as a directory (one file per key) and flags, in that
// order of precedence (flags win).
//
//   std::map<std::string, std::string> vars = reconciler::EnvironmentVariables();
//   reconciler::ConfigResult r = reconciler::LoadConfig(vars);
//   if (!r.problems.empty()) { for (auto& p : r.problems) std::cerr << p << "\n"; return 2; }
//
// Every problem is one line naming the variable, the bad value and the accepted range; all
// problems are collected, not just the first. Unknown variables are ignored (the environment
// holds many), except misspelt DEPLOYMENT_<N>_ keys, which are reported. Pure functions over a
// map of strings: no I/O except ReadConfigDir / EnvironmentVariables.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reconciler {

// A workload named by the original's DEPLOYMENT_<N>_* variables.
struct StaticTarget {
  std::string namespace_name;
  std::string name;
  std::string hpa_name;                             // DEPLOYMENT_<N>_HPA_NAME, default = name
  absl::Duration startup_filter = absl::Minutes(2);  // DEPLOYMENT_<N>_STARTUP_FILTER (minutes)
  std::string priority = "medium";                   // DEPLOYMENT_<N>_PRIORITY
  // DEPLOYMENT_<N>_MONTHLY_BUDGET: USD per month (> 0) that caps forecast-driven headroom;
  // 0 means none (the annotation smart-autoscaler.io/monthly-budget may still set one).
  double monthly_budget = 0;
};

struct Config {
  // --- Prometheus
  std::string prometheus_url = "http://prometheus-server.monitoring:9090";  // PROMETHEUS_URL
  std::string prometheus_bearer_token;                                     // PROMETHEUS_BEARER_TOKEN
  // PROMETHEUS_HEADERS: "Name: value; Name2: value2" (e.g. "X-Scope-OrgID: team-a").
  std::vector<std::pair<std::string, std::string>> prometheus_headers;
  absl::Duration prometheus_timeout = absl::Seconds(10);  // PROMETHEUS_TIMEOUT (seconds)
  double prometheus_rate_limit = 10;                      // PROMETHEUS_RATE_LIMIT, queries/s
  double k8s_api_rate_limit = 20;                         // K8S_API_RATE_LIMIT, requests/s
  // PROMETHEUS_QUERY_CONCURRENCY: the cycle's six queries run on this many threads (1-5).
  int prometheus_query_concurrency = 1;

  // --- The loop
  absl::Duration check_interval = absl::Seconds(60);  // CHECK_INTERVAL (seconds, 10-3600)
  // TARGET_NODE_UTILIZATION: the base HPA target (% of CPU request) served as smart_cpu_target
  // under warning or unknown node pressure; the pressure table moves it up (safe) or down
  // (critical). The original defaulted to 30 and compared it with node utilisation, which made
  // its pattern override fire almost always; 70 is the base
  // of the original's own target table. Range 20-95.
  double target_node_utilization = 70;
  bool dry_run = false;            // DRY_RUN: compute and serve, but never patch (legacy mode)
  bool enable_predictive = true;   // ENABLE_PREDICTIVE
  bool enable_autotuning = true;   // ENABLE_AUTOTUNING
  bool enable_auto_discovery = true;  // ENABLE_AUTO_DISCOVERY: HPAs that reference smart_*
  bool hpa_patch_mode = false;        // HPA_PATCH_MODE: legacy, patch averageUtilization
  absl::Duration lead_time = absl::Minutes(10);      // LEAD_TIME_MINUTES (1-120)
  absl::Duration cooldown = absl::Minutes(5);        // TARGET_COOLDOWN_MINUTES (0-120)
  absl::Duration startup_filter = absl::Minutes(2);  // STARTUP_FILTER_MINUTES (0-60)
  double prediction_min_accuracy = 0.60;             // PREDICTION_MIN_ACCURACY (0-1)
  // BACKFILLS_PER_CYCLE: Prometheus range queries per cycle for new deployments' demand history
  // (3 keeps a cycle within 9 queries). Histories in the local store load without queries,
  // within a per-cycle time budget of CHECK_INTERVAL / 4 (at most 15 s).
  int backfills_per_cycle = 3;
  // BACKFILL_QUERIES_PER_SECOND: the background cold-start backfiller's own budget of grouped
  // range queries to Prometheus (0: no background backfiller, BACKFILLS_PER_CYCLE only).
  double backfill_queries_per_second = 2;
  std::vector<StaticTarget> deployments;             // DEPLOYMENT_<N>_*

  // --- Costs and memory
  double cost_per_vcpu_hour = 0.04;         // COST_PER_VCPU_HOUR (>= 0)
  double cost_per_gb_memory_hour = 0.005;   // COST_PER_GB_MEMORY_HOUR (>= 0)
  // PRICING_FILE: per-node-pool prices (a 'label <key>' line, then '<value> <vCPU-h> <GB-h>'
  // lines); "" prices every node at the two flat prices above.
  std::string pricing_file;
  // COST_REPORT_INTERVAL_HOURS: the cost report through the alert channels (0: never).
  absl::Duration cost_report_interval = absl::Hours(168);
  double memory_warning_threshold = 0.75;   // MEMORY_WARNING_THRESHOLD (0-1, < critical)
  double memory_critical_threshold = 0.90;  // MEMORY_CRITICAL_THRESHOLD (0-1)
  absl::Duration memory_check_interval = absl::Seconds(30);  // MEMORY_CHECK_INTERVAL (seconds)

  // --- Storage
  std::string db_path = "/data/tsdb";                   // DB_PATH
  absl::Duration retention = absl::Hours(24 * 30);      // METRICS_RETENTION_DAYS (1-365)
  std::string backup_dir;                               // BACKUP_DIR ("": no periodic backups)
  absl::Duration backup_interval = absl::Hours(6);      // BACKUP_INTERVAL (seconds, 60-604800)
  int backup_retention = 4;                             // BACKUP_RETENTION (backups kept, 1-1000)

  // --- Logs and alerts
  std::string log_level = "INFO";  // LOG_LEVEL: DEBUG, INFO, WARNING, ERROR
  std::string log_format = "json";  // LOG_FORMAT: json, text
  std::string slack_webhook, teams_webhook, discord_webhook, generic_webhook;  // *_WEBHOOK
  // Every alert-channel variable that is set (the four above too), name -> value, as the
  // channel configuration (reconciler/alerts ChannelsFromEnvironment) reads them. Secrets are
  // only ever file paths here (*_FILE), except the original's four webhook URLs.
  std::map<std::string, std::string> alert_channel_vars;

  // --- Where things are
  std::string operator_namespace = "autoscaler-system";  // OPERATOR_NAMESPACE (the Lease's)
  std::string lease_name = "smart-autoscaler-reconciler";  // LEASE_NAME
  bool leader_elect = true;                                // LEADER_ELECT
  // SNAPSHOT_ADDRESS: where adapters connect (unix socket or loopback only).
  std::string snapshot_address = "unix:///run/smart-autoscaler/snapshots.sock";
  std::string api_address = ":5000";      // API_ADDRESS: JSON API and web page
  std::string metrics_address = ":8000";  // METRICS_ADDRESS: Prometheus /metrics
};

// One row of the documentation table (README, check-config --list).
struct VariableDoc {
  const char* name;
  const char* default_value;
  const char* range;
  const char* meaning;
};
const std::vector<VariableDoc>& ConfigVariables();

struct ConfigResult {
  Config config;
  std::vector<std::string> problems;  // one line each; empty when the config is valid
};

// Builds the config from `vars` (name -> value); names are upper-case as in the environment.
// A ConfigMap key may be lower-case (the original lower-cased them); it is upper-cased first.
ConfigResult LoadConfig(const std::map<std::string, std::string>& vars);

// The process environment as a map.
std::map<std::string, std::string> EnvironmentVariables();

// A ConfigMap mounted as a directory: each regular file is one key (file name), its content the
// value (one trailing newline stripped). Hidden files (Kubernetes' ..data links) are skipped.
// NotFound when `dir` does not exist.
absl::StatusOr<std::map<std::string, std::string>> ReadConfigDir(const std::string& dir);

// The config as "NAME=value" lines (webhook URLs and tokens redacted), for check-config and logs.
std::string DescribeConfig(const Config& config);

}  // namespace reconciler
