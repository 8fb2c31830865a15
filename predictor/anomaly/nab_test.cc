#include "predictor/anomaly/nab.h"

#include <cmath>

#include "gtest/gtest.h"

namespace predictor::anomaly {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1400000000);

// 100 rows at 5-minute steps (probation = 15 rows), one window over rows 40..49.
NabFile File(std::vector<int> detections) {
  NabFile f;
  f.name = "f.csv";
  for (int i = 0; i < 100; ++i) {
    f.times.push_back(kT0 + i * absl::Minutes(5));
    f.scores.push_back(0);
  }
  for (int i : detections) f.scores[i] = 1;
  f.windows.push_back({f.times[40], f.times[49]});
  return f;
}

const CostMatrix kStandard{1.0, 0.11, 1.0};

TEST(NabTest, ScaledSigmoidMatchesNabsDocumentedPoints) {
  EXPECT_NEAR(ScaledSigmoid(-1.0), 0.98661, 1e-5);
  EXPECT_NEAR(ScaledSigmoid(-0.5), 0.84828, 1e-5);
  EXPECT_NEAR(ScaledSigmoid(0.0), 0.0, 1e-12);
  EXPECT_NEAR(ScaledSigmoid(1.0), -0.98661, 1e-5);
  EXPECT_EQ(ScaledSigmoid(3.0), -1.0);
}

TEST(NabTest, DetectionAtTheWindowStartScoresTheFullReward) {
  auto rows = SweepFile(File({40}), kStandard);
  ASSERT_TRUE(rows.ok());
  EXPECT_DOUBLE_EQ((*rows)[40].sweep_score, 1.0);
  EXPECT_DOUBLE_EQ(RawScoreAt(*rows, 1, kStandard, 0.5), 1.0);
  auto r = ScoreCorpusAt({File({40})}, NabProfiles()[0], 0.5);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->normalized, 100.0);
  EXPECT_EQ(r->files[0].detected_windows, 1);
  EXPECT_EQ(r->files[0].false_positives, 0);
}

TEST(NabTest, LaterDetectionInTheWindowScoresTheSigmoidOfItsPosition) {
  auto rows = SweepFile(File({45}), kStandard);
  ASSERT_TRUE(rows.ok());
  // position = -(49 - 45 + 1) / 10 = -0.5
  EXPECT_NEAR((*rows)[45].sweep_score, ScaledSigmoid(-0.5) / ScaledSigmoid(-1.0), 1e-12);
  // Only the first (best) detection of the window counts.
  auto two = SweepFile(File({40, 45}), kStandard);
  EXPECT_DOUBLE_EQ(RawScoreAt(*two, 1, kStandard, 0.5), 1.0);
}

TEST(NabTest, DetectionAfterTheWindowIsAFalsePositive) {
  auto rows = SweepFile(File({55}), kStandard);
  ASSERT_TRUE(rows.ok());
  // position past the window = |49 - 55| / (10 - 1); the window is missed (-1).
  const double fp = ScaledSigmoid(6.0 / 9.0) * 0.11;
  EXPECT_LT(fp, 0);
  EXPECT_NEAR(RawScoreAt(*rows, 1, kStandard, 0.5), -1.0 + fp, 1e-12);
  auto r = ScoreCorpusAt({File({55})}, NabProfiles()[0], 0.5);
  EXPECT_EQ(r->files[0].false_positives, 1);
  EXPECT_EQ(r->files[0].detected_windows, 0);
  // Far past the window (>= 3 widths): the full penalty.
  auto far = SweepFile(File({90}), kStandard);
  EXPECT_DOUBLE_EQ((*far)[90].sweep_score, -0.11);
}

TEST(NabTest, DetectionBeforeAnyWindowCostsTheFullPenalty) {
  auto rows = SweepFile(File({20}), kStandard);
  EXPECT_DOUBLE_EQ((*rows)[20].sweep_score, -0.11);
}

TEST(NabTest, ProbationaryRowsAreNotScored) {
  auto rows = SweepFile(File({3}), kStandard);
  EXPECT_TRUE((*rows)[3].probationary);
  EXPECT_FALSE((*rows)[15].probationary);
  EXPECT_DOUBLE_EQ(RawScoreAt(*rows, 1, kStandard, 0.5), -1.0);  // the null score
}

TEST(NabTest, NullDetectorScoresZeroAndProfilesWeighMisses) {
  auto r = ScoreCorpusAt({File({})}, NabProfiles()[0], 0.5);
  EXPECT_DOUBLE_EQ(r->normalized, 0.0);
  EXPECT_DOUBLE_EQ(r->null_raw, -1.0);
  auto low_fn = ScoreCorpusAt({File({})}, NabProfiles()[2], 0.5);
  EXPECT_DOUBLE_EQ(low_fn->null_raw, -2.0);
  // One FP far away and a detection mid-window under reward_low_FP_rate.
  auto low_fp = ScoreCorpusAt({File({45, 90})}, NabProfiles()[1], 0.5);
  const double raw = ScaledSigmoid(-0.5) / ScaledSigmoid(-1.0) - 0.22;
  EXPECT_NEAR(low_fp->normalized, 100.0 * (raw + 1.0) / 2.0, 1e-9);
}

TEST(NabTest, OptimizedThresholdIsTheBestOverTheCorpus) {
  NabFile f = File({});
  f.scores[40] = 0.9;  // true detection
  f.scores[90] = 0.95; // a stronger false positive
  f.scores[70] = 0.3;  // a weak false positive
  auto r = ScoreCorpusOptimized({f}, NabProfiles()[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->threshold, 0.9);
  EXPECT_NEAR(r->raw, 1.0 - 0.11, 1e-12);
}

TEST(NabTest, RejectsWindowsThatAreNotRowsAndDisorderedTimes) {
  NabFile f = File({});
  f.windows[0].start += absl::Seconds(1);
  EXPECT_EQ(SweepFile(f, kStandard).status().code(), absl::StatusCode::kInvalidArgument);
  NabFile g = File({});
  std::swap(g.times[10], g.times[11]);
  EXPECT_EQ(SweepFile(g, kStandard).status().code(), absl::StatusCode::kInvalidArgument);
  NabFile h = File({});
  h.scores.pop_back();
  EXPECT_EQ(SweepFile(h, kStandard).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace predictor::anomaly
