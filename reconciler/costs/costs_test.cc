// ComputeCost against figures computed by hand. Prices are the defaults unless a test says
// otherwise: $0.04 per vCPU-hour, $0.005 per GB-hour (GB = 10^9 bytes).
#include <vector>

#include "gtest/gtest.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01 00:00 UTC
const PriceTable kFlat = PriceTable::Flat({0.04, 0.005});
constexpr double kEps = 1e-9;

PodLifetime Pod(const char* name, absl::Time start, absl::Time end, int64_t millicores,
                int64_t bytes, const char* pool = "") {
  PodLifetime p;
  p.pod = name;
  p.start = start;
  p.end = end;
  p.cpu_request_millicores = millicores;
  p.memory_request_bytes = bytes;
  p.pool = pool;
  return p;
}

absl::Duration H(double h) { return absl::Hours(h); }

TEST(ComputeCostTest, PricesMillicoresAndGigabytesNotGibibytes) {
  // 500m x 3 h x $0.04 = $0.06; 2 GB (2e9 bytes) x 3 h x $0.005 = $0.03.
  auto r = ComputeCost({Pod("a", kT0, kT0 + H(3), 500, 2000000000)}, {}, kT0, kT0 + H(3), kFlat);
  EXPECT_NEAR(r.cpu_cost, 0.06, kEps);
  EXPECT_NEAR(r.memory_cost, 0.03, kEps);
  EXPECT_NEAR(r.total_cost, 0.09, kEps);
  EXPECT_NEAR(r.requested_core_hours, 1.5, kEps);
  EXPECT_NEAR(r.requested_gb_hours, 6, kEps);
  // 2 GiB = 2147483648 bytes = 2.147483648 GB: x 3 h x $0.005 = $0.03221225472.
  auto gib = ComputeCost({Pod("a", kT0, kT0 + H(3), 500, 2147483648)}, {}, kT0, kT0 + H(3), kFlat);
  EXPECT_NEAR(gib.memory_cost, 0.03221225472, kEps);
}

TEST(ComputeCostTest, PodsStartingAndStoppingMidHourCountPartialHours) {
  // Window [0 h, 2 h). a: 0:15-0:45 (0.5 h), b: 0:30-open (1.5 h), c: from before the window to
  // 0:06 (0.1 h), d: after the window (0 h). 1000m each: 2.1 core-hours x $0.04 = $0.084.
  std::vector<PodLifetime> pods = {
      Pod("a", kT0 + absl::Minutes(15), kT0 + absl::Minutes(45), 1000, 0),
      Pod("b", kT0 + absl::Minutes(30), absl::InfiniteFuture(), 1000, 0),
      Pod("c", kT0 - H(5), kT0 + absl::Minutes(6), 1000, 0),
      Pod("d", kT0 + H(3), kT0 + H(4), 1000, 0),
  };
  auto r = ComputeCost(pods, {}, kT0, kT0 + H(2), kFlat);
  EXPECT_NEAR(r.pod_hours, 2.1, kEps);
  EXPECT_NEAR(r.cpu_cost, 0.084, kEps);
  EXPECT_EQ(r.memory_cost, 0);
  // Nothing measured: utilisation and waste are unknown, not 0 % and not the whole request.
  EXPECT_FALSE(r.cpu_utilization_percent.has_value());
  EXPECT_FALSE(r.memory_utilization_percent.has_value());
  EXPECT_EQ(r.total_wasted_cost, 0);
  EXPECT_EQ(r.allocated_total_cost, r.total_cost);
  EXPECT_EQ(r.recommendation, "Not enough usage data");
}

TEST(ComputeCostTest, PodAboveItsRequestIsAllocatedWhatItUsed) {
  // 500m requested, 0.8 cores used for 2 h: requested 0.5 x 2 x 0.04 = $0.04, allocated
  // 0.8 x 2 x 0.04 = $0.064, no waste, 160 % utilisation.
  auto r = ComputeCost({Pod("a", kT0, kT0 + H(2), 500, 0)}, {{kT0, H(2), 0.8, absl::nullopt}},
                       kT0, kT0 + H(2), kFlat);
  EXPECT_NEAR(r.cpu_cost, 0.04, kEps);
  EXPECT_NEAR(r.allocated_cpu_cost, 0.064, kEps);
  EXPECT_GT(r.allocated_total_cost, r.total_cost);
  EXPECT_EQ(r.wasted_cpu_cost, 0);
  EXPECT_NEAR(*r.cpu_utilization_percent, 160, kEps);
}

TEST(ComputeCostTest, WasteAndUtilisationOnlyOverMeasuredTime) {
  // 1000m and 1 GB for 2 h; 0.25 cores and 0.5 GB measured in the first hour only.
  // Requested $0.08 CPU + $0.01 memory. Waste: 0.75 core x 1 h x 0.04 = $0.03 and
  // 0.5 GB x 1 h x 0.005 = $0.0025. Utilisation 25 % / 50 % (not 12.5 %: hour 2 is unknown).
  auto r = ComputeCost({Pod("a", kT0, kT0 + H(2), 1000, 1000000000)},
                       {{kT0, H(1), 0.25, 0.5e9}}, kT0, kT0 + H(2), kFlat);
  EXPECT_NEAR(r.cpu_cost, 0.08, kEps);
  EXPECT_NEAR(r.memory_cost, 0.01, kEps);
  EXPECT_NEAR(r.wasted_cpu_cost, 0.03, kEps);
  EXPECT_NEAR(r.wasted_memory_cost, 0.0025, kEps);
  EXPECT_NEAR(r.total_wasted_cost, 0.0325, kEps);
  EXPECT_NEAR(*r.cpu_utilization_percent, 25, kEps);
  EXPECT_NEAR(*r.memory_utilization_percent, 50, kEps);
  EXPECT_NEAR(*r.wasted_capacity_percent, 75, kEps);
  EXPECT_NEAR(r.measured_hours, 1, kEps);
  EXPECT_NEAR(r.allocated_total_cost, r.total_cost, kEps);
}

TEST(ComputeCostTest, PodsArePricedByTheirNodePool) {
  auto table = PriceTable::Parse("label pool\nbig 0.10 0.01\n", {0.04, 0.005});
  ASSERT_TRUE(table.ok()) << table.status();
  // a on "big": 1 core x 1 h x 0.10 + 1 GB x 1 h x 0.01; b on an unlisted pool: flat prices.
  std::vector<PodLifetime> pods = {Pod("a", kT0, kT0 + H(1), 1000, 1000000000, "big"),
                                   Pod("b", kT0, kT0 + H(1), 1000, 1000000000, "spot")};
  auto r = ComputeCost(pods, {{kT0, H(1), 1.0, absl::nullopt}}, kT0, kT0 + H(1), *table);
  EXPECT_NEAR(r.cpu_cost, 0.14, kEps);
  EXPECT_NEAR(r.memory_cost, 0.015, kEps);
  // 1 of 2 requested cores unused, at the request-weighted price (0.14 / 2 cores = 0.07).
  EXPECT_NEAR(r.wasted_cpu_cost, 0.07, kEps);
}

TEST(ComputeCostTest, MonthlyProjectionIsTheLastSevenDaysRateTimes730Hours) {
  // 10-day window: a (1000m) runs throughout, b (1000m) only in the first 3 days. The last 7
  // days requested 1 core: $0.04/h x 730 h = $29.20/month. The whole window:
  // 240 h x 0.04 + 72 h x 0.04 = $12.48.
  const absl::Time to = kT0 + H(240);
  std::vector<PodLifetime> pods = {Pod("a", kT0, absl::InfiniteFuture(), 1000, 0),
                                   Pod("b", kT0, kT0 + H(72), 1000, 0)};
  auto r = ComputeCost(pods, {}, kT0, to, kFlat);
  EXPECT_NEAR(r.cpu_cost, 12.48, kEps);
  EXPECT_NEAR(r.hourly_cost, 0.04, kEps);
  EXPECT_NEAR(r.estimated_monthly_cost, 29.2, kEps);
  // A deployment 2 days old is projected from its 2 days, not diluted over 7.
  auto young = ComputeCost({Pod("a", to - H(48), absl::InfiniteFuture(), 1000, 0)}, {}, kT0, to,
                           kFlat);
  EXPECT_NEAR(young.estimated_monthly_cost, 29.2, kEps);
}

TEST(ComputeCostTest, RecommendationTextsAndThresholds) {
  const absl::Time to = kT0 + H(168);
  auto at = [&](double used, absl::optional<double> node_util = absl::nullopt) {
    return ComputeCost({Pod("a", kT0, absl::InfiniteFuture(), 1000, 0)},
                       {{kT0, H(168), used, absl::nullopt}}, kT0, to, kFlat, node_util);
  };
  // 25 % used: monthly $29.20, optimal 1.2 x 0.25 x 0.04 x 730 = $8.76, potential $20.44.
  auto high = at(0.25);
  EXPECT_NEAR(high.optimal_monthly_cost, 8.76, kEps);
  EXPECT_NEAR(high.optimization_potential, 20.44, kEps);
  EXPECT_EQ(high.recommendation,
            "High waste. Reduce CPU requests to about 1.2x usage (300m per pod). "
            "Could save $20.44/month");
  // 60 % used, 40 % wasted (not > 40): 29.20 - 1.2 x 0.6 x 0.04 x 730 = $8.176.
  EXPECT_EQ(at(0.6).recommendation, "Moderate waste. Could save $8.18/month");
  EXPECT_EQ(at(0.8).recommendation, "Well-optimized");
  EXPECT_EQ(at(0.8, 40.0).recommendation,
            "Nodes are under-used. Consider increasing the HPA target");
  // Above the request: no potential (never negative).
  EXPECT_EQ(at(1.5).optimization_potential, 0);
}

TEST(SpansFromPointsTest, EachSampleHoldsUntilTheNextButNotAcrossAGap) {
  std::vector<UsagePoint> pts = {{kT0, 1, absl::nullopt},
                                 {kT0 + absl::Seconds(60), 2, absl::nullopt},
                                 {kT0 + absl::Seconds(120), 3, absl::nullopt},
                                 {kT0 + absl::Seconds(600), 4, absl::nullopt}};
  auto spans = SpansFromPoints(pts, absl::Seconds(90));
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].length, absl::Seconds(60));
  EXPECT_EQ(spans[2].length, absl::Seconds(90));  // 480 s to the next sample: a gap
  EXPECT_EQ(spans[3].start, kT0 + absl::Seconds(600));
  EXPECT_EQ(spans[3].length, absl::Seconds(90));
  // Over [0, 10 min + 90 s): 1 pod of 1000m; measured 60+60+90+90 = 300 s only.
  auto r = ComputeCost({Pod("a", kT0, absl::InfiniteFuture(), 1000, 0)}, spans, kT0,
                       kT0 + absl::Seconds(690), kFlat);
  EXPECT_NEAR(r.measured_hours, 300.0 / 3600, kEps);
  // (1 x 60 + 2 x 60 + 3 x 90 + 4 x 90) / 300 = 2.7 cores on average: 270 %.
  EXPECT_NEAR(*r.cpu_utilization_percent, 270, 1e-6);
}

TEST(ComputeCostTest, UnsortedSpansGiveTheSameAnswer) {
  std::vector<UsageSpan> sorted = {{kT0, H(1), 0.5, absl::nullopt},
                                   {kT0 + H(1), H(1), 0.25, absl::nullopt}};
  std::vector<UsageSpan> reversed = {sorted[1], sorted[0]};
  auto pods = std::vector<PodLifetime>{Pod("a", kT0, kT0 + H(2), 1000, 0)};
  auto a = ComputeCost(pods, sorted, kT0, kT0 + H(2), kFlat);
  auto b = ComputeCost(pods, reversed, kT0, kT0 + H(2), kFlat);
  EXPECT_NEAR(a.wasted_cpu_cost, (0.5 + 0.75) * 0.04, kEps);
  EXPECT_NEAR(b.wasted_cpu_cost, a.wasted_cpu_cost, kEps);
}

TEST(ComputeCostTest, EmptyWindowIsAllZero) {
  auto r = ComputeCost({Pod("a", kT0, kT0 + H(1), 1000, 0)}, {}, kT0, kT0, kFlat);
  EXPECT_EQ(r.total_cost, 0);
  EXPECT_EQ(r.estimated_monthly_cost, 0);
}

}  // namespace
}  // namespace costs
