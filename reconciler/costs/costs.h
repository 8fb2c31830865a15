// costs: what a deployment costs, what it wastes, what its requests should be, and what a
// forecast-driven scale-up would add to the bill. Pure functions over plain values: no I/O, no
// clock (the caller passes the window), no Kubernetes or store types.
//
//   costs::PriceTable prices = costs::PriceTable::Flat({.per_vcpu_hour = 0.04,
//                                                        .per_gb_hour = 0.005});
//   costs::CostReport r = costs::ComputeCost(lifetimes, usage, from, to, prices);
//   std::cout << r.total_cost << " USD, " << r.recommendation << "\n";
//
// Units, everywhere: CPU requests in millicores and memory in bytes (integers) where they come
// from Kubernetes; usage in cores and bytes (doubles); money in US dollars; memory is priced per
// GB = 10^9 bytes (not GiB); time as absl::Time / absl::Duration, priced in hours with partial
// hours counted.
//
// What is priced:
// - requested: each pod's requests x the time it ran inside the window (creation to deletion,
//   or to the window's end), at the prices of the node pool it ran in;
// - used: the deployment's measured usage over the time it was measured; a time without a
//   measurement is not counted as zero use, it is left out of utilisation and waste;
// - allocated (OpenCost): max(request, usage) over time, so a deployment running above its
//   requests is priced for what it used. Usage is a deployment total, so this is
//   max(sum of requests, sum of usage): a lower bound of the per-pod maximum when usage is
//   uneven across pods;
// - waste: requested - used where positive, over the measured time.
// Thread-compatible value types; the functions are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace costs {

inline constexpr double kBytesPerGb = 1e9;
inline constexpr double kHoursPerMonth = 730;

// ---------------------------------------------------------------------------------- prices
struct Prices {
  double per_vcpu_hour = 0.04;  // USD per core-hour (COST_PER_VCPU_HOUR)
  double per_gb_hour = 0.005;   // USD per GB-hour, GB = 10^9 bytes (COST_PER_GB_MEMORY_HOUR)
};

// Prices per node pool: the value of one node label (instance type, pool name) -> Prices, with
// flat prices for every other node.
class PriceTable {
 public:
  static PriceTable Flat(Prices flat) { return PriceTable(flat); }

  // The pricing file, one entry per line ('#' starts a comment, blank lines are skipped):
  //   label node.kubernetes.io/instance-type
  //   m5.large   0.048  0.0050     <- value, USD per vCPU-hour, USD per GB-hour
  // `label` must come before the first entry and appear once. InvalidArgument with one line per
  // problem ("pricing line 3: '-1' is not a price (USD per vCPU-hour >= 0)") when any line is
  // bad; nothing is half-loaded.
  static absl::StatusOr<PriceTable> Parse(absl::string_view text, Prices flat);

  // The node label whose value selects the pool ("" for a flat table).
  const std::string& label() const { return label_; }
  const Prices& flat() const { return flat_; }
  size_t pools() const { return pools_.size(); }
  // The prices of the pool whose label value is `pool`; the flat prices for "" or an unknown one.
  const Prices& For(absl::string_view pool) const;

 private:
  explicit PriceTable(Prices flat) : flat_(flat) {}
  Prices flat_;
  std::string label_;
  std::map<std::string, Prices, std::less<>> pools_;
};

// A per-deployment monthly budget (annotation smart-autoscaler.io/monthly-budget, variable
// DEPLOYMENT_<N>_MONTHLY_BUDGET): "500", "500.5" or "$500" (USD per month, > 0).
// InvalidArgument naming the text otherwise.
absl::StatusOr<double> ParseMonthlyBudget(absl::string_view text);

// ---------------------------------------------------------------------------------- inputs
// One pod of a deployment, from creation to deletion (InfiniteFuture while it runs).
struct PodLifetime {
  std::string pod;  // name (or uid)
  absl::Time start = absl::InfinitePast();
  absl::Time end = absl::InfiniteFuture();
  int64_t cpu_request_millicores = 0;  // summed over containers
  int64_t memory_request_bytes = 0;
  std::string node;
  std::string pool;  // the node's value of PriceTable::label(), "" when unknown
};

// The deployment's measured usage over [start, start + length): total CPU cores and total
// working-set bytes over its pods (means over the span). A span with no memory reading has
// memory_bytes = nullopt. Spans must not overlap; they need not be contiguous.
struct UsageSpan {
  absl::Time start;
  absl::Duration length;
  double cpu_cores = 0;
  absl::optional<double> memory_bytes;
};

// Usage spans from point samples taken every cycle: each sample holds until the next one, but
// never longer than `max_hold` (a gap longer than that is unmeasured time, not zero use).
// Samples must be sorted by time; `memory` may be empty or hold one value per CPU sample.
struct UsagePoint {
  absl::Time time;
  double cpu_cores = 0;
  absl::optional<double> memory_bytes;
};
std::vector<UsageSpan> SpansFromPoints(const std::vector<UsagePoint>& points,
                                       absl::Duration max_hold);

// ---------------------------------------------------------------------------------- costs
struct CostReport {
  absl::Time from, to;
  double pod_hours = 0;
  double requested_core_hours = 0, requested_gb_hours = 0;
  // Over the measured time only.
  double measured_hours = 0, measured_pod_hours = 0;
  double used_core_hours = 0, used_gb_hours = 0;
  // Requested cost over the window (USD), the original's names.
  double cpu_cost = 0, memory_cost = 0, total_cost = 0;
  // max(request, usage) over time (USD); equals the requested cost where usage is unmeasured.
  double allocated_cpu_cost = 0, allocated_memory_cost = 0, allocated_total_cost = 0;
  // requested - used where positive, over the measured time (USD).
  double wasted_cpu_cost = 0, wasted_memory_cost = 0, total_wasted_cost = 0;
  // used / requested over the measured time, %; nullopt when nothing was measured (or nothing
  // requested), never 0 for "unknown".
  absl::optional<double> cpu_utilization_percent, memory_utilization_percent;
  // CPU waste as % of the requested CPU over the measured time (the original's
  // wasted_capacity_percent); nullopt as above.
  absl::optional<double> wasted_capacity_percent;
  // The last 7 days' (of the window, from the deployment's first pod on) requested rate x 730 h.
  double hourly_cost = 0;  // USD per hour, CPU + memory, over those days
  double hourly_cpu_cost = 0, hourly_memory_cost = 0;
  double estimated_monthly_cost = 0;
  // Monthly cost of requests at 1.2 x the measured usage of those days, and the monthly cost
  // above it (>= 0): what right-sized requests would save.
  double optimal_monthly_cost = 0;
  double optimization_potential = 0;
  std::string recommendation;
};

// Prices `pods` and `usage` over [from, to). `node_utilization_pct` (optional, the deployment's
// nodes) enables the original's "increase the HPA target" advice.
CostReport ComputeCost(const std::vector<PodLifetime>& pods, const std::vector<UsageSpan>& usage,
                       absl::Time from, absl::Time to, const PriceTable& prices,
                       absl::optional<double> node_utilization_pct = absl::nullopt);

// The original's advice and thresholds, with the saving (optimization_potential) in USD/month:
//   wasted > 40 % or CPU utilisation < 30 %: "High waste. Reduce CPU requests to about 1.2x
//     usage (120m per pod). Could save $X/month" (1.2 x used cores per measured pod-hour);
//   wasted > 25 % or utilisation < 50 %:     "Moderate waste. Could save $X/month";
//   node utilisation < 50 %:                 "Nodes are under-used. Consider increasing the HPA
//     target";
//   otherwise:                               "Well-optimized".
// Without measurements: "Not enough usage data".
std::string Recommend(const CostReport& r, absl::optional<double> node_utilization_pct);

// ---------------------------------------------------------------------------- right-sizing
// One usage sample per pod: mean CPU cores per pod, and whether the pods were at their CPU limit
// (the value is only a lower bound of the demand).
struct CpuSample {
  absl::Time time;
  double cores_per_pod = 0;
  bool censored = false;
};
struct MemorySample {
  absl::Time time;
  double bytes_per_pod = 0;  // working set
};

struct RightsizingInput {
  absl::Time now;
  std::vector<CpuSample> cpu;        // any order; only the last 8 days are read
  std::vector<MemorySample> memory;  // any order; only the last 8 days are read
  int64_t cpu_request_millicores = 0;  // current, per pod
  int64_t memory_request_bytes = 0;    // current, per pod
  double average_pods = 0;             // replicas the saving is projected over
  Prices prices;
};

struct Recommendation {
  bool available = false;   // false: too little history (see `note`)
  int64_t value = 0;        // recommended request per pod (millicores or bytes)
  int64_t uncapped = 0;     // before the +-30 % step bound
  bool at_least = false;    // CPU samples at the limit: the demand is at least this
  bool capped = false;      // the +-30 % bound applied
  double monthly_saving = 0;  // USD per month, (current - recommended) x pods x price x 730 h
  std::string note;
};

struct Rightsizing {
  Recommendation cpu, memory;
  double history_days = 0;  // span of the samples read (at most 8)
  double confidence = 0;    // history_days / 8, in [0, 1]
  std::string confidence_label;  // "low" (< 2 days), "medium" (< 7), "high"
};

// As the VPA recommender: CPU = p90 of the per-pod usage over the last 8 days + 15 %; memory =
// p90 of the daily (UTC) peaks of the working set + 15 %; each bounded to +-30 % of the current
// request (no bound when there is no current request). Censored CPU samples make the CPU
// recommendation "at least" and never below the current request. Needs one hour of samples.
Rightsizing RecommendRequests(const RightsizingInput& in);

// ------------------------------------------------------------------------------- guardrail
struct GuardrailInput {
  double blended_pct = 0;    // measured load, % of request (the floor: never capped below it)
  double predicted_pct = 0;  // forecast-driven value, % of request
  double target_pct = 70;    // the HPA target the served value is compared with (> 0)
  int ready_pods = 0;
  int64_t cpu_request_millicores = 0;  // per pod
  int64_t memory_request_bytes = 0;    // per pod
  Prices prices;                       // of the pods' pool
  // How long the extra replicas are expected to run (a forecast scale-up: the lead window; a
  // target change: kHoursPerMonth hours).
  absl::Duration expected_duration = absl::Minutes(10);
  double current_monthly_cost = 0;  // USD per month, the deployment's estimated_monthly_cost
  absl::optional<double> monthly_budget;  // USD per month; nullopt: no budget, nothing capped
};

struct GuardrailDecision {
  double predicted_pct = 0;   // what to serve as smart_cpu_predicted, >= blended_pct
  bool capped = false;
  double extra_replicas = 0;  // forecast-driven replicas beyond the measured need (uncapped)
  double pod_hourly_cost = 0;        // USD per pod-hour at the requests
  double monthly_cost_change = 0;    // USD, of the uncapped scale-up
  double served_cost_change = 0;     // USD, of what is served
  std::string why;
};

// The projected cost of the forecast headroom (extra replicas = ready_pods x (predicted -
// blended) / target, x the pod's hourly price x expected_duration) and, when current + change
// would exceed the budget, the headroom that fits: smart_cpu_predicted falls back toward
// smart_cpu_blended, never below it.
GuardrailDecision CapPredicted(const GuardrailInput& in);

// ------------------------------------------------------------------------- pod lifetimes
// A pod as the loop sees it in one cycle.
struct ObservedPod {
  std::string namespace_name, deployment, pod;
  absl::Time created;
  int64_t cpu_request_millicores = 0;
  int64_t memory_request_bytes = 0;
  std::string node, pool;
};

// Turns the pods seen each cycle into lifetimes. A pod ends halfway between the last cycle that
// saw it and the first that did not (the deletion time is not observed; the midpoint errs by at
// most half a cycle either way). Requests and node are the latest seen. Owned by the loop's
// thread; not thread-safe.
class PodLifetimeTracker {
 public:
  // Feeds one cycle's pods at `now`. Returns the lifetimes that started or ended this cycle
  // (ended ones have `end` set), which the caller stores.
  std::vector<std::pair<std::string, PodLifetime>> Observe(absl::Time now,
                                                           const std::vector<ObservedPod>& pods);
  // Lifetimes of the deployment "ns/name" still held (running, or ended and not forgotten).
  std::vector<PodLifetime> Lifetimes(absl::string_view deployment_key) const;
  // Forgets ended pods that ended before `before`.
  void Forget(absl::Time before);

 private:
  struct Entry {
    std::string deployment_key;
    PodLifetime life;
    absl::Time last_seen;
  };
  std::map<std::string, Entry> pods_;  // "ns/pod" -> entry
};

// ------------------------------------------------------------------ what the store holds
// Per deployment per cycle the loop stores these series (storage::SeriesKey metric names, no
// extra labels) beside its smart_* series, and every pod's lifetime in the pod-lifetime event
// log (EncodePodLifetime). Costs read the lifetimes for requests and pod time, and the usage
// series for utilisation, waste and right-sizing.
inline constexpr char kCpuDemandMetric[] = "cpu_demand_cores";  // total cores over the pods
inline constexpr char kMemoryWorkingSetMetric[] = "memory_working_set_bytes";  // total bytes
inline constexpr char kCpuCensoredMetric[] = "cpu_censored";  // 1: pods at their CPU limit
inline constexpr char kReadyPodsMetric[] = "ready_pods";

// A PodLifetimeRecord (proto/records.proto) of the deployment "ns/name", serialized.
std::string EncodePodLifetime(absl::string_view namespace_name, absl::string_view deployment,
                              const PodLifetime& life);
struct DecodedLifetime {
  std::string namespace_name, deployment;
  PodLifetime life;
};
// DataLoss when `payload` is not a PodLifetimeRecord or has no pod name or start.
absl::StatusOr<DecodedLifetime> DecodePodLifetime(absl::string_view payload);
// The same into *out, reusing its strings' storage (for reading the whole log: no allocation
// per record once the strings are long enough). *out is unspecified after an error.
absl::Status DecodePodLifetimeInto(absl::string_view payload, DecodedLifetime* out);

// --------------------------------------------------------------------------------- JSON
// One deployment's costs as a JSON object with the original's field names (cpu_cost,
// memory_cost, total_cost, wasted_cpu_cost, wasted_memory_cost, total_wasted_cost,
// cpu_utilization_percent, memory_utilization_percent, estimated_monthly_cost,
// optimization_potential, recommendation), plus allocated_*, the hours, wasted_capacity_percent
// and "rightsizing". Unknown percentages are null. Money in USD, rounded to 1e-6.
std::string CostJson(absl::string_view namespace_name, absl::string_view deployment,
                     const CostReport& cost, const Rightsizing& rightsizing,
                     int64_t cpu_request_millicores, int64_t memory_request_bytes);

}  // namespace costs
