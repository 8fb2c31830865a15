// hpa_patch: the legacy HPA_PATCH_MODE. Instead of serving smart_* metrics to an HPA that reads
// them, the reconciler sets spec.metrics[i].resource.target.averageUtilization of the classic
// CPU HPAs of a managed deployment to its target.
//
//   reconciler::HpaPatchResult r = reconciler::PatchCpuHpas(cluster.hpas, target,
//                                                           /*target_pct=*/72.4, dry_run,
//                                                           &patcher);
//
// Thread-compatible; the patcher decides its own thread-safety.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "clients/kube/objects.h"
#include "reconciler/targets.h"

namespace reconciler {

// Sets averageUtilization of one classic CPU HPA (the metric at `metric_index`), if it still
// is `expected`.
class HpaPatcher {
 public:
  virtual ~HpaPatcher() = default;
  // Errors are the Kubernetes client's (e.g. Conflict when the HPA changed meanwhile).
  virtual absl::Status PatchCpuTarget(const std::string& namespace_name, const std::string& hpa,
                                      int metric_index, int32_t expected, int32_t target) = 0;
};

struct HpaPatchResult {
  int patches = 0;                  // patches sent (or logged under DRY_RUN)
  std::vector<std::string> errors;  // "patch <hpa>: <message>" per failed patch
};

// Patches the Resource/cpu Utilization metrics of the HPAs of `target` (the one named by
// target.hpa_name, else every HPA in its namespace whose scaleTargetRef is the Deployment)
// whose averageUtilization differs from round(target_pct). With `dry_run`, logs instead.
HpaPatchResult PatchCpuHpas(const std::vector<clients::kube::HorizontalPodAutoscaler>& hpas,
                            const Target& target, double target_pct, bool dry_run,
                            HpaPatcher* patcher);

}  // namespace reconciler
