// RecommendRequests against hand-computed percentiles. CPU in millicores, memory in bytes.
#include <vector>

#include "gtest/gtest.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1767225600 + 10 * 86400);

// 100 samples over the last 8 days: 10m, 20m, ..., 1000m per pod. p90 (nearest rank 90) = 900m.
RightsizingInput CpuInput(int64_t current, bool censor_one = false) {
  RightsizingInput in;
  in.now = kNow;
  for (int i = 1; i <= 100; ++i) {
    in.cpu.push_back({kNow - absl::Hours(190) + absl::Hours(1.9 * i), i * 0.01,
                      censor_one && i == 100});
  }
  // Older than 8 days: ignored.
  in.cpu.push_back({kNow - absl::Hours(24 * 9), 50.0, false});
  in.cpu_request_millicores = current;
  in.average_pods = 2;
  in.prices = {0.04, 0.005};
  return in;
}

TEST(RightsizingTest, CpuIsP90PlusFifteenPercent) {
  Rightsizing r = RecommendRequests(CpuInput(1000));
  ASSERT_TRUE(r.cpu.available);
  EXPECT_EQ(r.cpu.value, 1035);  // 900m x 1.15
  EXPECT_FALSE(r.cpu.capped);
  EXPECT_FALSE(r.cpu.at_least);
  // (1000 - 1035)m x 2 pods x $0.04/1000m-h x 730 h = -$2.044 (a raise costs).
  EXPECT_NEAR(r.cpu.monthly_saving, -2.044, 1e-9);
  EXPECT_FALSE(r.memory.available);
}

TEST(RightsizingTest, EachStepIsBoundedToThirtyPercent) {
  Rightsizing up = RecommendRequests(CpuInput(500));
  EXPECT_EQ(up.cpu.uncapped, 1035);
  EXPECT_EQ(up.cpu.value, 650);  // 500m x 1.3
  EXPECT_TRUE(up.cpu.capped);
  Rightsizing down = RecommendRequests(CpuInput(2000));
  EXPECT_EQ(down.cpu.value, 1400);  // 2000m x 0.7
  EXPECT_TRUE(down.cpu.capped);
  // 600m x 2 pods x $0.00004/m-h x 730 h = $35.04.
  EXPECT_NEAR(down.cpu.monthly_saving, 35.04, 1e-9);
}

TEST(RightsizingTest, CensoredSamplesMakeItAtLeastAndNeverACut) {
  Rightsizing r = RecommendRequests(CpuInput(2000, /*censor_one=*/true));
  EXPECT_TRUE(r.cpu.at_least);
  EXPECT_EQ(r.cpu.value, 2000);
  EXPECT_EQ(r.cpu.monthly_saving, 0);
  // A raise stays a raise (bounded).
  Rightsizing raise = RecommendRequests(CpuInput(500, /*censor_one=*/true));
  EXPECT_EQ(raise.cpu.value, 650);
}

TEST(RightsizingTest, MemoryIsP90OfDailyPeaksPlusFifteenPercent) {
  RightsizingInput in;
  in.now = kNow;
  in.memory_request_bytes = 3000000000;
  in.average_pods = 1;
  in.prices = {0.04, 0.005};
  // Three UTC days with peaks 1, 2 and 3 GB (and lower samples around them).
  const absl::Time day0 = kNow - absl::Hours(72);
  for (int d = 0; d < 3; ++d) {
    for (int h = 0; h < 24; h += 6) {
      in.memory.push_back({day0 + absl::Hours(24 * d + h), (d + 1) * 1e9 * (h == 12 ? 1 : 0.5)});
    }
  }
  Rightsizing r = RecommendRequests(in);
  ASSERT_TRUE(r.memory.available);
  // Nearest rank 0.9 x 3 -> the 3rd peak, 3e9 bytes; x 1.15 = 3.45e9.
  EXPECT_EQ(r.memory.value, 3450000000);
  // (3 - 3.45) GB x 1 pod x $0.005 x 730 h = -$1.6425.
  EXPECT_NEAR(r.memory.monthly_saving, -1.6425, 1e-9);
  EXPECT_NEAR(r.history_days, 2.75, 1e-9);  // 00:00 day 0 .. 18:00 day 2
  EXPECT_EQ(r.confidence_label, "medium");
  EXPECT_FALSE(r.cpu.available);
}

TEST(RightsizingTest, ConfidenceGrowsWithHistoryAndNeedsAnHour) {
  Rightsizing full = RecommendRequests(CpuInput(1000));
  EXPECT_NEAR(full.history_days, 188.1 / 24, 1e-9);
  EXPECT_EQ(full.confidence_label, "high");
  RightsizingInput in;
  in.now = kNow;
  in.cpu = {{kNow - absl::Minutes(30), 0.5, false}, {kNow, 0.5, false}};
  Rightsizing r = RecommendRequests(in);
  EXPECT_FALSE(r.cpu.available);
  EXPECT_EQ(r.cpu.note, "less than an hour of CPU history");
  EXPECT_EQ(r.confidence_label, "low");
}

}  // namespace
}  // namespace costs
