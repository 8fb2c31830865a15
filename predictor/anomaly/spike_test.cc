#include "predictor/anomaly/spike.h"

#include <algorithm>
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

// The evidence is what decided: on every scored value, the judged feature is at or beyond its
// limit exactly when the score reaches the threshold (a one-sample spike is judged by its
// value; a small sustained shift by a recent mean, whose band the single values stay inside).
void ExpectEvidenceDecides(const std::vector<SpikeScore>& s, double threshold) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!s[i].has_baseline || !std::isfinite(s[i].limit)) continue;
    const double size = std::abs(s[i].judged);
    if (s[i].score >= threshold) {
      EXPECT_GE(size, s[i].limit * (1 - 1e-9)) << i;
    } else {
      EXPECT_LE(size, s[i].limit * (1 + 1e-9)) << i;
    }
  }
}

TEST(SpikeTest, TheEvidenceIsTheFeatureThatDecidedAndItsBand) {
  auto spiky = ScoreHistory(Noise(700, 40));
  ASSERT_TRUE(spiky.ok());
  const SpikeScore& at = (*spiky)[700];
  ASSERT_TRUE(at.is_anomaly);
  EXPECT_EQ(at.basis, SpikeBasis::kValue);
  EXPECT_NEAR(at.baseline + at.judged * at.scale, Noise(700, 40)[700].value, 1e-9);
  EXPECT_GT(at.baseline + at.judged * at.scale, at.baseline + at.limit * at.scale);
  ExpectEvidenceDecides(*spiky, SpikeOptions().threshold);

  std::vector<Sample> h = Noise();
  for (int i = 700; i < 760; ++i) h[i].value += 4;  // 2 sigma, for five hours
  auto shifted = ScoreHistory(h);
  ASSERT_TRUE(shifted.ok());
  ExpectEvidenceDecides(*shifted, SpikeOptions().threshold);
  int first = 700;
  while (first < 760 && !(*shifted)[first].is_anomaly) ++first;
  ASSERT_LT(first, 760);
  const SpikeScore& d = (*shifted)[first];
  EXPECT_NE(d.basis, SpikeBasis::kValue);  // a recent mean decided
  EXPECT_GT(d.judged, d.limit);
  // The value alone is inside the band a single value is judged against (far from 3 sigma).
  EXPECT_LT((h[first].value - d.baseline) / d.scale, 3);
  SpikeOptions o;
  EXPECT_EQ(SpikeBasisDescription(d.basis, o),
            d.basis == SpikeBasis::kRecentMean ? "the mean of the last 2h"
                                               : "the mean of the last 8h");
  EXPECT_EQ(SpikeBasisDescription(SpikeBasis::kValue, o), "the value");
}

TEST(SpikeTest, ALimitIsInfiniteUntilItsFeatureHasADistribution) {
  auto s = ScoreHistory(Noise(-1, 0, 30));  // 12 values for the baseline, then 18 scored
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)[12].has_baseline);
  EXPECT_TRUE(std::isinf((*s)[12].limit));   // no feature history yet
  EXPECT_TRUE(std::isfinite((*s)[29].limit));  // 17 feature values before it
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

// The baseline read off the sorted window equals a median and MAD computed from scratch by
// sorting, for odd and even window sizes and with many tied values.
TEST(SpikeTest, BaselineAndScaleMatchAFromScratchMedianAndMad) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> level(0, 6);  // few distinct values: many ties
  SpikeOptions o;
  o.baseline = absl::Hours(2);  // 24 or 23 values in the window (5-minute steps)
  o.min_scale_relative = 0;
  SpikeDetector d(o);
  std::vector<double> all;
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m] + v[m - 1]);
  };
  int checked = 0;
  for (int i = 0; i < 400; ++i) {
    const absl::Time t =
        kT0 + i * absl::Minutes(5) + (i % 3 == 0 ? absl::Seconds(1) : absl::ZeroDuration());
    const double v = 10 * level(rng) + (i % 7 == 0 ? 0.5 : 0);
    const SpikeScore s = d.Update(t, v);
    // The window: values in (t - 2h, t), before this one.
    std::vector<double> window;
    for (int k = 0; k < i; ++k) {
      const absl::Time tk =
          kT0 + k * absl::Minutes(5) + (k % 3 == 0 ? absl::Seconds(1) : absl::ZeroDuration());
      if (tk > t - o.baseline) window.push_back(all[k]);
    }
    all.push_back(v);
    if (static_cast<int>(window.size()) < o.min_points) continue;
    ASSERT_TRUE(s.has_baseline);
    const double m = median(window);
    std::vector<double> dev;
    for (double w : window) dev.push_back(std::abs(w - m));
    EXPECT_EQ(s.baseline, m) << i;
    EXPECT_EQ(s.scale, std::max(1.4826 * median(dev), 1e-9)) << i;
    ++checked;
  }
  EXPECT_GT(checked, 300);
  EXPECT_FALSE(d.Update(kT0 + absl::Hours(100), std::nan("")).has_baseline);  // ignored
}

}  // namespace
}  // namespace predictor::anomaly
