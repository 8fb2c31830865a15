// Cost computation for 1,000 deployments x 30 days, without the store (what ComputeCost and
// RecommendRequests cost on their own). Each deployment: pods replaced every 2 days (8 at a
// time, 128 lifetimes), usage every 60 s (43,200 spans) or hourly (720 spans), right-sizing
// over 8 days of 60-s samples.
//
//   bazel run -c opt //reconciler/costs:costs_bench
#include <cmath>
#include <vector>

#include "benchmark/benchmark.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);
constexpr absl::Duration kDays30 = absl::Hours(24 * 30);

std::vector<PodLifetime> Pods() {
  std::vector<PodLifetime> out;
  for (int slot = 0; slot < 8; ++slot) {
    for (absl::Time t = kT0 - absl::Hours(slot * 6); t < kT0 + kDays30; t += absl::Hours(48)) {
      out.push_back({"p", t, t + absl::Hours(48), 250, 512000000, "n", slot % 2 ? "big" : ""});
    }
  }
  return out;
}

std::vector<UsageSpan> Usage(absl::Duration step) {
  std::vector<UsageSpan> out;
  for (absl::Time t = kT0; t < kT0 + kDays30; t += step) {
    const double day = absl::ToDoubleHours(t - kT0) / 24;
    out.push_back({t, step, 1.2 + 0.6 * std::sin(day * 6.283), 2.5e9});
  }
  return out;
}

RightsizingInput Rightsizing() {
  RightsizingInput in;
  in.now = kT0 + kDays30;
  for (absl::Time t = in.now - absl::Hours(192); t < in.now; t += absl::Seconds(60)) {
    const double day = absl::ToDoubleHours(t - kT0) / 24;
    in.cpu.push_back({t, 0.15 + 0.07 * std::sin(day * 6.283), false});
    in.memory.push_back({t, 3.1e8 + 1e7 * std::sin(day)});
  }
  in.cpu_request_millicores = 250;
  in.memory_request_bytes = 512000000;
  in.average_pods = 8;
  return in;
}

void Run(benchmark::State& state, absl::Duration step, bool rightsizing) {
  const auto pods = Pods();
  const auto usage = Usage(step);
  const auto rs = Rightsizing();
  auto table = PriceTable::Parse("label pool\nbig 0.05 0.006\n", {0.04, 0.005});
  double sink = 0;
  for (auto _ : state) {
    for (int d = 0; d < 1000; ++d) {
      CostReport r = ComputeCost(pods, usage, kT0, kT0 + kDays30, *table);
      sink += r.total_cost;
      if (rightsizing) sink += RecommendRequests(rs).cpu.value;
    }
  }
  benchmark::DoNotOptimize(sink);
  state.counters["deployments"] = 1000;
  state.counters["spans_per_deployment"] = static_cast<double>(usage.size());
}

void BM_1000x30DaysRaw60s(benchmark::State& s) { Run(s, absl::Seconds(60), false); }
void BM_1000x30DaysHourly(benchmark::State& s) { Run(s, absl::Hours(1), false); }
void BM_1000x30DaysHourlyPlusRightsizing(benchmark::State& s) { Run(s, absl::Hours(1), true); }
BENCHMARK(BM_1000x30DaysRaw60s)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_1000x30DaysHourly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_1000x30DaysHourlyPlusRightsizing)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace costs
