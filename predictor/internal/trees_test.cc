#include "predictor/internal/trees.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace predictor {
namespace internal {
namespace {

double Target(const double* x) {
  return 3.0 * (x[0] > 0.5) + 2.0 * (x[1] > 0.3) - 1.5 * (x[2] > 0.8) * (x[0] > 0.5);
}

Dataset Random(int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Dataset d(rows, 4);  // the fourth feature is noise the trees must ignore
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < 4; ++c) d.x(r, c) = u(rng);
    d.y[r] = Target(d.row(r));
  }
  return d;
}

double TestMae(const TreeEnsemble& m) {
  Dataset test = Random(500, 99);
  double err = 0;
  for (int r = 0; r < test.rows; ++r) err += std::abs(m.Predict(test.row(r)) - test.y[r]);
  return err / test.rows;
}

TEST(TreesTest, BoostingRecoversNoiselessFunction) {
  BoostingParams p;
  p.trees = 100;
  p.learning_rate = 0.3;
  // Predicting the mean would be off by about 1.6 on average; 32 quantile bins put the
  // thresholds within a bin width of the true cuts.
  EXPECT_LT(TestMae(FitBoosting(Random(2000, 1), p)), 0.15);
}

TEST(TreesTest, ForestRecoversNoiselessFunction) {
  EXPECT_LT(TestMae(FitForest(Random(2000, 2), ForestParams{})), 0.15);
}

TEST(TreesTest, ConstantTargetGivesConstantPrediction) {
  Dataset d = Random(300, 3);
  for (double& y : d.y) y = 0.0;
  double x[4] = {0.9, 0.9, 0.9, 0.9};
  EXPECT_EQ(FitBoosting(d, BoostingParams{}).Predict(x), 0.0);
  EXPECT_EQ(FitForest(d, ForestParams{}).Predict(x), 0.0);
}

TEST(TreesTest, EmptyDataPredictsZero) {
  Dataset d(0, 3);
  double x[3] = {0, 0, 0};
  EXPECT_EQ(FitBoosting(d, BoostingParams{}).Predict(x), 0.0);
  EXPECT_EQ(FitForest(d, ForestParams{}).Predict(x), 0.0);
}

}  // namespace
}  // namespace internal
}  // namespace predictor
