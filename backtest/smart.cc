#include "backtest/smart.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "clients/kube/objects.h"
#include "clients/prometheus/prometheus.h"
#include "reconciler/explain/explain.h"
#include "reconciler/loop.h"

namespace backtest {
namespace {

namespace kube = clients::kube;
namespace prom = clients::prometheus;

constexpr char kNode[] = "pool-0";

// The cluster view of the current cycle, set by the policy before RunCycle.
class SimCluster : public reconciler::ClusterSource {
 public:
  absl::StatusOr<std::shared_ptr<const reconciler::ClusterState>> Snapshot() override {
    if (!state) return absl::UnavailableError("no cycle yet");
    return state;
  }
  std::string Describe() const override { return "backtest simulation"; }
  std::shared_ptr<const reconciler::ClusterState> state;
};

// Prometheus over the simulated pods: the five grouped queries of reconciler/signals.h and
// the demand-history range query. Answers what the current cycle's SmartCycle records.
class SimPrometheus : public prom::PrometheusClient {
 public:
  SimPrometheus(const Demand* demand, std::string ns) : demand_(demand), ns_(std::move(ns)) {}

  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view promql,
                                                  absl::Time at) override {
    const bool node = absl::StrContains(promql, "node_cpu_seconds_total");
    const bool five = absl::StrContains(promql, "[5m]");
    const bool two = absl::StrContains(promql, "[1m]");
    std::vector<prom::Series> out;
    if (absl::StrContains(promql, "memory")) return out;  // no memory series
    const auto& src = node ? (five ? cycle->node_cpu_5m : cycle->node_cpu_10m)
                           : (two    ? cycle->pod_cpu_1m
                              : five ? cycle->pod_cpu_5m
                                     : cycle->pod_cpu_10m);
    for (const auto& [key, cores] : src) {
      prom::Series s;
      if (node) {
        s.labels["node"] = key;
      } else {
        const size_t slash = key.find('/');
        s.labels["namespace"] = key.substr(0, slash);
        s.labels["pod"] = key.substr(slash + 1);
      }
      s.points.push_back({at, cores});
      out.push_back(std::move(s));
    }
    return out;
  }

  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view promql, absl::Time from,
                                                       absl::Time to,
                                                       absl::Duration step) override {
    if (to < from || step <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("bad range");
    }
    prom::Series s;
    // sum(rate(...[5m])) at t: the mean demand over the 5 minutes before t, where the trace has it.
    for (absl::Time t = from; t <= to; t += step) {
      if (t - absl::Minutes(5) < demand_->start()) continue;
      s.points.push_back({t, demand_->Mean(t - absl::Minutes(5), t)});
    }
    history_points = static_cast<int>(s.points.size());
    return std::vector<prom::Series>{s};
  }

  SmartCycle* cycle = nullptr;
  int history_points = 0;

 private:
  const Demand* demand_;
  std::string ns_;
};

kube::ContainerResources Container(int64_t millicores) {
  kube::ContainerResources c;
  c.name = "app";
  c.requests.cpu_millicores = millicores;
  c.limits.cpu_millicores = millicores;
  return c;
}

// The objects that do not change during a replay: the Deployment, its ReplicaSet, the smart
// HPA that discovers it and a node pool with room for 4 x maxReplicas pods.
reconciler::ClusterState FixedObjects(const std::string& ns, const std::string& name,
                                      int64_t pod_millicores, int max_replicas) {
  reconciler::ClusterState state;
  kube::Deployment d;
  d.metadata.namespace_name = ns;
  d.metadata.name = name;
  d.containers.push_back(Container(pod_millicores));
  state.deployments.push_back(d);
  kube::ReplicaSet rs;
  rs.metadata.namespace_name = ns;
  rs.metadata.name = name + "-5d9f";
  rs.metadata.owner_references.push_back({"apps/v1", "Deployment", name, "uid-d", true});
  state.replica_sets.push_back(rs);
  kube::HorizontalPodAutoscaler h;
  h.metadata.namespace_name = ns;
  h.metadata.name = name;
  h.scale_target_ref = {"apps/v1", "Deployment", name};
  kube::HpaMetric m;
  m.type = "External";
  m.name = "smart_cpu_pressure";
  m.selector.match_labels["deployment"] = name;
  h.metrics.push_back(m);
  state.hpas.push_back(h);
  kube::Node node;
  node.metadata.name = kNode;
  node.ready = true;
  node.allocatable.cpu_millicores = int64_t{4} * max_replicas * pod_millicores;
  state.nodes.push_back(node);
  return state;
}

}  // namespace

class SmartPolicy::Impl {
 public:
  Impl(reconciler::Config config, const Demand* demand, SmartOptions options)
      : interval_(config.check_interval),
        options_(std::move(options)),
        clock_(absl::UnixEpoch()),
        prom_(demand, options_.namespace_name),
        reconciler_(std::move(config), &cluster_, &prom_, /*store=*/nullptr, &clock_) {}

  // Runs one cycle at view.now(); returns the served pressure.
  absl::optional<double> Cycle(const SyncView& view, SmartStats* stats);

  const absl::Duration interval_;  // CHECK_INTERVAL
  SmartOptions options_;
  base::FakeClock clock_;
  SimCluster cluster_;
  SimPrometheus prom_;
  reconciler::Reconciler reconciler_;
  absl::Time next_cycle_ = absl::InfinitePast();
  absl::optional<double> computed_;
};

absl::optional<double> SmartPolicy::Impl::Cycle(const SyncView& view, SmartStats* stats) {
  const absl::Time now = view.now();
  const HpaOptions& hpa = view.options();
  const std::string& ns = options_.namespace_name;
  const std::string& name = options_.deployment;
  auto state = std::make_shared<reconciler::ClusterState>(
      FixedObjects(ns, name, hpa.pod_cpu_millicores, hpa.max_replicas));
  const std::string rs_name = state->replica_sets.front().metadata.name;
  SmartCycle cycle;
  cycle.time = now;
  const absl::Time at = now - options_.rate_lag;
  double node10 = 0, node5 = 0;
  for (const Pod& p : view.pods()) {
    kube::Pod pod;
    pod.metadata.namespace_name = ns;
    pod.metadata.name = absl::StrCat(rs_name, "-p", p.id);
    pod.metadata.creation_timestamp = p.created;
    pod.metadata.owner_references.push_back({"apps/v1", "ReplicaSet", rs_name, "u", true});
    pod.node_name = kNode;
    pod.phase = "Running";
    pod.ready = p.ready_at <= now;
    pod.start_time = p.created;
    pod.containers.push_back(Container(hpa.pod_cpu_millicores));
    const std::string key = absl::StrCat(ns, "/", pod.metadata.name);
    state->pods.push_back(std::move(pod));
    if (at < p.created) continue;  // no series yet when the data was read
    if (auto r = view.PodCpuRate(p, at, absl::Minutes(10))) {
      cycle.pod_cpu_10m[key] = *r;
      node10 += *r;
    }
    if (auto r = view.PodCpuRate(p, at, absl::Minutes(5))) {
      cycle.pod_cpu_5m[key] = *r;
      node5 += *r;
    }
    if (auto r = view.PodCpuRate(p, at, absl::Minutes(1))) cycle.pod_cpu_1m[key] = *r;
  }
  cycle.node_cpu_10m[kNode] = node10;
  cycle.node_cpu_5m[kNode] = node5;
  cycle.cluster = state;
  cluster_.state = state;
  prom_.cycle = &cycle;
  clock_.Set(now);
  reconciler_.RunCycle();
  prom_.cycle = nullptr;
  for (const reconciler::MetricPoint& p : reconciler_.Table()) {
    if (p.deployment != name || p.namespace_name != ns) continue;
    if (p.metric == "smart_cpu_pressure") cycle.served_pressure = p.value;
  }
  for (const reconciler::DeploymentStatus& s : reconciler_.Statuses()) {
    if (s.name != name || s.namespace_name != ns) continue;
    cycle.target_pct = s.target_pct;
    cycle.forecast_trusted = s.forecast_trusted;
    if (options_.explain && s.decision_inputs != nullptr) {
      cycle.deciding_rule = reconciler::Explain(*s.decision_inputs, s).deciding_rule;
    }
  }
  ++stats->cycles;
  stats->trusted_cycles += cycle.forecast_trusted ? 1 : 0;
  stats->target_pct_sum += cycle.target_pct;
  stats->history_points = prom_.history_points;
  if (options_.on_cycle) options_.on_cycle(cycle);
  return cycle.served_pressure;
}

SmartPolicy::SmartPolicy(reconciler::Config config, const Demand* demand, SmartOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), demand, std::move(options))) {}

SmartPolicy::~SmartPolicy() = default;

absl::optional<double> SmartPolicy::Ratio(const SyncView& view) {
  // What the HPA reads now is what the cycles before now served.
  const absl::optional<double> visible = impl_->computed_;
  if (impl_->next_cycle_ == absl::InfinitePast()) impl_->next_cycle_ = view.window().start;
  if (view.now() >= impl_->next_cycle_) {
    impl_->computed_ = impl_->Cycle(view, &stats_);
    impl_->next_cycle_ += impl_->interval_;
  }
  last_ = visible;
  return visible;  // target Value 1: the ratio is the value
}

}  // namespace backtest
