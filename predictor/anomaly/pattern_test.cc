#include "predictor/anomaly/pattern.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace predictor::anomaly {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1400000000);

TEST(PatternTrackerTest, SustainedDepartureFromTheDailyShapeIsFlagged) {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 1);
  PatternTracker t;
  int active_before = 0, active_during = 0;
  const int day = 288, n = 5 * day;  // past the ensemble's 4-day minimum
  for (int i = 0; i < n; ++i) {
    double v = 50 + 20 * std::sin(2 * M_PI * i / day) + noise(rng);
    const bool departed = i >= n - 36;  // the last 3 hours run 40 above the shape
    if (departed) v += 40;
    auto f = t.Update(kT0 + i * absl::Minutes(5), v);
    ASSERT_TRUE(f.ok());
    if (f->active) ++(departed ? active_during : active_before);
  }
  EXPECT_GT(active_during, 20);
  EXPECT_LT(active_before, 10);
  EXPECT_EQ(t.Update(kT0, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

// A restart: the week loaded at start seeds the tracker, which then judges the very next
// values against a band; a tracker that saw only the values since the restart has no band for
// 4 days and flags nothing.
TEST(PatternTrackerTest, SeededWithTheLoadedWeekItJudgesRightAfterARestart) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  const int day = 288;
  auto value = [&](int i) { return 50 + 20 * std::sin(2 * M_PI * i / day) + noise(rng); };
  std::vector<Sample> week;
  for (int i = 0; i < 7 * day; ++i) week.push_back({kT0 + i * absl::Minutes(5), value(i)});
  PatternTracker seeded, cold;
  ASSERT_TRUE(seeded.Seed(week).ok());
  int seeded_active = 0, seeded_calm = 0, cold_active = 0;
  // The 3 hours after the restart (before the first refit), 40 above the shape from 1 hour on.
  for (int i = 7 * day; i < 7 * day + 36; ++i) {
    const bool departed = i >= 7 * day + 12;
    const double v = value(i) + (departed ? 40 : 0);
    const absl::Time t = kT0 + i * absl::Minutes(5);
    auto f = seeded.Update(t, v);
    auto g = cold.Update(t, v);
    ASSERT_TRUE(f.ok() && g.ok());
    if (f->active) ++(departed ? seeded_active : seeded_calm);
    if (g->active) ++cold_active;
  }
  EXPECT_GE(seeded_active, 12);  // 24 departed values; the first 6 build the 30-minute run
  EXPECT_EQ(seeded_calm, 0);
  EXPECT_EQ(cold_active, 0);
}

TEST(PatternTrackerTest, SeedOutOfOrderIsAnErrorAndAddsNothing) {
  PatternTracker t;
  ASSERT_TRUE(t.Update(kT0 + absl::Hours(1), 5).ok());
  // Not after the tracker's last sample.
  auto s = t.Seed({{kT0, 1}, {kT0 + absl::Minutes(5), 2}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  // Reversed (the original's order).
  s = t.Seed({{kT0 + absl::Hours(3), 1}, {kT0 + absl::Hours(2), 2}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("seed sample 1"), std::string::npos) << s.message();
  // Nothing was added: a sample right after the first Update is still accepted.
  EXPECT_TRUE(t.Update(kT0 + absl::Hours(1) + absl::Minutes(5), 5).ok());
  EXPECT_TRUE(t.Seed({}).ok());
}

}  // namespace
}  // namespace predictor::anomaly
