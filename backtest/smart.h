// smart: the HPA on the served smart_cpu_pressure (target Value 1), computed by the live
// reconciler itself (reconciler::Reconciler, the same RunCycle the `reconciler` command runs)
// over a simulated cluster and a simulated Prometheus.
//
//   backtest::SmartPolicy smart(reconciler::Config{}, &demand);
//   backtest::SimResult r = backtest::Simulate(demand, window, hpa, replicas, &smart);
//
// Every CHECK_INTERVAL (from window.start) the policy hands the Reconciler:
// - the cluster as informers would show it: one Deployment (request = limit = the pod CPU),
//   its ReplicaSet and Running pods (start time = creation, Ready once started up), a smart
//   HPA that discovers it, and one node pool big enough to stay at safe pressure (so the
//   target is the learned one, as on a cluster with room);
// - Prometheus answering the grouped queries with the pods' rates over 10 m, 5 m and 2 m of
//   their capped CPU counters as they stood `rate_lag` (one cycle) earlier, the node CPU as
//   the pods' sum, no memory series; and the demand-history range query (the first cycle's
//   backfill) with the trace's demand over the 7 days before the window, each point the mean
//   demand of the 5 minutes before it.
// The value served by a cycle reaches the HPA at the syncs after it. Nothing looks ahead.
// Thread-compatible.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "backtest/demand.h"
#include "backtest/simulator.h"
#include "reconciler/cluster.h"
#include "reconciler/config.h"

namespace backtest {

// What one reconciler cycle was given and served (for the golden test and diagnostics).
struct SmartCycle {
  absl::Time time;
  std::shared_ptr<const reconciler::ClusterState> cluster;
  // "namespace/pod" -> cores, as Prometheus answered; node name -> cores.
  std::map<std::string, double> pod_cpu_10m, pod_cpu_5m, pod_cpu_1m, node_cpu_10m, node_cpu_5m;
  absl::optional<double> served_pressure;
  double target_pct = 0;
  bool forecast_trusted = false;
  // The rule that decided the served smart_cpu_pressure, in explain's words ("cooldown",
  // "forecast_trusted", ...); empty unless SmartOptions::explain.
  std::string deciding_rule;
};

struct SmartOptions {
  std::string namespace_name = "backtest";
  std::string deployment = "workload";
  // Prometheus data is this old when a cycle reads it. 0: the rates as they stand at the
  // cycle (scrapes on the sync grid), then held for the cycle: one cycle of staleness, as the
  // metrics-server window is held for its refresh period.
  absl::Duration rate_lag = absl::ZeroDuration();
  // Called after every cycle (may be empty).
  std::function<void(const SmartCycle&)> on_cycle;
  // Replay each cycle's decision through explain (reconciler/explain) to name its deciding rule
  // (SmartCycle::deciding_rule); costs a replay per cycle, so only for --series.
  bool explain = false;
};

// Counters over the replay.
struct SmartStats {
  int cycles = 0;
  int trusted_cycles = 0;     // cycles whose forecast was trusted
  double target_pct_sum = 0;  // sum of the served target over cycles
  int history_points = 0;     // demand buckets the backfill loaded (first cycle)
};

class SmartPolicy : public MetricPolicy {
 public:
  // `demand` (the backfill's source) must outlive the policy.
  SmartPolicy(reconciler::Config config, const Demand* demand, SmartOptions options = {});
  ~SmartPolicy() override;

  absl::optional<double> Ratio(const SyncView& view) override;
  absl::optional<double> LastMetric() const override { return last_; }
  const SmartStats& stats() const { return stats_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  absl::optional<double> last_;
  SmartStats stats_;
};

}  // namespace backtest
