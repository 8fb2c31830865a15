// Every channel's request as a real local HTTP receiver records it, and delivery under a
// failing and a hanging receiver.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "clients/http/curl_http_client.h"
#include "base/clock.h"
#include "clients/webhook/channels.h"
#include "clients/webhook/dispatcher.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/pointer.h"

namespace clients::webhook {
namespace {

struct Recorded {
  std::string method, path, body;
  std::map<std::string, std::string> headers, query;
};

base::HttpServerOptions ReceiverOptions() {
  base::HttpServerOptions o;
  o.threads = 4;  // a hanging answer must not block the other channels' requests
  return o;
}

// A loopback receiver that records every request and answers `status` after `delay`.
class Receiver {
 public:
  explicit Receiver(int status = 200, absl::Duration delay = absl::ZeroDuration())
      : server_(ReceiverOptions()) {
    server_.HandlePrefix("/", [this, status, delay](const base::HttpRequest& r) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        got_.push_back({r.method, r.path, r.body,
                        std::map<std::string, std::string>(r.headers.begin(), r.headers.end()),
                        r.query});
      }
      if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
      base::HttpResponse resp;
      resp.status = status;
      resp.content_type = "application/json";
      resp.body = "{}";
      return resp;
    });
    EXPECT_TRUE(server_.Start("127.0.0.1:0").ok());
  }
  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", server_.port(), path);
  }
  std::vector<Recorded> got() const {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  void Stop() { server_.Stop(); }

 private:
  base::HttpServer server_;
  mutable std::mutex mu_;
  std::vector<Recorded> got_;
};

Alert Started() {
  Alert a;
  a.key = "default/api/cpu_spike/1700000000";
  a.type = "cpu_spike";
  a.severity = "critical";
  a.namespace_name = "default";
  a.deployment = "api";
  a.title = "CPU spike on default/api";
  a.text = "CPU 2400m, baseline 800m";
  a.time = absl::FromUnixSeconds(1700000000);
  a.fields = {{"value", "2400m"}, {"baseline", "800m"}, {"threshold", "0.7"}};
  return a;
}

std::vector<ChannelConfig> AllConfigs(const Receiver& rx) {
  return {
      {Channel::kSlack, rx.Url("/slack/T000/B000/XXXX"), "", "", ""},
      {Channel::kTeams, rx.Url("/teams/webhookb2/abc"), "", "", ""},
      {Channel::kDiscord, rx.Url("/discord/api/webhooks/1/tok"), "", "", ""},
      {Channel::kGeneric, rx.Url("/generic/hook"), "gen-secret", "", ""},
      {Channel::kPagerDuty, rx.Url("/pd"), "pd-routing-key", "", ""},
      {Channel::kDatadog, rx.Url("/dd"), "dd-api-key", "", ""},
      {Channel::kGrafana, rx.Url("/grafana"), "glsa_token", "", ""},
      {Channel::kJira, rx.Url("/jira"), "jira-token", "ops@example.com", "OPS"},
      {Channel::kServiceNow, rx.Url("/snow"), "snow-pass", "svc-autoscaler", ""},
      {Channel::kOpsGenie, rx.Url("/og"), "og-key", "", ""},
      {Channel::kElasticsearch, rx.Url("/es"), "es-api-key", "", "autoscaler-anomalies"},
  };
}

std::string Field(const rapidjson::Document& d, const char* pointer) {
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(d);
  if (v == nullptr) return "<missing>";
  if (v->IsString()) return v->GetString();
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsArray()) return absl::StrCat("array:", v->Size());
  return "<other>";
}

struct Expect {
  const char* path;
  const char* auth_header;  // lower-case name, "" for none
  std::string auth_value;
  std::vector<std::pair<const char*, std::string>> fields;  // JSON pointer -> value
};

std::map<std::string, Expect> Expectations() {
  const std::string basic_jira = "Basic " + absl::Base64Escape("ops@example.com:jira-token");
  const std::string basic_snow = "Basic " + absl::Base64Escape("svc-autoscaler:snow-pass");
  return {
      {"/slack/T000/B000/XXXX", {"", "", "", {{"/blocks/0/type", "header"},
                                             {"/blocks/1/text/type", "mrkdwn"},
                                             {"/blocks/1/fields", "array:3"}}}},
      {"/teams/webhookb2/abc",
       {"", "", "", {{"/type", "message"},
                     {"/attachments/0/contentType", "application/vnd.microsoft.card.adaptive"},
                     {"/attachments/0/content/type", "AdaptiveCard"},
                     {"/attachments/0/content/body/2/type", "FactSet"}}}},
      {"/discord/api/webhooks/1/tok",
       {"", "", "", {{"/embeds/0/title", "[critical] CPU spike on default/api"},
                     {"/embeds/0/color", std::to_string(0xE74C3C)},
                     {"/embeds/0/fields", "array:3"}}}},
      {"/generic/hook", {"", "authorization", "Bearer gen-secret",
                         {{"/event", "anomaly.started"}, {"/key", "default/api/cpu_spike/1700000000"},
                          {"/fields/baseline", "800m"}}}},
      {"/pd/v2/enqueue", {"", "", "", {{"/routing_key", "pd-routing-key"},
                                      {"/event_action", "trigger"},
                                      {"/dedup_key", "default/api/cpu_spike/1700000000"},
                                      {"/payload/severity", "critical"},
                                      {"/payload/source", "default/api"}}}},
      {"/dd/api/v1/events", {"", "dd-api-key", "dd-api-key",
                             {{"/alert_type", "error"}, {"/tags", "array:5"},
                              {"/date_happened", "1700000000"}}}},
      {"/grafana/api/annotations", {"", "authorization", "Bearer glsa_token",
                                    {{"/time", "1700000000000"}, {"/tags", "array:5"}}}},
      {"/jira/rest/api/2/issue", {"", "authorization", basic_jira,
                                  {{"/fields/project/key", "OPS"},
                                   {"/fields/issuetype/name", "Bug"},
                                   {"/fields/summary", "[critical] CPU spike on default/api"}}}},
      {"/snow/api/now/table/incident", {"", "authorization", basic_snow,
                                        {{"/urgency", "1"}, {"/impact", "1"},
                                         {"/correlation_id", "default/api/cpu_spike/1700000000"}}}},
      {"/og/v2/alerts", {"", "authorization", "GenieKey og-key",
                         {{"/alias", "default/api/cpu_spike/1700000000"}, {"/priority", "P1"}}}},
      {"/es/autoscaler-anomalies/_doc", {"", "authorization", "ApiKey es-api-key",
                                         {{"/@timestamp", "2023-11-14T22:13:20Z"},
                                          {"/event/action", "anomaly-started"},
                                          {"/kubernetes/deployment", "api"}}}},
  };
}

TEST(WebhookTest, EveryChannelSendsItsDocumentedRequest) {
  Receiver rx;
  auto curl = http::MakeCurlHttpClient({});
  Dispatcher d(AllConfigs(rx), curl.get(), &base::RealClock(), &base::RealSleeper());
  d.Enqueue(Started());
  ASSERT_TRUE(d.WaitIdle(absl::Seconds(20)));
  std::vector<Recorded> got = rx.got();
  ASSERT_EQ(got.size(), 11u);
  std::map<std::string, Expect> want = Expectations();
  for (const Recorded& r : got) {
    SCOPED_TRACE(r.path);
    auto it = want.find(r.path);
    ASSERT_NE(it, want.end());
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    if (it->second.auth_header[0] != '\0') {
      EXPECT_EQ(r.headers.at(it->second.auth_header), it->second.auth_value);
    } else {
      EXPECT_EQ(r.headers.count("authorization"), 0u);
    }
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    for (const auto& [pointer, value] : it->second.fields) {
      EXPECT_EQ(Field(doc, pointer), value) << pointer;
    }
    want.erase(it);
  }
  EXPECT_TRUE(want.empty());
  for (const ChannelStats& s : d.Stats()) EXPECT_EQ(s.sent, 1) << ChannelName(s.channel);
}

TEST(WebhookTest, ResolveNotifications) {
  Receiver rx;
  auto curl = http::MakeCurlHttpClient({});
  Dispatcher d(AllConfigs(rx), curl.get(), &base::RealClock(), &base::RealSleeper());
  Alert a = Started();
  a.resolved = true;
  d.Enqueue(a);
  ASSERT_TRUE(d.WaitIdle(absl::Seconds(20)));
  std::map<std::string, Recorded> by_path;
  for (const Recorded& r : rx.got()) by_path[r.path] = r;

  EXPECT_EQ(by_path.size(), 9u);  // Jira and ServiceNow open tickets only
  EXPECT_EQ(by_path.count("/jira/rest/api/2/issue"), 0u);
  // The alias travels percent-encoded (%2F); the receiver records the decoded path.
  const Recorded& og = by_path.at("/og/v2/alerts/default/api/cpu_spike/1700000000/close");
  EXPECT_EQ(og.query.at("identifierType"), "alias");
  rapidjson::Document pd;
  pd.Parse(by_path.at("/pd/v2/enqueue").body.c_str());
  EXPECT_EQ(Field(pd, "/event_action"), "resolve");
  rapidjson::Document dd;
  dd.Parse(by_path.at("/dd/api/v1/events").body.c_str());
  EXPECT_EQ(Field(dd, "/alert_type"), "success");
  int skipped = 0;
  for (const ChannelStats& s : d.Stats()) skipped += s.skipped;
  EXPECT_EQ(skipped, 2);
}

TEST(WebhookTest, MissingSettingsAreInvalidAndNameNoSecret) {
  ChannelConfig c{Channel::kJira, "http://127.0.0.1:1/jira", "sekret-token", "", "OPS"};
  auto r = BuildRequest(c, Started());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().find("sekret"), std::string::npos);
  EXPECT_EQ(BuildRequest({Channel::kSlack, "", "", "", ""}, Started()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WebhookTest, FailingReceiverGetsRetriesThenACountedFailure) {
  Receiver bad(500);
  base::FakeClock clock(absl::FromUnixSeconds(1700000000));
  base::FakeSleeper sleeper(&clock);
  auto curl = http::MakeCurlHttpClient({});
  Dispatcher d({{Channel::kGeneric, bad.Url("/hook"), "", "", ""}}, curl.get(), &clock, &sleeper);
  d.Enqueue(Started());
  ASSERT_TRUE(d.WaitIdle(absl::Seconds(20)));
  EXPECT_EQ(bad.got().size(), 4u);  // the first attempt and three retries
  const ChannelStats s = d.Stats()[0];
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.sent, 0);
  EXPECT_EQ(s.retries, 3);
  std::vector<absl::Duration> backoff;  // the rate limiter's zero waits left out
  for (absl::Duration z : sleeper.sleeps()) {
    if (z > absl::ZeroDuration()) backoff.push_back(z);
  }
  EXPECT_EQ(backoff, (std::vector<absl::Duration>{absl::Seconds(1), absl::Seconds(2),
                                                  absl::Seconds(4)}));
}

TEST(WebhookTest, HangingReceiverNeverBlocksTheCallerOrOtherChannels) {
  Receiver hang(200, absl::Seconds(3));
  Receiver good;
  auto curl = http::MakeCurlHttpClient({});
  DispatcherOptions o;
  o.request_timeout = absl::Milliseconds(500);
  o.queue_capacity = 3;
  Dispatcher d({{Channel::kGeneric, hang.Url("/hook"), "", "", ""},
                {Channel::kSlack, good.Url("/slack"), "", "", ""}},
               curl.get(), &base::RealClock(), &base::RealSleeper(), o);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) d.Enqueue(Started());
  const auto enqueue = std::chrono::steady_clock::now() - t0;
  // Ten enqueues on two channels, one of them hanging: well under a millisecond each.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(enqueue).count(), 50);
  // The healthy channel delivers everything its queue held (3, or 4 when its sender took one
  // before the loop filled the queue) within a second, while the other channel hangs: the
  // hanging channel's three requests take 1.5 s of timeouts.
  std::vector<ChannelStats> s = d.Stats();
  for (int i = 0; i < 20 && s[1].sent + s[1].dropped < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    s = d.Stats();
  }
  EXPECT_EQ(s[1].sent + s[1].dropped, 10);
  EXPECT_GE(s[1].sent, 3);
  EXPECT_EQ(good.got().size(), static_cast<size_t>(s[1].sent));
  EXPECT_EQ(s[0].sent + s[0].failed, 0);  // still waiting on the first timeout
  ASSERT_TRUE(d.WaitIdle(absl::Seconds(20)));
  s = d.Stats();
  EXPECT_EQ(s[0].sent, 0);
  EXPECT_GE(s[0].failed, 3);  // each timed out after 500 ms, not retried
  EXPECT_EQ(s[0].failed + s[0].dropped, 10);
  hang.Stop();
}

}  // namespace
}  // namespace clients::webhook
