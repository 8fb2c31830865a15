#include "reconciler/policy.h"

#include "gtest/gtest.h"

namespace reconciler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

PodUsage Pod(absl::Duration age, int64_t request, absl::optional<double> r10,
             absl::optional<double> r5) {
  PodUsage p;
  p.start_time = kNow - age;
  p.cpu_request_millicores = request;
  p.cpu_10m_millicores = r10;
  p.cpu_5m_millicores = r5;
  return p;
}

TEST(PolicyTest, StartupFilterLeavesOutYoungPods) {
  std::vector<PodUsage> pods = {Pod(absl::Minutes(30), 500, 400, 400),
                                Pod(absl::Seconds(30), 500, 900, 900)};
  PodFilter f = FilterStartupPods(pods, kNow, absl::Minutes(2));
  ASSERT_EQ(f.pods.size(), 1u);
  EXPECT_EQ(f.excluded, 1);
  EXPECT_FALSE(f.all_young);
  EXPECT_DOUBLE_EQ(*BlendedCpuPct(f.pods), 80.0);
}

TEST(PolicyTest, AllYoungKeepsTheMostMaturePodsAndLowersConfidence) {
  std::vector<PodUsage> pods = {Pod(absl::Seconds(100), 500, 250, 250),
                                Pod(absl::Seconds(70), 500, 260, 260),  // within 1 min of oldest
                                Pod(absl::Seconds(10), 500, 999, 999)};
  PodFilter f = FilterStartupPods(pods, kNow, absl::Minutes(2));
  EXPECT_TRUE(f.all_young);
  ASSERT_EQ(f.pods.size(), 2u);
  EXPECT_EQ(f.excluded, 1);
  // Scheduling within 3 min (x0.5) and all young (x0.5).
  EXPECT_DOUBLE_EQ(ReadingConfidence(pods, f, kNow), 0.25);
  EXPECT_LT(ReadingConfidence(pods, f, kNow), kMinConfidence);
}

TEST(PolicyTest, ConfidenceIsFullWithoutRecentScheduling) {
  std::vector<PodUsage> pods = {Pod(absl::Hours(1), 100, 50, 50)};
  EXPECT_DOUBLE_EQ(ReadingConfidence(pods, FilterStartupPods(pods, kNow, absl::Minutes(2)), kNow),
                   1.0);
}

TEST(PolicyTest, BlendWeighsTenMinutesSeventyPercent) {
  // 0.7 * 600 + 0.3 * 200 = 480 of 1000m requested (two pods of 500m).
  std::vector<PodUsage> pods = {Pod(absl::Hours(1), 500, 300, 100),
                                Pod(absl::Hours(1), 500, 300, 100)};
  EXPECT_DOUBLE_EQ(*BlendedCpuPct(pods), 48.0);
  EXPECT_DOUBLE_EQ(*BlendedDemandCores(pods), 0.48);
}

TEST(PolicyTest, MissingFiveMinuteRateUsesTenMinuteRate) {
  std::vector<PodUsage> pods = {Pod(absl::Hours(1), 200, 100, absl::nullopt)};
  EXPECT_DOUBLE_EQ(*BlendedCpuPct(pods), 50.0);
}

TEST(PolicyTest, MissingDataIsUnknownNotZero) {
  std::vector<PodUsage> pods = {Pod(absl::Hours(1), 200, absl::nullopt, absl::nullopt)};
  EXPECT_FALSE(BlendedCpuPct(pods).has_value());
  EXPECT_FALSE(BlendedDemandCores(pods).has_value());
  EXPECT_FALSE(BlendedCpuPct({}).has_value());
  // No request set: utilization is undefined, demand is not.
  std::vector<PodUsage> no_request = {Pod(absl::Hours(1), 0, 100, 100)};
  EXPECT_FALSE(BlendedCpuPct(no_request).has_value());
  EXPECT_DOUBLE_EQ(*BlendedDemandCores(no_request), 0.1);
}

TEST(PolicyTest, NodePressureUsesTheOriginalThresholds) {
  auto node = [](double alloc, double req, absl::optional<double> used) {
    NodeUsage n;
    n.allocatable_millicores = alloc;
    n.requested_millicores = req;
    n.used_millicores = used;
    return n;
  };
  EXPECT_EQ(ClassifyNodePressure({node(4000, 2000, 2000)}).level, PressureLevel::kSafe);
  // 64 % used but only 30 % schedulable: not "more than 30 %" -> warning.
  EXPECT_EQ(ClassifyNodePressure({node(1000, 700, 640)}).level, PressureLevel::kWarning);
  EXPECT_EQ(ClassifyNodePressure({node(1000, 500, 790)}).level, PressureLevel::kWarning);
  EXPECT_EQ(ClassifyNodePressure({node(1000, 500, 800)}).level, PressureLevel::kCritical);
  EXPECT_EQ(ClassifyNodePressure({node(1000, 900, 100)}).level, PressureLevel::kCritical);
  // Summed over nodes: 1500 of 4000 used, 1000 requested.
  NodePressure two = ClassifyNodePressure({node(2000, 500, 1000), node(2000, 500, 500)});
  EXPECT_DOUBLE_EQ(two.utilization_pct, 37.5);
  EXPECT_DOUBLE_EQ(two.schedulable_fraction, 0.75);
  EXPECT_EQ(ClassifyNodePressure({}).level, PressureLevel::kUnknown);
  EXPECT_EQ(ClassifyNodePressure({node(1000, 0, absl::nullopt)}).level, PressureLevel::kUnknown);
  EXPECT_EQ(ClassifyNodePressure({node(0, 0, 0)}).level, PressureLevel::kUnknown);
}

TEST(PolicyTest, TargetFollowsPressure) {
  TargetPolicy policy;
  NodePressure p;
  p.level = PressureLevel::kSafe;
  p.schedulable_fraction = 0.31;
  EXPECT_NEAR(TargetForPressure(p, policy), 75.33, 0.01);
  p.schedulable_fraction = 0.9;
  EXPECT_DOUBLE_EQ(TargetForPressure(p, policy), 85);
  p.level = PressureLevel::kWarning;
  EXPECT_DOUBLE_EQ(TargetForPressure(p, policy), 70);
  p.level = PressureLevel::kUnknown;
  EXPECT_DOUBLE_EQ(TargetForPressure(p, policy), 70);
  p.level = PressureLevel::kCritical;
  p.utilization_pct = 70;  // critical because nothing is schedulable
  EXPECT_DOUBLE_EQ(TargetForPressure(p, policy), 60);
  p.utilization_pct = 87.5;
  EXPECT_DOUBLE_EQ(TargetForPressure(p, policy), 55);
  p.utilization_pct = 120;
  EXPECT_DOUBLE_EQ(TargetForPressure(p, policy), 50);
}

TEST(PolicyTest, LowRequestRuleHoldsSmallRequestsHigh) {
  EXPECT_DOUBLE_EQ(ApplyLowRequestRule(55, 20), 85);
  EXPECT_DOUBLE_EQ(ApplyLowRequestRule(95, 49), 90);
  EXPECT_DOUBLE_EQ(ApplyLowRequestRule(70, 50), 75);
  EXPECT_DOUBLE_EQ(ApplyLowRequestRule(80, 99), 80);
  EXPECT_DOUBLE_EQ(ApplyLowRequestRule(55, 100), 55);
  EXPECT_DOUBLE_EQ(ApplyLowRequestRule(55, 0), 55);
}

TEST(PolicyTest, LearnedTargetNeverRaisesUnderCriticalPressure) {
  NodePressure critical;
  critical.level = PressureLevel::kCritical;
  critical.utilization_pct = 95;
  EXPECT_DOUBLE_EQ(RecommendTarget(critical, 500, {}, 80.0), 50);
  EXPECT_DOUBLE_EQ(RecommendTarget(critical, 500, {}, 45.0), 45);
  NodePressure warning;
  warning.level = PressureLevel::kWarning;
  EXPECT_DOUBLE_EQ(RecommendTarget(warning, 500, {}, 78.0), 78);
  EXPECT_DOUBLE_EQ(RecommendTarget(warning, 500, {}), 70);
  EXPECT_DOUBLE_EQ(RecommendTarget(warning, 30, {}), 85);  // low request wins last
}

TEST(PolicyTest, CooldownHoldsChangesForFiveMinutes) {
  const absl::Time changed = kNow - absl::Minutes(2);
  EXPECT_DOUBLE_EQ(ApplyCooldown(70, 80, changed, kNow, PressureLevel::kSafe), 70);
  EXPECT_DOUBLE_EQ(ApplyCooldown(70, 60, changed, kNow, PressureLevel::kWarning), 70);
  EXPECT_DOUBLE_EQ(
      ApplyCooldown(70, 80, kNow - absl::Minutes(5), kNow, PressureLevel::kSafe), 80);
  // Critical pressure lowering the target does not wait.
  EXPECT_DOUBLE_EQ(ApplyCooldown(70, 55, changed, kNow, PressureLevel::kCritical), 55);
  EXPECT_DOUBLE_EQ(ApplyCooldown(55, 60, changed, kNow, PressureLevel::kCritical), 55);
}

TEST(PolicyTest, PredictedIsTheMaxOfBlendAndTrustedForecast) {
  // Peak of 3 cores over 4 pods of 500m = 150 %.
  EXPECT_DOUBLE_EQ(PredictedCpuPct(60, 3.0, 4, 500, true), 150);
  EXPECT_DOUBLE_EQ(PredictedCpuPct(60, 3.0, 4, 500, false), 60);
  EXPECT_DOUBLE_EQ(PredictedCpuPct(60, 0.5, 4, 500, true), 60);  // forecast below now
  EXPECT_DOUBLE_EQ(PredictedCpuPct(60, absl::nullopt, 4, 500, true), 60);
  EXPECT_DOUBLE_EQ(PredictedCpuPct(60, 3.0, 0, 500, true), 60);
}

TEST(PolicyTest, PressureRatioIsPredictedOverTarget) {
  EXPECT_DOUBLE_EQ(PressureRatio(105, 70), 1.5);
  EXPECT_DOUBLE_EQ(PressureRatio(50, 0), 0.5);
}


TEST(LearnedTargetTest, ARareHugeBurstDoesNotMakeOrdinaryDemandLookIdle) {
  // Two buckets at 100x the usual level: against 5 % of the maximum every ordinary bucket
  // would read as idle and nothing would be learned; against the 95th percentile it is learned.
  std::vector<double> d;
  for (int i = 0; i < 7 * 24 * 12; ++i) d.push_back(i % 6 == 0 ? 1.25 : 1.0);
  d[100] = d[2000] = 100;
  ASSERT_TRUE(LearnedTargetPct(d).has_value());
  EXPECT_NEAR(*LearnedTargetPct(d), 80, 1e-9);
}

TEST(DemandWindowsTest, SumsEveryPodsRatesYoungOnesIncluded) {
  std::vector<PodUsage> pods = {Pod(absl::Hours(1), 1000, 600, 700),
                                Pod(absl::Minutes(3), 1000, 100, 300),
                                Pod(absl::Seconds(30), 1000, absl::nullopt, absl::nullopt)};
  pods[0].cpu_1m_millicores = 800;
  DemandWindows w = SumPodRates(pods);
  EXPECT_NEAR(*w.cores_10m, 0.7, 1e-12);
  EXPECT_NEAR(*w.cores_5m, 1.0, 1e-12);
  EXPECT_NEAR(*w.cores_1m, 0.8, 1e-12);
  EXPECT_FALSE(SumPodRates({Pod(absl::Hours(1), 1000, absl::nullopt, 5)}).cores_10m);
}

TEST(DemandWindowsTest, ServedDemandIsTheBlendOrASurgeWhenHigher) {
  // Flat: the blend.
  EXPECT_NEAR(*ServedDemandCores({2.0, 2.0, 2.0}), 2.0, 1e-12);
  // A surge a minute old: the 1-minute sum, and the rise carried forward: slope
  // (4.0 - 2.4) / 2 cores a minute over 0.5 + 1.5 minutes: 4.0 + 1.6.
  EXPECT_NEAR(*ServedDemandCores({2.0, 2.4, 4.0}), 4.0 + 1.6 / 2 * 2, 1e-12);
  // A linear ramp of 1 core a minute now at 10 cores: the windows' means are the ramp's values
  // at their middles (5, 7.5, 9.5); the rise lands where the ramp will be in 1.5 minutes.
  EXPECT_NEAR(*ServedDemandCores({5.0, 7.5, 9.5}), 10.0 + kRiseLeadMinutes, 1e-12);
  // A ramp: the windows' trend, 2 x 3 - 2 = 4 (the blend says 2.3).
  EXPECT_NEAR(*ServedDemandCores({2.0, 3.0, absl::nullopt}), 4.0, 1e-12);
  // Falling: the blend (0.7 x 4 + 0.3 x 2), not the lower recent windows.
  EXPECT_NEAR(*ServedDemandCores({4.0, 2.0, 1.0}), 3.4, 1e-12);
  EXPECT_FALSE(ServedDemandCores({absl::nullopt, 2.0, 2.0}).has_value());
}

}  // namespace
TEST(LearnedTargetTest, SteadyWorkloadsRunHotSpikyOnesGetHeadroom) {
  std::vector<double> steady(7 * 24 * 12, 2.0);
  EXPECT_EQ(LearnedTargetPct(steady), 90);
  // Demand that doubles every 12th bucket (a burst lasting one bucket): p95 of the growth over
  // two buckets is 2x -> 50 %.
  std::vector<double> bursty;
  for (int i = 0; i < 7 * 24 * 12; ++i) bursty.push_back(i % 12 == 0 ? 2.0 : 1.0);
  EXPECT_NEAR(*LearnedTargetPct(bursty), 50, 1e-9);
  // 25 % growth within the window at >5 % of origins -> 100 / 1.25 = 80 %.
  std::vector<double> mild;
  for (int i = 0; i < 7 * 24 * 12; ++i) mild.push_back(i % 6 == 0 ? 1.25 : 1.0);
  EXPECT_NEAR(*LearnedTargetPct(mild), 80, 1e-9);
}

TEST(LearnedTargetTest, CensoredPeaksTeachNothing) {
  // Every 12th bucket doubles (p95 growth 2x -> 50 %), but those peaks sat at the pods' CPU
  // limit: only lower bounds. Skipping every window that holds one leaves the steady rest.
  std::vector<double> d;
  std::vector<uint8_t> censored;
  for (int i = 0; i < 7 * 24 * 12; ++i) {
    d.push_back(i % 12 == 0 ? 2.0 : 1.0);
    censored.push_back(i % 12 == 0);
  }
  EXPECT_NEAR(*LearnedTargetPct(d), 50, 1e-9);
  EXPECT_NEAR(*LearnedTargetPct(d, censored), 90, 1e-9);
  // An empty mark vector is the plain call.
  EXPECT_NEAR(*LearnedTargetPct(d, std::vector<uint8_t>{}), 50, 1e-9);
  // A workload censored most of the week has nothing left to learn from.
  std::vector<uint8_t> mostly(d.size(), 1);
  for (size_t i = 0; i < d.size() / 3; ++i) mostly[i] = 0;
  EXPECT_FALSE(LearnedTargetPct(d, mostly).has_value());
}

TEST(LearnedTargetTest, NeedsAWeekOfNonZeroHistory) {
  EXPECT_FALSE(LearnedTargetPct(std::vector<double>(100, 1.0)).has_value());
  EXPECT_FALSE(LearnedTargetPct(std::vector<double>(7 * 24 * 12, 0.0)).has_value());
}

}  // namespace reconciler
