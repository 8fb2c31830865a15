// Histogram CART: every feature is cut into at most `bins` quantile bins once per fit; a node
// split scans per-bin sums, so a level costs O(rows x features) whatever the depth.
#include "predictor/internal/trees.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace predictor {
namespace internal {
namespace {

// SplitMix64: small, deterministic, good enough for subsampling.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
};

struct Binned {
  int rows = 0, cols = 0;
  std::vector<uint8_t> bin;                // column-major: bin[c * rows + r]
  std::vector<std::vector<double>> edges;  // per column, upper edge of each bin but the last
};

Binned Bin(const Dataset& d, int bins) {
  Binned b;
  b.rows = d.rows;
  b.cols = d.cols;
  b.bin.assign(static_cast<size_t>(d.rows) * d.cols, 0);
  b.edges.resize(d.cols);
  std::vector<double> col(d.rows);
  for (int c = 0; c < d.cols; ++c) {
    for (int r = 0; r < d.rows; ++r) col[r] = d.x(r, c);
    std::vector<double> sorted = col;
    std::sort(sorted.begin(), sorted.end());
    std::vector<double>& e = b.edges[c];
    for (int k = 1; k < bins; ++k) {
      const double v = sorted[static_cast<size_t>(k) * (d.rows - 1) / bins];
      if (e.empty() || v > e.back()) e.push_back(v);
    }
    if (!e.empty() && e.back() >= sorted.back()) e.pop_back();
    for (int r = 0; r < d.rows; ++r) {
      b.bin[static_cast<size_t>(c) * d.rows + r] =
          static_cast<uint8_t>(std::lower_bound(e.begin(), e.end(), col[r]) - e.begin());
    }
  }
  return b;
}

struct Builder {
  const Binned& b;
  const std::vector<double>& target;
  int max_depth, min_leaf;
  double feature_fraction;
  Rng* rng;
  Tree tree;
  std::vector<double> sum;
  std::vector<int> cnt;

  int Build(std::vector<int>& rows, int depth) {
    const int node = static_cast<int>(tree.nodes.size());
    tree.nodes.emplace_back();
    double total = 0;
    for (int r : rows) total += target[r];
    const int n = static_cast<int>(rows.size());
    tree.nodes[node].value = n > 0 ? total / n : 0.0;
    if (depth >= max_depth || n < 2 * min_leaf) return node;
    double best_gain = 1e-12 * (1 + std::abs(total)), best_thr = 0;
    int best_f = -1, best_bin = -1;
    for (int c = 0; c < b.cols; ++c) {
      if (feature_fraction < 1.0 && rng->Uniform() > feature_fraction) continue;
      const int nb = static_cast<int>(b.edges[c].size()) + 1;
      if (nb < 2) continue;
      sum.assign(nb, 0.0);
      cnt.assign(nb, 0);
      const uint8_t* col = &b.bin[static_cast<size_t>(c) * b.rows];
      for (int r : rows) {
        sum[col[r]] += target[r];
        ++cnt[col[r]];
      }
      double ls = 0;
      int lc = 0;
      for (int k = 0; k + 1 < nb; ++k) {
        ls += sum[k];
        lc += cnt[k];
        const int rc = n - lc;
        if (lc < min_leaf) continue;
        if (rc < min_leaf) break;
        const double rs = total - ls;
        // SSE reduction of the split relative to the parent.
        const double gain = ls * ls / lc + rs * rs / rc - total * total / n;
        if (gain > best_gain) {
          best_gain = gain;
          best_f = c;
          best_bin = k;
          best_thr = b.edges[c][k];
        }
      }
    }
    if (best_f < 0) return node;
    std::vector<int> left, right;
    const uint8_t* col = &b.bin[static_cast<size_t>(best_f) * b.rows];
    for (int r : rows) (col[r] <= best_bin ? left : right).push_back(r);
    rows.clear();
    rows.shrink_to_fit();
    const int l = Build(left, depth + 1);
    const int rr = Build(right, depth + 1);
    tree.nodes[node].feature = best_f;
    tree.nodes[node].threshold = best_thr;
    tree.nodes[node].left = l;
    tree.nodes[node].right = rr;
    return node;
  }
};

}  // namespace

double Tree::Predict(const double* x) const {
  int i = 0;
  while (nodes[i].feature >= 0) {
    i = x[nodes[i].feature] <= nodes[i].threshold ? nodes[i].left : nodes[i].right;
  }
  return nodes[i].value;
}

double TreeEnsemble::Predict(const double* x) const {
  double s = 0;
  if (!roots.empty()) {
    for (uint32_t r : roots) {
      uint32_t i = r;
      uint32_t w = nodes[i];
      while (!(w & 0x80000000u)) {
        i = x[w >> 24] <= thresholds[(w >> 12) & 0xFFFu] ? i + 1 : i + (w & 0xFFFu);
        w = nodes[i];
      }
      s += leaves[w & 0x7FFFFFFFu];
    }
    return base + scale * s;
  }
  for (const Tree& t : trees) s += t.Predict(x);
  return base + scale * s;
}

void TreeEnsemble::Pack() {
  if (trees.empty() || !roots.empty()) return;
  std::vector<double> thr;
  size_t count = 0, leaf_count = 0;
  for (const Tree& t : trees) {
    for (const TreeNode& n : t.nodes) {
      ++count;
      if (n.feature >= 0) {
        thr.push_back(n.threshold);
      } else {
        ++leaf_count;
      }
    }
  }
  std::sort(thr.begin(), thr.end());
  thr.erase(std::unique(thr.begin(), thr.end()), thr.end());
  if (thr.size() > 0xFFF || leaf_count > 0x7FFFFFFFu || count > 0xFFFFFFFFu) return;
  std::vector<uint32_t> packed, starts;
  std::vector<double> values;
  packed.reserve(count);
  starts.reserve(trees.size());
  values.reserve(leaf_count);
  for (const Tree& t : trees) {
    const uint32_t root = static_cast<uint32_t>(packed.size());
    starts.push_back(root);
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      const TreeNode& n = t.nodes[i];
      if (n.feature < 0) {
        packed.push_back(0x80000000u | static_cast<uint32_t>(values.size()));
        values.push_back(n.value);
        continue;
      }
      // Preorder: the left child must be the next node; the right child within reach.
      const int64_t right = static_cast<int64_t>(n.right) - static_cast<int64_t>(i);
      if (n.left != static_cast<int>(i) + 1 || right < 1 || right > 0xFFF || n.feature > 0x7F) {
        return;
      }
      const size_t ti = std::lower_bound(thr.begin(), thr.end(), n.threshold) - thr.begin();
      packed.push_back(static_cast<uint32_t>(n.feature) << 24 | static_cast<uint32_t>(ti) << 12 |
                       static_cast<uint32_t>(right));
    }
  }
  nodes = std::move(packed);
  roots = std::move(starts);
  leaves = std::move(values);
  thresholds = std::move(thr);
  thresholds.shrink_to_fit();
  std::vector<Tree>().swap(trees);
}

TreeEnsemble FitBoosting(const Dataset& data, const BoostingParams& p) {
  TreeEnsemble out;
  if (data.rows == 0) return out;
  const Binned b = Bin(data, p.bins);
  out.base = std::accumulate(data.y.begin(), data.y.end(), 0.0) / data.rows;
  out.scale = p.learning_rate;
  std::vector<double> pred(data.rows, out.base), resid(data.rows);
  Rng rng{p.seed};
  for (int t = 0; t < p.trees; ++t) {
    for (int r = 0; r < data.rows; ++r) resid[r] = data.y[r] - pred[r];
    std::vector<int> rows;
    rows.reserve(data.rows);
    for (int r = 0; r < data.rows; ++r) {
      if (p.subsample >= 1.0 || rng.Uniform() < p.subsample) rows.push_back(r);
    }
    Builder builder{b, resid, p.max_depth, p.min_leaf, 1.0, &rng, {}, {}, {}};
    builder.Build(rows, 0);
    for (int r = 0; r < data.rows; ++r)
      pred[r] += p.learning_rate * builder.tree.Predict(data.row(r));
    out.trees.push_back(std::move(builder.tree));
  }
  out.Pack();
  return out;
}

TreeEnsemble FitForest(const Dataset& data, const ForestParams& p) {
  TreeEnsemble out;
  if (data.rows == 0 || p.trees <= 0) return out;
  const Binned b = Bin(data, p.bins);
  out.scale = 1.0 / p.trees;
  Rng rng{p.seed};
  for (int t = 0; t < p.trees; ++t) {
    std::vector<int> rows(data.rows);
    for (int r = 0; r < data.rows; ++r) rows[r] = rng.Below(data.rows);  // bootstrap
    Builder builder{b, data.y, p.max_depth, p.min_leaf, p.feature_fraction, &rng, {}, {}, {}};
    builder.Build(rows, 0);
    out.trees.push_back(std::move(builder.tree));
  }
  out.Pack();
  return out;
}

}  // namespace internal
}  // namespace predictor
