#include "predictor/evaluate.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace predictor {
namespace {

Series Noisy(int days) {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 1);
  Series s;
  s.start = absl::FromUnixSeconds(1699920000);
  s.step = absl::Minutes(5);
  for (int i = 0; i < days * 288; ++i) {
    s.values.push_back(50 + 20 * std::sin(2 * M_PI * i / 288) + 2 * noise(rng));
  }
  s.gap.assign(s.values.size(), 0);
  return s;
}

TEST(EvaluateTest, EnsembleBeatsPersistenceOnDailyCycle) {
  EvalOptions opt;
  opt.models = {ModelKind::kPersistence, ModelKind::kSeasonalNaiveDaily, ModelKind::kEnsemble};
  absl::StatusOr<EvalReport> r = Evaluate(Noisy(10), opt);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->models.size(), 3u);
  EXPECT_EQ(r->horizon_steps, 12);
  EXPECT_EQ(r->lead_steps, 2);
  const ModelScore& p = r->models[0];
  const ModelScore& e = r->models[2];
  EXPECT_EQ(p.name, "persistence");
  EXPECT_EQ(e.name, "ensemble");
  EXPECT_EQ(e.origins, 48);
  EXPECT_EQ(e.rows.size(), 48u);
  EXPECT_LT(e.mase, 0.7 * p.mase);
  EXPECT_LE(e.mase, r->models[1].mase * 1.05);
  EXPECT_GE(e.coverage, 0.6);
  EXPECT_LE(e.coverage, 1.0);
  EXPECT_GT(e.mean_ms, 0.0);
  EXPECT_EQ(e.rows[0].target - e.rows[0].origin, absl::Hours(1));
}

TEST(EvaluateTest, SeriesWithoutGapMarksAndLongGapsAreHandled) {
  Series s = Noisy(9);
  EvalOptions opt;
  opt.models = {ModelKind::kPersistence};
  s.gap.clear();
  absl::StatusOr<EvalReport> r = Evaluate(s, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->models[0].origins, 48);
  s.gap.assign(s.values.size(), 1);  // every target inside a long gap: nothing is scored
  r = Evaluate(s, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->models[0].origins, 0);
}

TEST(EvaluateTest, TooShortSeriesIsAnError) {
  Series s = Noisy(1);
  s.values.resize(100);
  s.gap.resize(100);
  EXPECT_EQ(Evaluate(s, EvalOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace predictor
