// The public constructors of forecaster.h (NewForecaster, NewEnsemble), the reports on a
// fitted ensemble and Derive. The forecaster itself is internal::PathForecaster (every model
// and the ensemble), wrapped by internal::Bucketed for steps finer than Options::max_fit_step.
#include "predictor/forecaster.h"

#include <algorithm>

#include "predictor/internal/bucketed.h"
#include "predictor/internal/ensemble_trace.h"
#include "predictor/internal/path_forecaster.h"

namespace predictor {

using internal::PathForecaster;

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
