// The anomaly families: values after starts, resolves and a restore, and the scrape text as
// Debian's promtool judges it (`promtool check metrics`, run as a real process).
#include "reconciler/alerts/metrics.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace reconciler::alerts {
namespace {

namespace an = predictor::anomaly;

Transition T(const std::string& deployment, an::AnomalyType type, bool resolved) {
  Transition t;
  t.namespace_name = "shop";
  t.deployment = deployment;
  t.evidence.type = type;
  t.start = absl::FromUnixSeconds(1700000000);
  if (resolved) t.end = t.start + absl::Minutes(5);
  return t;
}

std::string Scrape(prometheus::Registry& r) {
  return prometheus::TextSerializer().Serialize(r.Collect());
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(AlertMetricsTest, CountsStartsTracksActiveAndPassesPromtool) {
  prometheus::Registry registry;
  AlertMetrics m(&registry);
  m.OnTransition(T("api", an::AnomalyType::kCpuSpike, false));
  m.OnTransition(T("api", an::AnomalyType::kCpuSpike, true));
  m.OnTransition(T("web", an::AnomalyType::kCpuSpike, false));
  m.Restored(T("db", an::AnomalyType::kPatternDeviation, false));
  clients::webhook::ChannelStats slack;
  slack.channel = clients::webhook::Channel::kSlack;
  slack.sent = 3;
  slack.dropped = 1;
  m.ExportDispatcher({slack});
  slack.sent = 5;
  m.ExportDispatcher({slack});
  m.ExportSeeding(3, 2);
  m.ExportSeeding(1, 4);

  const std::string text = Scrape(registry);
  EXPECT_TRUE(Has(text, "autoscaler_anomalies_total{type=\"cpu_spike\"} 2")) << text;
  EXPECT_EQ(text.find("autoscaler_anomalies_total{type=\"pattern_deviation\"}"),
            std::string::npos);  // restored, not started again
  EXPECT_TRUE(Has(text,
      "autoscaler_anomaly_active{deployment=\"api\",namespace=\"shop\",type=\"cpu_spike\"} 0"));
  EXPECT_TRUE(Has(text,
      "autoscaler_anomaly_active{deployment=\"web\",namespace=\"shop\",type=\"cpu_spike\"} 1"));
  EXPECT_TRUE(Has(text, "autoscaler_anomaly_active{deployment=\"db\",namespace=\"shop\","
                        "type=\"pattern_deviation\"} 1"));
  EXPECT_TRUE(Has(text, "autoscaler_alerts_sent_total{channel=\"slack\",result=\"sent\"} 5"));
  EXPECT_TRUE(Has(text, "autoscaler_alerts_sent_total{channel=\"slack\",result=\"dropped\"} 1"));
  EXPECT_TRUE(Has(text, "autoscaler_alerts_sent_total{channel=\"slack\",result=\"failed\"} 0"));
  EXPECT_TRUE(Has(text, "autoscaler_anomaly_seeds_pending 1")) << text;
  EXPECT_TRUE(Has(text, "autoscaler_anomaly_seeded_total 4")) << text;

  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/scrape.txt";
  std::ofstream(path) << text;
  const std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << "promtool: " << out << "\n" << text;
  EXPECT_EQ(out, "") << text;  // no lint complaints either
}

}  // namespace
}  // namespace reconciler::alerts
