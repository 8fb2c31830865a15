#include "predictor/anomaly/pattern.h"

#include <cmath>
#include <random>

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

}  // namespace
}  // namespace predictor::anomaly
