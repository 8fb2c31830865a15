// CostJson's fields and the stored pod-lifetime records.
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

TEST(CostJsonTest, HasTheOriginalsFieldsAndNullForUnknown) {
  PodLifetime p;
  p.pod = "a";
  p.start = kT0;
  p.end = kT0 + absl::Hours(2);
  p.cpu_request_millicores = 500;
  CostReport c = ComputeCost({p}, {}, kT0, kT0 + absl::Hours(2), PriceTable::Flat({0.04, 0.005}));
  Rightsizing rs;
  std::string json = CostJson("shop", "api", c, rs, 500, 0);
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.c_str()).HasParseError()) << json;
  for (const char* f : {"cpu_cost", "memory_cost", "total_cost", "wasted_cpu_cost",
                        "wasted_memory_cost", "total_wasted_cost", "estimated_monthly_cost",
                        "optimization_potential", "allocated_total_cost"}) {
    ASSERT_TRUE(d.HasMember(f) && d[f].IsNumber()) << f;
  }
  EXPECT_DOUBLE_EQ(d["cpu_cost"].GetDouble(), 0.04);  // 0.5 core x 2 h x $0.04
  EXPECT_DOUBLE_EQ(d["hours"].GetDouble(), 2);
  EXPECT_TRUE(d["cpu_utilization_percent"].IsNull());
  EXPECT_TRUE(d["memory_utilization_percent"].IsNull());
  EXPECT_STREQ(d["recommendation"].GetString(), "Not enough usage data");
  EXPECT_TRUE(d["rightsizing"]["cpu_request_millicores"]["recommended"].IsNull());
  EXPECT_EQ(d["rightsizing"]["cpu_request_millicores"]["current"].GetInt64(), 500);
}

TEST(PodLifetimeRecordTest, RoundTripsAndRejectsGarbage) {
  PodLifetime p;
  p.pod = "api-1";
  p.start = kT0;
  p.cpu_request_millicores = 250;
  p.memory_request_bytes = 512000000;
  p.node = "n1";
  p.pool = "m5.large";
  auto open = DecodePodLifetime(EncodePodLifetime("shop", "api", p));
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->namespace_name, "shop");
  EXPECT_EQ(open->deployment, "api");
  EXPECT_EQ(open->life.start, kT0);
  EXPECT_EQ(open->life.end, absl::InfiniteFuture());
  EXPECT_EQ(open->life.memory_request_bytes, 512000000);
  EXPECT_EQ(open->life.pool, "m5.large");
  p.end = kT0 + absl::Minutes(90);
  EXPECT_EQ(DecodePodLifetime(EncodePodLifetime("shop", "api", p))->life.end, p.end);
  EXPECT_EQ(DecodePodLifetime("\xff\xff\xff").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodePodLifetime("").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace costs
