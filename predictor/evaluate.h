// Rolling-origin evaluation of the forecasters on one series: what `smart-autoscaler forecast
// --evaluate` prints and BENCHMARKS.md reports. Pure computation (times itself with the
// injected clock function); no I/O.
//
//   predictor::EvalOptions opt;  // 60 min horizon, origins every 60 min over the last 2 days
//   absl::StatusOr<predictor::EvalReport> r = predictor::Evaluate(series, opt);
//   for (const auto& m : r->models) std::cout << m.name << " " << m.mase << "\n";
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "predictor/forecaster.h"
#include "predictor/series.h"

namespace predictor {

struct EvalOptions {
  absl::Duration horizon = absl::Minutes(60);
  absl::Duration lead = absl::Minutes(10);
  absl::Duration origin_step = absl::Minutes(60);
  absl::Duration eval_span = absl::Hours(48);
  absl::Duration train_span = absl::Hours(24 * 7);
  std::vector<ModelKind> models = {ModelKind::kPersistence,
                                   ModelKind::kSeasonalNaiveDaily,
                                   ModelKind::kSeasonalNaiveWeekly,
                                   ModelKind::kSeasonalMeanDaily,
                                   ModelKind::kHoltWinters,
                                   ModelKind::kArima,
                                   ModelKind::kGradientBoosting,
                                   ModelKind::kRandomForest,
                                   ModelKind::kEnsemble};
  Options forecaster;
  // Monotonic time source for the per-origin timings (absl::Now by default).
  std::function<absl::Time()> now;
};

// One origin's result for one model.
struct EvalRow {
  absl::Time origin, target;
  double actual = 0, forecast = 0, p10 = 0, p90 = 0;
  double actual_peak_lead = 0, peak_lead = 0, peak_lead_p90 = 0;
};

struct ModelScore {
  std::string name;
  int origins = 0;
  double mae = 0, rmse = 0, smape = 0, mase = 0;
  double peak_mae = 0, peak_rmse = 0, peak_smape = 0, peak_mase = 0;  // p50 peak over the lead
  double peak_p90_mase = 0;  // MAE of the p90 peak over the lead window / mase_scale
  double coverage = 0;  // share of actuals within [p10, p90]
  double mean_ms = 0;   // fit + forecast per origin
  std::vector<EvalRow> rows;
};

struct EvalReport {
  int horizon_steps = 0, lead_steps = 0;
  absl::Duration step;
  double mase_scale = 0;  // in-sample MAE of the daily seasonal-naive one-step forecast
  std::vector<ModelScore> models;
};

// InvalidArgument when the series is too short for one origin with a day of training.
absl::StatusOr<EvalReport> Evaluate(const Series& series, const EvalOptions& options);

}  // namespace predictor
