// forecast_tracker: one deployment's demand history and forecast. It holds the history in
// 5-minute buckets (a week), the forecaster (refit hourly, updated by Append in between), the
// forecasts waiting for their target time, the validation log they land in, and the learned
// target (auto-tuning). No store, no Prometheus, no clock: the caller passes data and times in,
// so the live loop and the backtest drive it the same way.
//
//   reconciler::ForecastTracker tracker("shop/api");
//   tracker.SetLead(absl::Minutes(10));
//   tracker.Observe(now, demand_cores, threshold_cores, /*predictive=*/true);  // every cycle
//   reconciler::ForecastView v = tracker.View(now, {});
//
// Demand is in cores; thresholds are the demand (cores) at which the target is reached, the
// line a forecast's false positives are counted against. Thread-compatible.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "predictor/forecaster.h"
#include "predictor/validation.h"
#include "reconciler/decision.h"

namespace reconciler {

// One forecast made at a bucket boundary: what the history writer stores.
struct ForecastRecord {
  absl::Time origin;     // the bucket the forecast starts after
  absl::Duration step;   // ForecastTracker::kStep; band element k is at origin + (k+1) x step
  absl::Duration lead;   // the deployment's lead window
  std::string model;     // the forecaster's name
  predictor::Band band;  // cores
  double peak_lead_p50_cores = 0;
  double peak_lead_p90_cores = 0;
};

struct ForecastViewOptions {
  bool predictive = true;     // ENABLE_PREDICTIVE
  double min_accuracy = 0.6;  // PREDICTION_MIN_ACCURACY (0-1)
};

class ForecastTracker {
 public:
  // The bucket step (the predictor's step) and the history kept: 7 days.
  static constexpr absl::Duration kStep = absl::Minutes(5);
  static constexpr int kHistoryBuckets = 7 * 24 * 12;
  static constexpr absl::Duration kRefitEvery = absl::Hours(1);

  // `name` ("namespace/deployment") only labels log lines.
  explicit ForecastTracker(std::string name);
  ~ForecastTracker();

  // The lead window forecasts look ahead (at least one step). Takes effect at the next fit.
  void SetLead(absl::Duration lead) { lead_ = lead; }
  absl::Duration lead() const { return lead_; }

  // Loads a history (bucket start -> mean demand, cores, in time order; gaps hold the previous
  // value) before the first Observe. Seeds the validation log out of sample (fit without the
  // last two hours, then forecast each of them as the live loop would have, against
  // `threshold_cores`) and fits the forecaster at `now`. Nothing happens for empty `points`.
  // `censored` (empty: none) is parallel to `points`: != 0 where the bucket's demand sat at the
  // pods' CPU limit (a lower bound on demand, predictor::Series::censored).
  void LoadHistory(const std::vector<std::pair<absl::Time, double>>& points, absl::Time now,
                   double threshold_cores, const std::vector<uint8_t>& censored = {});

  // One cycle's demand at `now`. The readings of a 5-minute bucket are averaged; when a bucket
  // closes it joins the history (missed buckets hold the last value), validates the forecasts
  // aimed at it and, when `predictive`, refits or updates the model and forecasts the lead
  // window (a ForecastRecord; a pending forecast validated against `threshold_cores`).
  // `censored`: the reading sat at the pods' CPU limit (Reading::saturated), so it is a lower
  // bound on demand; a bucket with any censored reading is censored, is never forecast below
  // (predictor Append(value, censored)) and gives no peak to the learned target.
  void Observe(absl::Time now, double demand_cores, double threshold_cores, bool predictive,
               bool censored = false);

  // One cycle's 1-minute demand (cores: every pod's CPU over the last minute, summed), in time
  // order. Each reading becomes a rise sample once kRiseHorizon has passed: the most the
  // demand reached over the horizon after it, minus it.
  void ObserveRecent(absl::Time now, double cores_1m);

  // Auto-tuning. Every cycle: with kMinRiseSamples rises from the last kRiseRecent, the risk
  // headroom is their kRiseQuantile (policy.h RiseHeadroomCores) and the learned target is
  // kRiskTargetPct, hot because the headroom is explicit. Without them (the first hours), once
  // a week of history is held, the learned target is policy.h LearnedTargetPct, recomputed
  // hourly, and there is no headroom. Both are cleared when not `enabled`.
  void RefreshLearnedTarget(absl::Time now, bool enabled);
  absl::optional<double> LearnedTargetPct() const { return learned_; }
  absl::optional<double> RiseHeadroomCores() const { return rise_headroom_; }

  // A reading's rise is measured over this horizon: about one HPA sync, a pod's start-up and
  // the 1-minute rate's window (15 s + 90 s + 60 s), the time from a rise to the capacity it
  // calls for serving load.
  static constexpr absl::Duration kRiseHorizon = absl::Minutes(3);
  // The rises the headroom is learned from, and how many it needs (an hour of 1-minute cycles:
  // measured in BENCHMARKS.md, "issue 13, 2026-12-04", against 3 hours, the old learned target
  // holding the first hours of a replay costs more than a quantile from fewer rises).
  static constexpr absl::Duration kRiseRecent = absl::Hours(24);
  static constexpr int kMinRiseSamples = 60;
  // Measured in BENCHMARKS.md ("Risk headroom"), chosen on the development half of the traces:
  // 0.99 of the last 24 h beat 0.9 / 0.95 / 0.98 / 0.995, the last 6 h, the last 2 h, the last
  // 6 h plus the same hour of earlier days, and the relative rise (max ahead / now).
  static constexpr double kRiseQuantile = 0.99;
  static constexpr double kRiskTargetPct = 90;

  // The forecast and its validation over the last 24 h at `now`, with persistence's (the
  // origin's bucket carried forward) accuracy and error over the same origins. Trusted needs
  // the validation gates and a lower error than persistence's (BENCHMARKS.md, issue 13 round 2).
  ForecastView View(absl::Time now, const ForecastViewOptions& options) const;

  // The forecasts made since the last call (oldest first); the tracker forgets them.
  std::vector<ForecastRecord> TakeForecastRecords();

  // Memory pressure: while paused, a due refit (or the first fit) is skipped; the model, when
  // there is one, is updated by Append and keeps forecasting. Counted in refits_skipped().
  void SetRefitsPaused(bool paused) { refits_paused_ = paused; }
  int64_t refits_skipped() const { return refits_skipped_; }

  int HistoryPoints() const { return static_cast<int>(history_.size()); }
  int ValidatedCount() const { return static_cast<int>(validated_.size()); }

 private:
  struct Open {  // a 1-minute reading whose horizon is still open
    absl::Time at;
    double cores, max_ahead;
    bool seen;  // a later reading fell inside the horizon
  };
  absl::optional<double> RiskHeadroom(absl::Time now) const;
  struct Pending {
    absl::Time target;
    double forecast, threshold;
    double persistence;  // the origin bucket's demand: persistence's forecast of the target
  };
  // A validated forecast and persistence's forecast from the same origin, scored alike.
  struct Scored {
    predictor::Validated forecast;
    predictor::Validated persistence;
  };
  void PushBucket(absl::Time bucket, double value, bool censored, double threshold,
                  absl::Time now, bool predictive);
  predictor::Series HistorySeries(size_t drop_last) const;
  void Forecast(absl::Time bucket, double threshold);
  void Refit(absl::Time now);
  void SeedValidation(double threshold);
  int LeadSteps() const;

  const std::string name_;
  absl::Duration lead_ = absl::Minutes(10);
  // Demand history in 5-minute buckets (mean of the cycle readings in each bucket).
  std::deque<double> history_;
  std::deque<uint8_t> censored_;  // parallel to history_: 1 where the bucket was censored
  absl::Time history_start_ = absl::InfinitePast();
  absl::Time bucket_start_ = absl::InfinitePast();
  double bucket_sum_ = 0;
  int bucket_n_ = 0;
  bool bucket_censored_ = false;
  std::unique_ptr<predictor::Forecaster> model_;
  absl::Time last_fit_ = absl::InfinitePast();
  absl::optional<predictor::Derived> derived_;
  std::deque<Pending> pending_;
  std::vector<Scored> validated_;
  absl::optional<double> learned_;
  absl::optional<double> rise_headroom_;
  std::deque<Open> open_;
  std::deque<std::pair<absl::Time, double>> rises_;  // origin time, rise (cores)
  absl::Time learned_at_ = absl::InfinitePast();
  std::vector<ForecastRecord> records_;
  bool refits_paused_ = false;
  int64_t refits_skipped_ = 0;
};

}  // namespace reconciler
