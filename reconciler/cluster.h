// cluster: where the reconciler's view of the cluster comes from. The loop reads one
// ClusterState per cycle and never lists per deployment.
//
//   auto source = reconciler::MakeFileClusterSource("/etc/demo/cluster.json");   // standalone
//   auto source = reconciler::MakeInformerClusterSource(http, cluster, clock, sleeper, {});
//   absl::StatusOr<std::shared_ptr<const reconciler::ClusterState>> s = source->Snapshot();
//
// Two implementations, the same contract, so the rest of the loop runs one code path:
// - informers (list once, then watch) over the Kubernetes API, for a real cluster;
// - a file holding a v1 List (`kubectl get deploy,rs,pods,nodes,hpa -A -o json`), re-read when
//   it changes, for the demo and standalone runs without a cluster.
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/http/streaming_http_client.h"
#include "clients/kube/cluster_config.h"
#include "clients/kube/objects.h"

namespace reconciler {

struct ClusterState {
  std::vector<clients::kube::Deployment> deployments;
  std::vector<clients::kube::ReplicaSet> replica_sets;
  std::vector<clients::kube::Pod> pods;
  std::vector<clients::kube::Node> nodes;
  std::vector<clients::kube::HorizontalPodAutoscaler> hpas;
};

// Counters of the Kubernetes traffic behind a source (all zero for a file), for /metrics.
struct ClusterSourceStats {
  int64_t lists = 0, relists = 0, watches = 0, events = 0, errors = 0, backoffs = 0;
  int64_t parse_errors = 0;
  int64_t rate_limited = 0;  // requests that waited for K8S_API_RATE_LIMIT
};

class ClusterSource {
 public:
  virtual ~ClusterSource() = default;
  virtual ClusterSourceStats Stats() const { return {}; }
  // The current state. Unavailable before the first successful read/sync; afterwards the last
  // good state (a file that stops parsing keeps the previous contents, and says so in the log).
  virtual absl::StatusOr<std::shared_ptr<const ClusterState>> Snapshot() = 0;
  // "file /path" or "kubernetes https://...": for logs and the JSON API.
  virtual std::string Describe() const = 0;
};

std::unique_ptr<ClusterSource> MakeFileClusterSource(std::string path);

struct InformerClusterOptions {
  // Token-bucket limit on LIST and watch requests (K8S_API_RATE_LIMIT), shared by the informers.
  double requests_per_second = 20;
  // Snapshot() answers Unavailable until every informer has synced.
};

// Starts informers for Deployments, ReplicaSets, Pods, Nodes and HPAs (all namespaces).
// `http`, `clock` and `sleeper` must outlive the source. The destructor stops the informers.
std::unique_ptr<ClusterSource> MakeInformerClusterSource(
    clients::http::StreamingHttpClient* http, const clients::kube::ClusterConfig& cluster,
    const base::Clock* clock, base::Sleeper* sleeper, InformerClusterOptions options = {});

}  // namespace reconciler
