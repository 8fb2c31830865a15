#include "reconciler/policy.h"

#include <algorithm>
#include <cmath>

namespace reconciler {
namespace {

constexpr double kWeight10m = 0.7;
constexpr double kWeight5m = 0.3;

// Linear interpolation of y between (x0, y0) and (x1, y1), clamped to the segment.
double Ramp(double x, double x0, double y0, double x1, double y1) {
  if (x <= x0) return y0;
  if (x >= x1) return y1;
  return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

// Blended millicores of one pod, or nullopt when it has no 10-minute rate.
absl::optional<double> PodBlend(const PodUsage& p) {
  return BlendCpuRates(p.cpu_10m_millicores, p.cpu_5m_millicores);
}

}  // namespace

absl::optional<double> BlendCpuRates(absl::optional<double> rate_10m,
                                     absl::optional<double> rate_5m) {
  if (!rate_10m.has_value()) return absl::nullopt;
  return kWeight10m * *rate_10m + kWeight5m * rate_5m.value_or(*rate_10m);
}

TargetPolicy TargetPolicyForBase(double base_pct) {
  TargetPolicy policy;
  policy.base_pct = base_pct;
  policy.safe_min_pct = std::min(95.0, base_pct + 5);
  policy.safe_max_pct = std::min(95.0, base_pct + 15);
  policy.critical_max_pct = std::max(10.0, base_pct - 10);
  policy.critical_min_pct = std::max(10.0, base_pct - 20);
  return policy;
}

PodFilter FilterStartupPods(const std::vector<PodUsage>& pods, absl::Time now,
                            absl::Duration window) {
  PodFilter out;
  absl::Time oldest = absl::InfiniteFuture();
  for (const PodUsage& p : pods) {
    if (now - p.start_time >= window) {
      out.pods.push_back(p);
    } else {
      ++out.excluded;
    }
    oldest = std::min(oldest, p.start_time);
  }
  if (out.pods.empty() && !pods.empty()) {
    // Everyone is young (a rollout or a fresh deployment): the oldest pods are past the worst
    // of their start-up spike, so they are the best reading there is.
    out.all_young = true;
    out.excluded = 0;
    for (const PodUsage& p : pods) {
      if (p.start_time - oldest <= absl::Minutes(1)) {
        out.pods.push_back(p);
      } else {
        ++out.excluded;
      }
    }
  }
  return out;
}

absl::optional<double> BlendedDemandCores(const std::vector<PodUsage>& pods) {
  double sum = 0;
  bool any = false;
  for (const PodUsage& p : pods) {
    if (absl::optional<double> b = PodBlend(p)) {
      sum += *b;
      any = true;
    }
  }
  if (!any) return absl::nullopt;
  return sum / 1000.0;
}

absl::optional<double> BlendedCpuPct(const std::vector<PodUsage>& pods) {
  double used = 0, requested = 0;
  bool any = false;
  for (const PodUsage& p : pods) {
    if (absl::optional<double> b = PodBlend(p)) {
      used += *b;
      requested += p.cpu_request_millicores;
      any = true;
    }
  }
  if (!any || requested <= 0) return absl::nullopt;
  return used / requested * 100.0;
}

DemandWindows SumPodRates(const std::vector<PodUsage>& pods) {
  DemandWindows w;
  for (const PodUsage& p : pods) {
    if (p.cpu_10m_millicores) w.cores_10m = w.cores_10m.value_or(0) + *p.cpu_10m_millicores / 1000;
    if (p.cpu_5m_millicores) w.cores_5m = w.cores_5m.value_or(0) + *p.cpu_5m_millicores / 1000;
    if (p.cpu_1m_millicores) w.cores_1m = w.cores_1m.value_or(0) + *p.cpu_1m_millicores / 1000;
  }
  return w;
}

absl::optional<double> ServedDemandCores(const DemandWindows& windows) {
  absl::optional<double> blend = BlendCpuRates(windows.cores_10m, windows.cores_5m);
  if (!blend) return absl::nullopt;
  double demand = std::max(*blend, windows.cores_1m.value_or(0));
  if (!windows.cores_5m) return demand;
  demand = std::max(demand, 2 * *windows.cores_5m - *windows.cores_10m);
  if (windows.cores_1m && *windows.cores_1m > *windows.cores_5m) {
    const double slope = (*windows.cores_1m - *windows.cores_5m) / 2.0;  // cores per minute
    demand = std::max(demand, *windows.cores_1m + slope * (0.5 + kRiseLeadMinutes));
  }
  return demand;
}

double ReadingConfidence(const std::vector<PodUsage>& all_pods, const PodFilter& filter,
                         absl::Time now, absl::Duration recent_window) {
  double confidence = 1.0;
  for (const PodUsage& p : all_pods) {
    if (now - p.start_time < recent_window) {
      confidence *= 0.5;
      break;
    }
  }
  if (filter.all_young) confidence *= 0.5;
  return confidence;
}

const char* PressureLevelName(PressureLevel level) {
  switch (level) {
    case PressureLevel::kSafe:
      return "safe";
    case PressureLevel::kWarning:
      return "warning";
    case PressureLevel::kCritical:
      return "critical";
    case PressureLevel::kUnknown:
      break;
  }
  return "unknown";
}

NodePressure ClassifyNodePressure(const std::vector<NodeUsage>& nodes) {
  NodePressure out;
  double allocatable = 0, requested = 0, used = 0;
  for (const NodeUsage& n : nodes) {
    if (!n.used_millicores.has_value()) return out;  // unknown: never guess from partial data
    allocatable += n.allocatable_millicores;
    requested += n.requested_millicores;
    used += *n.used_millicores;
  }
  if (allocatable <= 0) return out;
  out.utilization_pct = used / allocatable * 100.0;
  out.schedulable_fraction = (allocatable - requested) / allocatable;
  if (out.utilization_pct < 65 && out.schedulable_fraction > 0.30) {
    out.level = PressureLevel::kSafe;
  } else if (out.utilization_pct < 80 && out.schedulable_fraction > 0.15) {
    out.level = PressureLevel::kWarning;
  } else {
    out.level = PressureLevel::kCritical;
  }
  return out;
}

double TargetForPressure(const NodePressure& pressure, const TargetPolicy& policy) {
  switch (pressure.level) {
    case PressureLevel::kSafe:
      // More free room on the nodes -> new pods are cheap to place -> run hotter.
      return Ramp(pressure.schedulable_fraction, 0.30, policy.safe_min_pct, 0.60,
                  policy.safe_max_pct);
    case PressureLevel::kCritical:
      // Busy or full nodes -> scale out earlier so pods spread before nodes saturate.
      return Ramp(pressure.utilization_pct, 80, policy.critical_max_pct, 95,
                  policy.critical_min_pct);
    case PressureLevel::kWarning:
    case PressureLevel::kUnknown:
      break;
  }
  return policy.base_pct;
}

double ApplyLowRequestRule(double target_pct, int64_t cpu_request_millicores) {
  if (cpu_request_millicores <= 0) return target_pct;
  if (cpu_request_millicores < 50) return std::clamp(target_pct, 85.0, 90.0);
  if (cpu_request_millicores < 100) return std::clamp(target_pct, 75.0, 85.0);
  return target_pct;
}

double RecommendTarget(const NodePressure& pressure, int64_t cpu_request_millicores,
                       const TargetPolicy& policy, absl::optional<double> learned_pct) {
  double target = TargetForPressure(pressure, policy);
  if (learned_pct.has_value() && std::isfinite(*learned_pct)) {
    target = pressure.level == PressureLevel::kCritical ? std::min(target, *learned_pct)
                                                        : *learned_pct;
  }
  return ApplyLowRequestRule(target, cpu_request_millicores);
}

double ApplyCooldown(double current_pct, double recommended_pct, absl::Time last_change,
                     absl::Time now, PressureLevel level, absl::Duration cooldown) {
  if (recommended_pct == current_pct) return current_pct;
  if (level == PressureLevel::kCritical && recommended_pct < current_pct) return recommended_pct;
  if (now - last_change < cooldown) return current_pct;
  return recommended_pct;
}

double PredictedCpuPct(double blended_pct, absl::optional<double> forecast_peak_p90_cores,
                       int ready_pods, int64_t cpu_request_millicores_per_pod, bool trusted) {
  if (!trusted || !forecast_peak_p90_cores.has_value() ||
      !std::isfinite(*forecast_peak_p90_cores) || ready_pods <= 0 ||
      cpu_request_millicores_per_pod <= 0) {
    return blended_pct;
  }
  const double capacity_cores = ready_pods * cpu_request_millicores_per_pod / 1000.0;
  return std::max(blended_pct, *forecast_peak_p90_cores / capacity_cores * 100.0);
}

double PressureRatio(double predicted_pct, double target_pct) {
  if (!(target_pct > 0)) target_pct = 100;
  return predicted_pct / target_pct;
}

absl::optional<double> LearnedTargetPct(const std::vector<double>& demand, int reaction_buckets,
                                        int min_buckets, double min_pct, double max_pct) {
  return LearnedTargetPct(demand, {}, reaction_buckets, min_buckets, min_pct, max_pct);
}

absl::optional<double> LearnedTargetPct(const std::vector<double>& demand,
                                        const std::vector<uint8_t>& censored, int reaction_buckets,
                                        int min_buckets, double min_pct, double max_pct) {
  if (static_cast<int>(demand.size()) < min_buckets || reaction_buckets < 1) return absl::nullopt;
  // Buckets with (almost) no demand say nothing about relative growth. "Almost none" is
  // relative to the 95th percentile, not the maximum: one burst of 10x the usual level must not
  // make every ordinary bucket look idle (and the workload unlearnable).
  std::vector<double> sorted(demand.begin(), demand.end());
  const size_t p95 = static_cast<size_t>(0.95 * (sorted.size() - 1));
  std::nth_element(sorted.begin(), sorted.begin() + p95, sorted.end());
  const double floor = 0.05 * sorted[p95];
  std::vector<double> ratios;
  for (size_t t = 0; t + reaction_buckets < demand.size(); ++t) {
    if (!(demand[t] > floor) || !std::isfinite(demand[t])) continue;
    bool lower_bound = false;  // a censored bucket in the window: skip it
    for (size_t k = t; k <= t + reaction_buckets && k < censored.size(); ++k) {
      lower_bound = lower_bound || censored[k] != 0;
    }
    if (lower_bound) continue;
    double ahead = 0;
    for (int k = 1; k <= reaction_buckets; ++k) ahead = std::max(ahead, demand[t + k]);
    ratios.push_back(std::max(1.0, ahead / demand[t]));
  }
  if (ratios.size() < demand.size() / 2) return absl::nullopt;
  size_t k = static_cast<size_t>(0.95 * (ratios.size() - 1));
  std::nth_element(ratios.begin(), ratios.begin() + k, ratios.end());
  return std::clamp(100.0 / ratios[k], min_pct, max_pct);
}

}  // namespace reconciler
