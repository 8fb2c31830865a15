// PathForecaster: one class serves every model and the ensemble: a list of members fitted on
// the same history, each backtested at recent origins (out of sample for the state and, for
// the trees, for the parameters too). A single model is an "ensemble" whose first member gets
// all the weight while it can forecast, with persistence as its fallback.
//
//   internal::PathForecaster f("ensemble", AllModels(), /*ensemble=*/true, Options{});
//   f.Fit(series, /*horizon=*/12);
//   Band b = f.Forecast(12);
//
// Not part of the public contract (forecaster.h's NewForecaster / NewEnsemble build it, behind
// the bucketing layer). Its methods live in four files by concern: path_forecaster.cc (fit,
// members, append, forecast, compaction), path_weights.cc (weights, gates, shrink, referee),
// path_combine.cc (the robust combination and the out-of-range guard) and path_intervals.cc
// (intervals and confidence). Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "predictor/forecaster.h"
#include "predictor/internal/ensemble_trace.h"
#include "predictor/internal/model.h"
#include "predictor/internal/referee.h"

namespace predictor {
namespace internal {

// More than every model kind: the consensus works on a fixed-size stack array.
inline constexpr int kMaxMembers = 16;

class PathForecaster : public Forecaster {
 public:
  PathForecaster(std::string name, std::vector<ModelKind> kinds, bool ensemble,
                 const Options& options)
      : name_(std::move(name)), kinds_(std::move(kinds)), ensemble_(ensemble), options_(options) {}

  std::string Name() const override { return name_; }
  absl::Status Fit(const Series& history, int horizon) override;

  using Forecaster::Append;
  absl::Status Append(double value, bool censored) override;

  Band Forecast(int horizon) const override;

  double Confidence() const override { return confidence_; }

  // What the fit saw in its backtest (empty backtests once compacted), for tools.
  EnsembleTrace Trace() const;
  // (member name, weight at the horizon) in member order, persistence first.
  std::vector<std::pair<std::string, double>> Weights() const;

 private:
  struct Member {
    std::unique_ptr<Model> model;  // null after Compact when the member can never contribute
    const char* name = "";
    bool primary = false;       // the model a single-model forecaster is named after
    std::vector<double> paths;  // origins x h_, backtest forecasts
    double mae = 0;             // at the horizon step over the backtest origins
    double weight = 0;
    double consensus_weight = 0;      // weight before shrinking, for the robust consensus
    std::vector<double> step_mae;     // per horizon step over the backtest origins
    std::vector<double> step_weight;  // per horizon step (SetStepWeights); empty: `weight`
  };

  // Fits a member and backtests it at every origin; leaves it out when it cannot forecast
  // (an ensemble also when it cannot be backtested).
  void AddMember(ModelKind kind, const FitContext& ctx);
  // The members' weights (the gates, the shrink toward persistence, per-step weights, the
  // referee), then the intervals and the confidence.
  void Weigh();
  // The interval quantiles (q10_, q90_, vol_steps_, vol_floor_) from the final combination's
  // backtest residuals; returns its recency-weighted MAE at the horizon (a random-walk
  // figure without backtest origins). `scale`: the mean absolute value of the history.
  double SetIntervals(double scale);
  // confidence_ from the out-of-sample MAE relative to `scale`, scaled down for short
  // histories and for a single model that fell back to persistence.
  void SetConfidence(double mae, double scale);
  // Keeps what Forecast, Append, Confidence and the weights need (Options::compact_after_fit):
  // the members' backtest paths and the backtest origins go; so do the models of members
  // that Combine never reads (no weight, and no consensus weight or no consensus; their names
  // and weights stay for reports), full-length model state, and the history older than the
  // remaining members and the local volatility read.
  void Compact();
  // Options::step_weights: each member's weight at step k is its final weight (at the horizon)
  // times (its MAE at the horizon / its MAE at step k)^weight_power, normalised per step. The
  // horizon step, and so every gate and the shrink choice, is unchanged; a member that is
  // relatively better at short steps (persistence, the anchored models) gets more of them, so
  // a member that is good an hour ahead (yesterday's value) but jumps at once does not carry
  // its jump into the first steps.
  void SetStepWeights(double eps);
  // Member j's weight at step k (0-based).
  double StepWeight(int j, int k) const {
    const Member& m = members_[j];
    return m.step_weight.empty() ? m.weight : m.step_weight[k];
  }
  // The referee (Options::referee_lose_ratio), scored over the backtest origins with the
  // combination as set by the gates.
  void StartReferee();
  // Persistence where the referee says the combination is losing: the whole path when it
  // loses at the horizon, else the steps whose running peak loses.
  void ApplyReferee(int o, double* path, double base) const;
  std::vector<double> Weights01() const;
  // Weights `full` scaled by `shrink`, the rest given to persistence (member 0).
  void SetShrunk(const std::vector<double>& full, double shrink);
  // Recency-weighted MAE at the horizon step of the current combination over the backtest.
  double BacktestMae() const;
  // The history's [range_quantile, 1 - range_quantile] quantiles before the backtest window
  // (Options::range_quantile): the lower one is the floor, their distance the margin's unit.
  void SetRange(const Series& history, int64_t step_s, int end);
  // Whether the level at index o (the median of the last range_steps_ values) lies below the
  // range by more than Options::range_margin of its width.
  // (At steps under 30 s the window is the last 64 values.)
  int LevelOutOfRange(int o) const;
  // Whether the median of the last `steps` values up to index o (at most the last 64; the
  // upper median, element c/2 of the sorted c values) lies above (or below) `bar`: counted,
  // not sorted.
  bool MedianBeyond(int o, int steps, double bar, bool above) const;
  // Updates the range state with the level at index t (in increasing order of t): the last
  // index below / above the range, and the onset of the latest run outside it. True when a
  // run starts at t (a change point).
  bool TrackRange(int t);
  // The member's backtest forecasts at the horizon step, one per origin.
  std::vector<double> HorizonBacktest(const Member& m) const;
  // Options::interval_global_weight: blends q10_/q90_ (quantiles of the normalised backtest
  // residuals, in units of the local volatility) with the same quantiles of persistence's
  // (k+1)-step changes from every index of the history, normalised the same way and scaled by
  // the ratio of the combination's to persistence's mean normalised backtest error at step k.
  // The backtest only has a day of (evenly spaced) origins; the whole history adds many more
  // samples and every phase of short cycles, at the cost of assuming that the combination's
  // errors are shaped like persistence's. `vol` is the floored volatility at each origin,
  // res[k] the combination's normalised residuals at step k (in any order).
  void BlendGlobalQuantiles(const std::vector<double>& vol,
                            const std::vector<std::vector<std::pair<double, double>>>& res);
  // The q-quantile of v, linear between order statistics (reorders v).
  static double SampleQuantile(std::vector<double>& v, double q);
  // Mean absolute one-step change over the vol_steps_ steps up to index o.
  double LocalVolatility(int o) const;
  // One step of the combination, anchored on the last value `base` so that equal forecasts
  // combine exactly. values[j] is member j's forecast; members with ok[j] == false are left
  // out. Each forecast is first clipped to the robust consensus (Options::consensus_clip).
  double CombineStep(const double* values, const char* ok, double base, int k) const;
  // The smallest value whose cumulative weight reaches half the total (sorts v in place).
  static double WeightedMedian(std::pair<double, double>* v, int c);
  // The combination of the backtest paths from origin i, step k (0-based) only.
  double CombineBacktestStep(size_t i, int k) const;
  // At the horizon step (what the gates and the shrink choice read).
  double CombineBacktestAtHorizon(size_t i) const { return CombineBacktestStep(i, h_ - 1); }
  void Combine(int o, double* out) const;
  // Whether the current combination beats persistence consistently over the backtest: the
  // t-statistic of the per-block mean gains (Options::min_gain_t, Options::gain_block).
  bool GainIsConsistent() const;
  // The current combination's backtest forecasts at the horizon step, one per origin.
  std::vector<double> CombinedHorizonBacktest() const;
  // Whether the current combination did worse than persistence by Options::max_recent_ratio
  // over the last Options::recent_window of backtest origins.
  bool RecentlyWorse() const;
  // t-statistic of the gain of `forecast` (at the horizon step, one per backtest origin) over
  // persistence: per-origin gains |persistence error| - |error|, averaged per gain_block, the
  // mean of those block means over its standard error. +inf with fewer than 3 blocks.
  double GainT(const std::vector<double>& forecast) const;
  // The mean of the per-block mean gains of `forecast` over persistence (see GainT) and its
  // standard error; the error is +inf with fewer than 3 blocks.
  std::pair<double, double> GainStats(const std::vector<double>& forecast) const;

  std::string name_;
  std::vector<ModelKind> kinds_;
  bool ensemble_;
  Options options_;
  bool fitted_ = false;
  bool short_history_ = false;
  bool compacted_ = false;
  Tail y_;
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
  std::optional<Referee> referee_;   // ensembles only (Options::referee_lose_ratio)
  std::vector<double> cached_path_;  // the combination from index cached_at_ (Append)
  int cached_at_ = -1;
};

}  // namespace internal
}  // namespace predictor
