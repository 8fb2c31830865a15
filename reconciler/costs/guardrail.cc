// The cost guardrail: prices the forecast-driven headroom and caps it to a monthly budget.
//
// The HPA asks for ready_pods x served / target replicas, so serving `predicted` instead of
// `blended` asks for ready_pods x (predicted - blended) / target extra replicas. Those are what
// the forecast adds; the replicas for the measured load (blended) are never priced against the
// budget and never taken away.
#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_format.h"
#include "reconciler/costs/costs.h"

namespace costs {

GuardrailDecision CapPredicted(const GuardrailInput& in) {
  GuardrailDecision d;
  d.predicted_pct = in.predicted_pct;
  d.pod_hourly_cost = in.cpu_request_millicores / 1000.0 * in.prices.per_vcpu_hour +
                      in.memory_request_bytes / kBytesPerGb * in.prices.per_gb_hour;
  if (!(in.predicted_pct > in.blended_pct)) {
    d.why = "no forecast headroom above the measured load";
    return d;
  }
  if (in.ready_pods <= 0 || !(in.target_pct > 0)) {
    d.why = "no ready pods or no target: the headroom cannot be priced, not capped";
    return d;
  }
  const double hours = absl::ToDoubleHours(in.expected_duration);
  const double usd_per_replica = d.pod_hourly_cost * hours;
  d.extra_replicas = in.ready_pods * (in.predicted_pct - in.blended_pct) / in.target_pct;
  d.monthly_cost_change = d.extra_replicas * usd_per_replica;
  d.served_cost_change = d.monthly_cost_change;
  if (!in.monthly_budget) {
    d.why = absl::StrFormat("forecast headroom of %.2f replica(s) costs $%.2f; no budget",
                            d.extra_replicas, d.monthly_cost_change);
    return d;
  }
  const double budget = *in.monthly_budget;
  if (in.current_monthly_cost + d.monthly_cost_change <= budget) {
    d.why = absl::StrFormat(
        "forecast headroom of %.2f replica(s) costs $%.2f; $%.2f + $%.2f is within the "
        "$%.2f/month budget",
        d.extra_replicas, d.monthly_cost_change, in.current_monthly_cost, d.monthly_cost_change,
        budget);
    return d;
  }
  const double room = std::max(0.0, budget - in.current_monthly_cost);
  const double allowed_replicas = usd_per_replica > 0 ? room / usd_per_replica : d.extra_replicas;
  double served = in.blended_pct + allowed_replicas * in.target_pct / in.ready_pods;
  // Never below the measured load, never above the forecast.
  served = std::clamp(served, in.blended_pct, in.predicted_pct);
  d.predicted_pct = served;
  d.capped = served < in.predicted_pct;
  d.served_cost_change =
      in.ready_pods * (served - in.blended_pct) / in.target_pct * usd_per_replica;
  d.why = absl::StrFormat(
      "budget $%.2f/month: $%.2f + $%.2f for %.2f forecast replica(s) would exceed it; "
      "headroom capped to %.1f%% (measured load %.1f%%, forecast %.1f%%)",
      budget, in.current_monthly_cost, d.monthly_cost_change, d.extra_replicas, served,
      in.blended_pct, in.predicted_pct);
  return d;
}

}  // namespace costs
