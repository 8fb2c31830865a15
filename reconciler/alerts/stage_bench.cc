// The cost of seeding one deployment's anomaly detectors with its loaded week (2016 5-minute
// buckets): the spike detector fed the week (its last 8 h replayed at the reading interval,
// the arg in seconds; 0: no replay) and the pattern tracker's ensemble fitted on it.
//   bazel run -c opt //reconciler/alerts:stage_bench
#include <cmath>
#include <random>
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

void BM_SeedWeek(benchmark::State& state) {
  const absl::Time t0 = absl::FromUnixSeconds(1700000000);
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0, 20);
  std::vector<predictor::Sample> week;
  for (int i = 0; i < 7 * 288; ++i) {
    week.push_back(
        {t0 + i * absl::Minutes(5), 800 + 200 * std::sin(2 * M_PI * i / 288) + noise(rng)});
  }
  base::FakeClock clock(t0 + absl::Hours(24 * 7));
  NullNotifier n;
  AlertManager m(&n, &clock);
  StageOptions o;
  o.reading_interval = absl::Seconds(state.range(0));
  AnomalyStage stage(&m, o);
  for (auto _ : state) benchmark::DoNotOptimize(stage.Seed("shop", "api", week));
}
BENCHMARK(BM_SeedWeek)->Arg(0)->Arg(60)->Arg(10)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reconciler::alerts
