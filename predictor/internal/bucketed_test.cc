#include "predictor/internal/bucketed.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "predictor/forecaster.h"

namespace predictor {
namespace {

// 7 days of 10-second load: a daily cycle, noise and a burst every few hours.
Series TenSecond() {
  Series s;
  s.start = absl::FromUnixSeconds(1700000000 - 1700000000 % 86400);
  s.step = absl::Seconds(10);
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 3);
  for (int i = 0; i < 7 * 8640; ++i) {
    const double t = i / 8640.0;
    s.values.push_back(50 + 20 * std::sin(2 * 3.14159265358979 * t) + noise(rng) +
                       ((i / 360) % 17 == 0 ? 25 : 0));
  }
  s.gap.assign(s.values.size(), 0);
  return s;
}

// The 5-minute aggregate, summed in the same order as the bucketing layer.
Series Aggregate(const Series& fine) {
  Series b;
  b.start = fine.start;
  b.step = absl::Minutes(5);
  for (size_t i = 0; i + 30 <= fine.values.size(); i += 30) {
    double sum = 0;
    for (size_t j = i; j < i + 30; ++j) sum += fine.values[j];
    b.values.push_back(sum / 30);
  }
  b.gap.assign(b.values.size(), 0);
  return b;
}

// A 10-second series costs the fit of its 5-minute aggregate plus the aggregation: the models
// see exactly the aggregate (same points, same forecast), and the only extra work is one pass
// over the samples. Counted, not timed (the timing is in predictor_bench).
TEST(BucketedTest, TenSecondSeriesCostsItsFiveMinuteAggregatePlusTheAggregation) {
  const Series fine = TenSecond();
  const Series coarse = Aggregate(fine);
  auto f = NewEnsemble();
  auto g = NewEnsemble();
  ASSERT_TRUE(f->Fit(fine, 360).ok());  // 1 h of 10-second steps
  ASSERT_TRUE(g->Fit(coarse, 12).ok());
  const auto* bf = dynamic_cast<const internal::Bucketed*>(f.get());
  const auto* bg = dynamic_cast<const internal::Bucketed*>(g.get());
  ASSERT_NE(bf, nullptr);
  ASSERT_NE(bg, nullptr);
  EXPECT_EQ(bf->ratio(), 30);
  EXPECT_EQ(bg->ratio(), 1);
  EXPECT_EQ(bf->fitted_points(), coarse.size());
  EXPECT_EQ(bg->fitted_points(), coarse.size());
  EXPECT_EQ(bf->aggregated_points(), fine.size());
  EXPECT_EQ(bg->aggregated_points(), 0);
  const Band a = f->Forecast(360), b = g->Forecast(12);
  ASSERT_EQ(a.size(), 360);
  for (int k = 0; k < 360; ++k) {
    // Interpolated between the centres of the buckets around it: the last complete bucket
    // is centred 14.5 steps before the last sample, bucket m (1-based) 30 m steps later.
    const double pos = (k + 1 + 14.5) / 30;
    const int m = static_cast<int>(pos);
    const double lo = m == 0 ? coarse.values.back() : b.p50[m - 1];
    const double hi = m < 12 ? b.p50[m] : b.p50[11];
    ASSERT_NEAR(a.p50[k], lo + (pos - m) * (hi - lo), 1e-9) << "10-second step " << k + 1;
    EXPECT_LE(a.p10[k], a.p50[k]);
    EXPECT_GE(a.p90[k], a.p50[k]);
  }
  EXPECT_EQ(EnsembleWeights(*f), EnsembleWeights(*g));
}

TEST(BucketedTest, AppendCompletesBucketsAndTracksThePosition) {
  const Series fine = TenSecond();
  Series head = fine;
  head.values.resize(fine.size() - 45);  // ends 15 samples into a bucket
  head.gap.resize(head.values.size());
  auto f = NewEnsemble();
  ASSERT_TRUE(f->Fit(head, 360).ok());
  for (int i = head.size(); i < fine.size(); ++i) ASSERT_TRUE(f->Append(fine.values[i]).ok());
  // The fit's buckets end at its last sample; 45 appended samples complete one bucket and
  // leave 15 in progress, so step k (0-based) falls in bucket (15 + k) / 30 (its band width).
  const Band b = f->Forecast(360);
  ASSERT_EQ(b.size(), 360);
  for (int k = 0; k < 360; ++k) {
    EXPECT_TRUE(std::isfinite(b.p50[k]));
    if (k > 0 && (15 + k) / 30 == (14 + k) / 30) {
      EXPECT_NEAR(b.p90[k] - b.p50[k], b.p90[k - 1] - b.p50[k - 1], 1e-9) << "one width per bucket";
    }
  }
  EXPECT_FALSE(f->Append(std::nan("")).ok());
}

TEST(BucketedTest, CoarseSeriesAndZeroMaxStepFitAsTheyAre) {
  const Series fine = TenSecond();
  Options o;
  o.max_fit_step = absl::ZeroDuration();
  auto f = NewForecaster(ModelKind::kPersistence, o);
  ASSERT_TRUE(f->Fit(fine, 360).ok());
  EXPECT_EQ(dynamic_cast<const internal::Bucketed*>(f.get())->ratio(), 1);
  EXPECT_DOUBLE_EQ(f->Forecast(360).p50.back(), fine.values.back());
}

}  // namespace
}  // namespace predictor
