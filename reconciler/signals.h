// signals: the loop's Prometheus reads, a constant number of grouped queries per cycle whatever
// the number of deployments (the original ran 18 + 5W per deployment: 5W^2 + 18W per cycle).
//
//   reconciler::Signals s = reconciler::GatherSignals(prom, now);
//   absl::optional<double> cpu = s.Get(s.pod_cpu_10m, "shop/api-5d9f-x2b7q");  // millicores
//
// Five queries: pod CPU rate over 10 m and 5 m and pod memory working set, grouped by
// (namespace, pod) from cAdvisor; node CPU over 10 m and 5 m from node_exporter, grouped by
// instance. Joining to deployments happens in memory (pod -> ReplicaSet -> Deployment, from
// the Kubernetes cache). A failed query leaves its signal unknown for every pod or node: never
// zero. Also the per-deployment history query used to backfill a new deployment.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "clients/prometheus/prometheus.h"

namespace reconciler {

struct SignalQueries {
  std::string pod_cpu_10m =
      "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=\"\","
      "container!=\"POD\"}[10m]))";
  std::string pod_cpu_5m =
      "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=\"\","
      "container!=\"POD\"}[5m]))";
  std::string pod_memory =
      "sum by (namespace, pod) (container_memory_working_set_bytes{container!=\"\","
      "container!=\"POD\"})";
  // Results keyed by the "node" label when present, else "instance" without its ":port".
  std::string node_cpu_10m = "sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[10m]))";
  std::string node_cpu_5m = "sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m]))";
};

struct Signals {
  // Key "namespace/pod" -> millicores / bytes; node name -> millicores.
  absl::flat_hash_map<std::string, double> pod_cpu_10m, pod_cpu_5m, pod_memory;
  absl::flat_hash_map<std::string, double> node_cpu_10m, node_cpu_5m;
  // Whether each query answered (an answer without a pod's series means no data for that pod).
  bool pod_cpu_10m_ok = false, pod_cpu_5m_ok = false, pod_memory_ok = false;
  bool node_cpu_10m_ok = false, node_cpu_5m_ok = false;
  int queries = 0;
  int failures = 0;
  std::vector<std::string> errors;  // "pod_cpu_10m: Unavailable: ..." per failed query

  absl::optional<double> Get(const absl::flat_hash_map<std::string, double>& m,
                             const std::string& key) const {
    auto it = m.find(key);
    if (it == m.end()) return absl::nullopt;
    return it->second;
  }
};

// Runs the five queries at `at` on `concurrency` threads (1-5; the client must be thread-safe;
// it applies rate limits and retries). Non-finite sample values are skipped (the series counts
// as absent).
Signals GatherSignals(clients::prometheus::PrometheusClient* prom, absl::Time at,
                      const SignalQueries& queries = {}, int concurrency = 1);

// The deployment's total CPU demand in cores over [from, to] every `step`: the query for pods
// named like the Deployment's (<name>-<replicaset hash>-<pod hash>).
std::string DemandHistoryQuery(const std::string& namespace_name, const std::string& deployment);

// The node a node-CPU series belongs to: its "node" label, else "instance" minus ":port".
std::string NodeKey(const std::map<std::string, std::string>& labels);

}  // namespace reconciler
