// Request recommendations the way the VPA recommender makes them: a high percentile of what was
// used, a safety margin, and a bounded step from the current request.
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "absl/strings/str_format.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

constexpr absl::Duration kWindow = absl::Hours(24 * 8);
constexpr absl::Duration kMinHistory = absl::Hours(1);
constexpr double kPercentile = 0.90;
constexpr double kMargin = 1.15;
constexpr double kMaxStep = 0.30;

// Nearest-rank percentile of a non-empty vector (reorders it).
double Percentile(std::vector<double>* v, double q) {
  size_t k = static_cast<size_t>(std::ceil(q * v->size()));
  k = std::min(v->size() - 1, k == 0 ? 0 : k - 1);
  std::nth_element(v->begin(), v->begin() + k, v->end());
  return (*v)[k];
}

// Applies the margin, the censoring floor and the +-30 % step bound to `p90` (the request's
// unit), and prices the change.
Recommendation Finish(double p90, int64_t current, bool at_least, double pods,
                      double usd_per_unit_hour) {
  Recommendation r;
  r.available = true;
  // 1e-6 of a unit keeps 900 x 1.15 = 1035.0000000000002 at 1035.
  r.uncapped = static_cast<int64_t>(std::ceil(p90 * kMargin - 1e-6));
  int64_t v = r.uncapped;
  r.at_least = at_least;
  if (at_least) v = std::max(v, current);
  if (current > 0) {
    const int64_t lo = static_cast<int64_t>(std::ceil(current * (1 - kMaxStep)));
    const int64_t hi = static_cast<int64_t>(std::floor(current * (1 + kMaxStep)));
    const int64_t bounded = std::clamp(v, lo, hi);
    r.capped = bounded != v;
    v = bounded;
  }
  r.value = v;
  r.monthly_saving = (current - v) * pods * usd_per_unit_hour * kHoursPerMonth;
  return r;
}

Recommendation TooLittle(const char* what) {
  Recommendation r;
  r.note = absl::StrFormat("less than an hour of %s history", what);
  return r;
}

}  // namespace

Rightsizing RecommendRequests(const RightsizingInput& in) {
  Rightsizing out;
  const absl::Time from = in.now - kWindow;
  absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();

  std::vector<double> cpu;
  bool censored = false;
  absl::Time cpu_first = absl::InfiniteFuture(), cpu_last = absl::InfinitePast();
  for (const CpuSample& s : in.cpu) {
    if (s.time < from || s.time > in.now || !std::isfinite(s.cores_per_pod)) continue;
    cpu.push_back(s.cores_per_pod * 1000);  // millicores
    censored = censored || s.censored;
    cpu_first = std::min(cpu_first, s.time);
    cpu_last = std::max(cpu_last, s.time);
  }
  if (!cpu.empty() && cpu_last - cpu_first >= kMinHistory) {
    const double p90 = Percentile(&cpu, kPercentile);
    out.cpu = Finish(p90, in.cpu_request_millicores, censored, in.average_pods,
                     in.prices.per_vcpu_hour / 1000);
    if (censored) out.cpu.note = "pods reached their CPU limit: demand is at least this";
  } else {
    out.cpu = TooLittle("CPU");
  }
  first = std::min(first, cpu_first);
  last = std::max(last, cpu_last);

  // Daily (UTC) peaks of the working set.
  std::map<int64_t, double> peaks;
  absl::Time mem_first = absl::InfiniteFuture(), mem_last = absl::InfinitePast();
  for (const MemorySample& s : in.memory) {
    if (s.time < from || s.time > in.now || !std::isfinite(s.bytes_per_pod)) continue;
    const int64_t day = absl::ToUnixSeconds(s.time) / 86400;
    auto [it, fresh] = peaks.emplace(day, s.bytes_per_pod);
    if (!fresh) it->second = std::max(it->second, s.bytes_per_pod);
    mem_first = std::min(mem_first, s.time);
    mem_last = std::max(mem_last, s.time);
  }
  if (!peaks.empty() && mem_last - mem_first >= kMinHistory) {
    std::vector<double> v;
    for (const auto& [day, peak] : peaks) v.push_back(peak);
    out.memory = Finish(Percentile(&v, kPercentile), in.memory_request_bytes, false,
                        in.average_pods, in.prices.per_gb_hour / kBytesPerGb);
    out.memory.note = absl::StrFormat("p90 of %d daily peak(s)", v.size());
  } else {
    out.memory = TooLittle("memory");
  }
  first = std::min(first, mem_first);
  last = std::max(last, mem_last);

  out.history_days = last > first ? absl::ToDoubleHours(last - first) / 24 : 0;
  out.confidence = std::min(1.0, out.history_days / 8);
  out.confidence_label =
      out.history_days < 2 ? "low" : out.history_days < 7 ? "medium" : "high";
  return out;
}

}  // namespace costs
