// Forecasting models behind one interface, and the ensemble the reconciler uses.
//
//   std::unique_ptr<predictor::Forecaster> f = predictor::NewEnsemble();
//   if (f->Fit(series, /*horizon=*/12).ok()) {
//     predictor::Band band = f->Forecast(12);          // p10/p50/p90 for steps 1..12
//     predictor::Derived d = predictor::Derive(band, /*lead_steps=*/2);
//   }
//
// Every model forecasts a path of H steps after the last point of the history it was fitted
// on. Intervals are empirical quantiles of the model's own out-of-sample errors per horizon
// step over the recent past (the last `Options::backtest_window` of the history), normalised
// by the local volatility. The ensemble weights its members by inverse out-of-sample MAE over
// that window, admits only members that beat persistence consistently, clips each member to
// the consensus, and falls back to persistence (always a member) when the combination's gain
// is small, inconsistent, or recently turned into a loss, so a series the models cannot learn
// degrades to persistence. Pure computation, no I/O; a Forecaster is thread-compatible (one
// thread at a time) and owned by its caller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "predictor/series.h"

namespace predictor {

// A forecast path: element k is the forecast for step k+1 after the last observation.
struct Band {
  std::vector<double> p10, p50, p90;
  int size() const { return static_cast<int>(p50.size()); }
};

enum class ModelKind {
  kPersistence,
  kSeasonalNaiveDaily,
  kSeasonalNaiveWeekly,
  kSeasonalMeanDaily,  // the mean of the same time of day over the last (up to) 5 days
  kHoltWinters,
  kArima,
  kGradientBoosting,
  kRandomForest,
  kEnsemble,
};

// "persistence", "seasonal_naive_daily", ..., "ensemble".
const char* ModelName(ModelKind kind);
// Every individual model (not the ensemble), in a fixed order.
std::vector<ModelKind> AllModels();

struct Options {
  // A series with a finer step is fitted on buckets of (a multiple of its step up to) this
  // length: bucket means for the level, read back at the series' own step, the band widened
  // by the spread of the samples within their buckets; so a fit costs about the same at any
  // step (10 s data: the 5-minute fit plus the aggregation). Zero: always the series' step.
  absl::Duration max_fit_step = absl::Minutes(5);
  // Recent past whose out-of-sample errors set intervals and ensemble weights.
  absl::Duration backtest_window = absl::Hours(24);
  // At most this many backtest origins (spread evenly over the window).
  int max_backtest_origins = 144;
  // Below this much history the ensemble uses persistence only (low confidence).
  absl::Duration min_history = absl::Hours(24 * 4);
  // The tree models train on at most this many rows (evenly subsampled).
  int max_tree_rows = 1500;
  // Ensemble members whose backtest MAE exceeds persistence's by this factor get no weight.
  double max_member_mae_ratio = 1.0;
  // ... and so do members whose MAE exceeds the best member's by this factor.
  double max_best_mae_ratio = 1.25;
  // When the weighted combination does not beat persistence's backtest MAE by at least this
  // share, the ensemble serves persistence alone (no signal worth the variance).
  double min_gain = 0.03;
  // ... and so does a combination whose gain is not consistent over the backtest window: the
  // per-origin gains |persistence error| - |combination error| are averaged per
  // `gain_block` (about independent, since the forecasts of origins an horizon apart do not
  // overlap) and their t-statistic must reach this value (a one-sided Diebold-Mariano-style
  // test; 0 disables it).
  double min_gain_t = 1.0;
  absl::Duration gain_block = absl::Hours(1);
  // The same test per member: a member whose own gain over persistence has a t-statistic
  // below this gets no weight (0 disables).
  double min_member_gain_t = 0.75;
  // The combination is shrunk toward persistence by the factor (1, .75, .5, .25) whose gain
  // over persistence on the backtest has the highest lower confidence bound, block mean -
  // this many standard errors (per gain_block, as above); 0: the factor with the lowest
  // backtest MAE.
  double shrink_lcb_k = 1.0;
  // Regime-change guard: when the combination's mean absolute error over the most recent
  // `recent_window` of backtest origins exceeds persistence's there by this factor, the
  // ensemble serves persistence (the members learned a past that has just stopped holding,
  // e.g. a level shift). 0 disables.
  absl::Duration recent_window = absl::Hours(3);
  double max_recent_ratio = 1.5;
  // Out-of-range guard: when the level (the median of the last `range_level_window`) falls
  // below the fitted history's `range_quantile` quantile (taken before the backtest window)
  // by more than `range_margin` of the range between that quantile and its upper mirror, the
  // members are extrapolating from a level they never saw (a fresh drop: a redeploy, traffic
  // moved away, a misconfiguration) and expect the old level back; the forecast is then
  // persistence, for `range_hold` after the level was last seen out of range (until the
  // regime-change guard above has seen the new level in its window). Only drops: a level
  // above the range is left to the members. 0 disables.
  double range_quantile = 0.005;
  double range_margin = 0.1;
  absl::Duration range_level_window = absl::Minutes(30);
  absl::Duration range_hold = absl::Hours(4);
  // Horizon-specific weights: a member's weight at step k is its weight at the horizon times
  // (its backtest MAE at the horizon / at step k)^weight_power, normalised per step, so the
  // first steps lean on the members that are good at short range. The horizon step (and every
  // gate) is unchanged. false: the horizon's weights at every step.
  bool step_weights = true;
  // Online referee: the combination's recency-weighted (referee_half_life) absolute error
  // is compared with persistence's over the same origins: the backtest origins at Fit, then
  // every origin served after Append once its horizon is observed. Where the combination's
  // error exceeds persistence's by this factor, persistence is served: the whole path when it
  // loses at the horizon, the first L steps when its peak over the first L steps (a lead
  // window) loses. It keeps scoring the combination meanwhile and hands back when it wins
  // again. 0 disables.
  double referee_lose_ratio = 1.0;
  // The referee's errors lose half their weight over this much time.
  absl::Duration referee_half_life = absl::Hours(6);
  // The referee keeps its errors per phase of this period and decides at an origin from the
  // phases within one step of the origin's (loads driven by schedules, jobs on the hour, make
  // the combination win at some minutes of the hour and lose at others: pools/cluster1's
  // lead-window peak was 0.68x persistence's at :20 and 1.75x at :40). Zero, or fewer than 3
  // steps per period: one pool.
  absl::Duration referee_period = absl::Hours(1);
  // Change points: a level outside the history's range on either side (the test above, with
  // the same margin) starts a new regime at its onset. The referee then counts only origins
  // after the onset, and above the range persistence is served until the referee has scored
  // this much time of origins after it (the members must show they have re-learned). Below
  // the range the range_hold rule above applies as well.
  absl::Duration change_relearn = absl::Hours(1);
  // Above the range the level is the median of this longer window (a burst decays within
  // it, a jump that stays does not); zero disables the upper side.
  absl::Duration range_up_window = absl::Hours(2);
  // Robust combination: at every step each member's forecast is clipped to the consensus
  // (the weighted median of the members) +- this factor times the larger of the members'
  // weighted median distance from the consensus and the consensus's own move from the last
  // value, so one member forecasting a spike cannot drag the combination (0 disables).
  double consensus_clip = 2.0;
  // Weight = MAE^-weight_power.
  double weight_power = 2.0;
  // The p10/p90 offsets are the backtest residual quantiles times this factor.
  double interval_scale = 1.0;
  // Intervals scale with the local volatility: each backtest residual is divided by the mean
  // absolute one-step change over this window before its origin, and the quantiles of those
  // (equally weighted over the backtest) are multiplied by the same measure at the forecast
  // origin (also after Append), so the band narrows after a calm-down and widens in a burst.
  // Zero: raw residuals, recency-weighted like the member weights.
  absl::Duration interval_volatility_window = absl::Hours(2);
  // With the volatility scaling on, the normalised residual quantiles are blended with this
  // weight with those of persistence's h-step changes over the whole history (normalised by
  // the local volatility at each index the same way), scaled by the ratio of the
  // combination's to persistence's mean normalised backtest error at that step. 0: backtest
  // residuals only.
  double interval_global_weight = 0.6;
  // Backtest errors are weighted by recency with this half-life (zero: all equal), for both
  // the member weights and the interval quantiles, so both follow a change of regime.
  absl::Duration recency_half_life = absl::Hours(6);
  // The ARIMA fits on at most this much recent history.
  absl::Duration arima_history = absl::Hours(24 * 3);
  // After Fit, free what only Fit needs (the members' backtest paths, members that can never
  // contribute, full-length model state, history older than any remaining member looks back).
  // Forecasts, Confidence and the weights are identical either way; false keeps everything for
  // diagnostics (internal::TraceEnsemble needs the backtest paths). Sizes: predictor/README.md.
  bool compact_after_fit = true;
};

class Forecaster {
 public:
  virtual ~Forecaster() = default;
  virtual std::string Name() const = 0;
  // Fits on the whole history, for forecasts up to `horizon` steps ahead (the interval
  // calibration and the tree targets use it). InvalidArgument on an empty history or a
  // horizon < 1. Models that need more history than given fall back to persistence
  // internally and report a low Confidence(); they never fail for that reason.
  virtual absl::Status Fit(const Series& history, int horizon) = 0;
  // Appends one new observation at the next step without refitting parameters, weights or
  // intervals (the cheap incremental update). `censored`: the value is a lower bound on
  // demand (it sat at a ceiling: CPU at the pod's limit, utilisation at 100 %); while the
  // last value is censored, p50 and p90 are never below it. FailedPrecondition before Fit,
  // InvalidArgument for a non-finite value.
  virtual absl::Status Append(double value, bool censored) = 0;
  absl::Status Append(double value) { return Append(value, false); }
  // Forecast for steps 1..horizon after the last observation; horizon is clamped to
  // [1, the horizon given to Fit]. Never NaN. Empty before a successful Fit.
  virtual Band Forecast(int horizon) const = 0;
  // 0..1: how far to trust the forecast (history length and out-of-sample error).
  virtual double Confidence() const = 0;
};

// One individual model, or the ensemble for kEnsemble.
std::unique_ptr<Forecaster> NewForecaster(ModelKind kind, const Options& options = {});
std::unique_ptr<Forecaster> NewEnsemble(const Options& options = {});

// Ensemble-specific view (for reports): current member weights by model name.
std::vector<std::pair<std::string, double>> EnsembleWeights(const Forecaster& ensemble);

// What the reconciler needs from a path.
struct Derived {
  double at_horizon = 0;      // p50 at the last step
  double at_horizon_p90 = 0;  // p90 at the last step
  double peak_lead = 0;       // max p50 over steps 1..lead
  double peak_lead_p90 = 0;   // max p90 over steps 1..lead
};
// lead_steps is clamped to [1, band.size()]. All zero for an empty band.
Derived Derive(const Band& band, int lead_steps);

}  // namespace predictor
