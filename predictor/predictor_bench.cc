// Google Benchmark for the predictor: ensemble fit + forecast per origin on 7 days of 5-minute
// data (2016 points, 1 h horizon) and at steps of 10 s to 5 min, each model alone, and the incremental update (Append +
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

// 7 days at a step of state.range(0) seconds (10 s to 5 min), 1 h horizon: the 5-minute
// synthetic load held through each bucket, with a deterministic wiggle between samples.
void BM_FitForecastAtStep(benchmark::State& state) {
  const int step_s = static_cast<int>(state.range(0));
  const int per_5m = 300 / step_s;
  const Series base = SyntheticLoad(7 * 288);
  Series s = base;
  s.step = absl::Seconds(step_s);
  s.values.clear();
  for (int i = 0; i < 7 * 288 * per_5m; ++i)
    s.values.push_back(base.values[i / per_5m] + 0.5 * ((i * 7919) % 13 - 6));
  s.gap.assign(s.values.size(), 0);
  const int horizon = 3600 / step_s;
  for (auto _ : state) {
    auto f = NewEnsemble();
    if (!f->Fit(s, horizon).ok()) state.SkipWithError("fit failed");
    benchmark::DoNotOptimize(f->Forecast(horizon));
  }
}
BENCHMARK(BM_FitForecastAtStep)->Arg(10)->Arg(30)->Arg(60)->Arg(300)->Unit(benchmark::kMillisecond);

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
