#include "reconciler/hpa_patch.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

bool ScalesTarget(const kube::HorizontalPodAutoscaler& h, const Target& t) {
  if (h.metadata.namespace_name != t.namespace_name) return false;
  if (!t.hpa_name.empty()) return h.metadata.name == t.hpa_name;
  return h.scale_target_ref.kind == "Deployment" && h.scale_target_ref.name == t.name;
}

}  // namespace

HpaPatchResult PatchCpuHpas(const std::vector<kube::HorizontalPodAutoscaler>& hpas,
                            const Target& target, double target_pct, bool dry_run,
                            HpaPatcher* patcher) {
  HpaPatchResult out;
  const int32_t want = static_cast<int32_t>(std::lround(target_pct));
  for (const kube::HorizontalPodAutoscaler& h : hpas) {
    if (!ScalesTarget(h, target)) continue;
    for (size_t i = 0; i < h.metrics.size(); ++i) {
      const kube::HpaMetric& m = h.metrics[i];
      if (m.type != "Resource" || m.name != "cpu" || !m.target.average_utilization) continue;
      const int32_t have = *m.target.average_utilization;
      if (want == have) continue;
      ++out.patches;
      if (dry_run) {
        LOG(INFO) << "DRY_RUN: would patch HPA " << target.namespace_name << "/" << h.metadata.name
                  << " cpu averageUtilization " << have << " -> " << want;
        continue;
      }
      absl::Status ps = patcher->PatchCpuTarget(target.namespace_name, h.metadata.name,
                                                static_cast<int>(i), have, want);
      if (!ps.ok()) {
        out.errors.push_back(absl::StrCat("patch ", h.metadata.name, ": ", ps.message()));
      }
    }
  }
  return out;
}

}  // namespace reconciler
