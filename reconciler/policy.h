// policy: the per-deployment rules of the reconciler's loop, as pure functions.
//
//   reconciler::PodFilter f = reconciler::FilterStartupPods(pods, now, absl::Minutes(2));
//   absl::optional<double> blended = reconciler::BlendedCpuPct(f.pods);
//   double target = reconciler::RecommendTarget(ClassifyNodePressure(nodes), 80, {});
//
// Inputs are typed values gathered elsewhere (Kubernetes cache, Prometheus); nothing here does
// I/O or reads the clock, so every rule is tested directly. CPU is in millicores, memory in
// bytes, percentages are 0-100. Thread-compatible.
//
// Where these differ from the original project (the Python smart-autoscaler this one replaces):
// - when every pod is young the most mature pods are used (the original used all, unfiltered)
//   and confidence drops;
// - CPU requests are summed over all containers (the original read the first container only);
// - missing data is "unknown" (absl::nullopt), never zero, so a Prometheus outage can never
//   look like an idle cluster or lower a target;
// - the node-pressure table yields an HPA target directly (the served smart_cpu_target), not a
//   ±5 step on the previous target.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace reconciler {

// One pod of a deployment, as seen this cycle.
struct PodUsage {
  absl::Time start_time;
  bool ready = true;
  // Sum of the containers' CPU requests.
  int64_t cpu_request_millicores = 0;
  // rate(container_cpu_usage_seconds_total[10m]) and [5m] summed over containers, in
  // millicores; nullopt when Prometheus had no series for the pod.
  absl::optional<double> cpu_10m_millicores;
  absl::optional<double> cpu_5m_millicores;
  absl::optional<double> cpu_1m_millicores;  // rate over [1m], the surge signal
};

struct PodFilter {
  std::vector<PodUsage> pods;  // the pods whose usage counts
  int excluded = 0;            // young pods left out
  bool all_young = false;      // every pod was young: the most mature ones were kept
};

// Leaves out pods younger than `window` (their start-up CPU spike is not load). When every
// pod is young, keeps the most mature ones (those started within one minute of the oldest)
// and sets all_young. An empty input gives an empty result.
PodFilter FilterStartupPods(const std::vector<PodUsage>& pods, absl::Time now,
                            absl::Duration window);

// 0.7 x 10-minute rate + 0.3 x 5-minute rate, as % of the summed CPU requests of the pods
// that have data. A pod without a 5-minute rate uses its 10-minute rate for both. nullopt
// when no pod has data or the requests sum to zero (utilization is undefined then).
absl::optional<double> BlendedCpuPct(const std::vector<PodUsage>& pods);

// Deployment CPU demand in cores with the same blend (sum over pods with data); nullopt when
// no pod has data. This, not utilization, is what the forecaster models.
absl::optional<double> BlendedDemandCores(const std::vector<PodUsage>& pods);

// A pod counts in the CPU reading only once its rates can show its load: it serves after its
// start-up (readiness, typically one to two minutes), and the data a cycle reads lag by up to
// a cycle, so its 5-minute rate is mostly start-up before this age. Younger pods read low and
// would make a deployment that is scaling up look idle. The startup filter, when longer, wins.
inline constexpr absl::Duration kRateCoverage = absl::Minutes(7);

// Pods whose 5-minute CPU is at least this share of their CPU limit are capped (throttled).
inline constexpr double kSaturatedShare = 0.97;

// The deployment's CPU over the two rate windows, summed over every running pod that has the
// rate, young pods included (cores). A pod that started inside a window contributes what it
// used there, so the sums are the deployment's served CPU over each window whatever the
// replica count did meanwhile: unlike a utilization, they do not read high after a scale-up
// (old pods' busy past divided by the new count) or low while new pods warm up.
struct DemandWindows {
  absl::optional<double> cores_10m, cores_5m, cores_1m;
};
DemandWindows SumPodRates(const std::vector<PodUsage>& pods);

// The demand the served metric scales for, cores: the 0.7/0.3 blend of the sums or, when
// higher, the 1-minute sum, which shows a surge in full one minute after it started (the
// blend shows about a seventh of it after one minute), or the trend of the 10- and 5-minute
// sums carried to the end of their windows (2 x 5-minute - 10-minute). A missing 5-minute sum
// uses the 10-minute one; nullopt without a 10-minute sum.
// While the 1-minute sum is above the 5-minute one (a rise in progress), the rise is carried
// forward at its slope, (1-minute - 5-minute) / 2 minutes (the windows' middles are 2 minutes
// apart), from the 1-minute window's middle over half a minute plus `kRiseLeadMinutes`: the
// demand when pods asked for now can serve. Falling or
// flat demand is served as it is (the HPA's scale-down stabilisation smooths it).
absl::optional<double> ServedDemandCores(const DemandWindows& windows);

// How far ahead a rise in progress is carried: about the HPA's sync plus a pod's start-up
// (15 s + 90 s by default, the backtest protocol's). Measured in BENCHMARKS.md ("Backtest",
// the 1-minute window): 1.5 minutes is the one of 0.75 / 1.5 / 2.5 with no trace on which a
// cost-matched native HPA beats smart; longer costs scale events and replica-hours.
inline constexpr double kRiseLeadMinutes = 1.5;

// Confidence of this cycle's reading, 0-1: 1.0, x0.5 when a pod started within
// `recent_window` (scheduling in progress), x0.5 when all pods were young.
double ReadingConfidence(const std::vector<PodUsage>& all_pods, const PodFilter& filter,
                         absl::Time now, absl::Duration recent_window = absl::Minutes(3));

// The minimum confidence below which the previous served value stands.
inline constexpr double kMinConfidence = 0.6;

// One ready, schedulable node that matches the deployment's nodeSelector.
struct NodeUsage {
  double allocatable_millicores = 0;
  double requested_millicores = 0;  // sum of pod CPU requests scheduled on it
  absl::optional<double> used_millicores;  // blended node CPU use; nullopt when unknown
};

enum class PressureLevel { kUnknown, kSafe, kWarning, kCritical };

struct NodePressure {
  PressureLevel level = PressureLevel::kUnknown;
  double utilization_pct = 0;       // used / allocatable over the nodes, 0-100+
  double schedulable_fraction = 0;  // (allocatable - requested) / allocatable, may be < 0
};

const char* PressureLevelName(PressureLevel level);

// The original's thresholds over the summed nodes: safe when utilization < 65 % and more
// than 30 % is schedulable; warning when < 80 % and more than 15 %; else critical. Unknown
// when there are no nodes, no allocatable CPU, or any node's usage is unknown.
NodePressure ClassifyNodePressure(const std::vector<NodeUsage>& nodes);

struct TargetPolicy {
  double base_pct = 70;           // warning pressure, and unknown pressure
  double safe_min_pct = 75;       // safe: 75 at 30 % schedulable ...
  double safe_max_pct = 85;       // ... rising to 85 at 60 % schedulable or more
  double critical_max_pct = 60;   // critical: 60 at 80 % utilization ...
  double critical_min_pct = 50;   // ... falling to 50 at 95 % or more
};

// The target table for TARGET_NODE_UTILIZATION = `base_pct`: safe pressure base+5 .. base+15
// (at most 95), critical base-10 .. base-20 (at least 10), warning/unknown base.
TargetPolicy TargetPolicyForBase(double base_pct);

// The 0.7 x 10-minute + 0.3 x 5-minute blend of two CPU rates (millicores); a missing 5-minute
// rate uses the 10-minute rate. nullopt when the 10-minute rate is missing.
absl::optional<double> BlendCpuRates(absl::optional<double> rate_10m,
                                     absl::optional<double> rate_5m);

// The HPA target (% of CPU request) for the node pressure, before the low-request rule.
double TargetForPressure(const NodePressure& pressure, const TargetPolicy& policy);

// Small CPU requests make utilization jumpy (a few millicores are a large percentage), so
// their targets are held high: < 50m -> within [85, 90]; 50m-99m -> within [75, 85];
// otherwise unchanged. A request of 0 (none set) is left unchanged.
double ApplyLowRequestRule(double target_pct, int64_t cpu_request_millicores);

// Auto-tuning: the target this workload's own burstiness calls for, learned from its demand
// history (cores, regular buckets, oldest first). Demand can grow before new pods are ready, so
// the target keeps headroom for the typical worst growth within `reaction_buckets`:
// target = 100 / p95 over t of max(demand[t+1 .. t+reaction]) / demand[t], clamped to
// [min_pct, max_pct]. A steady workload may run hot (90 %); a spiky one gets room (e.g. demand
// that can jump 40 % in 10 minutes -> 71 %). nullopt below `min_buckets` of history (7 days of
// 5-minute buckets by default) or when demand is mostly zero. Replaces the seed's auto-tuner,
// which chased a hard-coded 65 % node utilisation with random exploration.
absl::optional<double> LearnedTargetPct(const std::vector<double>& demand, int reaction_buckets = 2,
                                        int min_buckets = 7 * 24 * 12, double min_pct = 50,
                                        double max_pct = 90);
// The same, skipping every t whose window demand[t .. t+reaction] holds a censored bucket
// (`censored` parallel to `demand`, != 0 where demand sat at the pods' CPU limit: only a lower
// bound, so its growth ratio says nothing). An empty `censored` marks nothing.
absl::optional<double> LearnedTargetPct(const std::vector<double>& demand,
                                        const std::vector<uint8_t>& censored,
                                        int reaction_buckets = 2, int min_buckets = 7 * 24 * 12,
                                        double min_pct = 50, double max_pct = 90);

// The recommended target: node pressure, then the low-request rule. `learned_pct`, when set
// (auto-tuning after 7 days), replaces the pressure table's value under warning/safe/unknown
// pressure but never raises the target under critical pressure.
double RecommendTarget(const NodePressure& pressure, int64_t cpu_request_millicores,
                       const TargetPolicy& policy,
                       absl::optional<double> learned_pct = absl::nullopt);

// Cooldown between target changes: returns `current_pct` while fewer than `cooldown` has
// passed since `last_change` (and the recommendation differs), else `recommended_pct`.
// Critical pressure lowering the target bypasses the cooldown: protecting a saturated node
// must not wait five minutes.
double ApplyCooldown(double current_pct, double recommended_pct, absl::Time last_change,
                     absl::Time now, PressureLevel level,
                     absl::Duration cooldown = absl::Minutes(5));

// smart_cpu_predicted: max(blended, forecast peak demand / capacity of the ready pods), % of
// request. Falls back to `blended_pct` when the forecast is not trusted or capacity is 0.
double PredictedCpuPct(double blended_pct, absl::optional<double> forecast_peak_p90_cores,
                       int ready_pods, int64_t cpu_request_millicores_per_pod, bool trusted);

// smart_cpu_pressure: predicted / target. An HPA with target Value 1 then computes
// desired = ceil(replicas x predicted / target), which is what a CPU HPA with the smart target
// would do. target_pct <= 0 is treated as 100.
double PressureRatio(double predicted_pct, double target_pct);

}  // namespace reconciler
