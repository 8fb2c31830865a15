// PathForecaster: member weights and the gates that hand over to persistence (the block
// t-tests, the shrink toward persistence, the recent-window check), horizon-specific weights
// and the online referee. See path_forecaster.h.
#include <algorithm>
#include <cmath>
#include <limits>

#include "predictor/internal/path_forecaster.h"

namespace predictor {
namespace internal {

void PathForecaster::Weigh() {
  double scale = 0;
  for (size_t i = 0; i < y_.size(); ++i) scale += std::abs(y_[i]);
  scale = scale / y_.size() + 1e-9;
  const double eps = 1e-9 * scale;
  const double persistence_mae = members_.front().mae;
  double best_mae = persistence_mae;
  for (const Member& m : members_) best_mae = std::min(best_mae, m.mae);
  double total = 0;
  for (Member& m : members_) m.weight = 0;
  if (!ensemble_) {
    Member* primary = nullptr;
    for (Member& m : members_) {
      if (m.primary) primary = &m;
    }
    (primary != nullptr ? *primary : members_.front()).weight = 1;
  } else {
    for (Member& m : members_) {
      if (&m != &members_.front() &&
          (m.mae > options_.max_member_mae_ratio * persistence_mae + eps ||
           m.mae > options_.max_best_mae_ratio * best_mae + eps ||
           (options_.min_member_gain_t > 0 && !origins_.empty() &&
            GainT(HorizonBacktest(m)) < options_.min_member_gain_t))) {
        continue;
      }
      m.weight = std::pow(1.0 / (m.mae + eps), options_.weight_power);
      total += m.weight;
    }
    for (Member& m : members_) {
      m.weight /= total;
      m.consensus_weight = m.weight;
    }
    // Shrink the combination toward persistence by the factor that minimises the backtest
    // error: the members' departures from the last value are trusted only as far as they
    // paid off recently. No worthwhile gain at all means persistence alone.
    double best_shrink = 1.0;
    const std::vector<double> full = Weights01();
    if (options_.shrink_lcb_k > 0 && !origins_.empty()) {
      // Pessimistic choice: the factor whose gain over persistence has the highest lower
      // confidence bound (block mean - k standard errors).
      double best_lcb = -std::numeric_limits<double>::infinity();
      for (double shrink : {1.0, 0.75, 0.5, 0.25}) {
        SetShrunk(full, shrink);
        const auto [mean, se] = GainStats(CombinedHorizonBacktest());
        const double lcb = std::isfinite(se) ? mean - options_.shrink_lcb_k * se : mean;
        if (lcb > best_lcb) {
          best_lcb = lcb;
          best_shrink = shrink;
        }
      }
    } else {
      double lowest = BacktestMae();  // the full combination
      for (double shrink : {0.75, 0.5, 0.25}) {
        SetShrunk(full, shrink);
        const double mae = BacktestMae();
        if (mae < lowest) {
          lowest = mae;
          best_shrink = shrink;
        }
      }
    }
    SetShrunk(full, best_shrink);
    const double best_mae = BacktestMae();
    if (members_.size() > 1 && (best_mae > (1 - options_.min_gain) * persistence_mae ||
                                !GainIsConsistent() || RecentlyWorse())) {
      SetShrunk(full, 0.0);
    }
    SetStepWeights(eps);
    StartReferee();
  }
  SetConfidence(SetIntervals(scale), scale);
}

// Options::step_weights: each member's weight at step k is its final weight (at the horizon)
// times (its MAE at the horizon / its MAE at step k)^weight_power, normalised per step. The
// horizon step, and so every gate and the shrink choice, is unchanged; a member that is
// relatively better at short steps (persistence, the anchored models) gets more of them, so
// a member that is good an hour ahead (yesterday's value) but jumps at once does not carry
// its jump into the first steps.
void PathForecaster::SetStepWeights(double eps) {
  if (!options_.step_weights || origins_.empty() || h_ < 2) return;
  std::vector<double> w(members_.size());
  for (int k = 0; k < h_ - 1; ++k) {
    double total = 0, base = 0;
    for (size_t j = 0; j < members_.size(); ++j) {
      const Member& m = members_[j];
      w[j] = m.weight > 0
                 ? m.weight * std::pow((m.mae + eps) / (m.step_mae[k] + eps), options_.weight_power)
                 : 0.0;
      total += w[j];
      base += m.weight;
    }
    if (!(total > 0)) continue;
    for (size_t j = 0; j < members_.size(); ++j) {
      Member& m = members_[j];
      if (m.step_weight.empty()) m.step_weight.assign(h_, m.weight);
      m.step_weight[k] = w[j] * base / total;
    }
  }
}

// The referee (Options::referee_lose_ratio), scored over the backtest origins with the
// combination as set by the gates.
void PathForecaster::StartReferee() {
  if (!(options_.referee_lose_ratio > 0)) return;
  const double half_life =
      absl::ToDoubleSeconds(options_.referee_half_life) / static_cast<double>(step_s_);
  const int period = static_cast<int>(absl::ToInt64Seconds(options_.referee_period) / step_s_);
  referee_.emplace(h_, half_life, options_.referee_lose_ratio, period);
  relearn_steps_ = static_cast<int>(absl::ToInt64Seconds(options_.change_relearn) / step_s_);
  // After a change point (a level outside the history's range, either side) only the
  // origins after its onset count: the members must win on the new level.
  const int end = static_cast<int>(y_.size()) - 1;
  const bool changed =
      onset_ >= 0 && std::max(last_out_of_range_, last_above_) >= end - hold_steps_;
  std::vector<double> path(h_);
  for (size_t i = 0; i < origins_.size(); ++i) {
    if (changed && origins_[i] <= onset_) continue;
    for (int k = 0; k < h_; ++k) path[k] = CombineBacktestStep(i, k);
    referee_->Score(origins_[i], path.data(), y_);
  }
}

// Persistence where the referee says the combination is losing: the whole path when it
// loses at the horizon, else the steps whose running peak loses.
void PathForecaster::ApplyReferee(int o, double* path, double base) const {
  if (!referee_.has_value()) return;
  // Options::range_quantile, above the range: from the onset, until the referee has scored
  // change_relearn of origins after it.
  const bool relearning =
      range_steps_ > 0 && last_above_ >= o - hold_steps_ && referee_->span() < relearn_steps_;
  const int steps = relearning || referee_->HorizonLoses(o) ? h_ : referee_->PersistenceSteps(o);
  std::fill(path, path + steps, base);
}

std::vector<double> PathForecaster::Weights01() const {
  std::vector<double> w;
  for (const Member& m : members_) w.push_back(m.weight);
  return w;
}

// Weights `full` scaled by `shrink`, the rest given to persistence (member 0).
void PathForecaster::SetShrunk(const std::vector<double>& full, double shrink) {
  for (size_t i = 0; i < members_.size(); ++i) members_[i].weight = shrink * full[i];
  members_.front().weight += 1.0 - shrink;
}

// Recency-weighted MAE at the horizon step of the current combination over the backtest.
double PathForecaster::BacktestMae() const {
  if (origins_.empty()) return 0.0;
  double err = 0, total = 0;
  for (size_t i = 0; i < origins_.size(); ++i) {
    err += recency_[i] * std::abs(y_[origins_[i] + h_] - CombineBacktestAtHorizon(i));
    total += recency_[i];
  }
  return err / total;
}

// The member's backtest forecasts at the horizon step, one per origin.
std::vector<double> PathForecaster::HorizonBacktest(const Member& m) const {
  std::vector<double> out(origins_.size());
  for (size_t i = 0; i < origins_.size(); ++i) out[i] = m.paths[i * h_ + h_ - 1];
  return out;
}

// Whether the current combination beats persistence consistently over the backtest: the
// t-statistic of the per-block mean gains (Options::min_gain_t, Options::gain_block).
bool PathForecaster::GainIsConsistent() const {
  if (options_.min_gain_t <= 0 || origins_.empty()) return true;
  return GainT(CombinedHorizonBacktest()) >= options_.min_gain_t;
}

// The current combination's backtest forecasts at the horizon step, one per origin.
std::vector<double> PathForecaster::CombinedHorizonBacktest() const {
  std::vector<double> forecast(origins_.size());
  for (size_t i = 0; i < origins_.size(); ++i) forecast[i] = CombineBacktestAtHorizon(i);
  return forecast;
}

// Whether the current combination did worse than persistence by Options::max_recent_ratio
// over the last Options::recent_window of backtest origins.
bool PathForecaster::RecentlyWorse() const {
  if (options_.max_recent_ratio <= 0 || origins_.empty()) return false;
  const int window = static_cast<int>(absl::ToInt64Seconds(options_.recent_window) / step_s_);
  double err = 0, pers = 0;
  for (size_t i = 0; i < origins_.size(); ++i) {
    if (origins_[i] <= origins_.back() - window) continue;
    const double actual = y_[origins_[i] + h_];
    err += std::abs(actual - CombineBacktestAtHorizon(i));
    pers += std::abs(actual - y_[origins_[i]]);
  }
  return err > options_.max_recent_ratio * pers;
}

// t-statistic of the gain of `forecast` (at the horizon step, one per backtest origin) over
// persistence: per-origin gains |persistence error| - |error|, averaged per gain_block, the
// mean of those block means over its standard error. +inf with fewer than 3 blocks.
double PathForecaster::GainT(const std::vector<double>& forecast) const {
  const auto [mean, se] = GainStats(forecast);
  if (!std::isfinite(se)) return std::numeric_limits<double>::infinity();
  return mean / (se + 1e-12);
}

// The mean of the per-block mean gains of `forecast` over persistence (see GainT) and its
// standard error; the error is +inf with fewer than 3 blocks.
std::pair<double, double> PathForecaster::GainStats(const std::vector<double>& forecast) const {
  const int block =
      std::max<int>(1, static_cast<int>(absl::ToInt64Seconds(options_.gain_block) / step_s_));
  const int last = origins_.back();
  std::vector<double> sum, count;
  for (size_t i = 0; i < origins_.size(); ++i) {
    const double actual = y_[origins_[i] + h_];
    const double gain = std::abs(actual - y_[origins_[i]]) - std::abs(actual - forecast[i]);
    const size_t b = static_cast<size_t>((last - origins_[i]) / block);
    if (b >= sum.size()) {
      sum.resize(b + 1, 0.0);
      count.resize(b + 1, 0.0);
    }
    sum[b] += gain;
    count[b] += 1;
  }
  std::vector<double> means;
  for (size_t b = 0; b < sum.size(); ++b) {
    if (count[b] > 0) means.push_back(sum[b] / count[b]);
  }
  const int nb = static_cast<int>(means.size());
  double mean = 0;
  for (double m : means) mean += m;
  mean /= std::max(1, nb);
  if (nb < 3) return {mean, std::numeric_limits<double>::infinity()};
  double var = 0;
  for (double m : means) var += (m - mean) * (m - mean);
  return {mean, std::sqrt(var / nb) / std::sqrt(nb - 1.0)};
}

}  // namespace internal
}  // namespace predictor
