// Google Benchmark for the predictor: ensemble fit + forecast per origin on 7 days of 5-minute
// data (2016 points, 1 h horizon), each model alone, and the incremental update (Append +
// Forecast) without refit. Built, not run, by CI:
//   bazel run -c opt //predictor:predictor_bench -- --benchmark_min_time=2
#include "benchmark/benchmark.h"
#include "predictor/forecaster.h"
#include "predictor/synthetic.h"

namespace predictor {
namespace {

void BM_FitForecast(benchmark::State& state, ModelKind kind) {
  const Series s = SyntheticLoad(7 * 288);
  for (auto _ : state) {
    auto f = NewForecaster(kind);
    if (!f->Fit(s, 12).ok()) state.SkipWithError("fit failed");
    benchmark::DoNotOptimize(f->Forecast(12));
  }
}
BENCHMARK_CAPTURE(BM_FitForecast, ensemble, ModelKind::kEnsemble)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitForecast, holt_winters, ModelKind::kHoltWinters)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitForecast, arima, ModelKind::kArima)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitForecast, gradient_boosting, ModelKind::kGradientBoosting)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FitForecast, random_forest, ModelKind::kRandomForest)
    ->Unit(benchmark::kMillisecond);

void BM_IncrementalUpdate(benchmark::State& state) {
  const Series s = SyntheticLoad(7 * 288 + 100000);
  Series head = s;
  head.values.resize(7 * 288);
  head.gap.resize(7 * 288);
  auto f = NewEnsemble();
  if (!f->Fit(head, 12).ok()) state.SkipWithError("fit failed");
  size_t i = head.values.size();
  for (auto _ : state) {
    if (!f->Append(s.values[i++ % s.values.size()]).ok()) state.SkipWithError("append failed");
    benchmark::DoNotOptimize(f->Forecast(12));
  }
}
BENCHMARK(BM_IncrementalUpdate)->Unit(benchmark::kMicrosecond)->Iterations(50000);

}  // namespace
}  // namespace predictor
