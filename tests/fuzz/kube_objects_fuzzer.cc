// libFuzzer target: the Kubernetes object parsers (a v1 List as `kubectl get -o json` prints
// it, and single apps/v1 Deployment and ReplicaSet, v1 Pod and Node, autoscaling/v2 HPA and
// coordination.k8s.io/v1 Lease objects) must never crash on any input; a Lease that parses
// must serialize to JSON that parses back to the same holder and resourceVersion.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "clients/kube/objects.h"

namespace kube = clients::kube;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  (void)kube::ParseObjectListJson(json);
  (void)kube::ParseDeploymentJson(json);
  (void)kube::ParseReplicaSetJson(json);
  (void)kube::ParsePodJson(json);
  (void)kube::ParseNodeJson(json);
  (void)kube::ParseHorizontalPodAutoscalerJson(json);
  auto lease = kube::ParseLeaseJson(json);
  if (lease.ok()) {
    auto again = kube::ParseLeaseJson(kube::LeaseToJson(*lease));
    if (!again.ok() || again->holder_identity != lease->holder_identity ||
        again->metadata.resource_version != lease->metadata.resource_version) {
      __builtin_trap();
    }
  }
  return 0;
}
