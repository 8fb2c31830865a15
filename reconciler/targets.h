// targets: which deployments the reconciler manages this cycle, as a pure function of the
// cluster state and the config.
//
//   std::map<std::string, reconciler::Target> targets =
//       reconciler::DiscoverTargets(cluster_state, config);   // keyed "namespace/name"
//
// Sources, the first one to name a deployment wins: HPAs that reference a smart_* metric
// (ENABLE_AUTO_DISCOVERY; the External metric's "deployment" label, an Object metric's
// Deployment, else the HPA's scaleTargetRef), the DEPLOYMENT_<N>_* variables, and Deployments
// annotated smart-autoscaler.io/enabled="true". On the Deployment, enabled="false" opts out,
// smart-autoscaler.io/startup-filter and smart-autoscaler.io/lead-time (minutes, or a
// duration such as "90s"; 0-24 h, a lead time above 0) override the defaults; an unparsable
// value leaves the default. Thread-compatible.
#pragma once

#include <map>
#include <string>

#include "absl/time/time.h"
#include "reconciler/cluster.h"
#include "reconciler/config.h"

namespace reconciler {

inline constexpr char kAnnotationEnabled[] = "smart-autoscaler.io/enabled";
inline constexpr char kAnnotationStartupFilter[] = "smart-autoscaler.io/startup-filter";
inline constexpr char kAnnotationLeadTime[] = "smart-autoscaler.io/lead-time";

// One managed deployment.
struct Target {
  std::string namespace_name, name;
  std::string source;             // "hpa/<name>", "env/DEPLOYMENT_<N>", "annotation"
  absl::Duration startup_filter;  // STARTUP_FILTER_MINUTES, DEPLOYMENT_<N>_STARTUP_FILTER or
                                  // the annotation
  absl::Duration lead;   // LEAD_TIME_MINUTES or the smart-autoscaler.io/lead-time annotation
  std::string hpa_name;  // DEPLOYMENT_<N>_HPA_NAME: the HPA legacy mode patches ("" = any
                         // HPA whose scaleTargetRef is the deployment)
};

// "namespace/name": the key of targets, pods and per-deployment state.
std::string TargetKey(const std::string& namespace_name, const std::string& name);

// The managed deployments, keyed by TargetKey. A target whose Deployment does not exist (yet)
// is kept (the loop reports it as not found).
std::map<std::string, Target> DiscoverTargets(const ClusterState& cluster, const Config& config);

}  // namespace reconciler
