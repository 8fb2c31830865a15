#include "reconciler/alerts/stage.h"

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

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

// The week of 5-minute demand the reconciler loads at start: steady at 800 m with noise.
std::vector<predictor::Sample> LoadedWeek(absl::Time end, std::mt19937& rng) {
  std::normal_distribution<double> noise(0, 20);
  std::vector<predictor::Sample> week;
  for (absl::Time t = end - absl::Hours(24 * 7); t < end; t += absl::Minutes(5)) {
    week.push_back({t, 800 + noise(rng)});
  }
  return week;
}

// Right after a restart, with the loaded week as seed, a spike in the first minutes is flagged
// and the pattern tracker judges the first closed bucket against a band; without the seed
// the same readings find nothing (the detectors are still warming up).
TEST(AnomalyStageTest, SeededWithTheLoadedWeekItFlagsASpikeRightAfterARestart) {
  base::FakeClock clock(kT0);
  RecordingNotifier seeded_n, cold_n;
  AlertManager seeded_m(&seeded_n, &clock), cold_m(&cold_n, &clock);
  StageOptions options;
  options.reading_interval = absl::Seconds(30);  // the last 8 h of the week replayed at it
  AnomalyStage seeded(&seeded_m, options), cold(&cold_m);
  std::mt19937 rng(11);
  ASSERT_TRUE(seeded.Seed("default", "api", LoadedWeek(kT0, rng)).ok());
  std::normal_distribution<double> noise(0, 10);
  int banded_pattern_findings = 0, spike_findings = 0;
  for (int i = 0; i < 30; ++i) {  // 15 minutes of 30-s cycles
    const double v = (i >= 8 && i < 11 ? 2400 : 800) + noise(rng);
    const DeploymentReading r{"default", "api", clock.Now(), v, 40, 3};
    for (const predictor::anomaly::Finding& f : seeded.Observe(r, true)) {
      if (f.type == predictor::anomaly::AnomalyType::kCpuSpike) {
        // The evidence is what decided: the judged value outside its band exactly when active.
        ASSERT_TRUE(std::isfinite(f.low) && std::isfinite(f.high)) << i;
        // (Active also while held for spike_resolve_after past the last value outside.)
        EXPECT_TRUE(f.active || (f.value <= f.high && f.value >= f.low)) << i << " " << f.value;
        if (i < 8) EXPECT_FALSE(f.active) << i;
        if (i >= 8 && i < 11) EXPECT_TRUE(f.value > f.high) << i << " " << f.value;
        EXPECT_FALSE(f.judged.empty());
        EXPECT_EQ(f.values, (std::vector<double>{f.values[0], v}));
        ++spike_findings;
      }
      if (f.type == predictor::anomaly::AnomalyType::kPatternDeviation && std::isfinite(f.low) &&
          std::isfinite(f.high) && f.low < 800 && 800 < f.high) {
        ++banded_pattern_findings;
      }
    }
    cold.Observe(r, true);
    clock.Advance(absl::Seconds(30));
  }
  ASSERT_EQ(seeded_n.got.size(), 1u);
  EXPECT_EQ(seeded_n.got[0].type, "cpu_spike");
  EXPECT_FALSE(seeded_n.got[0].resolved);
  EXPECT_EQ(seeded_n.got[0].time, kT0 + 8 * absl::Seconds(30));
  EXPECT_GE(banded_pattern_findings, 2);  // buckets closing at 5 and 10 minutes
  EXPECT_EQ(spike_findings, 30);
  EXPECT_TRUE(cold_n.got.empty());
}

TEST(AnomalyStageTest, SeedKeepsTheOtherDetectorsAndRefusesDisorder) {
  base::FakeClock clock(kT0);
  RecordingNotifier n;
  AlertManager m(&n, &clock);
  AnomalyStage stage(&m);
  // Utilisation at 95 % from before the history arrives: the persistent-high run goes on.
  for (int i = 0; i < 8; ++i) {
    stage.Observe({"default", "api", clock.Now(), 800, 95, 3}, true);
    clock.Advance(absl::Minutes(1));
  }
  std::mt19937 rng(2);
  std::vector<predictor::Sample> week = LoadedWeek(kT0, rng);
  std::vector<predictor::Sample> reversed(week.rbegin(), week.rend());
  EXPECT_EQ(stage.Seed("default", "api", reversed).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(stage.Seed("default", "api", week).ok());
  for (int i = 0; i < 4; ++i) {
    stage.Observe({"default", "api", clock.Now(), 800, 95, 3}, true);
    clock.Advance(absl::Minutes(1));
  }
  ASSERT_EQ(n.got.size(), 1u);
  EXPECT_EQ(n.got[0].type, "persistent_high_cpu");
  EXPECT_EQ(n.got[0].time, kT0 + absl::Minutes(10));  // the run began before the seed
}

// A spike whose score dips below the threshold for a cycle is one anomaly, not a start, a
// resolve and a second start: it resolves once the score has stayed below for
// spike_resolve_after (without the hold, the same readings notify four times).
TEST(AnomalyStageTest, ASpikeDippingForACycleIsOneAnomaly) {
  for (const absl::Duration hold : {absl::Minutes(5), absl::ZeroDuration()}) {
    base::FakeClock clock(kT0);
    RecordingNotifier n;
    AlertManager m(&n, &clock);
    StageOptions options;
    options.reading_interval = absl::Seconds(30);
    options.spike_resolve_after = hold;
    // The value alone decides (its 2-h and 8-h means would stay beyond their bands for
    // longer than this test after two spikes on a calm week).
    options.spike.recent = options.spike.recent_long = absl::Seconds(1);
    AnomalyStage stage(&m, options);
    std::mt19937 rng(11);
    ASSERT_TRUE(stage.Seed("default", "api", LoadedWeek(kT0, rng)).ok());
    for (int i = 0; i < 40; ++i) {  // 20 minutes of 30-s cycles: spike, dip, spike, calm
      const double v = (i == 8 || i == 10) ? 2400 : 800;
      stage.Observe({"default", "api", clock.Now(), v, 40, 3}, true);
      clock.Advance(absl::Seconds(30));
    }
    if (hold == absl::ZeroDuration()) {
      EXPECT_EQ(n.got.size(), 4u);
      continue;
    }
    ASSERT_EQ(n.got.size(), 2u);
    EXPECT_FALSE(n.got[0].resolved);
    EXPECT_EQ(n.got[0].time, kT0 + 8 * absl::Seconds(30));
    EXPECT_TRUE(n.got[1].resolved);
    EXPECT_EQ(n.got[1].time, kT0 + 20 * absl::Seconds(30));  // 5 min after the last spike
  }
}

// The seeding budget: at most seeds_per_cycle queued histories per SeedQueued, first queued
// first, the progress counted; a deployment still queued is judged as without its history.
TEST(AnomalyStageTest, QueuedSeedsAreBoundedPerCycleFirstQueuedFirst) {
  base::FakeClock clock(kT0);
  RecordingNotifier n;
  AlertManager m(&n, &clock);
  StageOptions options;
  options.seeds_per_cycle = 2;
  AnomalyStage stage(&m, options);
  std::mt19937 rng(3);
  const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  for (const std::string& name : names) {
    ASSERT_TRUE(stage.QueueSeed("default", name, LoadedWeek(kT0, rng)).ok());
  }
  ASSERT_TRUE(stage.QueueSeed("default", "a", LoadedWeek(kT0, rng)).ok());  // replaced in place
  EXPECT_EQ(stage.seed_progress().pending, 5);
  EXPECT_EQ(stage.seed_progress().seeded, 0);
  EXPECT_EQ(stage.SeedQueued(), 2);  // a, b
  EXPECT_EQ(stage.seed_progress().pending, 3);
  EXPECT_EQ(stage.seed_progress().seeded, 2);
  // A spike now: flagged where the week is seeded (a, b), not where it still waits (c, d, e).
  for (const std::string& name : names) stage.Observe({"default", name, clock.Now(), 2400, 40, 3}, true);
  ASSERT_EQ(n.got.size(), 2u);
  EXPECT_EQ(n.got[0].deployment, "a");
  EXPECT_EQ(n.got[1].deployment, "b");
  stage.Forget("default", "d");
  EXPECT_EQ(stage.seed_progress().pending, 2);
  clock.Advance(absl::Seconds(30));
  EXPECT_EQ(stage.SeedQueued(), 2);  // c, e (d was forgotten)
  EXPECT_EQ(stage.SeedQueued(), 0);
  EXPECT_EQ(stage.seed_progress().pending, 0);
  EXPECT_EQ(stage.seed_progress().seeded, 4);
  // c and e now judge the ongoing spike against their week (the held spike reading replayed
  // after it); d warms up on readings.
  for (const char* name : {"c", "d", "e"}) {
    stage.Observe({"default", name, clock.Now(), 2400, 40, 3}, true);
  }
  ASSERT_EQ(n.got.size(), 4u);
  EXPECT_EQ(n.got[2].deployment, "c");
  EXPECT_EQ(n.got[3].deployment, "e");
}

TEST(AnomalyStageTest, QueueSeedRefusesDisorderAtOnce) {
  base::FakeClock clock(kT0);
  RecordingNotifier n;
  AlertManager m(&n, &clock);
  AnomalyStage stage(&m);
  std::mt19937 rng(4);
  std::vector<predictor::Sample> week = LoadedWeek(kT0, rng);
  std::swap(week[10], week[11]);
  absl::Status s = stage.QueueSeed("default", "api", week);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sample 11"), std::string::npos) << s;
  EXPECT_TRUE(stage.QueueSeed("default", "api", {}).ok());  // nothing to seed
  EXPECT_EQ(stage.seed_progress().pending, 0);
  EXPECT_EQ(stage.SeedQueued(), 0);
}

}  // namespace
}  // namespace reconciler::alerts
