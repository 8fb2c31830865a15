#include "reconciler/decision.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reconciler {

TargetDecision DecideTarget(const Reading& reading, absl::optional<double> learned_target_pct,
                            const DecisionMemory& previous, const Config& config,
                            absl::Time now) {
  const TargetPolicy policy = TargetPolicyForBase(config.target_node_utilization);
  const double recommended = RecommendTarget(reading.node_pressure, reading.cpu_request_millicores,
                                             policy, learned_target_pct);
  TargetDecision out;
  out.previous_target_pct = previous.target_pct;
  out.target_pct = previous.target_pct;
  out.last_target_change = previous.last_target_change;
  if (!previous.has_target) {
    out.target_pct = recommended;
    out.last_target_change = now;
  } else if (reading.node_pressure.level == PressureLevel::kUnknown &&
             recommended < previous.target_pct) {
    // Unknown node pressure (node data missing) must not lower a target.
  } else {
    const double next = ApplyCooldown(previous.target_pct, recommended,
                                      previous.last_target_change, now,
                                      reading.node_pressure.level, config.cooldown);
    if (next != previous.target_pct) {
      out.target_pct = next;
      out.last_target_change = now;
    }
  }
  out.changed = !previous.has_target || out.target_pct != previous.target_pct;
  return out;
}

Decision Decide(const Reading& reading, const ForecastView& forecast,
                const DecisionMemory& previous, const Config& config, absl::Time now) {
  Decision d;
  d.target = DecideTarget(reading, forecast.learned_target_pct, previous, config, now);
  d.next = previous;
  d.next.has_target = true;
  d.next.target_pct = d.target.target_pct;
  d.next.last_target_change = d.target.last_target_change;
  if (!reading.blended_pct) {
    d.held = true;
    d.note = previous.has_served ? "no CPU data this cycle: last-known-good values stand"
                                 : "no CPU data yet";
    return d;
  }
  // Low confidence holds the previous values only when every pod is young. Pods starting
  // (a scale-up in progress) are already left out of the blend, and a held pressure is a ratio
  // to the replica count it was computed for: the HPA would multiply it by the growing count
  // every sync, up to maxReplicas.
  if (reading.confidence < kMinConfidence && previous.has_served && reading.all_pods_young) {
    d.held = true;
    d.note = absl::StrCat("confidence ", reading.confidence, " < ", kMinConfidence,
                          ": previous values stand");
    return d;
  }
  ServedValues& s = d.next.served;
  s.blended_pct = *reading.blended_pct;
  // What the HPA scales for: the deployment's served CPU over the rate windows (or their
  // trend, when rising; more when capped) per ready pod, then the trusted forecast peak.
  double current_pct = *reading.blended_pct;
  absl::optional<double> demand = ServedDemandCores(reading.windows);
  if (demand && reading.ready_pods > 0 && reading.cpu_request_millicores > 0) {
    if (reading.saturated) {
      *demand = std::max(*demand, kSaturatedGrowth * reading.windows.cores_1m.value_or(
                                                         reading.windows.cores_5m.value_or(0)));
    }
    if (forecast.rise_headroom_cores && reading.windows.cores_1m) {
      // The risk headroom: what this deployment's demand has risen by within a provisioning
      // horizon (its upper quantile over the last day), on top of the present minute.
      *demand = std::max(*demand, *reading.windows.cores_1m + *forecast.rise_headroom_cores);
    }
    current_pct = 100.0 * *demand /
                  (reading.ready_pods * reading.cpu_request_millicores / 1000.0);
  }
  s.predicted_pct = PredictedCpuPct(current_pct, forecast.peak_lead_p90_cores,
                                    reading.ready_pods, reading.cpu_request_millicores,
                                    forecast.trusted);
  s.pressure_ratio = PressureRatio(s.predicted_pct, d.next.target_pct);
  if (reading.memory_pct) s.memory_pct = reading.memory_pct;
  d.next.served_at = now;
  d.next.has_served = true;
  d.served_now = true;
  return d;
}

double TargetDemandCores(double target_pct, const Reading& reading) {
  return target_pct / 100.0 * std::max(1, reading.ready_pods) * reading.cpu_request_millicores /
         1000.0;
}

}  // namespace reconciler
