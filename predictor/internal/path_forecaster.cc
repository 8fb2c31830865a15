// PathForecaster: the fit (backtest origins, members, the guard's state), Append, Forecast,
// the trace and compaction. See path_forecaster.h.
#include "predictor/internal/path_forecaster.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace predictor {
namespace internal {

namespace {

std::unique_ptr<Model> NewModel(ModelKind kind) {
  switch (kind) {
    case ModelKind::kPersistence:
      return NewPersistence();
    case ModelKind::kSeasonalNaiveDaily:
      return NewSeasonalNaive(false);
    case ModelKind::kSeasonalNaiveWeekly:
      return NewSeasonalNaive(true);
    case ModelKind::kSeasonalMeanDaily:
      return NewSeasonalMean();
    case ModelKind::kHoltWinters:
      return NewHoltWinters();
    case ModelKind::kArima:
      return NewArima();
    case ModelKind::kGradientBoosting:
      return NewTreeModel(true);
    case ModelKind::kRandomForest:
      return NewTreeModel(false);
    case ModelKind::kEnsemble:
      break;
  }
  return nullptr;
}

}  // namespace

absl::Status PathForecaster::Fit(const Series& history, int horizon) {
  if (history.values.empty()) return absl::InvalidArgumentError("empty history");
  if (horizon < 1) return absl::InvalidArgumentError("horizon must be at least 1 step");
  fitted_ = false;
  compacted_ = false;
  cached_at_ = -1;
  referee_.reset();
  y_ = Tail(history.values);
  saturated_ = !history.censored.empty() && history.censored.back() != 0;
  ceiling_ = saturated_ ? history.values.back() : 0.0;
  h_ = horizon;
  const int n = static_cast<int>(y_.size());
  const int64_t step_s = std::max<int64_t>(1, absl::ToInt64Seconds(history.step));
  FitContext ctx;
  ctx.horizon = h_;
  ctx.steps_per_day = history.StepsPerDay();
  ctx.steps_per_week = history.StepsPerWeek();
  ctx.daily_season = DetectDailySeason(history.values.data(), n, ctx.steps_per_day);
  ctx.weekly_season =
      DetectWeeklySeason(history.values.data(), n, ctx.steps_per_week, ctx.steps_per_day);
  ctx.start_unix = absl::ToUnixSeconds(history.start);
  ctx.step_seconds = step_s;
  step_s_ = step_s;
  ctx.max_tree_rows = options_.max_tree_rows;
  ctx.arima_history_steps = static_cast<int>(absl::ToInt64Seconds(options_.arima_history) / step_s);
  // Backtest origins: the last window whose horizon has been observed.
  const int window = std::max<int>(1, absl::ToInt64Seconds(options_.backtest_window) / step_s);
  const int last_origin = n - 1 - h_;
  const int first_origin = std::max(1, last_origin - window + 1);
  origins_.clear();
  if (last_origin >= first_origin) {
    const int count = last_origin - first_origin + 1;
    const int k = std::min(count, options_.max_backtest_origins);
    for (int i = 0; i < k; ++i) {
      origins_.push_back(first_origin + static_cast<int>(static_cast<int64_t>(i) * count / k));
    }
  }
  ctx.holdout_start = origins_.empty() ? n - 1 : origins_.front();
  recency_.assign(origins_.size(), 1.0);
  const double half_life_steps =
      absl::ToDoubleSeconds(options_.recency_half_life) / static_cast<double>(step_s);
  if (half_life_steps > 0) {
    for (size_t i = 0; i < origins_.size(); ++i) {
      recency_[i] = std::exp2(-(last_origin - origins_[i]) / half_life_steps);
    }
  }

  SetRange(history, step_s, ctx.holdout_start);
  // The guard's state per backtest origin and at the end, computed once.
  origin_guard_.assign(origins_.size(), 0);
  last_out_of_range_ = std::numeric_limits<int>::min() / 2;
  last_above_ = std::numeric_limits<int>::min() / 2;
  onset_ = -1;
  if (range_steps_ > 0) {
    const int from = std::max(range_steps_ - 1, ctx.holdout_start - hold_steps_);
    size_t next = 0;
    for (int t = from; t < n; ++t) {
      TrackRange(t);
      for (; next < origins_.size() && origins_[next] == t; ++next) {
        origin_guard_[next] = last_out_of_range_ >= t - hold_steps_;
      }
    }
  }
  const int64_t history_s = static_cast<int64_t>(n) * step_s;
  short_history_ = history_s < absl::ToInt64Seconds(options_.min_history);
  members_.clear();
  // Persistence first: always present, the fallback of every forecaster.
  AddMember(ModelKind::kPersistence, ctx);
  if (!(ensemble_ && short_history_)) {
    for (ModelKind kind : kinds_) {
      if (kind != ModelKind::kPersistence) AddMember(kind, ctx);
    }
  }
  Weigh();
  if (options_.compact_after_fit) Compact();
  fitted_ = true;
  return absl::OkStatus();
}

absl::Status PathForecaster::Append(double value, bool censored) {
  if (!fitted_) return absl::FailedPreconditionError("Append before Fit");
  if (!std::isfinite(value)) return absl::InvalidArgumentError("non-finite value");
  y_.push_back(value);
  const int end = static_cast<int>(y_.size()) - 1;
  saturated_ = censored;
  if (censored) ceiling_ = value;
  if (range_steps_ > 0 && TrackRange(end) && referee_.has_value()) referee_->Reset();
  for (Member& m : members_) {
    if (m.model != nullptr && (m.weight > 0 || m.consensus_weight > 0)) m.model->Extend(y_);
  }
  if (referee_.has_value()) {
    // Score the path served h steps ago, and keep the one served from here.
    referee_->Observe(y_);
    cached_path_.resize(h_);
    Combine(end, cached_path_.data());
    cached_at_ = end;
    referee_->Record(cached_path_.data(), y_);
  }
  return absl::OkStatus();
}

Band PathForecaster::Forecast(int horizon) const {
  Band band;
  if (!fitted_) return band;
  const int h = std::clamp(horizon, 1, h_);
  const int o = static_cast<int>(y_.size()) - 1;
  std::vector<double> path;
  if (cached_at_ == o) {
    path = cached_path_;
  } else {
    path.assign(h_, 0.0);
    Combine(o, path.data());
  }
  ApplyReferee(o, path.data(), y_[o]);
  band.p50.assign(path.begin(), path.begin() + h);
  band.p10.resize(h);
  band.p90.resize(h);
  const double scale = vol_steps_ > 0 ? std::max(LocalVolatility(o), vol_floor_) : 1.0;
  for (int k = 0; k < h; ++k) {
    band.p10[k] = band.p50[k] + std::min(0.0, scale * q10_[k]);
    band.p90[k] = band.p50[k] + std::max(0.0, scale * q90_[k]);
    if (saturated_) {
      // A censored last value is a lower bound on demand: never forecast below it.
      band.p50[k] = std::max(band.p50[k], ceiling_);
      band.p90[k] = std::max(band.p90[k], ceiling_);
    }
  }
  return band;
}

EnsembleTrace PathForecaster::Trace() const {
  EnsembleTrace t;
  if (!fitted_) return t;
  t.origins = origins_;
  std::vector<double> p(h_);
  for (const Member& m : members_) {
    MemberTrace mt;
    mt.name = m.name;
    mt.weight = m.weight;
    if (!compacted_) {
      for (size_t i = 0; i < origins_.size(); ++i) mt.backtest.push_back(m.paths[i * h_ + h_ - 1]);
    }
    if (m.model != nullptr && m.model->Predict(y_, static_cast<int>(y_.size()) - 1, h_, p.data()))
      mt.forecast = p[h_ - 1];
    t.members.push_back(std::move(mt));
  }
  return t;
}

std::vector<std::pair<std::string, double>> PathForecaster::Weights() const {
  std::vector<std::pair<std::string, double>> out;
  for (const Member& m : members_) out.push_back({m.name, m.weight});
  return out;
}

void PathForecaster::AddMember(ModelKind kind, const FitContext& ctx) {
  Member m;
  m.model = NewModel(kind);
  m.name = m.model->Name();
  m.primary = !ensemble_ && kind == kinds_.front();
  if (!m.model->Fit(y_, ctx)) return;
  m.paths.assign(origins_.size() * h_, 0.0);
  m.step_mae.assign(h_, 0.0);
  double err = 0;
  for (size_t i = 0; i < origins_.size(); ++i) {
    double* p = &m.paths[i * h_];
    if (!m.model->Predict(y_, origins_[i], h_, p)) {
      // Cannot backtest here: an ensemble leaves the model out; a single model borrows
      // persistence's errors for this origin so it still forecasts from the end.
      if (ensemble_) return;
      std::fill(p, p + h_, y_[origins_[i]]);
    }
    for (int k = 0; k < h_; ++k) {
      if (!std::isfinite(p[k])) return;
    }
    err += recency_[i] * std::abs(y_[origins_[i] + h_] - p[h_ - 1]);
    for (int k = 0; k < h_; ++k)
      m.step_mae[k] += recency_[i] * std::abs(y_[origins_[i] + k + 1] - p[k]);
  }
  // It must also be able to forecast from the end of the history.
  std::vector<double> tail(h_);
  if (!m.model->Predict(y_, static_cast<int>(y_.size()) - 1, h_, tail.data())) return;
  double total = 0;
  for (double w : recency_) total += w;
  m.mae = origins_.empty() ? 0.0 : err / total;
  for (double& e : m.step_mae) e = origins_.empty() ? 0.0 : e / total;
  members_.push_back(std::move(m));
}

// Keeps what Forecast, Append, Confidence and the weights need (Options::compact_after_fit):
// the members' backtest paths and the backtest origins go; so do the models of members
// that Combine never reads (no weight, and no consensus weight or no consensus; their names
// and weights stay for reports), full-length model state, and the history older than the
// remaining members and the local volatility read.
void PathForecaster::Compact() {
  // The consensus (CombineStep) only clips when more than one member has weight; with at
  // most one, the members that only vote in the consensus are never read either.
  int weighted = 0;
  for (const Member& m : members_) weighted += m.weight > 0;
  // The referee reads back the horizon of the origin it scores.
  int lookback = std::max({1, vol_steps_ + 1, range_steps_, up_steps_, h_ + 1});
  for (Member& m : members_) {
    std::vector<double>().swap(m.paths);
    std::vector<double>().swap(m.step_mae);
    if (m.weight > 0 || (weighted > 1 && m.consensus_weight > 0)) {
      m.model->Compact();
      lookback = std::max(lookback, m.model->Lookback());
    } else {
      m.model.reset();
    }
  }
  members_.shrink_to_fit();
  std::vector<int>().swap(origins_);
  std::vector<char>().swap(origin_guard_);
  std::vector<double>().swap(recency_);
  y_.KeepLast(lookback);
  compacted_ = true;
}

}  // namespace internal
}  // namespace predictor
