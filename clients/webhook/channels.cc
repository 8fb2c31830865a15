#include "clients/webhook/channels.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/url.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace clients::webhook {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}
void Key(Writer& w, const char* k) { w.Key(k); }
void KV(Writer& w, const char* k, const std::string& v) {
  w.Key(k);
  Str(w, v);
}

std::string Iso(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

std::string Headline(const Alert& a) {
  return absl::StrCat(a.resolved ? "[RESOLVED] " : "[", a.resolved ? "" : a.severity,
                      a.resolved ? "" : "] ", a.title);
}

std::string Summary(const Alert& a) {
  std::string s = absl::StrCat(a.text, "\n");
  for (const auto& [k, v] : a.fields) absl::StrAppend(&s, k, ": ", v, "\n");
  return s;
}

std::vector<std::string> Tags(const Alert& a) {
  return {"source:smart-autoscaler", absl::StrCat("anomaly:", a.type),
          absl::StrCat("severity:", a.severity), absl::StrCat("namespace:", a.namespace_name),
          absl::StrCat("deployment:", a.deployment)};
}

void TagArray(Writer& w, const Alert& a) {
  w.StartArray();
  for (const std::string& t : Tags(a)) Str(w, t);
  w.EndArray();
}

void Facts(Writer& w, const Alert& a, const char* name_key, const char* value_key,
           bool inline_flag) {
  w.StartArray();
  for (const auto& [k, v] : a.fields) {
    w.StartObject();
    KV(w, name_key, k);
    KV(w, value_key, v);
    if (inline_flag) {
      Key(w, "inline");
      w.Bool(true);
    }
    w.EndObject();
  }
  w.EndArray();
}

void Slack(Writer& w, const Alert& a) {
  w.StartObject();
  KV(w, "text", Headline(a));  // the notification fallback
  Key(w, "blocks");
  w.StartArray();
  w.StartObject();
  KV(w, "type", "header");
  Key(w, "text");
  w.StartObject();
  KV(w, "type", "plain_text");
  KV(w, "text", Headline(a).substr(0, 150));
  w.EndObject();
  w.EndObject();
  w.StartObject();
  KV(w, "type", "section");
  Key(w, "text");
  w.StartObject();
  KV(w, "type", "mrkdwn");
  KV(w, "text", a.text);
  w.EndObject();
  if (!a.fields.empty()) {
    Key(w, "fields");
    w.StartArray();
    for (size_t i = 0; i < a.fields.size() && i < 10; ++i) {  // Slack allows 10 fields
      w.StartObject();
      KV(w, "type", "mrkdwn");
      KV(w, "text", absl::StrCat("*", a.fields[i].first, "*\n", a.fields[i].second));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

void Teams(Writer& w, const Alert& a) {
  w.StartObject();
  KV(w, "type", "message");
  Key(w, "attachments");
  w.StartArray();
  w.StartObject();
  KV(w, "contentType", "application/vnd.microsoft.card.adaptive");
  Key(w, "content");
  w.StartObject();
  KV(w, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
  KV(w, "type", "AdaptiveCard");
  KV(w, "version", "1.4");
  Key(w, "body");
  w.StartArray();
  w.StartObject();
  KV(w, "type", "TextBlock");
  KV(w, "text", Headline(a));
  KV(w, "weight", "Bolder");
  KV(w, "size", "Medium");
  KV(w, "color", a.resolved ? "Good" : a.severity == "critical" ? "Attention" : "Warning");
  w.EndObject();
  w.StartObject();
  KV(w, "type", "TextBlock");
  KV(w, "text", a.text);
  Key(w, "wrap");
  w.Bool(true);
  w.EndObject();
  w.StartObject();
  KV(w, "type", "FactSet");
  Key(w, "facts");
  Facts(w, a, "title", "value", false);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

void Discord(Writer& w, const Alert& a) {
  w.StartObject();
  KV(w, "username", "smart-autoscaler");
  Key(w, "embeds");
  w.StartArray();
  w.StartObject();
  KV(w, "title", Headline(a).substr(0, 256));
  KV(w, "description", a.text);
  Key(w, "color");
  w.Int(a.resolved ? 0x2ECC71 : a.severity == "critical" ? 0xE74C3C : 0xF39C12);
  KV(w, "timestamp", Iso(a.time));
  Key(w, "fields");
  Facts(w, a, "name", "value", true);
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

void Generic(Writer& w, const Alert& a) {
  w.StartObject();
  KV(w, "event", a.resolved ? "anomaly.resolved" : "anomaly.started");
  KV(w, "key", a.key);
  KV(w, "type", a.type);
  KV(w, "severity", a.severity);
  KV(w, "namespace", a.namespace_name);
  KV(w, "deployment", a.deployment);
  KV(w, "title", a.title);
  KV(w, "text", a.text);
  KV(w, "time", Iso(a.time));
  Key(w, "fields");
  w.StartObject();
  for (const auto& [k, v] : a.fields) KV(w, k.c_str(), v);
  w.EndObject();
  w.EndObject();
}

void PagerDuty(Writer& w, const Alert& a, const std::string& routing_key) {
  w.StartObject();
  KV(w, "routing_key", routing_key);
  KV(w, "event_action", a.resolved ? "resolve" : "trigger");
  KV(w, "dedup_key", a.key);
  Key(w, "payload");
  w.StartObject();
  KV(w, "summary", Headline(a).substr(0, 1024));
  KV(w, "source", absl::StrCat(a.namespace_name, "/", a.deployment));
  KV(w, "severity", a.severity == "critical" ? "critical"
                    : a.severity == "warning" ? "warning" : "info");
  KV(w, "timestamp", Iso(a.time));
  KV(w, "component", a.deployment);
  KV(w, "group", a.namespace_name);
  KV(w, "class", a.type);
  Key(w, "custom_details");
  w.StartObject();
  for (const auto& [k, v] : a.fields) KV(w, k.c_str(), v);
  w.EndObject();
  w.EndObject();
  w.EndObject();
}

void Datadog(Writer& w, const Alert& a) {
  w.StartObject();
  KV(w, "title", Headline(a));
  KV(w, "text", Summary(a));
  KV(w, "alert_type", a.resolved ? "success" : a.severity == "critical" ? "error"
                      : a.severity == "warning" ? "warning" : "info");
  KV(w, "aggregation_key", a.key.substr(0, 100));
  KV(w, "source_type_name", "smart-autoscaler");
  Key(w, "date_happened");
  w.Int64(absl::ToUnixSeconds(a.time));
  Key(w, "tags");
  TagArray(w, a);
  w.EndObject();
}

void Grafana(Writer& w, const Alert& a) {
  w.StartObject();
  Key(w, "time");
  w.Int64(absl::ToUnixMillis(a.time));
  KV(w, "text", absl::StrCat(Headline(a), "\n", Summary(a)));
  Key(w, "tags");
  TagArray(w, a);
  w.EndObject();
}

void Jira(Writer& w, const Alert& a, const std::string& project) {
  w.StartObject();
  Key(w, "fields");
  w.StartObject();
  Key(w, "project");
  w.StartObject();
  KV(w, "key", project);
  w.EndObject();
  KV(w, "summary", Headline(a).substr(0, 255));
  KV(w, "description", absl::StrCat(Summary(a), "\nkey: ", a.key));
  Key(w, "issuetype");
  w.StartObject();
  KV(w, "name", "Bug");
  w.EndObject();
  Key(w, "labels");
  w.StartArray();
  Str(w, "smart-autoscaler");
  Str(w, a.type);
  w.EndArray();
  w.EndObject();
  w.EndObject();
}

void ServiceNow(Writer& w, const Alert& a) {
  const std::string level = a.severity == "critical" ? "1" : a.severity == "warning" ? "2" : "3";
  w.StartObject();
  KV(w, "short_description", Headline(a).substr(0, 160));
  KV(w, "description", Summary(a));
  KV(w, "urgency", level);
  KV(w, "impact", level);
  KV(w, "category", "software");
  KV(w, "correlation_id", a.key);
  KV(w, "correlation_display", "smart-autoscaler");
  w.EndObject();
}

void OpsGenie(Writer& w, const Alert& a) {
  w.StartObject();
  KV(w, "source", "smart-autoscaler");
  if (a.resolved) {
    KV(w, "note", a.text);
  } else {
    KV(w, "message", Headline(a).substr(0, 130));
    KV(w, "alias", a.key.substr(0, 512));
    KV(w, "description", Summary(a));
    KV(w, "priority", a.severity == "critical" ? "P1" : a.severity == "warning" ? "P3" : "P5");
    KV(w, "entity", absl::StrCat(a.namespace_name, "/", a.deployment));
    Key(w, "tags");
    TagArray(w, a);
    Key(w, "details");
    w.StartObject();
    for (const auto& [k, v] : a.fields) KV(w, k.c_str(), v);
    w.EndObject();
  }
  w.EndObject();
}

void Elasticsearch(Writer& w, const Alert& a) {
  w.StartObject();
  KV(w, "@timestamp", Iso(a.time));
  KV(w, "message", Headline(a));
  Key(w, "event");
  w.StartObject();
  KV(w, "kind", "alert");
  KV(w, "action", a.resolved ? "anomaly-resolved" : "anomaly-started");
  KV(w, "id", a.key);
  KV(w, "severity_name", a.severity);
  w.EndObject();
  Key(w, "kubernetes");
  w.StartObject();
  KV(w, "namespace", a.namespace_name);
  KV(w, "deployment", a.deployment);
  w.EndObject();
  Key(w, "anomaly");
  w.StartObject();
  KV(w, "type", a.type);
  KV(w, "text", a.text);
  for (const auto& [k, v] : a.fields) KV(w, k.c_str(), v);
  w.EndObject();
  w.EndObject();
}

absl::Status Need(const ChannelConfig& c, const std::string& v, const char* what) {
  if (!v.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(ChannelName(c.channel), ": ", what, " is not configured"));
}

}  // namespace

const char* ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kSlack: return "slack";
    case Channel::kTeams: return "teams";
    case Channel::kDiscord: return "discord";
    case Channel::kGeneric: return "generic";
    case Channel::kPagerDuty: return "pagerduty";
    case Channel::kDatadog: return "datadog";
    case Channel::kGrafana: return "grafana";
    case Channel::kJira: return "jira";
    case Channel::kServiceNow: return "servicenow";
    case Channel::kOpsGenie: return "opsgenie";
    case Channel::kElasticsearch: return "elasticsearch";
  }
  return "unknown";
}

std::vector<Channel> AllChannels() {
  std::vector<Channel> out;
  for (int i = 0; i < kNumChannels; ++i) out.push_back(static_cast<Channel>(i));
  return out;
}

absl::StatusOr<std::optional<http::HttpRequest>> BuildRequest(const ChannelConfig& c,
                                                              const Alert& a) {
  if (absl::Status s = Need(c, c.url, "the URL"); !s.ok()) return s;
  http::HttpRequest r;
  r.method = "POST";
  r.headers.push_back({"Content-Type", "application/json"});
  const std::string base(absl::StripSuffix(c.url, "/"));
  r.url = c.url;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  const auto basic = [&] {
    return absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat(c.user, ":", c.secret)));
  };
  switch (c.channel) {
    case Channel::kSlack: Slack(w, a); break;
    case Channel::kTeams: Teams(w, a); break;
    case Channel::kDiscord: Discord(w, a); break;
    case Channel::kGeneric:
      if (!c.secret.empty()) r.headers.push_back({"Authorization", "Bearer " + c.secret});
      Generic(w, a);
      break;
    case Channel::kPagerDuty:
      if (absl::Status s = Need(c, c.secret, "the routing key"); !s.ok()) return s;
      r.url = base + "/v2/enqueue";
      PagerDuty(w, a, c.secret);
      break;
    case Channel::kDatadog:
      if (absl::Status s = Need(c, c.secret, "the API key"); !s.ok()) return s;
      r.url = base + "/api/v1/events";
      r.headers.push_back({"DD-API-KEY", c.secret});
      Datadog(w, a);
      break;
    case Channel::kGrafana:
      if (absl::Status s = Need(c, c.secret, "the service account token"); !s.ok()) return s;
      r.url = base + "/api/annotations";
      r.headers.push_back({"Authorization", "Bearer " + c.secret});
      Grafana(w, a);
      break;
    case Channel::kJira:
      if (a.resolved) return std::nullopt;
      for (auto [v, what] : {std::pair{&c.secret, "the API token"}, {&c.user, "the user"},
                             {&c.target, "the project key"}}) {
        if (absl::Status s = Need(c, *v, what); !s.ok()) return s;
      }
      r.url = base + "/rest/api/2/issue";
      r.headers.push_back({"Authorization", basic()});
      Jira(w, a, c.target);
      break;
    case Channel::kServiceNow:
      if (a.resolved) return std::nullopt;
      for (auto [v, what] : {std::pair{&c.secret, "the password"}, {&c.user, "the user"}}) {
        if (absl::Status s = Need(c, *v, what); !s.ok()) return s;
      }
      r.url = base + "/api/now/table/incident";
      r.headers.push_back({"Authorization", basic()});
      r.headers.push_back({"Accept", "application/json"});
      ServiceNow(w, a);
      break;
    case Channel::kOpsGenie:
      if (absl::Status s = Need(c, c.secret, "the API key"); !s.ok()) return s;
      r.url = a.resolved ? absl::StrCat(base, "/v2/alerts/", base::UrlEncode(a.key.substr(0, 512)),
                                        "/close?identifierType=alias")
                         : base + "/v2/alerts";
      r.headers.push_back({"Authorization", "GenieKey " + c.secret});
      OpsGenie(w, a);
      break;
    case Channel::kElasticsearch:
      if (absl::Status s = Need(c, c.target, "the index"); !s.ok()) return s;
      r.url = absl::StrCat(base, "/", c.target, "/_doc");
      if (!c.secret.empty()) r.headers.push_back({"Authorization", "ApiKey " + c.secret});
      Elasticsearch(w, a);
      break;
  }
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

}  // namespace clients::webhook
