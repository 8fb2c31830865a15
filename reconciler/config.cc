#include "reconciler/config.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace reconciler {
namespace {

using Problems = std::vector<std::string>;

bool ParseBoolText(absl::string_view text, bool* out) {
  std::string v = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return *out = true, true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return *out = false, true;
  return false;
}

// A number of `unit`s ("60") or a duration with its unit ("90s", "1m30s").
bool ParseDurationText(absl::string_view text, absl::Duration unit, absl::Duration* out) {
  text = absl::StripAsciiWhitespace(text);
  double n;
  if (absl::SimpleAtod(text, &n) && std::isfinite(n)) {
    *out = n * unit;
    return true;
  }
  return absl::ParseDuration(text, out) && *out != absl::InfiniteDuration();
}

bool IsHttpUrl(absl::string_view v) {
  return (absl::StartsWith(v, "http://") && v.size() > 7) ||
         (absl::StartsWith(v, "https://") && v.size() > 8);
}

// One variable: how to read it into a Config.
struct Spec {
  VariableDoc doc;
  // Parses `value` into `c`; returns "" or the problem (without the variable name).
  std::function<std::string(const std::string& value, Config* c)> apply;
};

std::function<std::string(const std::string&, Config*)> Number(double Config::*field, double lo,
                                                               double hi) {
  return [=](const std::string& v, Config* c) -> std::string {
    double n;
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(v), &n) || !std::isfinite(n)) {
      return "is not a number";
    }
    if (n < lo || n > hi) return absl::StrCat("is out of range [", lo, ", ", hi, "]");
    c->*field = n;
    return "";
  };
}

std::function<std::string(const std::string&, Config*)> Flag(bool Config::*field) {
  return [=](const std::string& v, Config* c) -> std::string {
    bool b;
    if (!ParseBoolText(v, &b)) return "is not a boolean (true/false)";
    c->*field = b;
    return "";
  };
}

std::function<std::string(const std::string&, Config*)> Duration(absl::Duration Config::*field,
                                                                 absl::Duration unit,
                                                                 absl::Duration lo,
                                                                 absl::Duration hi) {
  return [=](const std::string& v, Config* c) -> std::string {
    absl::Duration d;
    if (!ParseDurationText(v, unit, &d)) return "is not a duration";
    if (d < lo || d > hi) {
      return absl::StrCat("is out of range [", absl::FormatDuration(lo), ", ",
                          absl::FormatDuration(hi), "]");
    }
    c->*field = d;
    return "";
  };
}

std::function<std::string(const std::string&, Config*)> Text(std::string Config::*field,
                                                             bool required = false) {
  return [=](const std::string& v, Config* c) -> std::string {
    std::string s(absl::StripAsciiWhitespace(v));
    if (required && s.empty()) return "must not be empty";
    c->*field = s;
    return "";
  };
}

// An alert-channel variable, kept by name for the channel configuration: a URL (http(s)),
// a file path (*_FILE), a duration, or plain text.
enum class AlertKind { kUrl, kFile, kDuration, kText };
std::function<std::string(const std::string&, Config*)> AlertVar(const char* name, AlertKind kind) {
  return [=](const std::string& v, Config* c) -> std::string {
    std::string s(absl::StripAsciiWhitespace(v));
    if (s.empty()) return "";
    if (kind == AlertKind::kUrl && !IsHttpUrl(s)) return "is not an http(s) URL";
    absl::Duration d;
    if (kind == AlertKind::kDuration && (!absl::ParseDuration(s, &d) || d < absl::ZeroDuration() ||
                                         d == absl::InfiniteDuration())) {
      return "is not a duration >= 0 (e.g. 4h)";
    }
    c->alert_channel_vars[name] = s;
    return "";
  };
}

Spec AlertSpec(const char* name, const char* default_value, const char* range, const char* meaning,
               AlertKind kind) {
  return {{name, default_value, range, meaning}, AlertVar(name, kind)};
}

// One of the original's four webhook URLs: its Config field and the channel variables.
std::function<std::string(const std::string&, Config*)> Webhook(const char* name,
                                                                std::string Config::*field) {
  return [=](const std::string& v, Config* c) -> std::string {
    std::string s(absl::StripAsciiWhitespace(v));
    if (!s.empty() && !IsHttpUrl(s)) return "is not an http(s) URL";
    c->*field = s;
    if (!s.empty()) c->alert_channel_vars[name] = s;
    return "";
  };
}

std::function<std::string(const std::string&, Config*)> OneOf(std::string Config::*field,
                                                              std::vector<std::string> allowed,
                                                              bool upper) {
  return [=](const std::string& v, Config* c) -> std::string {
    std::string s(absl::StripAsciiWhitespace(v));
    s = upper ? absl::AsciiStrToUpper(s) : absl::AsciiStrToLower(s);
    if (upper && s == "WARN") s = "WARNING";
    for (const std::string& a : allowed) {
      if (s == a) {
        c->*field = s;
        return "";
      }
    }
    return absl::StrCat("must be one of ", absl::StrJoin(allowed, ", "));
  };
}

// "host:port", ":port", "[::1]:port" or "unix:///path".
bool IsListenAddress(absl::string_view v) {
  if (absl::StartsWith(v, "unix:///")) return v.size() > 8;
  size_t colon = v.rfind(':');
  if (colon == absl::string_view::npos) return false;
  int port;
  return absl::SimpleAtoi(v.substr(colon + 1), &port) && port >= 0 && port <= 65535;
}

std::function<std::string(const std::string&, Config*)> Address(std::string Config::*field) {
  return [=](const std::string& v, Config* c) -> std::string {
    std::string s(absl::StripAsciiWhitespace(v));
    if (!IsListenAddress(s)) return "is not an address (host:port, :port or unix:///path)";
    c->*field = s;
    return "";
  };
}

const std::vector<Spec>& Specs() {
  static const auto* specs = new std::vector<Spec>{
      {{"PROMETHEUS_URL", "http://prometheus-server.monitoring:9090", "http(s) URL",
        "Prometheus (or Thanos/Mimir) base URL, without /api/v1"},
       [](const std::string& v, Config* c) -> std::string {
         std::string s(absl::StripAsciiWhitespace(v));
         if (!IsHttpUrl(s)) return "is not an http(s) URL";
         while (absl::EndsWith(s, "/")) s.pop_back();
         c->prometheus_url = s;
         return "";
       }},
      {{"PROMETHEUS_BEARER_TOKEN", "", "text", "sent as Authorization: Bearer to Prometheus"},
       Text(&Config::prometheus_bearer_token)},
      {{"PROMETHEUS_HEADERS", "", "'Name: value; ...'",
        "extra headers on every Prometheus request (e.g. X-Scope-OrgID: team-a)"},
       [](const std::string& v, Config* c) -> std::string {
         c->prometheus_headers.clear();
         for (absl::string_view part : absl::StrSplit(v, ';', absl::SkipWhitespace())) {
           size_t colon = part.find(':');
           std::string name(absl::StripAsciiWhitespace(part.substr(0, colon)));
           if (colon == absl::string_view::npos || name.empty() ||
               name.find_first_of(" \t\r\n") != std::string::npos) {
             return absl::StrCat("has a malformed header '", part, "' (want Name: value)");
           }
           c->prometheus_headers.push_back(
               {name, std::string(absl::StripAsciiWhitespace(part.substr(colon + 1)))});
         }
         return "";
       }},
      {{"PROMETHEUS_TIMEOUT", "10", "1-300 s", "timeout of one Prometheus query"},
       Duration(&Config::prometheus_timeout, absl::Seconds(1), absl::Seconds(1),
                absl::Seconds(300))},
      {{"PROMETHEUS_RATE_LIMIT", "10", "0.1-1000 /s", "token-bucket limit on Prometheus queries"},
       Number(&Config::prometheus_rate_limit, 0.1, 1000)},
      {{"PROMETHEUS_QUERY_CONCURRENCY", "1", "1-5",
        "the cycle's six queries run on this many threads (more: faster cycles, more memory)"},
       [](const std::string& v, Config* c) -> std::string {
         int n;
         if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &n)) return "is not an integer";
         if (n < 1 || n > 5) return "is out of range [1, 5]";
         c->prometheus_query_concurrency = n;
         return "";
       }},
      {{"K8S_API_RATE_LIMIT", "20", "0.1-1000 /s",
        "token-bucket limit on Kubernetes API requests (LIST, watch, Lease, patch)"},
       Number(&Config::k8s_api_rate_limit, 0.1, 1000)},
      {{"CHECK_INTERVAL", "60", "10-3600 s", "seconds between reconcile cycles"},
       Duration(&Config::check_interval, absl::Seconds(1), absl::Seconds(10), absl::Seconds(3600))},
      {{"TARGET_NODE_UTILIZATION", "70", "20-95 %",
        "base HPA target (% of CPU request) under warning/unknown node pressure"},
       Number(&Config::target_node_utilization, 20, 95)},
      {{"DRY_RUN", "false", "bool", "legacy mode: log the patches instead of sending them"},
       Flag(&Config::dry_run)},
      {{"ENABLE_PREDICTIVE", "true", "bool", "serve forecasts in smart_cpu_predicted"},
       Flag(&Config::enable_predictive)},
      {{"ENABLE_AUTOTUNING", "true", "bool", "learn the target after 7 days of history"},
       Flag(&Config::enable_autotuning)},
      {{"ENABLE_AUTO_DISCOVERY", "true", "bool",
        "manage deployments whose HPA uses a smart_* metric"},
       Flag(&Config::enable_auto_discovery)},
      {{"HPA_PATCH_MODE", "false", "bool",
        "legacy: also patch averageUtilization of classic CPU HPAs (honours DRY_RUN)"},
       Flag(&Config::hpa_patch_mode)},
      {{"LEAD_TIME_MINUTES", "10", "1-120 min", "forecast peak window of smart_cpu_predicted"},
       Duration(&Config::lead_time, absl::Minutes(1), absl::Minutes(1), absl::Minutes(120))},
      {{"TARGET_COOLDOWN_MINUTES", "5", "0-120 min", "minimum time between target changes"},
       Duration(&Config::cooldown, absl::Minutes(1), absl::ZeroDuration(), absl::Minutes(120))},
      {{"STARTUP_FILTER_MINUTES", "2", "0-60 min",
        "pods younger than this are left out of the blend (start-up spikes)"},
       Duration(&Config::startup_filter, absl::Minutes(1), absl::ZeroDuration(),
                absl::Minutes(60))},
      {{"PREDICTION_MIN_ACCURACY", "0.60", "0-1",
        "below this rolling accuracy forecasts are not served"},
       Number(&Config::prediction_min_accuracy, 0, 1)},
      {{"BACKFILLS_PER_CYCLE", "3", "0-100000",
        "Prometheus range queries per cycle for new deployments' demand history (histories in "
        "the local store load without queries, within a time budget of CHECK_INTERVAL/4, at "
        "most 15 s)"},
       [](const std::string& v, Config* c) -> std::string {
         int n;
         if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &n)) return "is not an integer";
         if (n < 0 || n > 100000) return "is out of range [0, 100000]";
         c->backfills_per_cycle = n;
         return "";
       }},
      {{"BACKFILL_QUERIES_PER_SECOND", "2", "0-100",
        "the background backfiller's budget: grouped range queries per second that load every "
        "deployment's week of history at start, outside the cycle (0: off, only "
        "BACKFILLS_PER_CYCLE)"},
       Number(&Config::backfill_queries_per_second, 0, 100)},
      {{"COST_PER_VCPU_HOUR", "0.04", ">= 0", "price of one vCPU-hour"},
       Number(&Config::cost_per_vcpu_hour, 0, 1e6)},
      {{"COST_PER_GB_MEMORY_HOUR", "0.005", ">= 0", "price of one GB-hour of memory"},
       Number(&Config::cost_per_gb_memory_hour, 0, 1e6)},
      {{"PRICING_FILE", "", "file path",
        "per-node-pool prices: a 'label KEY' line (a node label), then 'VALUE USD/vCPU-h "
        "USD/GB-h' lines; unset: flat prices"},
       Text(&Config::pricing_file)},
      {{"COST_REPORT_INTERVAL_HOURS", "168", "0-8760 h",
        "the cost report goes to the alert channels (leader only) at each such boundary from "
        "Monday 00:00 UTC; 0: never"},
       Duration(&Config::cost_report_interval, absl::Hours(1), absl::ZeroDuration(),
                absl::Hours(8760))},
      {{"MEMORY_WARNING_THRESHOLD", "0.75", "0-1", "memory use / limit that warns"},
       Number(&Config::memory_warning_threshold, 0, 1)},
      {{"MEMORY_CRITICAL_THRESHOLD", "0.90", "0-1", "memory use / limit that is critical"},
       Number(&Config::memory_critical_threshold, 0, 1)},
      {{"MEMORY_CHECK_INTERVAL", "30", "5-3600 s", "seconds between memory checks"},
       Duration(&Config::memory_check_interval, absl::Seconds(1), absl::Seconds(5),
                absl::Seconds(3600))},
      {{"DB_PATH", "/data/tsdb", "directory", "RocksDB store directory"},
       Text(&Config::db_path, /*required=*/true)},
      {{"METRICS_RETENTION_DAYS", "30", "1-365 days", "how long samples are kept"},
       Duration(&Config::retention, absl::Hours(24), absl::Hours(24), absl::Hours(24 * 365))},
      {{"BACKUP_DIR", "", "directory",
        "periodic RocksDB backups (incremental) go here, off the cycle thread; unset: none"},
       Text(&Config::backup_dir)},
      {{"BACKUP_INTERVAL", "21600", "60-604800 s", "seconds between periodic backups"},
       Duration(&Config::backup_interval, absl::Seconds(1), absl::Seconds(60),
                absl::Seconds(604800))},
      {{"BACKUP_RETENTION", "4", "1-1000", "newest periodic backups kept (older ones purged)"},
       [](const std::string& v, Config* c) -> std::string {
         int n;
         if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &n)) return "is not an integer";
         if (n < 1 || n > 1000) return "is out of range [1, 1000]";
         c->backup_retention = n;
         return "";
       }},
      {{"LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING, ERROR", "least severe level logged"},
       OneOf(&Config::log_level, {"DEBUG", "INFO", "WARNING", "ERROR"}, /*upper=*/true)},
      {{"LOG_FORMAT", "json", "json, text",
        "json: one JSON object per line on stderr; text: glog's format"},
       OneOf(&Config::log_format, {"json", "text"}, /*upper=*/false)},
      {{"SLACK_WEBHOOK", "", "http(s) URL", "alerts to Slack"},
       Webhook("SLACK_WEBHOOK", &Config::slack_webhook)},
      {{"TEAMS_WEBHOOK", "", "http(s) URL", "alerts to Microsoft Teams"},
       Webhook("TEAMS_WEBHOOK", &Config::teams_webhook)},
      {{"DISCORD_WEBHOOK", "", "http(s) URL", "alerts to Discord"},
       Webhook("DISCORD_WEBHOOK", &Config::discord_webhook)},
      {{"GENERIC_WEBHOOK", "", "http(s) URL", "alerts as JSON to any URL"},
       Webhook("GENERIC_WEBHOOK", &Config::generic_webhook)},
      AlertSpec("SLACK_WEBHOOK_FILE", "", "file path",
                "SLACK_WEBHOOK read from a file (a mounted Secret)", AlertKind::kFile),
      AlertSpec("TEAMS_WEBHOOK_FILE", "", "file path", "TEAMS_WEBHOOK read from a file",
                AlertKind::kFile),
      AlertSpec("DISCORD_WEBHOOK_FILE", "", "file path", "DISCORD_WEBHOOK read from a file",
                AlertKind::kFile),
      AlertSpec("GENERIC_WEBHOOK_FILE", "", "file path", "GENERIC_WEBHOOK read from a file",
                AlertKind::kFile),
      AlertSpec("GENERIC_WEBHOOK_TOKEN_FILE", "", "file path",
                "generic webhook: Bearer token file (optional)", AlertKind::kFile),
      AlertSpec("PAGERDUTY_ROUTING_KEY_FILE", "", "file path",
                "PagerDuty Events v2 routing key file (turns PagerDuty on)", AlertKind::kFile),
      AlertSpec("PAGERDUTY_URL", "https://events.pagerduty.com", "http(s) URL",
                "PagerDuty Events API base URL", AlertKind::kUrl),
      AlertSpec("DATADOG_API_KEY_FILE", "", "file path",
                "Datadog API key file (turns Datadog events on)", AlertKind::kFile),
      AlertSpec("DATADOG_URL", "https://api.datadoghq.com", "http(s) URL",
                "Datadog API base URL (EU: https://api.datadoghq.eu)", AlertKind::kUrl),
      AlertSpec("GRAFANA_URL", "", "http(s) URL", "Grafana base URL: anomalies as annotations",
                AlertKind::kUrl),
      AlertSpec("GRAFANA_TOKEN_FILE", "", "file path", "Grafana service-account token file",
                AlertKind::kFile),
      AlertSpec("JIRA_URL", "", "http(s) URL", "Jira base URL: an issue per anomaly start",
                AlertKind::kUrl),
      AlertSpec("JIRA_USER", "", "text", "Jira user (Basic auth)", AlertKind::kText),
      AlertSpec("JIRA_PROJECT", "", "text", "Jira project key", AlertKind::kText),
      AlertSpec("JIRA_TOKEN_FILE", "", "file path", "Jira API token file", AlertKind::kFile),
      AlertSpec("SERVICENOW_URL", "", "http(s) URL",
                "ServiceNow instance URL: an incident per anomaly start", AlertKind::kUrl),
      AlertSpec("SERVICENOW_USER", "", "text", "ServiceNow user (Basic auth)", AlertKind::kText),
      AlertSpec("SERVICENOW_PASSWORD_FILE", "", "file path", "ServiceNow password file",
                AlertKind::kFile),
      AlertSpec("OPSGENIE_API_KEY_FILE", "", "file path",
                "OpsGenie API key file (turns OpsGenie on)", AlertKind::kFile),
      AlertSpec("OPSGENIE_URL", "https://api.opsgenie.com", "http(s) URL",
                "OpsGenie API base URL (EU: https://api.eu.opsgenie.com)", AlertKind::kUrl),
      AlertSpec("ELASTICSEARCH_URL", "", "http(s) URL",
                "Elasticsearch base URL: a document per transition", AlertKind::kUrl),
      AlertSpec("ELASTICSEARCH_INDEX", "smart-autoscaler-anomalies", "index name",
                "Elasticsearch index", AlertKind::kText),
      AlertSpec("ELASTICSEARCH_API_KEY_FILE", "", "file path",
                "Elasticsearch API key file (optional)", AlertKind::kFile),
      AlertSpec("ALERT_RENOTIFY_INTERVAL", "4h", "duration >= 0",
                "reminder interval while an anomaly lasts (0: none)", AlertKind::kDuration),
      {{"OPERATOR_NAMESPACE", "autoscaler-system", "namespace", "where the leader Lease lives"},
       Text(&Config::operator_namespace, /*required=*/true)},
      {{"LEASE_NAME", "smart-autoscaler-reconciler", "name", "the leader-election Lease"},
       Text(&Config::lease_name, /*required=*/true)},
      {{"LEADER_ELECT", "true", "bool",
        "use a Lease so only one replica sends alerts and patches HPAs (legacy mode); every "
        "replica serves"},
       Flag(&Config::leader_elect)},
      {{"SNAPSHOT_ADDRESS", "unix:///run/smart-autoscaler/snapshots.sock",
        "unix:///path or loopback host:port", "where adapters receive the metric snapshots"},
       Address(&Config::snapshot_address)},
      {{"API_ADDRESS", ":5000", "host:port", "JSON API and web page"},
       Address(&Config::api_address)},
      {{"METRICS_ADDRESS", ":8000", "host:port", "Prometheus /metrics"},
       Address(&Config::metrics_address)},
  };
  return *specs;
}

// DEPLOYMENT_<N>_<FIELD>
void LoadStaticTargets(const std::map<std::string, std::string>& vars, Config* c,
                       Problems* problems) {
  std::map<int, std::map<std::string, std::string>> by_index;
  static const std::set<std::string> kFields = {"NAMESPACE",      "NAME",     "HPA_NAME",
                                                "STARTUP_FILTER", "PRIORITY", "MONTHLY_BUDGET"};
  for (const auto& [key, value] : vars) {
    if (!absl::StartsWith(key, "DEPLOYMENT_")) continue;
    absl::string_view rest = absl::string_view(key).substr(11);
    size_t us = rest.find('_');
    int n;
    if (us == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, us), &n) || n < 0) {
      problems->push_back(absl::StrCat(key, ": expected DEPLOYMENT_<N>_<FIELD> with N >= 0"));
      continue;
    }
    std::string field(rest.substr(us + 1));
    if (!kFields.count(field)) {
      problems->push_back(absl::StrCat(
          key, ": unknown field ", field,
          " (NAMESPACE, NAME, HPA_NAME, STARTUP_FILTER, PRIORITY, MONTHLY_BUDGET)"));
      continue;
    }
    by_index[n][field] = std::string(absl::StripAsciiWhitespace(value));
  }
  for (const auto& [n, f] : by_index) {
    StaticTarget t;
    std::string prefix = absl::StrCat("DEPLOYMENT_", n, "_");
    auto get = [&](const char* k) {
      auto it = f.find(k);
      return it == f.end() ? std::string() : it->second;
    };
    t.namespace_name = get("NAMESPACE");
    t.name = get("NAME");
    if (t.name.empty()) problems->push_back(absl::StrCat(prefix, "NAME: must be set"));
    if (t.namespace_name.empty()) t.namespace_name = "default";
    t.hpa_name = get("HPA_NAME").empty() ? t.name : get("HPA_NAME");
    if (!get("STARTUP_FILTER").empty()) {
      absl::Duration d;
      if (!ParseDurationText(get("STARTUP_FILTER"), absl::Minutes(1), &d) ||
          d < absl::ZeroDuration() || d > absl::Minutes(60)) {
        problems->push_back(absl::StrCat(prefix, "STARTUP_FILTER=", get("STARTUP_FILTER"),
                                         ": must be minutes in [0, 60]"));
      } else {
        t.startup_filter = d;
      }
    }
    if (!get("PRIORITY").empty()) {
      std::string p = absl::AsciiStrToLower(get("PRIORITY"));
      if (p != "critical" && p != "high" && p != "medium" && p != "low" && p != "best_effort") {
        problems->push_back(absl::StrCat(prefix, "PRIORITY=", get("PRIORITY"),
                                         ": must be critical, high, medium, low or best_effort"));
      } else {
        t.priority = p;
      }
    }
    if (!get("MONTHLY_BUDGET").empty()) {
      const std::string budget = get("MONTHLY_BUDGET");
      absl::string_view text = budget;
      absl::ConsumePrefix(&text, "$");
      double usd;
      if (!absl::SimpleAtod(text, &usd) || !std::isfinite(usd) || usd <= 0) {
        problems->push_back(absl::StrCat(prefix, "MONTHLY_BUDGET=", get("MONTHLY_BUDGET"),
                                         ": must be USD per month > 0 (e.g. 500)"));
      } else {
        t.monthly_budget = usd;
      }
    }
    c->deployments.push_back(std::move(t));
  }
}

}  // namespace

const std::vector<VariableDoc>& ConfigVariables() {
  static const auto* docs = [] {
    auto* d = new std::vector<VariableDoc>;
    for (const Spec& s : Specs()) d->push_back(s.doc);
    d->push_back({"DEPLOYMENT_<N>_NAMESPACE|NAME|HPA_NAME|STARTUP_FILTER|PRIORITY", "",
                  "N >= 0", "static targets, as in the original (HPA_NAME defaults to NAME)"});
    d->push_back({"DEPLOYMENT_<N>_MONTHLY_BUDGET", "", "USD/month > 0",
                  "caps the forecast headroom's projected cost (never below the measured load)"});
    return d;
  }();
  return *docs;
}

ConfigResult LoadConfig(const std::map<std::string, std::string>& raw) {
  // ConfigMap keys may be lower-case; the upper-case name wins when both exist.
  std::map<std::string, std::string> vars;
  for (const auto& [k, v] : raw) {
    std::string upper = absl::AsciiStrToUpper(k);
    if (upper == k || !raw.count(upper)) vars[upper] = v;
  }
  ConfigResult r;
  for (const Spec& s : Specs()) {
    auto it = vars.find(s.doc.name);
    if (it == vars.end()) continue;
    std::string problem = s.apply(it->second, &r.config);
    if (!problem.empty()) {
      r.problems.push_back(absl::StrCat(s.doc.name, "=", it->second, ": ", problem, " (range ",
                                        s.doc.range, ")"));
    }
  }
  LoadStaticTargets(vars, &r.config, &r.problems);
  const Config& c = r.config;
  if (c.memory_warning_threshold >= c.memory_critical_threshold) {
    r.problems.push_back(absl::StrCat("MEMORY_WARNING_THRESHOLD (", c.memory_warning_threshold,
                                      ") must be below MEMORY_CRITICAL_THRESHOLD (",
                                      c.memory_critical_threshold, ")"));
  }
  if (c.lead_time > c.check_interval * 120) {
    r.problems.push_back("LEAD_TIME_MINUTES must be at most 120 cycles (CHECK_INTERVAL x 120)");
  }
  return r;
}

std::map<std::string, std::string> EnvironmentVariables() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    absl::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) continue;
    out[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ReadConfigDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::NotFoundError(absl::StrCat("config directory ", dir, ": not found"));
  std::map<std::string, std::string> out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    std::string path = absl::StrCat(dir, "/", name);
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string value = ss.str();
    if (absl::EndsWith(value, "\n")) value.pop_back();
    out[name] = value;
  }
  closedir(d);
  return out;
}

std::string DescribeConfig(const Config& c) {
  auto redact = [](const std::string& s) { return s.empty() ? std::string() : "<set>"; };
  std::vector<std::string> lines = {
      absl::StrCat("PROMETHEUS_URL=", c.prometheus_url),
      absl::StrCat("PROMETHEUS_BEARER_TOKEN=", redact(c.prometheus_bearer_token)),
      absl::StrCat("PROMETHEUS_HEADERS=", c.prometheus_headers.size(), " header(s)"),
      absl::StrCat("PROMETHEUS_TIMEOUT=", absl::ToInt64Seconds(c.prometheus_timeout)),
      absl::StrCat("PROMETHEUS_RATE_LIMIT=", c.prometheus_rate_limit),
      absl::StrCat("PROMETHEUS_QUERY_CONCURRENCY=", c.prometheus_query_concurrency),
      absl::StrCat("K8S_API_RATE_LIMIT=", c.k8s_api_rate_limit),
      absl::StrCat("CHECK_INTERVAL=", absl::ToInt64Seconds(c.check_interval)),
      absl::StrCat("TARGET_NODE_UTILIZATION=", c.target_node_utilization),
      absl::StrCat("DRY_RUN=", c.dry_run ? "true" : "false"),
      absl::StrCat("ENABLE_PREDICTIVE=", c.enable_predictive ? "true" : "false"),
      absl::StrCat("ENABLE_AUTOTUNING=", c.enable_autotuning ? "true" : "false"),
      absl::StrCat("ENABLE_AUTO_DISCOVERY=", c.enable_auto_discovery ? "true" : "false"),
      absl::StrCat("HPA_PATCH_MODE=", c.hpa_patch_mode ? "true" : "false"),
      absl::StrCat("LEAD_TIME_MINUTES=", absl::ToDoubleMinutes(c.lead_time)),
      absl::StrCat("TARGET_COOLDOWN_MINUTES=", absl::ToDoubleMinutes(c.cooldown)),
      absl::StrCat("STARTUP_FILTER_MINUTES=", absl::ToDoubleMinutes(c.startup_filter)),
      absl::StrCat("PREDICTION_MIN_ACCURACY=", c.prediction_min_accuracy),
      absl::StrCat("BACKFILLS_PER_CYCLE=", c.backfills_per_cycle),
      absl::StrCat("BACKFILL_QUERIES_PER_SECOND=", c.backfill_queries_per_second),
      absl::StrCat("COST_PER_VCPU_HOUR=", c.cost_per_vcpu_hour),
      absl::StrCat("COST_PER_GB_MEMORY_HOUR=", c.cost_per_gb_memory_hour),
      absl::StrCat("PRICING_FILE=", c.pricing_file),
      absl::StrCat("COST_REPORT_INTERVAL_HOURS=", absl::ToInt64Hours(c.cost_report_interval)),
      absl::StrCat("MEMORY_WARNING_THRESHOLD=", c.memory_warning_threshold),
      absl::StrCat("MEMORY_CRITICAL_THRESHOLD=", c.memory_critical_threshold),
      absl::StrCat("MEMORY_CHECK_INTERVAL=", absl::ToInt64Seconds(c.memory_check_interval)),
      absl::StrCat("DB_PATH=", c.db_path),
      absl::StrCat("METRICS_RETENTION_DAYS=", absl::ToInt64Hours(c.retention) / 24),
      absl::StrCat("BACKUP_DIR=", c.backup_dir),
      absl::StrCat("BACKUP_INTERVAL=", absl::ToInt64Seconds(c.backup_interval)),
      absl::StrCat("BACKUP_RETENTION=", c.backup_retention),
      absl::StrCat("LOG_LEVEL=", c.log_level),
      absl::StrCat("LOG_FORMAT=", c.log_format),
      absl::StrCat("SLACK_WEBHOOK=", redact(c.slack_webhook)),
      absl::StrCat("TEAMS_WEBHOOK=", redact(c.teams_webhook)),
      absl::StrCat("DISCORD_WEBHOOK=", redact(c.discord_webhook)),
      absl::StrCat("GENERIC_WEBHOOK=", redact(c.generic_webhook)),
      absl::StrCat("ALERT_CHANNEL_VARIABLES=", [&] {
        // Names only: the original's URLs are secrets, the rest are paths and names.
        std::vector<std::string> names;
        for (const auto& [name, value] : c.alert_channel_vars) names.push_back(name);
        return absl::StrJoin(names, ",");
      }()),
      absl::StrCat("OPERATOR_NAMESPACE=", c.operator_namespace),
      absl::StrCat("LEASE_NAME=", c.lease_name),
      absl::StrCat("LEADER_ELECT=", c.leader_elect ? "true" : "false"),
      absl::StrCat("SNAPSHOT_ADDRESS=", c.snapshot_address),
      absl::StrCat("API_ADDRESS=", c.api_address),
      absl::StrCat("METRICS_ADDRESS=", c.metrics_address),
  };
  for (size_t i = 0; i < c.deployments.size(); ++i) {
    const StaticTarget& t = c.deployments[i];
    lines.push_back(absl::StrCat("DEPLOYMENT_", i, "=", t.namespace_name, "/", t.name, " hpa=",
                                 t.hpa_name, " startup_filter=",
                                 absl::ToDoubleMinutes(t.startup_filter), "m priority=",
                                 t.priority,
                                 t.monthly_budget > 0
                                     ? absl::StrCat(" monthly_budget=", t.monthly_budget)
                                     : std::string()));
  }
  return absl::StrCat(absl::StrJoin(lines, "\n"), "\n");
}

}  // namespace reconciler
