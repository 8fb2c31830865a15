#include "predictor/anomaly/spike.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace predictor::anomaly {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1400000000);

// Three days of 5-minute noise around 50, with `spike` added at index `at` (if >= 0).
std::vector<Sample> Noise(int at = -1, double spike = 0, int n = 864) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 2);
  std::vector<Sample> h;
  for (int i = 0; i < n; ++i) {
    h.push_back({kT0 + i * absl::Minutes(5), 50 + noise(rng) + (i == at ? spike : 0)});
  }
  return h;
}

int Detections(const std::vector<SpikeScore>& s, int from = 0) {
  int n = 0;
  for (size_t i = from; i < s.size(); ++i) n += s[i].is_anomaly;
  return n;
}

TEST(SpikeTest, FlagsASpikeOnceAndNothingInPlainNoise) {
  auto calm = ScoreHistory(Noise());
  ASSERT_TRUE(calm.ok());
  EXPECT_EQ(Detections(*calm, 300), 0);
  auto spiky = ScoreHistory(Noise(700, 40));
  ASSERT_TRUE(spiky.ok());
  EXPECT_TRUE((*spiky)[700].is_anomaly);
  EXPECT_GT((*spiky)[700].score, 0.99);
  EXPECT_NEAR((*spiky)[700].baseline, 50, 1);
  EXPECT_EQ(Detections(*spiky, 300), 1);
}

TEST(SpikeTest, SustainedSmallShiftIsDetected) {
  std::vector<Sample> h = Noise();
  for (int i = 700; i < 760; ++i) h[i].value += 4;  // 2 sigma, for five hours
  auto s = ScoreHistory(h);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Detections(*s, 300), 1);
  int first = -1;
  for (int i = 0; i < 864 && first < 0; ++i) {
    if ((*s)[i].is_anomaly) first = i;
  }
  EXPECT_GE(first, 700);
  EXPECT_LT(first, 760);
}

TEST(SpikeTest, DailyRecurringJobIsNotASpike) {
  std::vector<Sample> h = Noise();
  for (int day = 0; day < 3; ++day) h[day * 288 + 100].value += 40;
  auto s = ScoreHistory(h);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)[288 + 100].is_anomaly && (*s)[576 + 100].is_anomaly);
  EXPECT_FALSE((*s)[576 + 100].is_anomaly);
}

TEST(SpikeTest, ScoresAreZeroUntilTheBaselineHasEnoughPoints) {
  auto s = ScoreHistory(Noise(5, 100, 20));
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)[5].has_baseline);
  EXPECT_EQ((*s)[5].score, 0);
}

TEST(SpikeTest, TimeOrderIsChecked) {
  std::vector<Sample> h = Noise();
  std::reverse(h.begin(), h.end());  // newest first, as the original read it
  auto s = ScoreHistory(h);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("sample 1"), std::string::npos);
  EXPECT_EQ(WindowedGaussianScores(h).status().code(), absl::StatusCode::kInvalidArgument);
  // The streaming detector ignores a value that is not after the last one.
  SpikeDetector d;
  d.Update(kT0, 1);
  EXPECT_FALSE(d.Update(kT0, 100).has_baseline);
}

TEST(SpikeTest, WindowedGaussianScoresTheTailOfTheWindow) {
  auto g = WindowedGaussianScores(Noise(700, 40));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)[0], 0);
  EXPECT_GT((*g)[700], 0.999999);
  EXPECT_LT((*g)[701], 0.999);
  EXPECT_GE((*g)[701], 0.5);
}

}  // namespace
}  // namespace predictor::anomaly
