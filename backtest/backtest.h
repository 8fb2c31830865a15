// backtest: "would this have helped?" for one demand trace: the HPA replayed with the native
// CPU metric, the smart metric, a native HPA retuned to smart's cost, and an oracle.
//
//   backtest::Options o;                       // --p95-cores 8, --target 70, ...
//   absl::StatusOr<backtest::TraceResult> r = backtest::RunTrace("cluster1", demand, o);
//   for (const backtest::PolicyResult& p : r->policies) ... p.figures.overloaded_minutes ...
//
// The protocol: the replay window is the last `replay` (4 days) of the trace, or everything
// after its first `history` (7 days) if shorter; the smart policy's reconciler backfills the
// `history` before the window and then sees only the past. `warmup` before the window only
// fills the CPU counters (every policy starts from the same replicas, ceil(demand / target)).
// Policies:
// - native: the HPA on metrics-server CPU utilisation at `target_pct`;
// - smart: the HPA on the reconciler's served smart_cpu_pressure, target Value 1;
// - native_cost_matched: native at the target in [search_min_pct, search_max_pct] whose
//   replica-hours equal smart's within `match_tolerance` (bisection; replica-hours fall as
//   the target rises);
// - oracle: perfect foresight of the peak over the next start-up + one sync, at `target_pct`.
// Thread-compatible; RunTrace runs on the calling thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "backtest/demand.h"
#include "backtest/simulator.h"
#include "backtest/smart.h"
#include "reconciler/config.h"

namespace backtest {

struct Options {
  double p95_cores = 8;
  double target_pct = 70;
  HpaOptions hpa;
  absl::Duration replay = absl::Hours(4 * 24);
  absl::Duration history = absl::Hours(7 * 24);
  absl::Duration warmup = absl::Minutes(15);
  // The reconciler's settings for the smart policy (CHECK_INTERVAL, COST_PER_VCPU_HOUR, ...);
  // COST_PER_VCPU_HOUR and COST_PER_GB_MEMORY_HOUR also price each policy's replica-hours.
  reconciler::Config config;
  // Each pod's memory request (bytes); 0: unknown, and memory is then not priced (a trace file
  // has no memory, so the caller gives it).
  int64_t pod_memory_bytes = 0;
  // How old the Prometheus data is when a cycle reads it (SmartOptions::rate_lag).
  absl::Duration smart_data_lag = absl::ZeroDuration();
  double search_min_pct = 30, search_max_pct = 95;
  double match_tolerance = 0.005;
  bool keep_series = false;
  // Progress lines ("cluster1: smart ...") for stderr; may be empty.
  std::function<void(const std::string&)> progress;
};

struct PolicyResult {
  std::string policy;  // "native", "smart", "native_cost_matched", "oracle"
  // smart: the mean smart_cpu_target it served (the learned target, node pressure).
  absl::optional<double> target_pct;
  Figures figures;
  double cpu_cost = 0;  // USD: replica-hours x pod vCPU x COST_PER_VCPU_HOUR
  // USD: replica-hours x pod GB (10^9 bytes) x COST_PER_GB_MEMORY_HOUR; nullopt when the pods'
  // memory request is unknown (Options::pod_memory_bytes = 0), never 0 for "unknown".
  absl::optional<double> memory_cost;
  double cost = 0;  // USD: cpu_cost + memory_cost (the CPU alone when memory is unknown)
};

// A policy's cost from its replica-hours at the options' prices and per-pod requests.
PolicyResult PriceReplicaHours(double replica_hours, const Options& options);

// One row per sync of the replay.
struct SeriesRow {
  absl::Time time;
  double demand_cores = 0;
  // Ready capacity (cores) per policy, in TraceResult::policies order.
  std::vector<double> ready_cores;
  absl::optional<double> smart_pressure;  // the served metric the smart HPA read
  // The rule that decided that value (explain's words, as on the page); empty before the
  // first cycle's value reaches the HPA.
  std::string smart_rule;
};

struct TraceResult {
  std::string trace;
  ReplayWindow window;
  // How `cost` was priced, for the table: "replica-hours x (1000m x $0.04/vCPU-h + 0.512 GB x
  // $0.005/GB-h)", or the CPU part with "memory not priced (--pod-memory-bytes)".
  std::string pricing;
  std::vector<PolicyResult> policies;  // native, smart, native_cost_matched, oracle
  bool cost_matched = false;           // the search reached match_tolerance
  int search_runs = 0;
  // (native - smart) / (native - oracle) overloaded minutes; nullopt when native is no worse
  // than the oracle.
  absl::optional<double> gap_closed;
  SmartStats smart;
  std::vector<SeriesRow> series;  // when Options::keep_series
};

// The replay window of `demand` (on the sync grid, cycles on the minute).
// FailedPrecondition when the trace is not longer than `history` + 1 hour.
absl::StatusOr<ReplayWindow> ChooseWindow(const Demand& demand, const Options& options);

// The result of the cost-matched search.
struct CostMatch {
  double target_pct = 0;
  SimResult result;
  bool matched = false;  // within tolerance
  int runs = 0;
};
// Searches the target in [lo, hi] whose run's replica-hours equal `replica_hours` within
// `tolerance` (relative), by bisection; `run(target)` replays native at that target. When
// no target in range matches, the closest run found.
CostMatch MatchCost(const std::function<SimResult(double)>& run, double replica_hours, double lo,
                    double hi, double tolerance);

// Replays every policy over `demand` (already scaled to cores).
absl::StatusOr<TraceResult> RunTrace(const std::string& trace, const Demand& demand,
                                     const Options& options);

}  // namespace backtest
