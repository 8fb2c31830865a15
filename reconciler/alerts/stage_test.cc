#include "reconciler/alerts/stage.h"

#include <cmath>
#include <optional>
#include <random>

#include "gtest/gtest.h"

namespace reconciler::alerts {
namespace {

using clients::webhook::Alert;

class RecordingNotifier : public Notifier {
 public:
  void Notify(const Alert& a) override { got.push_back(a); }
  std::vector<Alert> got;
};

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TEST(AnomalyStageTest, InjectedSpikeGivesOneStartAndOneResolve) {
  base::FakeClock clock(kT0);
  RecordingNotifier n;
  AlertManager m(&n, &clock);
  AnomalyStage stage(&m);
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 20);
  for (int i = 0; i < 3 * 288; ++i) {  // three days of 5-minute cycles
    DeploymentReading r{"default", "api", clock.Now(), 800 + noise(rng), 60, 3};
    if (i >= 700 && i < 703) r.demand_millicores = 2400 + noise(rng);  // a 15-minute spike
    stage.Observe(r, /*is_leader=*/true);
    clock.Advance(absl::Minutes(5));
  }
  ASSERT_EQ(n.got.size(), 2u);
  EXPECT_EQ(n.got[0].type, "cpu_spike");
  EXPECT_FALSE(n.got[0].resolved);
  EXPECT_EQ(n.got[0].time, kT0 + 700 * absl::Minutes(5));
  EXPECT_TRUE(n.got[1].resolved);
  EXPECT_EQ(n.got[1].key, n.got[0].key);
}

TEST(AnomalyStageTest, MissingReadingsAreSkippedNotZero) {
  base::FakeClock clock(kT0);
  RecordingNotifier n;
  AlertManager m(&n, &clock);
  AnomalyStage stage(&m);
  for (int i = 0; i < 200; ++i) {  // under the 4 h reminder interval
    DeploymentReading r{"default", "api", clock.Now(), 800.0 + i % 7, 95, 3};
    if (i % 10 == 0) r = DeploymentReading{"default", "api", clock.Now(), {}, {}, {}};
    auto findings = stage.Observe(r, true);
    if (i % 10 == 0) {
      EXPECT_TRUE(findings.empty());
    }
    clock.Advance(absl::Minutes(1));
  }
  // Utilisation at 95 % throughout: one persistent-high start and no spike from the gaps.
  ASSERT_EQ(n.got.size(), 1u);
  EXPECT_EQ(n.got[0].type, "persistent_high_cpu");
}

TEST(AnomalyStageTest, ThrashingFromReplicaCounts) {
  base::FakeClock clock(kT0);
  RecordingNotifier n;
  AlertManager m(&n, &clock);
  AnomalyStage stage(&m);
  for (int i = 0; i < 30; ++i) {
    stage.Observe({"default", "api", clock.Now(), {}, {}, 3 + i % 2}, true);
    clock.Advance(absl::Minutes(1));
  }
  ASSERT_EQ(n.got.size(), 1u);
  EXPECT_EQ(n.got[0].type, "scaling_thrashing");
}

TEST(AnomalyStageTest, PatternDeviationFromTheForecastBandOverBucketedDemand) {
  base::FakeClock clock(kT0);
  RecordingNotifier n;
  AlertManager m(&n, &clock);
  AnomalyStage stage(&m);
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 10);
  const int per_day = 24 * 24;  // 2.5-minute cycles: two readings per 5-minute bucket
  const int cycles = 5 * per_day;
  absl::Time departure = kT0 + (cycles - 72) * absl::Seconds(150);  // the last 3 hours
  for (int i = 0; i < cycles; ++i) {
    double v = 500 + 200 * std::sin(2 * M_PI * i / per_day) + noise(rng);
    if (clock.Now() >= departure) v += 400;
    stage.Observe({"default", "api", clock.Now(), v, std::nullopt, std::nullopt}, true);
    clock.Advance(absl::Seconds(150));
  }
  std::vector<Alert> pattern;
  for (const Alert& a : n.got) {
    if (a.type == "pattern_deviation") pattern.push_back(a);
  }
  ASSERT_EQ(pattern.size(), 1u);  // started during the departure, not yet resolved
  EXPECT_FALSE(pattern[0].resolved);
  EXPECT_GE(pattern[0].time, departure);
  EXPECT_LE(pattern[0].time, departure + absl::Hours(1));
}

}  // namespace
}  // namespace reconciler::alerts
