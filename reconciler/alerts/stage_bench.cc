// The cost of seeding one deployment's anomaly detectors with its loaded week (2016 5-minute
// buckets): the spike detector fed the week (its last 8 h replayed at the reading interval,
// the arg in seconds; 0: no replay) and the pattern tracker's ensemble fitted on it. And one
// cycle's SeedQueued with 1,000 weeks queued at once, under a budget of the arg per cycle
// (50: the default; 1000: all of them, as before the budget), readings every 10 s.
//   bazel run -c opt //reconciler/alerts:stage_bench
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "base/clock.h"
#include "benchmark/benchmark.h"
#include "reconciler/alerts/stage.h"

namespace reconciler::alerts {
namespace {

class NullNotifier : public Notifier {
 public:
  void Notify(const clients::webhook::Alert&) override {}
};

const absl::Time t0 = absl::FromUnixSeconds(1700000000);

std::vector<predictor::Sample> Week() {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0, 20);
  std::vector<predictor::Sample> week;
  for (int i = 0; i < 7 * 288; ++i) {
    week.push_back(
        {t0 + i * absl::Minutes(5), 800 + 200 * std::sin(2 * M_PI * i / 288) + noise(rng)});
  }
  return week;
}

void BM_SeedWeek(benchmark::State& state) {
  const std::vector<predictor::Sample> week = Week();
  base::FakeClock clock(t0 + absl::Hours(24 * 7));
  NullNotifier n;
  AlertManager m(&n, &clock);
  StageOptions o;
  o.reading_interval = absl::Seconds(state.range(0));
  AnomalyStage stage(&m, o);
  for (auto _ : state) benchmark::DoNotOptimize(stage.Seed("shop", "api", week));
}
BENCHMARK(BM_SeedWeek)->Arg(0)->Arg(60)->Arg(10)->Unit(benchmark::kMillisecond);

void BM_SeedQueuedCycle(benchmark::State& state) {
  const std::vector<predictor::Sample> week = Week();
  base::FakeClock clock(t0 + absl::Hours(24 * 7));
  NullNotifier n;
  AlertManager m(&n, &clock);
  StageOptions o;
  o.reading_interval = absl::Seconds(10);
  o.seeds_per_cycle = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    AnomalyStage stage(&m, o);
    for (int d = 0; d < 1000; ++d) {
      if (!stage.QueueSeed("shop", "api-" + std::to_string(d), week).ok()) std::abort();
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(stage.SeedQueued());
    state.PauseTiming();
    state.counters["pending"] = stage.seed_progress().pending;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_SeedQueuedCycle)->Arg(50)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SeedQueuedCycle)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reconciler::alerts
