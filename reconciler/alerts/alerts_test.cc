#include "reconciler/alerts/alerts.h"

#include <map>

#include "gtest/gtest.h"

namespace reconciler::alerts {
namespace {

namespace an = predictor::anomaly;
using clients::webhook::Alert;
using clients::webhook::Channel;

class RecordingNotifier : public Notifier {
 public:
  void Notify(const Alert& a) override { got.push_back(a); }
  std::vector<Alert> got;
};

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

an::Finding Active(double value = 95) {
  an::Finding f;
  f.type = an::AnomalyType::kPersistentHighCpu;
  f.active = true;
  f.severity = an::Severity::kWarning;
  f.since = kT0;
  f.value = value;
  f.high = 85;
  f.values = {90, 92, value};
  return f;
}

an::Finding Inactive() {
  an::Finding f = Active();
  f.active = false;
  return f;
}

struct Fixture {
  base::FakeClock clock{kT0};
  RecordingNotifier n;
  AlertManager m{&n, &clock, AlertOptions{absl::Hours(1)}};
  void Cycle(const an::Finding& f, bool leader = true) {
    m.Observe("default", "api", f, leader);
    clock.Advance(absl::Minutes(1));
  }
};

TEST(AlertManagerTest, OneStartOneResolveNeverTwicePerStateChange) {
  Fixture x;
  for (int i = 0; i < 30; ++i) x.Cycle(Active(95 + i));  // 30 cycles, same anomaly
  ASSERT_EQ(x.n.got.size(), 1u);
  const Alert start = x.n.got[0];
  EXPECT_FALSE(start.resolved);
  EXPECT_EQ(start.type, "persistent_high_cpu");
  EXPECT_EQ(start.severity, "warning");
  EXPECT_EQ(start.key, "default/api/persistent_high_cpu/1700000000");
  EXPECT_EQ(start.fields[2].second, "85");  // the threshold as evidence
  for (int i = 0; i < 5; ++i) x.Cycle(Inactive());
  ASSERT_EQ(x.n.got.size(), 2u);
  EXPECT_TRUE(x.n.got[1].resolved);
  EXPECT_EQ(x.n.got[1].key, start.key);
  EXPECT_EQ(x.m.active(), 0);
}

TEST(AlertManagerTest, RemindsAtTheRenotifyInterval) {
  Fixture x;
  for (int i = 0; i < 150; ++i) x.Cycle(Active());  // 150 minutes
  ASSERT_EQ(x.n.got.size(), 3u);                    // start, +60 min, +120 min
  EXPECT_NE(x.n.got[1].title.find("still active"), std::string::npos);
  EXPECT_EQ(x.n.got[1].key, x.n.got[0].key);
  EXPECT_EQ(x.m.counts().reminders, 2);
}

TEST(AlertManagerTest, OnlyTheLeaderSendsAndATakeoverDoesNotRepeatTheStart) {
  Fixture x;
  for (int i = 0; i < 10; ++i) x.Cycle(Active(), /*leader=*/false);
  EXPECT_TRUE(x.n.got.empty());
  EXPECT_EQ(x.m.active(), 1);
  for (int i = 0; i < 10; ++i) x.Cycle(Active(), /*leader=*/true);  // took over the lease
  EXPECT_TRUE(x.n.got.empty());  // the old leader sent the start
  x.Cycle(Inactive(), true);
  ASSERT_EQ(x.n.got.size(), 1u);
  EXPECT_TRUE(x.n.got[0].resolved);
}

TEST(AlertManagerTest, EachDeploymentAndTypeIsItsOwnAnomaly) {
  Fixture x;
  an::Finding spike = Active();
  spike.type = an::AnomalyType::kCpuSpike;
  x.m.Observe("default", "api", Active(), true);
  x.m.Observe("default", "api", spike, true);
  x.m.Observe("default", "web", Active(), true);
  EXPECT_EQ(x.n.got.size(), 3u);
  EXPECT_EQ(x.m.active(), 3);
  x.m.Observe("default", "web", Inactive(), true);
  EXPECT_EQ(x.n.got.size(), 4u);
  EXPECT_EQ(x.n.got[3].deployment, "web");
}

TEST(ChannelsFromEnvironmentTest, ReadsEveryChannelWithSecretsFromFiles) {
  std::map<std::string, std::string> env = {
      {"SLACK_WEBHOOK", "https://hooks.slack.com/services/T/B/X"},
      {"TEAMS_WEBHOOK", "https://example.webhook.office.com/x"},
      {"DISCORD_WEBHOOK_FILE", "/s/discord"},
      {"GENERIC_WEBHOOK", "https://hooks.example.com/a"},
      {"GENERIC_WEBHOOK_TOKEN_FILE", "/s/generic"},
      {"PAGERDUTY_ROUTING_KEY_FILE", "/s/pd"},
      {"DATADOG_API_KEY_FILE", "/s/dd"},
      {"GRAFANA_URL", "https://grafana.example.com"},
      {"GRAFANA_TOKEN_FILE", "/s/grafana"},
      {"JIRA_URL", "https://example.atlassian.net"},
      {"JIRA_USER", "ops@example.com"},
      {"JIRA_PROJECT", "OPS"},
      {"JIRA_TOKEN_FILE", "/s/jira"},
      {"SERVICENOW_URL", "https://example.service-now.com"},
      {"SERVICENOW_USER", "svc"},
      {"SERVICENOW_PASSWORD_FILE", "/s/snow"},
      {"OPSGENIE_API_KEY_FILE", "/s/og"},
      {"ELASTICSEARCH_URL", "https://es.example.com:9200"},
      {"ALERT_RENOTIFY_INTERVAL", "30m"},
  };
  std::map<std::string, std::string> files = {
      {"/s/discord", "https://discord.com/api/webhooks/1/t\n"}, {"/s/generic", "g"},
      {"/s/pd", "pdkey\n"}, {"/s/dd", "ddkey"}, {"/s/grafana", "glsa"}, {"/s/jira", "jt"},
      {"/s/snow", "pw"}, {"/s/og", "og"}};
  auto lookup = [&](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto read = [&](const std::string& p) -> absl::StatusOr<std::string> {
    auto it = files.find(p);
    if (it == files.end()) return absl::NotFoundError(p);
    return it->second;
  };
  auto s = ChannelsFromEnvironment(lookup, read);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->channels.size(), 11u);
  EXPECT_EQ(s->options.renotify, absl::Minutes(30));
  std::map<Channel, clients::webhook::ChannelConfig> by;
  for (const auto& c : s->channels) by[c.channel] = c;
  EXPECT_EQ(by[Channel::kDiscord].url, "https://discord.com/api/webhooks/1/t");
  EXPECT_EQ(by[Channel::kPagerDuty].secret, "pdkey");
  EXPECT_EQ(by[Channel::kPagerDuty].url, "https://events.pagerduty.com");
  EXPECT_EQ(by[Channel::kJira].target, "OPS");
  EXPECT_EQ(by[Channel::kElasticsearch].target, "smart-autoscaler-anomalies");

  // Problems are listed together and never show a secret.
  env["JIRA_TOKEN_FILE"] = "/s/missing";
  env.erase("JIRA_USER");
  env["SLACK_WEBHOOK"] = "hooks.slack.com/services/T/B/SECRETPART";
  env["ALERT_RENOTIFY_INTERVAL"] = "soon";
  auto bad = ChannelsFromEnvironment(lookup, read);
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(bad.status().message());
  EXPECT_NE(msg.find("JIRA_TOKEN_FILE: cannot read /s/missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("JIRA_USER is required"), std::string::npos) << msg;
  EXPECT_NE(msg.find("SLACK_WEBHOOK: not an http(s) URL"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ALERT_RENOTIFY_INTERVAL"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("SECRETPART"), std::string::npos) << msg;
}

TEST(ChannelsFromEnvironmentTest, NothingConfiguredIsNoChannels) {
  auto s = ChannelsFromEnvironment([](const std::string&) { return std::nullopt; },
                                   [](const std::string& p) -> absl::StatusOr<std::string> {
                                     return absl::NotFoundError(p);
                                   });
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->channels.empty());
  EXPECT_EQ(s->options.renotify, absl::Hours(4));
}

}  // namespace
}  // namespace reconciler::alerts
