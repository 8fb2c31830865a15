// One class serves every model and the ensemble: a list of members fitted on the same
// history, each backtested at recent origins (out of sample for the state and, for the trees,
// for the parameters too). A single model is an "ensemble" whose first member gets all the
// weight while it can forecast, with persistence as its fallback.
#include "predictor/forecaster.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "predictor/internal/bucketed.h"
#include "predictor/internal/ensemble_trace.h"
#include "predictor/internal/model.h"
#include "predictor/internal/referee.h"

namespace predictor {
namespace {

using internal::Model;

// More than every model kind: the consensus works on a fixed-size stack array.
constexpr int kMaxMembers = 16;
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

std::unique_ptr<Model> NewModel(ModelKind kind) {
  switch (kind) {
    case ModelKind::kPersistence:
      return internal::NewPersistence();
    case ModelKind::kSeasonalNaiveDaily:
      return internal::NewSeasonalNaive(false);
    case ModelKind::kSeasonalNaiveWeekly:
      return internal::NewSeasonalNaive(true);
    case ModelKind::kSeasonalMeanDaily:
      return internal::NewSeasonalMean();
    case ModelKind::kHoltWinters:
      return internal::NewHoltWinters();
    case ModelKind::kArima:
      return internal::NewArima();
    case ModelKind::kGradientBoosting:
      return internal::NewTreeModel(true);
    case ModelKind::kRandomForest:
      return internal::NewTreeModel(false);
    case ModelKind::kEnsemble:
      break;
  }
  return nullptr;
}

class PathForecaster : public Forecaster {
 public:
  PathForecaster(std::string name, std::vector<ModelKind> kinds, bool ensemble,
                 const Options& options)
      : name_(std::move(name)), kinds_(std::move(kinds)), ensemble_(ensemble), options_(options) {}

  std::string Name() const override { return name_; }

  absl::Status Fit(const Series& history, int horizon) override {
    if (history.values.empty()) return absl::InvalidArgumentError("empty history");
    if (horizon < 1) return absl::InvalidArgumentError("horizon must be at least 1 step");
    fitted_ = false;
    compacted_ = false;
    cached_at_ = -1;
    referee_.reset();
    y_ = internal::Tail(history.values);
    saturated_ = !history.censored.empty() && history.censored.back() != 0;
    ceiling_ = saturated_ ? history.values.back() : 0.0;
    h_ = horizon;
    const int n = static_cast<int>(y_.size());
    const int64_t step_s = std::max<int64_t>(1, absl::ToInt64Seconds(history.step));
    internal::FitContext ctx;
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
    ctx.arima_history_steps =
        static_cast<int>(absl::ToInt64Seconds(options_.arima_history) / step_s);
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

  using Forecaster::Append;
  absl::Status Append(double value, bool censored) override {
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

  Band Forecast(int horizon) const override {
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

  double Confidence() const override { return confidence_; }

  internal::EnsembleTrace Trace() const {
    internal::EnsembleTrace t;
    if (!fitted_) return t;
    t.origins = origins_;
    std::vector<double> p(h_);
    for (const Member& m : members_) {
      internal::MemberTrace mt;
      mt.name = m.name;
      mt.weight = m.weight;
      if (!compacted_) {
        for (size_t i = 0; i < origins_.size(); ++i)
          mt.backtest.push_back(m.paths[i * h_ + h_ - 1]);
      }
      if (m.model != nullptr && m.model->Predict(y_, static_cast<int>(y_.size()) - 1, h_, p.data()))
        mt.forecast = p[h_ - 1];
      t.members.push_back(std::move(mt));
    }
    return t;
  }

  std::vector<std::pair<std::string, double>> Weights() const {
    std::vector<std::pair<std::string, double>> out;
    for (const Member& m : members_) out.push_back({m.name, m.weight});
    return out;
  }

 private:
  struct Member {
    std::unique_ptr<Model> model;  // null after Compact when the member can never contribute
    const char* name = "";
    bool primary = false;       // the model a single-model forecaster is named after
    std::vector<double> paths;  // origins x h_, backtest forecasts
    double mae = 0;             // at the horizon step over the backtest origins
    double weight = 0;
    double consensus_weight = 0;  // weight before shrinking, for the robust consensus
    std::vector<double> step_mae;     // per horizon step over the backtest origins
    std::vector<double> step_weight;  // per horizon step (SetStepWeights); empty: `weight`
  };

  void AddMember(ModelKind kind, const internal::FitContext& ctx) {
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

  void Weigh() {
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
            1,
            static_cast<int>(absl::ToInt64Seconds(options_.interval_volatility_window) / step_s_));
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
    // Confidence: relative out-of-sample error, scaled down for short histories.
    const double rel = mae / scale;
    confidence_ = std::clamp(1.0 - rel, 0.0, 1.0);
    const int64_t need = absl::ToInt64Seconds(options_.min_history);
    if (short_history_ || origins_.size() < 10) {
      confidence_ *= 0.3;
    } else {
      (void)need;
    }
    const bool fallback = ensemble_ ? false
                                    : !members_.empty() && !members_.front().primary &&
                                          members_.front().weight == 1 &&
                                          kinds_.front() != ModelKind::kPersistence;
    if (fallback) confidence_ *= 0.3;
  }

  // Keeps what Forecast, Append, Confidence and the weights need (Options::compact_after_fit):
  // the members' backtest paths and the backtest origins go; so do the models of members
  // that Combine never reads (no weight, and no consensus weight or no consensus; their names
  // and weights stay for reports), full-length model state, and the history older than the
  // remaining members and the local volatility read.
  void Compact() {
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

  // Options::step_weights: each member's weight at step k is its final weight (at the horizon)
  // times (its MAE at the horizon / its MAE at step k)^weight_power, normalised per step. The
  // horizon step, and so every gate and the shrink choice, is unchanged; a member that is
  // relatively better at short steps (persistence, the anchored models) gets more of them, so
  // a member that is good an hour ahead (yesterday's value) but jumps at once does not carry
  // its jump into the first steps.
  void SetStepWeights(double eps) {
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
  // Member j's weight at step k (0-based).
  double StepWeight(int j, int k) const {
    const Member& m = members_[j];
    return m.step_weight.empty() ? m.weight : m.step_weight[k];
  }

  // The referee (Options::referee_lose_ratio), scored over the backtest origins with the
  // combination as set by the gates.
  void StartReferee() {
    if (!(options_.referee_lose_ratio > 0)) return;
    const double half_life =
        absl::ToDoubleSeconds(options_.referee_half_life) / static_cast<double>(step_s_);
    const int period = static_cast<int>(absl::ToInt64Seconds(options_.referee_period) / step_s_);
    referee_.emplace(h_, half_life, options_.referee_lose_ratio, period);
    relearn_steps_ =
        static_cast<int>(absl::ToInt64Seconds(options_.change_relearn) / step_s_);
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
  void ApplyReferee(int o, double* path, double base) const {
    if (!referee_.has_value()) return;
    // Options::range_quantile, above the range: from the onset, until the referee has scored
    // change_relearn of origins after it.
    const bool relearning = range_steps_ > 0 && last_above_ >= o - hold_steps_ &&
                            referee_->span() < relearn_steps_;
    const int steps = relearning || referee_->HorizonLoses(o) ? h_ : referee_->PersistenceSteps(o);
    std::fill(path, path + steps, base);
  }

  std::vector<double> Weights01() const {
    std::vector<double> w;
    for (const Member& m : members_) w.push_back(m.weight);
    return w;
  }
  // Weights `full` scaled by `shrink`, the rest given to persistence (member 0).
  void SetShrunk(const std::vector<double>& full, double shrink) {
    for (size_t i = 0; i < members_.size(); ++i) members_[i].weight = shrink * full[i];
    members_.front().weight += 1.0 - shrink;
  }

  // Recency-weighted MAE at the horizon step of the current combination over the backtest.
  double BacktestMae() const {
    if (origins_.empty()) return 0.0;
    double err = 0, total = 0;
    for (size_t i = 0; i < origins_.size(); ++i) {
      err += recency_[i] * std::abs(y_[origins_[i] + h_] - CombineBacktestAtHorizon(i));
      total += recency_[i];
    }
    return err / total;
  }

  // The history's [range_quantile, 1 - range_quantile] quantiles before the backtest window
  // (Options::range_quantile): the lower one is the floor, their distance the margin's unit.
  void SetRange(const Series& history, int64_t step_s, int end) {
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
  int LevelOutOfRange(int o) const {
    const double margin = options_.range_margin * (range_hi_ - range_lo_);
    if (MedianBeyond(o, range_steps_, range_lo_ - margin, /*above=*/false)) return -1;
    return up_steps_ > 0 && MedianBeyond(o, up_steps_, range_hi_ + margin, /*above=*/true) ? 1 : 0;
  }

  // Whether the median of the last `steps` values up to index o (at most the last 64; the
  // upper median, element c/2 of the sorted c values) lies above (or below) `bar`: counted,
  // not sorted.
  bool MedianBeyond(int o, int steps, double bar, bool above) const {
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
  bool TrackRange(int t) {
    const int side = LevelOutOfRange(t);
    if (side == 0) return false;
    const bool start = last_out_of_range_ != t - 1 && last_above_ != t - 1;
    if (side < 0) last_out_of_range_ = t;
    if (side > 0) last_above_ = t;
    if (start) onset_ = t;
    return start;
  }

  // The member's backtest forecasts at the horizon step, one per origin.
  std::vector<double> HorizonBacktest(const Member& m) const {
    std::vector<double> out(origins_.size());
    for (size_t i = 0; i < origins_.size(); ++i) out[i] = m.paths[i * h_ + h_ - 1];
    return out;
  }

  // Options::interval_global_weight: blends q10_/q90_ (quantiles of the normalised backtest
  // residuals, in units of the local volatility) with the same quantiles of persistence's
  // (k+1)-step changes from every index of the history, normalised the same way and scaled by
  // the ratio of the combination's to persistence's mean normalised backtest error at step k.
  // The backtest only has a day of (evenly spaced) origins; the whole history adds many more
  // samples and every phase of short cycles, at the cost of assuming that the combination's
  // errors are shaped like persistence's. `vol` is the floored volatility at each origin,
  // res[k] the combination's normalised residuals at step k (in any order).
  void BlendGlobalQuantiles(const std::vector<double>& vol,
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
  static double SampleQuantile(std::vector<double>& v, double q) {
    const double pos = q * (v.size() - 1);
    const size_t lo = static_cast<size_t>(pos);
    std::nth_element(v.begin(), v.begin() + lo, v.end());
    const double a = v[lo];
    if (lo + 1 >= v.size()) return a;
    const double b = *std::min_element(v.begin() + lo + 1, v.end());
    return a + (pos - lo) * (b - a);
  }

  // Mean absolute one-step change over the vol_steps_ steps up to index o.
  double LocalVolatility(int o) const {
    const int first = std::max(1, o - vol_steps_ + 1);
    double sum = 0;
    for (int t = first; t <= o; ++t) sum += std::abs(y_[t] - y_[t - 1]);
    return o >= first ? sum / (o - first + 1) : 0.0;
  }

  // One step of the combination, anchored on the last value `base` so that equal forecasts
  // combine exactly. values[j] is member j's forecast; members with ok[j] == false are left
  // out. Each forecast is first clipped to the robust consensus (Options::consensus_clip).
  double CombineStep(const double* values, const char* ok, double base, int k) const {
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
  static double WeightedMedian(std::pair<double, double>* v, int c) {
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
  double CombineBacktestStep(size_t i, int k) const {
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
  // At the horizon step (what the gates and the shrink choice read).
  double CombineBacktestAtHorizon(size_t i) const { return CombineBacktestStep(i, h_ - 1); }

  void Combine(int o, double* out) const {
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

  // Whether the current combination beats persistence consistently over the backtest: the
  // t-statistic of the per-block mean gains (Options::min_gain_t, Options::gain_block).
  bool GainIsConsistent() const {
    if (options_.min_gain_t <= 0 || origins_.empty()) return true;
    return GainT(CombinedHorizonBacktest()) >= options_.min_gain_t;
  }

  // The current combination's backtest forecasts at the horizon step, one per origin.
  std::vector<double> CombinedHorizonBacktest() const {
    std::vector<double> forecast(origins_.size());
    for (size_t i = 0; i < origins_.size(); ++i) forecast[i] = CombineBacktestAtHorizon(i);
    return forecast;
  }

  // Whether the current combination did worse than persistence by Options::max_recent_ratio
  // over the last Options::recent_window of backtest origins.
  bool RecentlyWorse() const {
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
  double GainT(const std::vector<double>& forecast) const {
    const auto [mean, se] = GainStats(forecast);
    if (!std::isfinite(se)) return std::numeric_limits<double>::infinity();
    return mean / (se + 1e-12);
  }

  // The mean of the per-block mean gains of `forecast` over persistence (see GainT) and its
  // standard error; the error is +inf with fewer than 3 blocks.
  std::pair<double, double> GainStats(const std::vector<double>& forecast) const {
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

  std::string name_;
  std::vector<ModelKind> kinds_;
  bool ensemble_;
  Options options_;
  bool fitted_ = false;
  bool short_history_ = false;
  bool compacted_ = false;
  internal::Tail y_;
  int h_ = 1;
  int64_t step_s_ = 300;
  std::vector<int> origins_;
  std::vector<double> recency_;  // weight of each backtest origin's error
  std::vector<Member> members_;
  std::vector<double> q10_, q90_;  // in units of the local volatility when vol_steps_ > 0
  int vol_steps_ = 0;
  double vol_floor_ = 0;
  int range_steps_ = 0;  // 0: no out-of-range guard
  int up_steps_ = 0;     // Options::range_up_window in steps; 0: no upper side
  int hold_steps_ = 0;
  std::vector<char> origin_guard_;  // per backtest origin: the guard holds there
  int last_out_of_range_ = 0;       // the last index whose level was below the range
  int last_above_ = 0;              // ... above it
  int onset_ = -1;                  // the first index of the latest run outside it
  int relearn_steps_ = 0;           // Options::change_relearn in steps
  bool saturated_ = false;          // the last value is censored (Series::censored)
  double ceiling_ = 0;              // the last censored value
  double range_lo_ = 0, range_hi_ = 0;
  double confidence_ = 0;
  std::optional<internal::Referee> referee_;  // ensembles only (Options::referee_lose_ratio)
  std::vector<double> cached_path_;           // the combination from index cached_at_ (Append)
  int cached_at_ = -1;
};

}  // namespace

const char* ModelName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kPersistence:
      return "persistence";
    case ModelKind::kSeasonalNaiveDaily:
      return "seasonal_naive_daily";
    case ModelKind::kSeasonalNaiveWeekly:
      return "seasonal_naive_weekly";
    case ModelKind::kSeasonalMeanDaily:
      return "seasonal_mean_daily";
    case ModelKind::kHoltWinters:
      return "holt_winters";
    case ModelKind::kArima:
      return "arima";
    case ModelKind::kGradientBoosting:
      return "gradient_boosting";
    case ModelKind::kRandomForest:
      return "random_forest";
    case ModelKind::kEnsemble:
      return "ensemble";
  }
  return "unknown";
}

std::vector<ModelKind> AllModels() {
  return {ModelKind::kPersistence,         ModelKind::kSeasonalNaiveDaily,
          ModelKind::kSeasonalNaiveWeekly, ModelKind::kSeasonalMeanDaily,
          ModelKind::kHoltWinters,         ModelKind::kArima,
          ModelKind::kGradientBoosting,    ModelKind::kRandomForest};
}

std::unique_ptr<Forecaster> NewForecaster(ModelKind kind, const Options& options) {
  if (kind == ModelKind::kEnsemble) return NewEnsemble(options);
  return internal::NewBucketed(
      std::make_unique<PathForecaster>(ModelName(kind), std::vector<ModelKind>{kind},
                                       /*ensemble=*/false, options),
      options.max_fit_step);
}

std::unique_ptr<Forecaster> NewEnsemble(const Options& options) {
  return internal::NewBucketed(
      std::make_unique<PathForecaster>("ensemble", AllModels(), /*ensemble=*/true, options),
      options.max_fit_step);
}

namespace {
// The PathForecaster behind f (through the bucketing layer), or null.
const PathForecaster* Unwrap(const Forecaster& f) {
  const auto* b = dynamic_cast<const internal::Bucketed*>(&f);
  return dynamic_cast<const PathForecaster*>(b != nullptr ? &b->inner() : &f);
}
}  // namespace

std::vector<std::pair<std::string, double>> EnsembleWeights(const Forecaster& f) {
  const auto* p = Unwrap(f);
  return p != nullptr ? p->Weights() : std::vector<std::pair<std::string, double>>{};
}

namespace internal {
EnsembleTrace TraceEnsemble(const Forecaster& f) {
  const auto* p = Unwrap(f);
  return p != nullptr ? p->Trace() : EnsembleTrace{};
}
}  // namespace internal

Derived Derive(const Band& band, int lead_steps) {
  Derived d;
  if (band.size() == 0) return d;
  const int lead = std::clamp(lead_steps, 1, band.size());
  d.at_horizon = band.p50.back();
  d.at_horizon_p90 = band.p90.back();
  d.peak_lead = *std::max_element(band.p50.begin(), band.p50.begin() + lead);
  d.peak_lead_p90 = *std::max_element(band.p90.begin(), band.p90.begin() + lead);
  return d;
}

}  // namespace predictor
