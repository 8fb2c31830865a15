// reading: what one cycle's data says about one deployment, as pure functions of the
// Deployment, its pods, the cycle's Prometheus signals and the nodes. No I/O, no clock.
//
//   reconciler::NodePressureReading np = reconciler::ReadNodePressure(
//       d.node_selector, cluster.nodes, node_requested, signals);
//   reconciler::Reading r = reconciler::ReadDeployment(d, pods, signals, np, now,
//                                                      absl::Minutes(2));
//
// CPU in millicores (requests) and cores (demand), memory in bytes, percentages 0-100. Every
// threshold (the blend weights, the startup filter's rules, the node pressure levels) lives in
// policy.h. Missing data is nullopt, never zero. Thread-compatible.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "clients/kube/objects.h"
#include "reconciler/policy.h"
#include "reconciler/signal_values.h"

namespace reconciler {

// The node pressure of the ready, schedulable nodes that match one nodeSelector.
struct NodePressureReading {
  NodePressure node_pressure;  // level and utilization; kUnknown without data
  int nodes = 0;               // matching ready, schedulable nodes
};

// Sum of the CPU requests of the pods scheduled on each node: node name -> millicores.
using NodeRequests = absl::flat_hash_map<std::string, double>;

// The node pressure over the ready, schedulable `nodes` whose labels hold every pair of
// `node_selector` (an empty selector matches every node). Node use is the blend of the
// node_cpu_10m/5m signals; a node without it makes the level kUnknown (policy.h).
NodePressureReading ReadNodePressure(const std::map<std::string, std::string>& node_selector,
                                     const std::vector<clients::kube::Node>& nodes,
                                     const NodeRequests& requested, const Signals& signals);

// A canonical string for a nodeSelector ("k=v,k2=v2,"): deployments with equal keys share
// one NodePressureReading per cycle.
std::string NodeSelectorKey(const std::map<std::string, std::string>& node_selector);

// One deployment's reading for this cycle.
struct Reading {
  int pods = 0;        // running pods
  int ready_pods = 0;  // running, ready and not being deleted
  int young_pods_excluded = 0;
  bool all_pods_young = false;
  int64_t cpu_request_millicores = 0;  // per pod (the Deployment's template), summed containers
  int64_t memory_request_bytes = 0;    // per pod (the template)
  // Per pod (the template), summed containers; 0 when a container has no CPU limit.
  int64_t cpu_limit_millicores = 0;
  absl::optional<double> blended_pct;   // 0.7/0.3 blend, % of the requests of the counted pods
  absl::optional<double> demand_cores;  // the same blend in cores (what the forecaster models)
  // Every running pod's CPU summed per rate window (policy.h SumPodRates), cores.
  DemandWindows windows;
  // The counted pods' 1-minute CPU (5-minute without it) reached kSaturatedShare of their
  // windows are lower bounds of the demand.
  bool saturated = false;
  absl::optional<double> memory_pct;    // working set / memory requests of the mature pods
  absl::optional<double> memory_working_set_bytes;  // total working set of the mature pods
  double confidence = 0;                // 0-1 (policy.h ReadingConfidence)
  NodePressure node_pressure;
  int nodes = 0;
};

// The reading of Deployment `d` from its `pods` (the pods whose ReplicaSet it owns; pods not
// Running are skipped), the cycle's `signals` and the node pressure of its nodeSelector.
// Pods younger than `startup_filter` are left out of the CPU blend and of memory.
Reading ReadDeployment(const clients::kube::Deployment& d,
                       const std::vector<const clients::kube::Pod*>& pods,
                       const Signals& signals, const NodePressureReading& node_pressure,
                       absl::Time now, absl::Duration startup_filter);

}  // namespace reconciler
