#include "predictor/validation.h"

#include "gtest/gtest.h"

namespace predictor {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

std::vector<Validated> Log(int n, double forecast, double actual, double threshold = 80) {
  std::vector<Validated> log;
  for (int i = 0; i < n; ++i) log.push_back({kNow - absl::Minutes(i), forecast, actual, threshold});
  return log;
}

TEST(ValidationTest, EmptyHistoryIsNotTrusted) {
  ValidationSummary s = Summarize({}, kNow);
  EXPECT_EQ(s.total, 0);
  EXPECT_FALSE(s.trusted);
  EXPECT_EQ(s.confidence, 0);
}

TEST(ValidationTest, AccurateForecastsAreTrusted) {
  ValidationSummary s = Summarize(Log(20, 50, 52), kNow);
  EXPECT_EQ(s.total, 20);
  EXPECT_EQ(s.accurate, 20);
  EXPECT_DOUBLE_EQ(s.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(s.mae, 2.0);
  EXPECT_TRUE(s.trusted);
  EXPECT_DOUBLE_EQ(s.confidence, 1.0);
}

TEST(ValidationTest, TooFewSamplesAreNotTrusted) {
  ValidationSummary s = Summarize(Log(9, 50, 50), kNow);
  EXPECT_FALSE(s.trusted);
  EXPECT_LT(s.confidence, 1.0);
}

TEST(ValidationTest, AccuracyGateAtSixtyPercent) {
  std::vector<Validated> log = Log(6, 50, 50);
  std::vector<Validated> bad = Log(4, 50, 90, 1000);
  log.insert(log.end(), bad.begin(), bad.end());
  EXPECT_TRUE(Summarize(log, kNow).trusted);  // exactly 60 %
  log.push_back({kNow, 50, 90, 1000});
  ValidationSummary s = Summarize(log, kNow);
  EXPECT_LT(s.accuracy, 0.6);
  EXPECT_FALSE(s.trusted);
}

TEST(ValidationTest, FalsePositiveAndNegativeCountsAndGate) {
  std::vector<Validated> log = Log(5, 90, 70);    // predicted up, stayed below: FP
  std::vector<Validated> fn = Log(2, 70, 90);     // predicted below, went up: FN
  std::vector<Validated> ok = Log(5, 81, 82);     // both up, accurate
  log.insert(log.end(), fn.begin(), fn.end());
  log.insert(log.end(), ok.begin(), ok.end());
  ValidationSummary s = Summarize(log, kNow);
  EXPECT_EQ(s.false_positives, 5);
  EXPECT_EQ(s.false_negatives, 2);
  EXPECT_NEAR(s.false_positive_rate, 5.0 / 12, 1e-12);
  ValidationOptions strict;
  strict.min_accuracy = 0.0;
  strict.max_false_positive_rate = 0.40;
  EXPECT_FALSE(Summarize(log, kNow, strict).trusted);  // 41.7 % > 40 %
  strict.max_false_positive_rate = 0.45;
  EXPECT_TRUE(Summarize(log, kNow, strict).trusted);
}

TEST(ValidationTest, OnlyTheWindowCounts) {
  std::vector<Validated> log = Log(20, 50, 50);
  log.push_back({kNow - absl::Hours(25), 50, 10, 80});  // outside the 24 h window
  log.push_back({kNow + absl::Minutes(1), 50, 10, 80});  // not yet due
  EXPECT_EQ(Summarize(log, kNow).total, 20);
  EXPECT_EQ(Summarize(log, kNow).accurate, 20);
}

}  // namespace
}  // namespace predictor
