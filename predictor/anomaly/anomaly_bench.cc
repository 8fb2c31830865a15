// Per-cycle cost of the anomaly detectors for one deployment.
//   bazel run -c opt //predictor/anomaly:anomaly_bench
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "predictor/anomaly/detectors.h"
#include "predictor/anomaly/spike.h"

namespace predictor::anomaly {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1400000000);

std::vector<Sample> Load(int n, absl::Duration step) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0, 5);
  std::vector<Sample> h;
  for (int i = 0; i < n; ++i) h.push_back({kT0 + i * step, 60 + noise(rng)});
  return h;
}

// One Update of a detector that already holds a week of history at `step` (arg: seconds).
void BM_SpikeUpdate(benchmark::State& state) {
  const absl::Duration step = absl::Seconds(state.range(0));
  const int week = static_cast<int>(absl::Hours(24 * 7) / step);
  std::vector<Sample> h = Load(week + 4096, step);
  SpikeDetector d;
  int i = 0;
  for (; i < week; ++i) d.Update(h[i].time, h[i].value);
  absl::Time t = h[i - 1].time;
  for (auto _ : state) {
    // The noise repeats every 4096 values; the times keep increasing.
    t += step;
    benchmark::DoNotOptimize(d.Update(t, h[week + (i++ & 4095)].value));
  }
}
BENCHMARK(BM_SpikeUpdate)->Arg(300)->Arg(60);

// The three sustained detectors over one hour of 1-minute samples.
void BM_SustainedDetectors(benchmark::State& state) {
  std::vector<Sample> util = Load(60, absl::Minutes(1));
  std::vector<Sample> replicas;
  std::vector<BandSample> band;
  for (int i = 0; i < 60; ++i) {
    replicas.push_back({util[i].time, 3.0 + (i / 7) % 2});
    band.push_back({util[i].time, util[i].value, 50, 70});
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(DetectPersistentHigh(util));
    benchmark::DoNotOptimize(DetectThrashing(replicas));
    benchmark::DoNotOptimize(DetectPatternDeviation(band));
  }
}
BENCHMARK(BM_SustainedDetectors);

}  // namespace
}  // namespace predictor::anomaly
