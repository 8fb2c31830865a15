// PathForecaster: the robust combination of the members (consensus clipping, per-step
// weights) and the out-of-range guard's level tracking. See path_forecaster.h.
#include <algorithm>
#include <cmath>
#include <limits>

#include "predictor/internal/path_forecaster.h"

namespace predictor {
namespace internal {

// One step of the combination, anchored on the last value `base` so that equal forecasts
// combine exactly. values[j] is member j's forecast; members with ok[j] == false are left
// out. Each forecast is first clipped to the robust consensus (Options::consensus_clip).
double PathForecaster::CombineStep(const double* values, const char* ok, double base, int k) const {
  const int count = static_cast<int>(members_.size());
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  int active = 0;
  for (int j = 0; j < count; ++j) active += ok[j] && members_[j].weight > 0;
  if (options_.consensus_clip > 0 && active > 1) {
    std::pair<double, double> v[kMaxMembers];  // on the stack: this runs per origin and step
    int c = 0;
    for (int j = 0; j < count && c < kMaxMembers; ++j) {
      if (ok[j] && members_[j].consensus_weight > 0) {
        v[c++] = {values[j], members_[j].consensus_weight};
      }
    }
    if (c > 0) {
      const double median = WeightedMedian(v, c);
      for (int i = 0; i < c; ++i) v[i].first = std::abs(v[i].first - median);
      const double spread = WeightedMedian(v, c);
      const double limit = options_.consensus_clip * std::max(spread, std::abs(median - base));
      lo = median - limit;
      hi = median + limit;
    }
  }
  double sum = 0, used = 0;
  for (int j = 0; j < count; ++j) {
    const double w = StepWeight(j, k);
    if (!ok[j] || w <= 0) continue;
    sum += w * (std::clamp(values[j], lo, hi) - base);
    used += w;
  }
  const double out = used > 0 ? base + sum / used : base;
  return std::isfinite(out) ? out : base;
}

// The smallest value whose cumulative weight reaches half the total (sorts v in place).
double PathForecaster::WeightedMedian(std::pair<double, double>* v, int c) {
  std::sort(v, v + c);
  double total = 0;
  for (int i = 0; i < c; ++i) total += v[i].second;
  double cum = 0;
  for (int i = 0; i < c; ++i) {
    cum += v[i].second;
    if (cum >= total / 2) return v[i].first;
  }
  return v[c - 1].first;
}

// The combination of the backtest paths from origin i, step k (0-based) only.
double PathForecaster::CombineBacktestStep(size_t i, int k) const {
  const int o = origins_[i];
  if (origin_guard_[i]) return y_[o];  // Options::range_quantile
  const int count = static_cast<int>(members_.size());
  double values[kMaxMembers];
  char ok[kMaxMembers];
  for (int j = 0; j < count; ++j) {
    values[j] = members_[j].paths[i * h_ + k];
    ok[j] = 1;
  }
  return CombineStep(values, ok, y_[o], k);
}

void PathForecaster::Combine(int o, double* out) const {
  // Options::range_quantile: the level fell below the history's range within range_hold.
  if (range_steps_ > 0 && last_out_of_range_ >= o - hold_steps_) {
    std::fill(out, out + h_, y_[o]);
    return;
  }
  const int count = static_cast<int>(members_.size());
  std::vector<double> paths(static_cast<size_t>(count) * h_);
  std::vector<char> ok(count, 0);
  for (int j = 0; j < count; ++j) {
    const Member& m = members_[j];
    ok[j] = (m.weight > 0 || m.consensus_weight > 0) && m.model != nullptr &&
            m.model->Predict(y_, o, h_, &paths[static_cast<size_t>(j) * h_]);
  }
  std::vector<double> values(count);
  for (int k = 0; k < h_; ++k) {
    for (int j = 0; j < count; ++j)
      values[j] = ok[j] ? paths[static_cast<size_t>(j) * h_ + k] : 0.0;
    out[k] = CombineStep(values.data(), ok.data(), y_[o], k);
  }
}

// The history's [range_quantile, 1 - range_quantile] quantiles before the backtest window
// (Options::range_quantile): the lower one is the floor, their distance the margin's unit.
void PathForecaster::SetRange(const Series& history, int64_t step_s, int end) {
  range_steps_ = 0;
  if (!ensemble_ || options_.range_quantile <= 0 || end < 2) return;
  std::vector<double> v(history.values.begin(), history.values.begin() + end);
  const size_t lo = static_cast<size_t>(options_.range_quantile * (v.size() - 1));
  const size_t hi = v.size() - 1 - lo;
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  range_lo_ = v[lo];
  std::nth_element(v.begin(), v.begin() + hi, v.end());
  range_hi_ = v[hi];
  up_steps_ = static_cast<int>(absl::ToInt64Seconds(options_.range_up_window) / step_s);
  range_steps_ = std::max<int>(
      1, static_cast<int>(absl::ToInt64Seconds(options_.range_level_window) / step_s));
  hold_steps_ = static_cast<int>(absl::ToInt64Seconds(options_.range_hold) / step_s);
}

// Whether the level at index o (the median of the last range_steps_ values) lies below the
// range by more than Options::range_margin of its width.
// (At steps under 30 s the window is the last 64 values.)
int PathForecaster::LevelOutOfRange(int o) const {
  const double margin = options_.range_margin * (range_hi_ - range_lo_);
  if (MedianBeyond(o, range_steps_, range_lo_ - margin, /*above=*/false)) return -1;
  return up_steps_ > 0 && MedianBeyond(o, up_steps_, range_hi_ + margin, /*above=*/true) ? 1 : 0;
}

// Whether the median of the last `steps` values up to index o (at most the last 64; the
// upper median, element c/2 of the sorted c values) lies above (or below) `bar`: counted,
// not sorted.
bool PathForecaster::MedianBeyond(int o, int steps, double bar, bool above) const {
  constexpr int kMax = 64;
  const int first = std::max<int>(static_cast<int>(y_.first()), o - std::min(steps, kMax) + 1);
  const int c = o - first + 1;
  if (c <= 0) return false;
  int at_or_below = 0, below = 0;
  for (int t = first; t <= o; ++t) {
    at_or_below += y_[t] <= bar;
    below += y_[t] < bar;
  }
  // Sorted, v[c/2] > bar iff at most c/2 values are <= bar; v[c/2] < bar iff more than c/2
  // values are < bar.
  return above ? at_or_below <= c / 2 : below > c / 2;
}

// Updates the range state with the level at index t (in increasing order of t): the last
// index below / above the range, and the onset of the latest run outside it. True when a
// run starts at t (a change point).
bool PathForecaster::TrackRange(int t) {
  const int side = LevelOutOfRange(t);
  if (side == 0) return false;
  const bool start = last_out_of_range_ != t - 1 && last_above_ != t - 1;
  if (side < 0) last_out_of_range_ = t;
  if (side > 0) last_above_ = t;
  if (start) onset_ = t;
  return start;
}

}  // namespace internal
}  // namespace predictor
