#include "reconciler/hpa_patch.h"

#include <tuple>

#include "gtest/gtest.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

// Records every patch; fails the ones named in `fail`.
class RecordingPatcher : public HpaPatcher {
 public:
  absl::Status PatchCpuTarget(const std::string& ns, const std::string& hpa, int index,
                              int32_t expected, int32_t target) override {
    patches.emplace_back(ns + "/" + hpa, index, expected, target);
    if (hpa == fail) return absl::AbortedError("conflict");
    return absl::OkStatus();
  }
  std::vector<std::tuple<std::string, int, int32_t, int32_t>> patches;
  std::string fail;
};

kube::HorizontalPodAutoscaler CpuHpa(const std::string& ns, const std::string& name,
                                     const std::string& scales, int32_t utilization) {
  kube::HorizontalPodAutoscaler h;
  h.metadata.namespace_name = ns;
  h.metadata.name = name;
  h.scale_target_ref = {"apps/v1", "Deployment", scales};
  kube::HpaMetric memory;
  memory.type = "Resource";
  memory.name = "memory";
  memory.target.average_utilization = 80;
  kube::HpaMetric cpu;
  cpu.type = "Resource";
  cpu.name = "cpu";
  cpu.target.average_utilization = utilization;
  h.metrics = {memory, cpu};
  return h;
}

Target ApiTarget() {
  Target t;
  t.namespace_name = "shop";
  t.name = "api";
  return t;
}

TEST(HpaPatchTest, PatchesTheCpuMetricOfTheDeploymentsHpasToTheRoundedTarget) {
  std::vector<kube::HorizontalPodAutoscaler> hpas = {
      CpuHpa("shop", "api", "api", 70), CpuHpa("shop", "api-2", "api", 72),
      CpuHpa("shop", "web", "web", 70), CpuHpa("other", "api", "api", 70)};
  RecordingPatcher p;
  HpaPatchResult r = PatchCpuHpas(hpas, ApiTarget(), 72.4, /*dry_run=*/false, &p);
  EXPECT_EQ(r.patches, 1) << "api-2 already is at 72; web and other/api are not ours";
  ASSERT_EQ(p.patches.size(), 1u);
  EXPECT_EQ(p.patches[0], std::make_tuple(std::string("shop/api"), 1, 70, 72));
  EXPECT_TRUE(r.errors.empty());
}

TEST(HpaPatchTest, ANamedHpaIsTheOnlyOnePatched) {
  std::vector<kube::HorizontalPodAutoscaler> hpas = {CpuHpa("shop", "api", "api", 70),
                                                     CpuHpa("shop", "api-hpa", "other", 70)};
  Target t = ApiTarget();
  t.hpa_name = "api-hpa";
  RecordingPatcher p;
  HpaPatchResult r = PatchCpuHpas(hpas, t, 80, false, &p);
  EXPECT_EQ(r.patches, 1);
  ASSERT_EQ(p.patches.size(), 1u);
  EXPECT_EQ(std::get<0>(p.patches[0]), "shop/api-hpa");
}

TEST(HpaPatchTest, DryRunCountsButSendsNothingAndFailuresAreReported) {
  std::vector<kube::HorizontalPodAutoscaler> hpas = {CpuHpa("shop", "api", "api", 70)};
  RecordingPatcher p;
  HpaPatchResult dry = PatchCpuHpas(hpas, ApiTarget(), 80, /*dry_run=*/true, &p);
  EXPECT_EQ(dry.patches, 1);
  EXPECT_TRUE(p.patches.empty());

  p.fail = "api";
  HpaPatchResult failed = PatchCpuHpas(hpas, ApiTarget(), 80, false, &p);
  EXPECT_EQ(failed.patches, 1);
  ASSERT_EQ(failed.errors.size(), 1u);
  EXPECT_EQ(failed.errors[0], "patch api: conflict");
}

}  // namespace
}  // namespace reconciler
