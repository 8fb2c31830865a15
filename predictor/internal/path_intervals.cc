// PathForecaster: the p10/p90 intervals (volatility-normalised backtest residuals blended
// with the history's persistence changes) and the confidence. See path_forecaster.h.
#include <algorithm>
#include <cmath>

#include "predictor/internal/path_forecaster.h"

namespace predictor {
namespace internal {

namespace {

// Indices of the history sampled for the long-window interval quantiles
// (Options::interval_global_weight).
constexpr int kMaxGlobalSamples = 2048;

// Weighted quantile of (value, weight) pairs: the smallest value whose cumulative weight
// reaches q of the total, interpolated between neighbours.
double Quantile(std::vector<std::pair<double, double>>& v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  double total = 0;
  for (const auto& p : v) total += p.second;
  if (!(total > 0)) return v[v.size() / 2].first;
  const double target = q * total;
  double cum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double next = cum + v[i].second;
    if (next >= target) {
      // Mid-point convention: value i stands at cumulative weight cum + w/2.
      const double mid = cum + v[i].second / 2;
      if (target <= mid || i + 1 == v.size()) {
        if (i == 0 || target >= mid) return v[i].first;
        const double prev_mid = cum - v[i - 1].second / 2;
        const double f = (target - prev_mid) / (mid - prev_mid);
        return v[i - 1].first + f * (v[i].first - v[i - 1].first);
      }
      const double next_mid = next + v[i + 1].second / 2;
      const double f = (target - mid) / (next_mid - mid);
      return v[i].first + f * (v[i + 1].first - v[i].first);
    }
    cum = next;
  }
  return v.back().first;
}

}  // namespace

double PathForecaster::SetIntervals(double scale) {
  // Intervals from the combined backtest residuals per horizon step.
  q10_.assign(h_, 0.0);
  q90_.assign(h_, 0.0);
  double mae = 0;
  vol_steps_ = 0;
  vol_floor_ = 0;
  if (!origins_.empty()) {
    // Local volatility at each origin (see Options::interval_volatility_window); the floor
    // keeps a calm stretch from turning a residual into a huge normalised one.
    std::vector<double> vol(origins_.size(), 1.0);
    if (options_.interval_volatility_window > absl::ZeroDuration()) {
      vol_steps_ = std::max<int>(
          1, static_cast<int>(absl::ToInt64Seconds(options_.interval_volatility_window) / step_s_));
      for (size_t i = 0; i < origins_.size(); ++i) vol[i] = LocalVolatility(origins_[i]);
      std::vector<double> sorted = vol;
      std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
      vol_floor_ = std::max(0.1 * sorted[sorted.size() / 2], 1e-12 * scale);
      for (double& v : vol) v = std::max(v, vol_floor_);
    }
    std::vector<std::vector<std::pair<double, double>>> res(h_);
    std::vector<double> path(h_);
    double total = 0;
    for (size_t i = 0; i < origins_.size(); ++i) {
      for (int k = 0; k < h_; ++k) path[k] = CombineBacktestStep(i, k);
      ApplyReferee(origins_[i], path.data(), y_[origins_[i]]);
      const double w = vol_steps_ > 0 ? 1.0 : recency_[i];
      for (int k = 0; k < h_; ++k) {
        res[k].push_back({(y_[origins_[i] + k + 1] - path[k]) / vol[i], w});
      }
      mae += recency_[i] * std::abs(res[h_ - 1].back().first) * vol[i];
      total += recency_[i];
    }
    mae /= total;
    for (int k = 0; k < h_; ++k) {
      q10_[k] = Quantile(res[k], 0.1);
      q90_[k] = Quantile(res[k], 0.9);
    }
    if (vol_steps_ > 0 && options_.interval_global_weight > 0) BlendGlobalQuantiles(vol, res);
    for (int k = 0; k < h_; ++k) {
      q10_[k] *= options_.interval_scale;
      q90_[k] *= options_.interval_scale;
    }
  } else {
    // No observed horizon yet: a random-walk band from the one-step changes.
    double ss = 0;
    int cnt = 0;
    for (size_t i = 1; i < y_.size(); ++i, ++cnt) ss += (y_[i] - y_[i - 1]) * (y_[i] - y_[i - 1]);
    const double sd = cnt > 0 ? std::sqrt(ss / cnt) : 0.0;
    for (int k = 0; k < h_; ++k) {
      q10_[k] = -1.2816 * sd * std::sqrt(k + 1.0);
      q90_[k] = -q10_[k];
    }
    mae = 0.8 * sd * std::sqrt(double(h_));
  }
  return mae;
}

void PathForecaster::SetConfidence(double mae, double scale) {
  // Confidence: relative out-of-sample error, scaled down for short histories.
  const double rel = mae / scale;
  confidence_ = std::clamp(1.0 - rel, 0.0, 1.0);
  if (short_history_ || origins_.size() < 10) confidence_ *= 0.3;
  const bool fallback = ensemble_ ? false
                                  : !members_.empty() && !members_.front().primary &&
                                        members_.front().weight == 1 &&
                                        kinds_.front() != ModelKind::kPersistence;
  if (fallback) confidence_ *= 0.3;
}

// Options::interval_global_weight: blends q10_/q90_ (quantiles of the normalised backtest
// residuals, in units of the local volatility) with the same quantiles of persistence's
// (k+1)-step changes from every index of the history, normalised the same way and scaled by
// the ratio of the combination's to persistence's mean normalised backtest error at step k.
// The backtest only has a day of (evenly spaced) origins; the whole history adds many more
// samples and every phase of short cycles, at the cost of assuming that the combination's
// errors are shaped like persistence's. `vol` is the floored volatility at each origin,
// res[k] the combination's normalised residuals at step k (in any order).
void PathForecaster::BlendGlobalQuantiles(
    const std::vector<double>& vol,
    const std::vector<std::vector<std::pair<double, double>>>& res) {
  const int n = static_cast<int>(y_.size());
  const int first = vol_steps_;
  const int last = n - 1 - h_;  // changes up to h_ steps ahead are observed
  const int span = last - first + 1;
  if (span < 2 * static_cast<int>(origins_.size())) return;
  // At most kMaxGlobalSamples indices, evenly spread (a fractional stride drifts through
  // the phases of short cycles), so 1-minute data costs about what 5-minute data does.
  const int samples = std::min(span, kMaxGlobalSamples);
  std::vector<int> at(samples);
  for (int j = 0; j < samples; ++j)
    at[j] = first + static_cast<int>(static_cast<int64_t>(j) * span / samples);
  // Floored local volatility at each sampled index.
  std::vector<double> inv(samples);
  for (int j = 0; j < samples; ++j) inv[j] = 1.0 / std::max(LocalVolatility(at[j]), vol_floor_);
  const double gw = std::min(1.0, options_.interval_global_weight);
  std::vector<double> changes(samples);
  for (int k = 0; k < h_; ++k) {
    double ens = 0, pers = 0;
    for (const auto& r : res[k]) ens += std::abs(r.first);
    for (size_t i = 0; i < origins_.size(); ++i)
      pers += std::abs(y_[origins_[i] + k + 1] - y_[origins_[i]]) / vol[i];
    for (int j = 0; j < samples; ++j) changes[j] = (y_[at[j] + k + 1] - y_[at[j]]) * inv[j];
    const double ratio = pers > 0 ? ens / pers : 1.0;
    const double g10 = ratio * SampleQuantile(changes, 0.1);
    const double g90 = ratio * SampleQuantile(changes, 0.9);
    q10_[k] = (1 - gw) * q10_[k] + gw * g10;
    q90_[k] = (1 - gw) * q90_[k] + gw * g90;
  }
}

// The q-quantile of v, linear between order statistics (reorders v).
double PathForecaster::SampleQuantile(std::vector<double>& v, double q) {
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  const double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + lo + 1, v.end());
  return a + (pos - lo) * (b - a);
}

// Mean absolute one-step change over the vol_steps_ steps up to index o.
double PathForecaster::LocalVolatility(int o) const {
  const int first = std::max(1, o - vol_steps_ + 1);
  double sum = 0;
  for (int t = first; t <= o; ++t) sum += std::abs(y_[t] - y_[t - 1]);
  return o >= first ? sum / (o - first + 1) : 0.0;
}

}  // namespace internal
}  // namespace predictor
