// Google Benchmark for the predictor: ensemble fit + forecast per origin on 7 days of 5-minute
// data (2016 points, 1 h horizon), each model alone, and the incremental update (Append +
// Forecast) without refit. Built, not run, by CI:
//   bazel run -c opt //predictor:predictor_bench -- --benchmark_min_time=2
#include <cmath>
#include <random>

#include "benchmark/benchmark.h"
#include "predictor/forecaster.h"

namespace predictor {
namespace {

// A load-like series: daily cycle, weekly modulation, AR(1) noise and occasional spikes.
Series Trace(int n) {
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Series s;
  s.start = absl::FromUnixSeconds(1700006400);
  s.step = absl::Minutes(5);
  double ar = 0;
  for (int i = 0; i < n; ++i) {
    ar = 0.8 * ar + noise(rng);
    const double day = std::sin(2 * M_PI * i / 288.0);
    const double week = 1 + 0.1 * std::sin(2 * M_PI * i / 2016.0);
    s.values.push_back(std::max(0.0, 40 * week + 15 * day + 2 * ar + (u(rng) < 0.01 ? 30 : 0)));
  }
  s.gap.assign(n, 0);
  return s;
}

void BM_FitForecast(benchmark::State& state, ModelKind kind) {
  const Series s = Trace(7 * 288);
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
  const Series s = Trace(7 * 288 + 100000);
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
