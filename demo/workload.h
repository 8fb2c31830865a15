// demo/workload: a small, consistent, synthetic cluster whose CPU follows real traces: the
// data behind `scripts/demo.sh` and the end-to-end tests.
//
//   demo::Workload w(demo::DefaultDeployments(), traces, anchor);
//   w.WriteOpenMetrics(out, anchor, now - absl::Minutes(1), absl::Minutes(1));  // promtool input
//   std::string cluster = w.ClusterJson(now);      // v1 List for --cluster-file / the test API
//   std::string live = w.Exposition(now);          // what the live exporter serves
//
// Each deployment's total CPU demand (cores) is its trace, replayed from `anchor` (aligned to
// the trace's time of day), scaled so that the trace's 95th percentile uses `p95_utilization`
// of the deployment's summed CPU requests; it is constant within each trace step, so the
// counters are exact integrals and tests can compute rates independently. Pods split the demand
// with fixed weights (sum = demand). Nodes run the pods round-robin plus a fixed system load.
// Series carry explicit job/instance labels so backfilled and scraped samples (honor_labels)
// are one series. Pure computation; thread-compatible.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace demo {

struct Trace {
  std::string name;
  absl::Time start;
  absl::Duration step;
  std::vector<double> values;
};

struct DeploymentSpec {
  std::string namespace_name;
  std::string name;
  int pods = 3;
  int64_t cpu_request_millicores = 500;
  int64_t memory_request_bytes = int64_t{512} << 20;
  std::string trace;             // Trace::name
  double p95_utilization = 0.8;  // demand at the trace's p95 / summed requests
};

struct NodeSpec {
  std::string name;
  int64_t allocatable_millicores = 4000;
  double system_cores = 0.25;  // kubelet, runtime, daemons
};

// Three deployments in two namespaces on three 4-core nodes.
std::vector<DeploymentSpec> DefaultDeployments();
std::vector<NodeSpec> DefaultNodes();
// A large synthetic cluster for benchmarks: `deployments` deployments of `pods` pods in 20
// namespaces, cycling through the three bundled traces, on `nodes` 32-core nodes.
std::vector<DeploymentSpec> ScaledDeployments(int deployments, int pods);
std::vector<NodeSpec> ScaledNodes(int nodes);

class Workload {
 public:
  // Every DeploymentSpec::trace must name one of `traces`; InvalidArgument otherwise (or for an
  // empty trace or a deployment without pods).
  static absl::StatusOr<Workload> Create(std::vector<DeploymentSpec> deployments,
                                         std::vector<NodeSpec> nodes, std::vector<Trace> traces,
                                         absl::Time anchor);

  const std::vector<DeploymentSpec>& deployments() const { return deployments_; }
  const std::vector<NodeSpec>& nodes() const { return nodes_; }
  absl::Time anchor() const { return anchor_; }

  // Total CPU demand of deployment d at t (cores); constant within each trace step.
  double DemandCores(int d, absl::Time t) const;
  // Pod p of deployment d: usage (cores) and CPU counter (seconds since the anchor).
  double PodCores(int d, int p, absl::Time t) const;
  double PodCpuSeconds(int d, int p, absl::Time t) const;
  double PodMemoryBytes(int d, int p, absl::Time t) const;
  // Node n: non-idle CPU counter (seconds since the anchor) and its capacity.
  double NodeBusySeconds(int n, absl::Time t) const;

  std::string PodName(int d, int p) const;
  std::string NodeOf(int d, int p) const;

  // The v1 List of Deployments, ReplicaSets, Pods, Nodes and autoscaling/v2 HPAs (an External
  // smart_cpu_pressure metric, target Value 1, per deployment). Pods started one day before
  // the anchor.
  std::string ClusterJson() const;
  // OpenMetrics for promtool: every series from `from` to `to` every `step`, then "# EOF".
  void WriteOpenMetrics(std::ostream& out, absl::Time from, absl::Time to,
                        absl::Duration step) const;
  // Prometheus text format 0.0.4 at `now` (no timestamps: the scrape's time is used).
  std::string Exposition(absl::Time now) const;

 private:
  struct Replay {
    const Trace* trace;
    double scale;                // cores per trace unit
    absl::Time origin;           // wall time of trace sample 0
    std::vector<double> prefix;  // prefix[k] = integral of samples 0..k-1 (trace units x s)
  };
  Workload() = default;
  double Integral(const Replay& r, absl::Time t) const;  // trace units x seconds since anchor
  double Weight(int d, int p) const;
  // The labels of pod p's cAdvisor series (explicit job/instance, see the file comment).
  std::string PodLabels(int d, int p) const;

  std::vector<DeploymentSpec> deployments_;
  std::vector<int> first_pod_;                      // global index of each deployment's pod 0
  std::vector<std::vector<std::pair<int, int>>> node_pods_;  // node -> (deployment, pod)
  std::vector<NodeSpec> nodes_;
  std::vector<Trace> traces_;
  std::vector<Replay> replays_;  // per deployment
  absl::Time anchor_;
};

// Reads a `timestamp,value` CSV (see base/trace_csv.h) as a Trace named `name`.
absl::StatusOr<Trace> LoadTrace(const std::string& name, const std::string& path);

}  // namespace demo
