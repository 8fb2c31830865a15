#include "predictor/series.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace predictor {
namespace {

absl::Time T(int64_t s) { return absl::FromUnixSeconds(1700000000 + s); }

TEST(SeriesTest, ResamplesToOwnStepAndAveragesBuckets) {
  std::vector<Sample> in;
  for (int i = 0; i < 10; ++i) in.push_back({T(30 * i), static_cast<double>(i)});
  absl::StatusOr<Series> s = Regularize(in);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->step, absl::Seconds(30));
  EXPECT_EQ(s->size(), 10);
  EXPECT_EQ(s->values[3], 3.0);

  RegularizeOptions coarse;
  coarse.step = absl::Minutes(1);
  s = Regularize(in, coarse);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->step, absl::Minutes(1));
  EXPECT_EQ(s->size(), 5);  // 1700000000 is a whole minute
  EXPECT_DOUBLE_EQ(s->values[0], 0.5);
  EXPECT_DOUBLE_EQ(s->values[4], 8.5);
}

TEST(SeriesTest, InterpolatesShortGapsAndMarksLongOnes) {
  std::vector<Sample> in = {{T(0), 0}, {T(300), 10}, {T(900), 30},  // one missing step
                            {T(900 + 300 * 20), 30}};               // 19 missing steps
  absl::StatusOr<Series> s = Regularize(in);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->step, absl::Minutes(5));
  ASSERT_EQ(s->size(), 24);
  EXPECT_DOUBLE_EQ(s->values[2], 20.0);
  EXPECT_EQ(s->gap[2], 0);
  for (int i = 4; i < 23; ++i) {
    EXPECT_EQ(s->gap[i], 1) << i;
    EXPECT_DOUBLE_EQ(s->values[i], 30.0);
  }
  EXPECT_EQ(s->gap[23], 0);
}

TEST(SeriesTest, RejectsNonIncreasingTimesAndNoFiniteValues) {
  EXPECT_EQ(Regularize({{T(0), 1}, {T(0), 2}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Regularize({{T(0), std::nan("")}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Regularize({}).status().code(), absl::StatusCode::kInvalidArgument);
  // Non-finite values are missing points, filled like a gap.
  absl::StatusOr<Series> s = Regularize({{T(0), 1}, {T(300), INFINITY}, {T(600), 3}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->step, absl::Minutes(5));
  EXPECT_DOUBLE_EQ(s->values[1], 2.0);
}

TEST(SeriesTest, DetectsDailySeasonFromAutocorrelation) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> daily, flat;
  for (int i = 0; i < 5 * 288; ++i) {
    daily.push_back(10 * std::sin(2 * M_PI * i / 288) + noise(rng));
    flat.push_back(noise(rng));
  }
  EXPECT_EQ(DetectDailySeason(daily.data(), daily.size(), 288), 288);
  EXPECT_EQ(DetectDailySeason(flat.data(), flat.size(), 288), 0);
  EXPECT_EQ(DetectDailySeason(daily.data(), 300, 288), 0);  // under two days
  std::vector<double> constant(1000, 5.0);
  EXPECT_EQ(Autocorrelation(constant, 10), 0.0);
  EXPECT_EQ(DetectWeeklySeason(daily.data(), daily.size(), 2016, 288), 0);
}

TEST(SeriesTest, StepsPerDay) {
  Series s;
  s.step = absl::Seconds(30);
  EXPECT_EQ(s.StepsPerDay(), 2880);
  s.step = absl::Seconds(7);
  EXPECT_EQ(s.StepsPerDay(), 0);
}

TEST(SeriesTest, MarkCensoredMarksValuesAtTheCeilingOnly) {
  Series s;
  s.values = {40, 99.95, 100, 120, 98};
  EXPECT_EQ(MarkCensored(s, 100), 3);
  EXPECT_EQ(s.censored, (std::vector<uint8_t>{0, 1, 1, 1, 0}));
  EXPECT_EQ(MarkCensored(s, 0), 0);
  EXPECT_TRUE(s.censored.empty());
  EXPECT_EQ(DefaultCeiling(s), 0);  // 120 is outside 0-100
  s.values = {0, 50, 100};
  EXPECT_EQ(DefaultCeiling(s), 100);
  s.values = {-1, 50};
  EXPECT_EQ(DefaultCeiling(s), 0);
}

}  // namespace
}  // namespace predictor
