// Typed Kubernetes objects the reconciler reads: apps/v1 Deployment and ReplicaSet, v1 Pod and
// Node, autoscaling/v2 HorizontalPodAutoscaler, coordination.k8s.io/v1 Lease. Only the fields
// the reconciler uses are kept; JSON never leaves clients/kube.
//
//   absl::StatusOr<clients::kube::Deployment> d = clients::kube::ParseDeploymentJson(body);
//   if (d.ok()) Use(d->metadata.name, d->replicas, d->TotalCpuRequestMillicores());
//
// Parsing rules: unknown fields are ignored; a missing field takes the Kubernetes default (a
// Deployment without spec.replicas has 1) or stays empty / nullopt; a field of the wrong JSON
// type counts as missing. The only errors are an object without metadata.name and a resource
// amount that is not a valid Quantity (kInvalidArgument, naming the object and the field).
// CPU is in millicores and memory in bytes. Plain values, thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace clients::kube {

struct OwnerReference {
  std::string api_version, kind, name, uid;
  bool controller = false;
};

struct ObjectMeta {
  std::string namespace_name;  // "" for cluster-scoped objects (Node)
  std::string name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::optional<absl::Time> creation_timestamp;
  std::optional<absl::Time> deletion_timestamp;
  std::vector<OwnerReference> owner_references;

  // The controller owner of `kind` ("Deployment", "ReplicaSet"), or nullptr.
  const OwnerReference* ControllerOf(absl::string_view kind) const;
};

// requests / limits of one container (or Node allocatable); nullopt when not set.
struct ResourceAmounts {
  std::optional<int64_t> cpu_millicores;
  std::optional<int64_t> memory_bytes;
};

struct ContainerResources {
  std::string name;
  ResourceAmounts requests;
  ResourceAmounts limits;
};

struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // "In", "NotIn", "Exists", "DoesNotExist"
  std::vector<std::string> values;
};

// metav1.LabelSelector.
struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  // Kubernetes semantics: every matchLabels pair and every expression must hold; an empty
  // selector matches everything. An unknown operator matches nothing.
  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
};

struct Deployment {
  ObjectMeta metadata;
  int32_t replicas = 1;  // spec.replicas (Kubernetes defaults a missing value to 1)
  LabelSelector selector;
  std::map<std::string, std::string> node_selector;  // spec.template.spec.nodeSelector
  std::vector<ContainerResources> containers;        // spec.template.spec.containers
  int32_t status_replicas = 0;
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;

  // Sum of the containers' CPU requests (missing requests count 0).
  int64_t TotalCpuRequestMillicores() const;
};

struct ReplicaSet {
  ObjectMeta metadata;
  int32_t replicas = 1;
  LabelSelector selector;
  int32_t ready_replicas = 0;

  // Name of the owning Deployment (controller ownerReference), or "".
  std::string OwnerDeployment() const;
};

struct Pod {
  ObjectMeta metadata;
  std::string node_name;
  std::string phase;   // "Pending", "Running", "Succeeded", "Failed", "Unknown", "" if absent
  bool ready = false;  // status.conditions[type=Ready].status == "True"
  std::optional<absl::Time> start_time;
  std::vector<ContainerResources> containers;

  // Name of the owning ReplicaSet (controller ownerReference), or "".
  std::string OwnerReplicaSet() const;
  int64_t TotalCpuRequestMillicores() const;
};

struct Node {
  ObjectMeta metadata;
  ResourceAmounts allocatable;
  ResourceAmounts capacity;
  bool ready = false;  // status.conditions[type=Ready].status == "True"
  bool unschedulable = false;
};

struct CrossVersionObjectReference {
  std::string api_version, kind, name;
};

// autoscaling/v2 MetricTarget; quantities in thousandths ("1" -> 1000, "500m" -> 500).
struct MetricTarget {
  std::string type;  // "Utilization", "Value", "AverageValue"
  std::optional<int64_t> value_milli;
  std::optional<int64_t> average_value_milli;
  std::optional<int32_t> average_utilization;
};

// One entry of spec.metrics.
struct HpaMetric {
  std::string type;  // "Resource", "External", "Object", "Pods", "ContainerResource"
  // Resource/ContainerResource: the resource ("cpu"); External/Object/Pods: metric.name.
  std::string name;
  std::string container;                         // ContainerResource only
  LabelSelector selector;                        // metric.selector (External/Object/Pods)
  CrossVersionObjectReference described_object;  // Object only
  MetricTarget target;
};

struct HorizontalPodAutoscaler {
  ObjectMeta metadata;
  CrossVersionObjectReference scale_target_ref;
  int32_t min_replicas = 1;
  int32_t max_replicas = 0;
  std::vector<HpaMetric> metrics;
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
};

struct Lease {
  ObjectMeta metadata;
  std::string holder_identity;
  std::optional<int32_t> lease_duration_seconds;
  std::optional<absl::Time> acquire_time;
  std::optional<absl::Time> renew_time;
  int32_t lease_transitions = 0;
};

// Parse one object from its JSON text (a GET answer or a list item). kInvalidArgument when the
// text is not a JSON object, has no metadata.name, or holds a bad quantity.
absl::StatusOr<Deployment> ParseDeploymentJson(absl::string_view json);
absl::StatusOr<ReplicaSet> ParseReplicaSetJson(absl::string_view json);
absl::StatusOr<Pod> ParsePodJson(absl::string_view json);
absl::StatusOr<Node> ParseNodeJson(absl::string_view json);
absl::StatusOr<HorizontalPodAutoscaler> ParseHorizontalPodAutoscalerJson(absl::string_view json);
absl::StatusOr<Lease> ParseLeaseJson(absl::string_view json);

// The objects of a v1 List (`kubectl get deploy,rs,pods,nodes,hpa -A -o json` prints one): items
// are sorted by their "kind"; kinds the reconciler does not read (Service, ...) are counted in
// `skipped`. kInvalidArgument, naming the item index, when the text is not a JSON object with
// an "items" array or when an item of a known kind does not parse.
struct ObjectList {
  std::vector<Deployment> deployments;
  std::vector<ReplicaSet> replica_sets;
  std::vector<Pod> pods;
  std::vector<Node> nodes;
  std::vector<HorizontalPodAutoscaler> hpas;
  int skipped = 0;
};
absl::StatusOr<ObjectList> ParseObjectListJson(absl::string_view json);

// The coordination.k8s.io/v1 Lease as JSON for create/update (metadata.resourceVersion included
// when set; times as RFC 3339 MicroTime).
std::string LeaseToJson(const Lease& lease);

// Where each kind lives in the API, for the informer and the Lease client.
struct ResourceInfo {
  const char* group_version_path;  // "/api/v1" or "/apis/apps/v1"
  const char* plural;              // "pods"
  const char* kind;                // "Pod"
  bool namespaced;
};
template <typename T>
const ResourceInfo& ResourceInfoFor();
template <>
const ResourceInfo& ResourceInfoFor<Deployment>();
template <>
const ResourceInfo& ResourceInfoFor<ReplicaSet>();
template <>
const ResourceInfo& ResourceInfoFor<Pod>();
template <>
const ResourceInfo& ResourceInfoFor<Node>();
template <>
const ResourceInfo& ResourceInfoFor<HorizontalPodAutoscaler>();
template <>
const ResourceInfo& ResourceInfoFor<Lease>();

}  // namespace clients::kube
