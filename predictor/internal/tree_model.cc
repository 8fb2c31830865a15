// The tree models as forecasters: lag, rolling-statistic and calendar features at an origin,
// trained to predict the change y[o+H] - y[o]. Intermediate steps of the path are linear
// between the last value and the horizon forecast (the reconciler reads the horizon value and
// the short lead-window peak, where the other ensemble members carry the shape).
#include <algorithm>
#include <cmath>

#include "predictor/internal/model.h"
#include "predictor/internal/trees.h"

namespace predictor {
namespace internal {
namespace {

constexpr int kFeatures = 11;

class TreeModel : public Model {
 public:
  explicit TreeModel(bool boosting) : boosting_(boosting) {}
  const char* Name() const override { return boosting_ ? "gradient_boosting" : "random_forest"; }

  bool Fit(const Tail& y, const FitContext& ctx) override {
    h_ = ctx.horizon;
    day_ = ctx.steps_per_day;
    start_ = ctx.start_unix;
    step_ = ctx.step_seconds;
    const int first = MinOrigin();
    const int last = std::min<int>(ctx.holdout_start, static_cast<int>(y.size()) - 1) - h_;
    if (last - first + 1 < 100) return false;
    const int count = last - first + 1;
    const int rows = std::min(count, ctx.max_tree_rows);
    Dataset data(rows, kFeatures);
    for (int r = 0; r < rows; ++r) {
      // Evenly spread over the training origins, newest included.
      const int o = last - static_cast<int>(static_cast<int64_t>(r) * count / rows);
      Features(y, o, &data.x(r, 0));
      data.y[r] = y[o + h_] - y[o];
    }
    // Clip the targets to their 2nd-98th percentiles: a few spikes would otherwise own the
    // leaves, and the ensemble is scored on typical hours.
    {
      std::vector<double> sorted = data.y;
      std::sort(sorted.begin(), sorted.end());
      const double lo = sorted[sorted.size() * 2 / 100];
      const double hi = sorted[sorted.size() * 98 / 100];
      for (double& v : data.y) v = std::clamp(v, lo, hi);
    }
    if (boosting_) {
      model_ = FitBoosting(data, BoostingParams{});
    } else {
      model_ = FitForest(data, ForestParams{});
    }
    return true;
  }

  bool Predict(const Tail& y, int o, int h, double* out) const override {
    if (o < MinOrigin()) return false;
    double f[kFeatures];
    Features(y, o, f);
    const double change = model_.Predict(f);
    for (int k = 1; k <= h; ++k) out[k - 1] = y[o] + change * std::min(1.0, double(k) / h_);
    return true;
  }

  // Features read back to a day (or 4 horizons) before the origin.
  int Lookback() const override { return std::max(day_, 4 * h_) + 1; }

 private:
  int MinOrigin() const { return std::max(4 * h_, day_ > 0 ? day_ : 0) + 1; }

  void Features(const Tail& y, int o, double* f) const {
    const double v = y[o];
    auto mean = [&](int len) {
      double s = 0;
      for (int i = o - len + 1; i <= o; ++i) s += y[i];
      return s / len;
    };
    const double m1 = mean(h_);
    double var = 0;
    for (int i = o - h_ + 1; i <= o; ++i) var += (y[i] - m1) * (y[i] - m1);
    f[0] = v - y[o - 1];
    f[1] = v - y[o - 3];
    f[2] = v - y[o - h_];
    f[3] = v - m1;
    f[4] = v - mean(4 * h_);
    f[5] = std::sqrt(var / h_);
    if (day_ >= h_) {
      f[6] = y[o + h_ - day_] - y[o - day_];  // yesterday's change over the same window
      f[7] = y[o - day_] - v;
    } else {
      f[6] = f[7] = 0;
    }
    const int64_t t = start_ + static_cast<int64_t>(o) * step_;
    const int64_t sec_of_day = ((t % 86400) + 86400) % 86400;
    f[8] = sec_of_day / 3600.0;
    f[9] = static_cast<double>(((t / 86400 + 3) % 7 + 7) % 7);  // 0 = Monday (1970-01-01 was Thu)
    f[10] = day_ > 0 ? v - mean(std::min(day_, o + 1)) : v - mean(std::min(4 * h_, o + 1));
  }

  bool boosting_;
  int h_ = 12, day_ = 0;
  int64_t start_ = 0, step_ = 300;
  TreeEnsemble model_;
};

}  // namespace

std::unique_ptr<Model> NewTreeModel(bool boosting) { return std::make_unique<TreeModel>(boosting); }

}  // namespace internal
}  // namespace predictor
