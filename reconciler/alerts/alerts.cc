#include "reconciler/alerts/alerts.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace reconciler::alerts {
namespace {

namespace an = predictor::anomaly;
using clients::webhook::Alert;
using clients::webhook::Channel;
using clients::webhook::ChannelConfig;

std::string Num(double v) { return std::isnan(v) ? "-" : absl::StrFormat("%.4g", v); }

}  // namespace

AlertManager::AlertManager(Notifier* notifier, const base::Clock* clock, AlertOptions options)
    : notifier_(notifier), clock_(clock), options_(options) {}

int AlertManager::active() const { return static_cast<int>(active_.size()); }

Alert AlertManager::Build(const Key& key, const State& s, bool resolved, bool reminder) const {
  const auto& [ns, deployment, type] = key;
  Alert a;
  a.key = s.key;
  a.resolved = resolved;
  a.type = an::AnomalyTypeName(type);
  a.severity = resolved ? "info" : an::SeverityName(s.last.severity);
  a.namespace_name = ns;
  a.deployment = deployment;
  a.time = clock_->Now();
  a.title = absl::StrCat(a.type, " on ", ns, "/", deployment,
                         resolved ? " resolved" : reminder ? " still active" : "");
  const absl::Duration lasted = a.time - s.since;
  a.text = resolved ? absl::StrCat("Resolved after ", absl::FormatDuration(absl::Trunc(lasted, absl::Seconds(1))), ".")
                    : absl::StrCat("Since ", absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", s.since,
                                                              absl::UTCTimeZone()),
                                   ": value ", Num(s.last.value),
                                   s.last.judged.empty() ? "" : absl::StrCat(" (", s.last.judged, ")"),
                                   ", band/threshold ", Num(s.last.low), " .. ",
                                   Num(s.last.high), ".");
  a.fields = {{"value", Num(s.last.value)},
              {"low", Num(s.last.low)},
              {"high", Num(s.last.high)},
              {"since", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", s.since, absl::UTCTimeZone())}};
  std::vector<std::string> recent;
  for (size_t i = s.last.values.size() > 8 ? s.last.values.size() - 8 : 0;
       i < s.last.values.size(); ++i) {
    recent.push_back(Num(s.last.values[i]));
  }
  if (!recent.empty()) a.fields.push_back({"recent values", absl::StrJoin(recent, ", ")});
  if (!s.last.judged.empty()) a.fields.push_back({"judged", s.last.judged});
  return a;
}

void AlertManager::Tell(const Key& key, const State& s, absl::Time end) const {
  Transition t;
  t.namespace_name = std::get<0>(key);
  t.deployment = std::get<1>(key);
  t.evidence = s.first;
  t.start = s.since;
  t.end = end;
  for (AnomalyListener* l : listeners_) l->OnTransition(t);
}

void AlertManager::Restore(const Transition& t) {
  const Key key{t.namespace_name, t.deployment, t.evidence.type};
  if (active_.count(key)) return;
  State s;
  s.since = t.start;
  s.key = absl::StrCat(t.namespace_name, "/", t.deployment, "/",
                       an::AnomalyTypeName(t.evidence.type), "/", absl::ToUnixSeconds(s.since));
  s.first = s.last = t.evidence;
  s.last_notified = clock_->Now();
  active_.emplace(key, std::move(s));
}

void AlertManager::Observe(const std::string& ns, const std::string& deployment,
                           const an::Finding& f, bool is_leader) {
  const Key key{ns, deployment, f.type};
  auto it = active_.find(key);
  const absl::Time now = clock_->Now();
  if (!f.active) {
    if (it == active_.end()) return;
    if (is_leader) {
      notifier_->Notify(Build(key, it->second, /*resolved=*/true, false));
      ++counts_.resolved;
    } else {
      ++counts_.suppressed_not_leader;
    }
    Tell(key, it->second, now);
    active_.erase(it);
    return;
  }
  if (it == active_.end()) {
    State s;
    s.since = f.since == absl::InfinitePast() ? now : f.since;
    s.key = absl::StrCat(ns, "/", deployment, "/", an::AnomalyTypeName(f.type), "/",
                         absl::ToUnixSeconds(s.since));
    s.first = s.last = f;
    // A follower records the start as sent by the leader it is not, so that on taking over
    // it reminds on the same schedule instead of repeating the start.
    s.last_notified = now;
    if (is_leader) {
      notifier_->Notify(Build(key, s, false, false));
      ++counts_.started;
    } else {
      ++counts_.suppressed_not_leader;
    }
    Tell(key, s, absl::InfiniteFuture());
    active_.emplace(key, std::move(s));
    return;
  }
  State& s = it->second;
  s.last = f;
  if (is_leader && options_.renotify > absl::ZeroDuration() &&
      now - s.last_notified >= options_.renotify) {
    notifier_->Notify(Build(key, s, false, /*reminder=*/true));
    s.last_notified = now;
    ++counts_.reminders;
  }
}

namespace {

struct EnvReader {
  const EnvLookup& env;
  const FileReader& read_file;
  std::vector<std::string> problems;

  std::string Get(const std::string& name) { return env(name).value_or(""); }
  // The secret in the file named by `name` ("" when unset); a problem when unreadable or empty.
  std::string Secret(const std::string& name) {
    const std::string path = Get(name);
    if (path.empty()) return "";
    absl::StatusOr<std::string> text = read_file(path);
    if (!text.ok()) {
      problems.push_back(absl::StrCat(name, ": cannot read ", path, " (",
                                      absl::StatusCodeToString(text.status().code()), ")"));
      return "";
    }
    std::string s(absl::StripAsciiWhitespace(*text));
    if (s.empty()) problems.push_back(absl::StrCat(name, ": ", path, " is empty"));
    return s;
  }
  // A URL from NAME or the file named by NAME_FILE.
  std::string Url(const std::string& name) {
    std::string v = Get(name);
    if (v.empty()) v = Secret(name + "_FILE");
    if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
      problems.push_back(absl::StrCat(name, ": not an http(s) URL"));  // no value: it is secret
      return "";
    }
    return v;
  }
  void Require(const std::string& channel, std::initializer_list<std::pair<const char*, std::string>> vars) {
    for (const auto& [name, value] : vars) {
      if (value.empty()) problems.push_back(absl::StrCat(channel, ": ", name, " is required"));
    }
  }
};

}  // namespace

absl::StatusOr<ChannelSettings> ChannelsFromEnvironment(const EnvLookup& env,
                                                        const FileReader& read_file) {
  EnvReader r{env, read_file, {}};
  ChannelSettings out;
  auto add = [&](Channel c, std::string url, std::string secret = "", std::string user = "",
                 std::string target = "") {
    out.channels.push_back(ChannelConfig{c, std::move(url), std::move(secret), std::move(user),
                                         std::move(target)});
  };
  for (auto [c, name] : {std::pair{Channel::kSlack, "SLACK_WEBHOOK"},
                         {Channel::kTeams, "TEAMS_WEBHOOK"},
                         {Channel::kDiscord, "DISCORD_WEBHOOK"}}) {
    if (std::string url = r.Url(name); !url.empty()) add(c, url);
  }
  if (std::string url = r.Url("GENERIC_WEBHOOK"); !url.empty()) {
    add(Channel::kGeneric, url, r.Secret("GENERIC_WEBHOOK_TOKEN_FILE"));
  }
  const auto with_default = [&](const char* name, const char* fallback) {
    std::string v = r.Get(name);
    return v.empty() ? std::string(fallback) : v;
  };
  if (std::string key = r.Secret("PAGERDUTY_ROUTING_KEY_FILE"); !key.empty()) {
    add(Channel::kPagerDuty, with_default("PAGERDUTY_URL", "https://events.pagerduty.com"), key);
  }
  if (std::string key = r.Secret("DATADOG_API_KEY_FILE"); !key.empty()) {
    add(Channel::kDatadog, with_default("DATADOG_URL", "https://api.datadoghq.com"), key);
  }
  if (std::string url = r.Get("GRAFANA_URL"); !url.empty()) {
    std::string token = r.Secret("GRAFANA_TOKEN_FILE");
    r.Require("grafana", {{"GRAFANA_TOKEN_FILE", token}});
    add(Channel::kGrafana, url, token);
  }
  if (std::string url = r.Get("JIRA_URL"); !url.empty()) {
    std::string token = r.Secret("JIRA_TOKEN_FILE"), user = r.Get("JIRA_USER"),
                project = r.Get("JIRA_PROJECT");
    r.Require("jira", {{"JIRA_TOKEN_FILE", token}, {"JIRA_USER", user}, {"JIRA_PROJECT", project}});
    add(Channel::kJira, url, token, user, project);
  }
  if (std::string url = r.Get("SERVICENOW_URL"); !url.empty()) {
    std::string password = r.Secret("SERVICENOW_PASSWORD_FILE"), user = r.Get("SERVICENOW_USER");
    r.Require("servicenow", {{"SERVICENOW_PASSWORD_FILE", password}, {"SERVICENOW_USER", user}});
    add(Channel::kServiceNow, url, password, user);
  }
  if (std::string key = r.Secret("OPSGENIE_API_KEY_FILE"); !key.empty()) {
    add(Channel::kOpsGenie, with_default("OPSGENIE_URL", "https://api.opsgenie.com"), key);
  }
  if (std::string url = r.Get("ELASTICSEARCH_URL"); !url.empty()) {
    add(Channel::kElasticsearch, url, r.Secret("ELASTICSEARCH_API_KEY_FILE"), "",
        with_default("ELASTICSEARCH_INDEX", "smart-autoscaler-anomalies"));
  }
  if (std::string v = r.Get("ALERT_RENOTIFY_INTERVAL"); !v.empty()) {
    if (!absl::ParseDuration(v, &out.options.renotify) ||
        out.options.renotify < absl::ZeroDuration()) {
      r.problems.push_back(
          absl::StrCat("ALERT_RENOTIFY_INTERVAL: '", v, "' is not a duration >= 0 (e.g. 4h)"));
    }
  }
  if (!r.problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(r.problems, "\n"));
  return out;
}

}  // namespace reconciler::alerts
