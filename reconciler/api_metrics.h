// The reconciler's exported metrics (prometheus-cpp): cycle counters and gauges, and the
// per-deployment gauges of the last cycle. A deployment that is no longer managed (or a value
// that is no longer known) loses its series at the next scrape instead of leaving a stale one.
//
//   prometheus::Registry registry;
//   reconciler::CycleMetrics cycles(&registry);
//   cycles.Record(loop.RunCycle());
//   reconciler::DeploymentGauges gauges;
//   std::vector<prometheus::MetricFamily> families = gauges.Collect(loop.Statuses());
//
// Both classes are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "reconciler/loop.h"

namespace reconciler {

// smart_autoscaler_cycles_total, _cycle_duration_seconds, _cycle_cpu_seconds_total,
// _prometheus_queries_total{kind}, _prometheus_query_failures_total, _managed_deployments,
// _served_deployments, _held_values_total, _served_points, _hpa_patches_total,
// _last_cycle_timestamp_seconds, _cycle_errors_total. The series appear with the first
// recorded cycle (no cycle yet is not a zero).
class CycleMetrics {
 public:
  explicit CycleMetrics(prometheus::Registry* registry);  // must outlive this
  ~CycleMetrics();
  void Record(const CycleReport& report);

 private:
  prometheus::Registry* registry_;
  absl::Mutex mu_;
  struct Series;
  std::unique_ptr<Series> series_ ABSL_GUARDED_BY(mu_);  // created by the first Record
};

// The per-deployment gauges ({namespace, deployment} and, for smart_autoscaler_node_pressure,
// {level}), one Family per metric whose children are added when a deployment or value appears
// and removed (Family::Remove) when it goes. Collect returns every family, empty ones with
// their HELP/TYPE, labels in the order namespace, deployment, level.
class DeploymentGauges {
 public:
  DeploymentGauges();
  ~DeploymentGauges();
  // Brings the gauges up to `statuses` (the last cycle's) and returns them.
  std::vector<prometheus::MetricFamily> Collect(const std::vector<DeploymentStatus>& statuses);

 private:
  struct Children;
  using Key = std::pair<std::string, std::string>;  // namespace, name

  absl::Mutex mu_;
  std::vector<std::unique_ptr<prometheus::Family<prometheus::Gauge>>> families_;  // last: levels
  std::map<Key, std::unique_ptr<Children>> children_ ABSL_GUARDED_BY(mu_);
};

}  // namespace reconciler
