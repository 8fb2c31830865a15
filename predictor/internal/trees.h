// Histogram CART regression trees, gradient boosting and random forests (internal).
//
//   internal::Dataset data(rows, cols);  // fill data.x(r, c), data.y[r]
//   internal::Ensemble gbt = internal::FitBoosting(data, internal::BoostingParams{});
//   double yhat = gbt.Predict(features);
#pragma once

#include <cstdint>
#include <vector>

namespace predictor {
namespace internal {

// Dense row-major features plus the target.
struct Dataset {
  Dataset(int rows, int cols) : rows(rows), cols(cols), x_(rows * cols, 0.0), y(rows, 0.0) {}
  double& x(int r, int c) { return x_[r * cols + c]; }
  double x(int r, int c) const { return x_[r * cols + c]; }
  const double* row(int r) const { return &x_[r * cols]; }
  int rows, cols;
  std::vector<double> x_;
  std::vector<double> y;
};

struct TreeNode {
  int feature = -1;  // -1 for a leaf
  double threshold = 0;
  int left = -1, right = -1;
  double value = 0;
};

struct Tree {
  std::vector<TreeNode> nodes;
  double Predict(const double* x) const;
};

// A sum (boosting) or mean (forest) of trees. Fitted trees are stored packed (Pack): every
// node of every tree in preorder as one 32-bit word, the leaf values and the distinct split
// thresholds in their own arrays (exact doubles: predictions are identical to the unpacked
// trees'). About 1 KB per depth-6 tree instead of about 4 KB.
struct TreeEnsemble {
  double base = 0;
  double scale = 1;         // learning rate for boosting, 1/trees for forests
  std::vector<Tree> trees;  // unpacked: only while fitting, or when a tree cannot be packed
  // Packed trees. A word with the top bit set is a leaf (the low 31 bits index leaves); else
  // bits 24-30 are the feature, 12-23 the threshold's index in `thresholds`, 0-11 the offset
  // of the right child (the left child is the next word).
  std::vector<uint32_t> nodes;
  std::vector<uint32_t> roots;  // first word of each tree
  std::vector<double> leaves, thresholds;
  double Predict(const double* x) const;
  // Moves `trees` into the packed form (a no-op when a tree does not fit in it).
  void Pack();
};

struct BoostingParams {
  int trees = 50;
  int max_depth = 3;
  int min_leaf = 20;
  double learning_rate = 0.1;
  double subsample = 0.8;
  int bins = 32;
  uint64_t seed = 1;
};

struct ForestParams {
  int trees = 25;
  int max_depth = 6;
  int min_leaf = 20;
  double feature_fraction = 0.6;
  int bins = 32;
  uint64_t seed = 1;
};

TreeEnsemble FitBoosting(const Dataset& data, const BoostingParams& params);
TreeEnsemble FitForest(const Dataset& data, const ForestParams& params);

}  // namespace internal
}  // namespace predictor
