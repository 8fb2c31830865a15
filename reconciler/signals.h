// signals: the loop's Prometheus reads, a constant number of grouped queries per cycle whatever
// the number of deployments (the original ran 18 + 5W per deployment: 5W^2 + 18W per cycle).
//
//   reconciler::Signals s = reconciler::GatherSignals(prom, now);
//   absl::optional<double> cpu = s.Get(s.pod_cpu_10m, "shop/api-5d9f-x2b7q");  // millicores
//
// Six queries: pod CPU rate over 10 m, 5 m and 2 m and pod memory working set, grouped by
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
#include "reconciler/signal_values.h"

namespace reconciler {

struct SignalQueries {
  std::string pod_cpu_10m =
      "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=\"\","
      "container!=\"POD\"}[10m]))";
  std::string pod_cpu_5m =
      "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=\"\","
      "container!=\"POD\"}[5m]))";
  // The short window, metrics-server's: a surge shows in full one minute after it starts.
  // It needs at least two scrapes a minute (a scrape interval of 30 s or less; 15 s is the
  // kubelet default of kube-prometheus). With fewer the series is empty and the served demand
  // falls back to the 5- and 10-minute windows (missing is never zero).
  std::string pod_cpu_1m =
      "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=\"\","
      "container!=\"POD\"}[1m]))";
  std::string pod_memory =
      "sum by (namespace, pod) (container_memory_working_set_bytes{container!=\"\","
      "container!=\"POD\"})";
  // Results keyed by the "node" label when present, else "instance" without its ":port".
  std::string node_cpu_10m = "sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[10m]))";
  std::string node_cpu_5m = "sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m]))";
};

// Runs the six queries at `at` on `concurrency` threads (1-6; the client must be thread-safe;
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
