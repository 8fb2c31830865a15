#include "adapter/static_metrics.h"

#include "gtest/gtest.h"

namespace adapter {
namespace {

TEST(StaticMetricsTest, ParsesEntries) {
  absl::StatusOr<std::vector<MetricPoint>> p = ParseStaticMetrics(R"({"metrics":[
    {"namespace":"default","metric":"smart_cpu_pressure","deployment":"api","labels":{"node_pool":"a"},
     "value":0.85,"timestamp":"2025-03-04T10:15:30Z","windowSeconds":60},
    {"namespace":"default","metric":"smart_cpu_blended","value":70}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].labels.at("node_pool"), "a");
  EXPECT_EQ((*p)[0].timestamp, absl::FromUnixSeconds(1741083330));
  EXPECT_EQ((*p)[0].window, absl::Seconds(60));
  EXPECT_EQ((*p)[1].timestamp, absl::InfinitePast());
}

TEST(StaticMetricsTest, RejectsBadEntries) {
  EXPECT_FALSE(ParseStaticMetrics("{").ok());
  EXPECT_FALSE(ParseStaticMetrics(R"({"metrics":{}})").ok());
  EXPECT_FALSE(ParseStaticMetrics(R"([{"namespace":"a","metric":"m","value":"1"}])").ok());
  EXPECT_FALSE(ParseStaticMetrics(R"([{"namespace":"a","value":1}])").ok());
  EXPECT_FALSE(
      ParseStaticMetrics(R"([{"namespace":"a","metric":"m","value":1,"timestamp":"yesterday"}])")
          .ok());
  EXPECT_EQ(LoadStaticMetrics("/nonexistent/file.json").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace adapter
