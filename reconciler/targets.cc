#include "reconciler/targets.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

bool ParseMinutes(const std::string& text, absl::Duration* out) {
  double m;
  if (absl::SimpleAtod(text, &m) && m >= 0 && m <= 24 * 60) {
    *out = absl::Minutes(m);
    return true;
  }
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration() && d <= absl::Hours(24)) {
    *out = d;
    return true;
  }
  return false;
}

// The deployment an HPA's smart_* metric scales, or "".
std::string ScaledDeployment(const kube::HorizontalPodAutoscaler& h, const kube::HpaMetric& m) {
  std::string name;
  if (m.type == "External") {
    auto it = m.selector.match_labels.find("deployment");
    if (it != m.selector.match_labels.end()) name = it->second;
  } else if (m.type == "Object" && m.described_object.kind == "Deployment") {
    name = m.described_object.name;
  }
  if (name.empty() && h.scale_target_ref.kind == "Deployment") name = h.scale_target_ref.name;
  return name;
}

class Discovery {
 public:
  explicit Discovery(const Config& config) : config_(config) {}

  void Add(const std::string& ns, const std::string& name, const std::string& source,
           absl::Duration startup, const std::string& hpa = "") {
    if (ns.empty() || name.empty()) return;
    targets_.emplace(TargetKey(ns, name),
                     Target{ns, name, source, startup, config_.lead_time, hpa});
  }

  void AddHpas(const std::vector<kube::HorizontalPodAutoscaler>& hpas) {
    for (const kube::HorizontalPodAutoscaler& h : hpas) {
      for (const kube::HpaMetric& m : h.metrics) {
        if (!absl::StartsWith(m.name, "smart_")) continue;
        Add(h.metadata.namespace_name, ScaledDeployment(h, m),
            absl::StrCat("hpa/", h.metadata.name), config_.startup_filter);
      }
    }
  }

  void AddStatic() {
    for (size_t i = 0; i < config_.deployments.size(); ++i) {
      const StaticTarget& s = config_.deployments[i];
      Add(s.namespace_name, s.name, absl::StrCat("env/DEPLOYMENT_", i), s.startup_filter,
          s.hpa_name);
    }
  }

  // Opt-ins by annotation, then every target's opt-out and overrides.
  std::map<std::string, Target> Annotate(const std::vector<kube::Deployment>& deployments) {
    absl::flat_hash_map<std::string, const kube::ObjectMeta*> meta;
    for (const kube::Deployment& d : deployments) {
      meta[TargetKey(d.metadata.namespace_name, d.metadata.name)] = &d.metadata;
      auto enabled = d.metadata.annotations.find(kAnnotationEnabled);
      if (enabled != d.metadata.annotations.end() && enabled->second == "true") {
        Add(d.metadata.namespace_name, d.metadata.name, "annotation", config_.startup_filter);
      }
    }
    for (auto it = targets_.begin(); it != targets_.end();) {
      auto m = meta.find(it->first);
      if (m != meta.end() && !Override(m->second->annotations, &it->second)) {
        it = targets_.erase(it);
      } else {
        ++it;
      }
    }
    return std::move(targets_);
  }

 private:
  // False when the deployment opts out.
  static bool Override(const std::map<std::string, std::string>& ann, Target* t) {
    auto enabled = ann.find(kAnnotationEnabled);
    if (enabled != ann.end() && enabled->second == "false") return false;
    absl::Duration v;
    auto s = ann.find(kAnnotationStartupFilter);
    if (s != ann.end() && ParseMinutes(s->second, &v)) t->startup_filter = v;
    auto l = ann.find(kAnnotationLeadTime);
    if (l != ann.end() && ParseMinutes(l->second, &v) && v > absl::ZeroDuration()) t->lead = v;
    return true;
  }

  const Config& config_;
  std::map<std::string, Target> targets_;
};

}  // namespace

std::string TargetKey(const std::string& namespace_name, const std::string& name) {
  return absl::StrCat(namespace_name, "/", name);
}

std::map<std::string, Target> DiscoverTargets(const ClusterState& cluster, const Config& config) {
  Discovery d(config);
  if (config.enable_auto_discovery) d.AddHpas(cluster.hpas);
  d.AddStatic();
  return d.Annotate(cluster.deployments);
}

}  // namespace reconciler
