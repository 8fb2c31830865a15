// Alert payloads for the eleven notification channels, each in its service's documented
// shape, method, path and authentication:
//
//   channel        method path (appended to the configured URL)      auth
//   slack          POST   (the incoming-webhook URL)                 none (secret URL), blocks
//   teams          POST   (the workflow / incoming-webhook URL)      none (secret URL), Adaptive Card
//   discord        POST   (the webhook URL)                          none (secret URL), embeds
//   generic        POST   (the URL)                                  Authorization: Bearer <secret> if set
//   pagerduty      POST   /v2/enqueue                                routing_key in the body (Events v2)
//   datadog        POST   /api/v1/events                             DD-API-KEY: <secret>
//   grafana        POST   /api/annotations                           Authorization: Bearer <secret>
//   jira           POST   /rest/api/2/issue                          Authorization: Basic <user:secret>
//   servicenow     POST   /api/now/table/incident                    Authorization: Basic <user:secret>
//   opsgenie       POST   /v2/alerts, resolve /v2/alerts/<alias>/close?identifierType=alias
//                                                                    Authorization: GenieKey <secret>
//   elasticsearch  POST   /<index>/_doc                              Authorization: ApiKey <secret>
//
// Jira and ServiceNow get one ticket per started anomaly and nothing on resolve (closing a
// ticket needs the key the creation returned, which a fire-and-forget sender does not keep).
//
//   clients::webhook::ChannelConfig c{clients::webhook::Channel::kSlack, url};
//   absl::StatusOr<std::optional<clients::http::HttpRequest>> r = BuildRequest(c, alert);
//
// Pure functions; thread-safe. Secrets go into headers or the body only, never into errors.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/http/http_client.h"

namespace clients::webhook {

enum class Channel {
  kSlack, kTeams, kDiscord, kGeneric, kPagerDuty, kDatadog, kGrafana, kJira, kServiceNow,
  kOpsGenie, kElasticsearch,
};
constexpr int kNumChannels = 11;

// "slack", "teams", "discord", "generic", "pagerduty", "datadog", "grafana", "jira",
// "servicenow", "opsgenie", "elasticsearch".
const char* ChannelName(Channel channel);
std::vector<Channel> AllChannels();

struct ChannelConfig {
  Channel channel = Channel::kGeneric;
  std::string url;     // webhook URL, or the service's base URL (no trailing path)
  std::string secret;  // token / API key / routing key / password (from a file)
  std::string user;    // Jira account e-mail, ServiceNow user
  std::string target;  // Jira project key, Elasticsearch index
};

// What is notified: one state change of one anomaly (or a report).
struct Alert {
  std::string key;       // stable per anomaly: the de-duplication key every channel gets
  bool resolved = false;
  std::string type;      // "cpu_spike", ..., or "cost_report"
  std::string severity;  // "info", "warning", "critical"
  std::string namespace_name;
  std::string deployment;
  std::string title;
  std::string text;
  absl::Time time;       // of the state change
  std::vector<std::pair<std::string, std::string>> fields;  // evidence, in order
};

// The request for `alert` on `config`'s channel; nullopt when the channel sends nothing for
// this state change (Jira and ServiceNow on resolve). InvalidArgument when the URL is empty
// or a required setting (secret, user, target) is missing.
absl::StatusOr<std::optional<http::HttpRequest>> BuildRequest(const ChannelConfig& config,
                                                              const Alert& alert);

}  // namespace clients::webhook
