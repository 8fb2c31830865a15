#include "predictor/internal/referee.h"

#include <vector>

#include "gtest/gtest.h"

namespace predictor {
namespace internal {
namespace {

// y steps up by 1 every step: persistence is off by k at step k.
Tail Ramp(int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(i);
  return Tail(v);
}

TEST(RefereeTest, LosingAtTheHorizonAndOnShortPeaksAreSeparate) {
  const int h = 4;
  Tail y = Ramp(100);
  Referee r(h, /*half_life_steps=*/0, /*lose_ratio=*/1.0);
  EXPECT_FALSE(r.HorizonLoses(50));
  EXPECT_EQ(r.PersistenceSteps(50), 0);
  // A path that jumps far at step 1 and is exact at the horizon.
  for (int o = 10; o < 60; ++o) {
    std::vector<double> path = {o + 10.0, o + 10.0, o + 10.0, o + 4.0};
    r.Score(o, path.data(), y);
  }
  EXPECT_FALSE(r.HorizonLoses(60));
  EXPECT_EQ(r.PersistenceSteps(60), 3);  // its peak over 1, 2 and 3 steps loses
  r.Reset();
  EXPECT_EQ(r.weight(), 0);
  EXPECT_EQ(r.PersistenceSteps(60), 0);
}

TEST(RefereeTest, OnlineScoringHandsBackWhenTheCombinationWinsAgain) {
  const int h = 2;
  std::vector<double> v;
  Tail y(v);
  Referee r(h, /*half_life_steps=*/5, /*lose_ratio=*/1.0);
  // First the combination forecasts a drop that never comes, then the ramp exactly.
  for (int t = 0; t < 80; ++t) {
    y.push_back(t);
    r.Observe(y);
    const bool good = t >= 40;
    std::vector<double> path = {good ? t + 1.0 : t - 5.0, good ? t + 2.0 : t - 5.0};
    r.Record(path.data(), y);
    if (t == 39) {
      EXPECT_TRUE(r.HorizonLoses(t));
    }
  }
  EXPECT_FALSE(r.HorizonLoses(79));
  EXPECT_EQ(r.PersistenceSteps(79), 0);
}

TEST(RefereeTest, PhasesOfThePeriodAreJudgedApart) {
  const int h = 2, period = 6;
  Tail y = Ramp(400);
  Referee by_phase(h, 0, 1.0, period), pooled(h, 0, 1.0);
  for (int o = 0; o < 300; ++o) {
    // Exact at phases 2-4, far off at the others.
    const int phase = o % period;
    const bool exact = phase >= 2 && phase <= 4;
    std::vector<double> path = {exact ? o + 1.0 : o - 9.0, exact ? o + 2.0 : o - 9.0};
    by_phase.Score(o, path.data(), y);
    pooled.Score(o, path.data(), y);
  }
  EXPECT_TRUE(by_phase.HorizonLoses(300));   // phase 0 reads phases 5, 0, 1
  EXPECT_FALSE(by_phase.HorizonLoses(303));  // phase 3 reads 2, 3, 4
  EXPECT_TRUE(pooled.HorizonLoses(303));     // one pool: lost on average
}

}  // namespace
}  // namespace internal
}  // namespace predictor
