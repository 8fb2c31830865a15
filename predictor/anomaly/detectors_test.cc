#include "predictor/anomaly/detectors.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace predictor::anomaly {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1400000000);

std::vector<Sample> Minutes(const std::vector<double>& values) {
  std::vector<Sample> h;
  for (size_t i = 0; i < values.size(); ++i) h.push_back({kT0 + i * absl::Minutes(1), values[i]});
  return h;
}

TEST(PersistentHighTest, ActiveOnlyWhenTheWholePeriodIsAbove) {
  std::vector<double> v(30, 50);
  std::fill(v.begin() + 15, v.end(), 90);  // the last 15 minutes at 90 %
  auto f = DetectPersistentHigh(Minutes(v));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->active);
  EXPECT_EQ(f->since, kT0 + absl::Minutes(15));
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_EQ(f->high, 85);
  EXPECT_EQ(f->values.size(), 15u);
  // Only 5 minutes above: not sustained.
  std::vector<double> short_run(30, 50);
  std::fill(short_run.begin() + 25, short_run.end(), 120);
  EXPECT_FALSE(DetectPersistentHigh(Minutes(short_run))->active);
  // A history that is all high but shorter than the period is not sustained either.
  EXPECT_FALSE(DetectPersistentHigh(Minutes(std::vector<double>(5, 99)))->active);
  EXPECT_FALSE(DetectPersistentHigh({})->active);
}

TEST(PersistentHighTest, TheNewestSampleIsTheLastOne) {
  // High a while ago, back to normal now: the original read the history newest-first and
  // reported this as persistent high CPU.
  std::vector<double> v(30, 95);
  std::fill(v.begin() + 25, v.end(), 40);
  auto f = DetectPersistentHigh(Minutes(v));
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->active);
  EXPECT_EQ(f->value, 40);
  std::vector<Sample> reversed = Minutes(v);
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(DetectPersistentHigh(reversed).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PersistentHighTest, CriticalWhenTheWholeRunIsAboveTheLimit) {
  std::vector<double> v(30, 130);
  auto f = DetectPersistentHigh(Minutes(v));
  EXPECT_EQ(f->severity, Severity::kCritical);
}

TEST(ThrashingTest, CountsReplicaChangesInTheWindow) {
  // 3, 4, 3, 4, 3, 4 every 5 minutes: 5 changes in 25 minutes.
  auto f = DetectThrashing({{kT0, 3},
                            {kT0 + absl::Minutes(5), 4},
                            {kT0 + absl::Minutes(10), 3},
                            {kT0 + absl::Minutes(15), 4},
                            {kT0 + absl::Minutes(20), 3},
                            {kT0 + absl::Minutes(25), 4}});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->active);
  EXPECT_EQ(f->value, 5);
  EXPECT_EQ(f->since, kT0 + absl::Minutes(5));
  // The same changes spread over three hours: within any 30 minutes at most 1.
  std::vector<Sample> slow;
  for (int i = 0; i < 6; ++i) slow.push_back({kT0 + i * absl::Minutes(40), 3.0 + i % 2});
  EXPECT_FALSE(DetectThrashing(slow)->active);
  // Steady scale-up is a change per sample too, but only 2 here.
  EXPECT_FALSE(DetectThrashing(Minutes({2, 2, 3, 4, 4}))->active);
}

TEST(ThrashingTest, OldChangesOutsideTheWindowDoNotCount) {
  std::vector<Sample> h;
  for (int i = 0; i < 10; ++i) h.push_back({kT0 + i * absl::Minutes(1), 3.0 + i % 2});
  for (int i = 0; i < 40; ++i) h.push_back({kT0 + absl::Minutes(10 + i), 3});
  EXPECT_FALSE(DetectThrashing(h)->active);  // thrashed, then 40 minutes steady
  std::vector<Sample> r = h;
  std::reverse(r.begin(), r.end());
  EXPECT_EQ(DetectThrashing(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PatternDeviationTest, SustainedOutsideTheBand) {
  std::vector<BandSample> h;
  for (int i = 0; i < 60; ++i) {
    const double actual = i >= 10 ? 200 : 100;  // outside from minute 10 on
    h.push_back({kT0 + i * absl::Minutes(1), actual, 90, 110});
  }
  auto f = DetectPatternDeviation(h);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->active);
  EXPECT_EQ(f->since, kT0 + absl::Minutes(10));
  EXPECT_EQ(f->low, 90);
  EXPECT_EQ(f->high, 110);
  EXPECT_EQ(f->severity, Severity::kCritical);  // 90 above p90, band width 20
  // Back inside at the newest sample: not active.
  h.push_back({kT0 + absl::Minutes(60), 100, 90, 110});
  EXPECT_FALSE(DetectPatternDeviation(h)->active);
}

TEST(PatternDeviationTest, BriefExcursionAndDisorderedHistory) {
  std::vector<BandSample> h;
  for (int i = 0; i < 30; ++i) {
    h.push_back({kT0 + i * absl::Minutes(1), i >= 25 ? 50.0 : 100.0, 90, 110});
  }
  EXPECT_FALSE(DetectPatternDeviation(h)->active);  // 5 minutes below: not sustained
  std::swap(h[3], h[4]);
  EXPECT_EQ(DetectPatternDeviation(h).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(AnomalyNamesTest, Names) {
  EXPECT_STREQ(AnomalyTypeName(AnomalyType::kScalingThrashing), "scaling_thrashing");
  EXPECT_STREQ(SeverityName(Severity::kCritical), "critical");
}

}  // namespace
}  // namespace predictor::anomaly
