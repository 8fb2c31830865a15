// simulator: the Kubernetes HPA controller and a deployment's pods, replayed against a demand
// trace, with the metric the HPA sees supplied by a MetricPolicy.
//
//   backtest::NativePolicy native(/*target_pct=*/70);
//   backtest::SimResult r = backtest::Simulate(demand, window, backtest::HpaOptions{}, &native);
//   std::cout << r.figures.overloaded_minutes << " overloaded minutes\n";
//
// The model, as the default HPA (autoscaling/v2, no behavior set) and kubelet behave:
// - every `sync_period` (15 s) the HPA asks the policy for its usage ratio (metric / target).
//   Inside the tolerance (|ratio - 1| <= 0.1) the replica count stays; otherwise the proposal is
//   ceil(ratio x ready pods). No metric: the count stays and nothing is recorded;
// - scale-down stabilisation: the count never drops below the largest proposal of the last
//   `scale_down_window` (300 s); scale-up is limited per sync to max(current + 4, 2 x current);
//   the result is clamped to [min_replicas, max_replicas];
// - pods request = limit = `pod_cpu_millicores`; a new pod counts in replica-hours at once and
//   serves load `startup` (90 s) after creation; scale-down removes the newest pods first;
// - served CPU = min(demand, ready pods x limit), shared equally by the ready pods; demand
//   above that is unserved. Every pod's CPU counter is scraped every sync period (the grid),
//   which is what the policies' metrics (metrics-server windows, Prometheus rates) read.
// Figures are exact for the piecewise-linear demand (capacity only changes on the grid).
// Thread-compatible; Simulate is a pure function of its inputs and the policy.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "backtest/demand.h"

namespace backtest {

struct HpaOptions {
  absl::Duration sync_period = absl::Seconds(15);
  double tolerance = 0.1;
  int min_replicas = 2;
  int max_replicas = 200;
  absl::Duration startup = absl::Seconds(90);
  absl::Duration scale_down_window = absl::Seconds(300);
  int scale_up_pods = 4;              // per sync ...
  double scale_up_percent = 100;      // ... or this much of the current count, the larger
  int64_t pod_cpu_millicores = 1000;  // request = limit
};

// The replay: [warmup_start, start) only fills the CPU counters (the HPA holds the initial
// replicas and no figure counts); the HPA acts at every sync in [start, end). All three on the
// sync grid of warmup_start.
struct ReplayWindow {
  absl::Time warmup_start, start, end;
};

struct Pod {
  int64_t id = 0;       // 1, 2, ... in creation order
  absl::Time created;   // also its start time
  absl::Time ready_at;  // created + startup
};

// What a policy may look at during one sync. Valid only during the call.
class SyncView {
 public:
  virtual ~SyncView() = default;
  virtual absl::Time now() const = 0;
  virtual const HpaOptions& options() const = 0;
  virtual const ReplayWindow& window() const = 0;
  // The pods, oldest first.
  virtual const std::vector<Pod>& pods() const = 0;
  virtual int ready_pods() const = 0;
  // Prometheus' rate() of the pod's CPU-usage counter (core-seconds, scraped every sync
  // period) over [at - window, at], with Prometheus' extrapolation at the window's edges:
  // cores. nullopt when fewer than two scrapes fall in the window. `at` on the grid, <= now.
  virtual absl::optional<double> PodCpuRate(const Pod& pod, absl::Time at,
                                            absl::Duration window) const = 0;
  // The mean CPU of a pod that was ready over all of [from, to], from the scrapes (what
  // metrics-server reports): cores. Both on the grid, warmup_start <= from < to <= now.
  virtual double ReadyPodCpu(absl::Time from, absl::Time to) const = 0;
  // The whole demand curve, future included: only the oracle may read it.
  virtual const Demand& demand() const = 0;
};

// The metric one HPA scales on.
class MetricPolicy {
 public:
  virtual ~MetricPolicy() = default;
  // The usage ratio (current metric / target) the HPA sees at this sync; nullopt when the
  // metric is missing (the HPA keeps the replica count).
  virtual absl::optional<double> Ratio(const SyncView& view) = 0;
  // The metric value behind the last Ratio, in the metric's own unit (CPU %, or the pressure),
  // for the per-sync series; nullopt when there was none.
  virtual absl::optional<double> LastMetric() const = 0;
};

struct Figures {
  double overloaded_minutes = 0;     // demand > ready capacity
  double unserved_core_minutes = 0;  // integral of demand - ready capacity where positive
  double replica_hours = 0;          // every pod, ready or not
  int scale_events = 0;              // syncs that changed the replica count
};

struct SyncRecord {
  absl::Time time;
  double demand_cores = 0;
  int replicas = 0;
  int ready = 0;                  // ready capacity = ready x pod CPU
  absl::optional<double> metric;  // MetricPolicy::LastMetric after this sync
};

struct SimResult {
  Figures figures;
  std::vector<SyncRecord> series;  // one per sync, when asked for
};

// The HPA's proposal and the stabilised, rate-limited result: pure, for the tests.
// `recommendations` holds (time, proposal) of earlier syncs and is updated.
struct Recommendation {
  absl::Time time;
  int replicas;
};
int NextReplicas(absl::optional<double> ratio, int current, int ready, absl::Time now,
                 const HpaOptions& options, std::vector<Recommendation>* recommendations);

// Replays `policy` over `window` from `initial_replicas` ready pods. The figures cover
// [window.start, window.end).
SimResult Simulate(const Demand& demand, const ReplayWindow& window, const HpaOptions& options,
                   int initial_replicas, MetricPolicy* policy, bool keep_series = false);

// The native HPA: metrics-server CPU utilisation (the mean capped usage of the ready pods over
// a 60 s window, refreshed every 60 s on the grid of window.warmup_start, visible to the syncs
// after each refresh) / request, against `target_pct`.
class NativePolicy : public MetricPolicy {
 public:
  explicit NativePolicy(double target_pct, absl::Duration window = absl::Seconds(60))
      : target_pct_(target_pct), window_(window) {}
  absl::optional<double> Ratio(const SyncView& view) override;
  absl::optional<double> LastMetric() const override { return last_; }

 private:
  double target_pct_;
  absl::Duration window_;
  absl::optional<double> last_;
};

// Perfect foresight: the peak demand over [now, now + startup + one sync] at `target_pct`
// (as if the HPA saw utilisation = that peak / ready capacity).
class OraclePolicy : public MetricPolicy {
 public:
  explicit OraclePolicy(double target_pct) : target_pct_(target_pct) {}
  absl::optional<double> Ratio(const SyncView& view) override;
  absl::optional<double> LastMetric() const override { return last_; }

 private:
  double target_pct_;
  absl::optional<double> last_;
};

}  // namespace backtest
