// Requested, allocated and wasted cost from pod lifetimes and measured usage.
//
// The pods' requests form a step function over the window (it changes only where a pod starts
// or ends); each usage span is laid over the steps it overlaps, so a pod that starts mid-span
// or mid-hour is priced for exactly the part it ran.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

double Hours(absl::Duration d) { return absl::ToDoubleHours(d); }

// The requests of the pods alive over [start, end), and their price per hour.
struct Segment {
  absl::Time start, end;
  double pods = 0;
  double cores = 0, bytes = 0;
  double cpu_usd_per_hour = 0, memory_usd_per_hour = 0;
  // Usage is priced at the request-weighted price of the pools the pods ran in (the flat price
  // when nothing is requested).
  double gb = 0, cpu_price = 0, gb_price = 0;
};

// Steps covering [from, to) completely (zero requests where no pod ran); no step crosses
// `split`, so a tally from `split` on can be kept in the same pass.
std::vector<Segment> RequestSteps(const std::vector<PodLifetime>& pods, absl::Time from,
                                  absl::Time to, absl::Time split, const PriceTable& prices) {
  struct Delta {
    absl::Time t;
    double pods, cores, bytes, cpu_usd, mem_usd;
  };
  std::vector<Delta> deltas;
  for (const PodLifetime& p : pods) {
    const absl::Time s = std::max(p.start, from), e = std::min(p.end, to);
    if (!(s < e)) continue;
    const Prices& price = prices.For(p.pool);
    const double cores = p.cpu_request_millicores / 1000.0;
    const double gb = p.memory_request_bytes / kBytesPerGb;
    const double bytes = static_cast<double>(p.memory_request_bytes);
    deltas.push_back({s, 1, cores, bytes, cores * price.per_vcpu_hour, gb * price.per_gb_hour});
    deltas.push_back(
        {e, -1, -cores, -bytes, -cores * price.per_vcpu_hour, -gb * price.per_gb_hour});
  }
  std::sort(deltas.begin(), deltas.end(), [](const Delta& a, const Delta& b) { return a.t < b.t; });
  std::vector<Segment> out;
  Segment cur{from, from};
  size_t i = 0;
  while (cur.start < to) {
    while (i < deltas.size() && deltas[i].t <= cur.start) {
      cur.pods += deltas[i].pods;
      cur.cores += deltas[i].cores;
      cur.bytes += deltas[i].bytes;
      cur.cpu_usd_per_hour += deltas[i].cpu_usd;
      cur.memory_usd_per_hour += deltas[i].mem_usd;
      ++i;
    }
    cur.end = i < deltas.size() ? std::min(deltas[i].t, to) : to;
    if (cur.start < split && split < cur.end) cur.end = split;
    // Sums of +x and -x leave rounding residue; a step without pods requests nothing.
    if (cur.pods < 0.5) cur.pods = cur.cores = cur.bytes = cur.cpu_usd_per_hour =
        cur.memory_usd_per_hour = 0;
    cur.gb = cur.bytes / kBytesPerGb;
    const Prices& flat = prices.flat();
    cur.cpu_price = cur.cores > 0 ? cur.cpu_usd_per_hour / cur.cores : flat.per_vcpu_hour;
    cur.gb_price = cur.gb > 0 ? cur.memory_usd_per_hour / cur.gb : flat.per_gb_hour;
    out.push_back(cur);
    cur.start = cur.end;
  }
  return out;
}

// What the steps and the measured usage give over [a, b) (a sub-range of the steps' window).
struct Tally {
  double hours = 0, pod_hours = 0, core_hours = 0, gb_hours = 0, cpu_usd = 0, memory_usd = 0;
  // Over measured time.
  double measured_hours = 0, measured_pod_hours = 0;
  double measured_req_core_hours = 0, used_core_hours = 0, used_cpu_usd = 0;
  double wasted_core_hours = 0, wasted_cpu_usd = 0, above_cpu_usd = 0;
  double memory_measured_hours = 0, measured_req_gb_hours = 0, used_gb_hours = 0;
  double used_memory_usd = 0, wasted_memory_usd = 0, above_memory_usd = 0;
};

void AddStep(const Segment& s, double h, Tally* t) {
  t->hours += h;
  t->pod_hours += s.pods * h;
  t->core_hours += s.cores * h;
  t->gb_hours += s.gb * h;
  t->cpu_usd += s.cpu_usd_per_hour * h;
  t->memory_usd += s.memory_usd_per_hour * h;
}

// `h` hours of usage `u` over step `s`.
void AddPiece(const Segment& s, const UsageSpan& u, double h, Tally* t) {
  t->measured_hours += h;
  t->measured_pod_hours += s.pods * h;
  t->measured_req_core_hours += s.cores * h;
  t->used_core_hours += u.cpu_cores * h;
  t->used_cpu_usd += u.cpu_cores * h * s.cpu_price;
  const double under = std::max(0.0, s.cores - u.cpu_cores);
  t->wasted_core_hours += under * h;
  t->wasted_cpu_usd += under * h * s.cpu_price;
  t->above_cpu_usd += std::max(0.0, u.cpu_cores - s.cores) * h * s.cpu_price;
  if (!u.memory_bytes) return;
  const double used_gb = *u.memory_bytes / kBytesPerGb;
  t->memory_measured_hours += h;
  t->measured_req_gb_hours += s.gb * h;
  t->used_gb_hours += used_gb * h;
  t->used_memory_usd += used_gb * h * s.gb_price;
  t->wasted_memory_usd += std::max(0.0, s.gb - used_gb) * h * s.gb_price;
  t->above_memory_usd += std::max(0.0, used_gb - s.gb) * h * s.gb_price;
}

// Tallies the steps' window into *all and its part from `tail_from` on into *tail (the steps
// must not cross tail_from). Spans must be sorted and must not overlap.
void Integrate(const std::vector<Segment>& steps, const std::vector<UsageSpan>& usage,
               absl::Time tail_from, Tally* all, Tally* tail) {
  if (steps.empty()) return;
  const absl::Time a = steps.front().start, b = steps.back().end;
  for (const Segment& s : steps) {
    const double h = Hours(s.end - s.start);
    AddStep(s, h, all);
    if (s.start >= tail_from) AddStep(s, h, tail);
  }
  size_t j = 0;
  // Spans do not overlap, so only the one before the first starting at `a` can reach into it.
  auto first = std::lower_bound(usage.begin(), usage.end(), a,
                                [](const UsageSpan& u, absl::Time t) { return u.start < t; });
  if (first != usage.begin()) --first;
  for (auto it = first; it != usage.end() && it->start < b; ++it) {
    const UsageSpan& u = *it;
    const absl::Time us = std::max(u.start, a), ue = std::min(u.start + u.length, b);
    if (!(us < ue)) continue;
    while (j < steps.size() && steps[j].end <= us) ++j;
    for (size_t k = j; k < steps.size() && steps[k].start < ue; ++k) {
      const Segment& s = steps[k];
      const double h = Hours(std::min(s.end, ue) - std::max(s.start, us));
      if (h <= 0) continue;
      AddPiece(s, u, h, all);
      if (s.start >= tail_from) AddPiece(s, u, h, tail);
    }
  }
}

absl::optional<double> Percent(double part, double whole) {
  if (!(whole > 0)) return absl::nullopt;
  return 100.0 * part / whole;
}

}  // namespace

std::vector<UsageSpan> SpansFromPoints(const std::vector<UsagePoint>& points,
                                       absl::Duration max_hold) {
  std::vector<UsageSpan> out;
  out.reserve(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    absl::Duration len = max_hold;
    if (i + 1 < points.size()) len = std::min(max_hold, points[i + 1].time - points[i].time);
    if (len <= absl::ZeroDuration()) continue;  // a duplicate time: the later sample stands
    out.push_back({points[i].time, len, points[i].cpu_cores, points[i].memory_bytes});
  }
  return out;
}

CostReport ComputeCost(const std::vector<PodLifetime>& pods, const std::vector<UsageSpan>& usage,
                       absl::Time from, absl::Time to, const PriceTable& prices,
                       absl::optional<double> node_utilization_pct) {
  CostReport r;
  r.from = from;
  r.to = to;
  if (!(from < to)) {
    r.recommendation = Recommend(r, node_utilization_pct);
    return r;
  }
  // The monthly projection reads the last 7 days of the window, from the first pod on.
  absl::Time first = to;
  for (const PodLifetime& p : pods) {
    if (p.end > from && p.start < to) first = std::min(first, std::max(p.start, from));
  }
  const absl::Time week_from = std::max({from, to - absl::Hours(24 * 7), first});
  const std::vector<Segment> steps = RequestSteps(pods, from, to, week_from, prices);
  auto by_start = [](const UsageSpan& x, const UsageSpan& y) { return x.start < y.start; };
  std::vector<UsageSpan> sorted;
  if (!std::is_sorted(usage.begin(), usage.end(), by_start)) {
    sorted = usage;
    std::sort(sorted.begin(), sorted.end(), by_start);
  }
  const std::vector<UsageSpan>& spans = sorted.empty() ? usage : sorted;
  Tally w, week;
  Integrate(steps, spans, week_from, &w, &week);
  r.pod_hours = w.pod_hours;
  r.requested_core_hours = w.core_hours;
  r.requested_gb_hours = w.gb_hours;
  r.measured_hours = w.measured_hours;
  r.measured_pod_hours = w.measured_pod_hours;
  r.used_core_hours = w.used_core_hours;
  r.used_gb_hours = w.used_gb_hours;
  r.cpu_cost = w.cpu_usd;
  r.memory_cost = w.memory_usd;
  r.total_cost = r.cpu_cost + r.memory_cost;
  r.allocated_cpu_cost = r.cpu_cost + w.above_cpu_usd;
  r.allocated_memory_cost = r.memory_cost + w.above_memory_usd;
  r.allocated_total_cost = r.allocated_cpu_cost + r.allocated_memory_cost;
  r.wasted_cpu_cost = w.wasted_cpu_usd;
  r.wasted_memory_cost = w.wasted_memory_usd;
  r.total_wasted_cost = r.wasted_cpu_cost + r.wasted_memory_cost;
  if (w.measured_hours > 0) {
    r.cpu_utilization_percent = Percent(w.used_core_hours, w.measured_req_core_hours);
    r.wasted_capacity_percent = Percent(w.wasted_core_hours, w.measured_req_core_hours);
  }
  if (w.memory_measured_hours > 0) {
    r.memory_utilization_percent = Percent(w.used_gb_hours, w.measured_req_gb_hours);
  }

  if (week_from < to) {
    const double hours = Hours(to - week_from);
    r.hourly_cpu_cost = week.cpu_usd / hours;
    r.hourly_memory_cost = week.memory_usd / hours;
    r.hourly_cost = r.hourly_cpu_cost + r.hourly_memory_cost;
    r.estimated_monthly_cost = r.hourly_cost * kHoursPerMonth;
    if (week.measured_hours > 0) {
      // Right-sized: requests at 1.2 x what was used; memory without a reading stays as is.
      double optimal_hourly = 1.2 * week.used_cpu_usd / week.measured_hours;
      optimal_hourly += week.memory_measured_hours > 0
                            ? 1.2 * week.used_memory_usd / week.memory_measured_hours
                            : r.hourly_memory_cost;
      r.optimal_monthly_cost = optimal_hourly * kHoursPerMonth;
      r.optimization_potential =
          std::max(0.0, r.estimated_monthly_cost - r.optimal_monthly_cost);
    }
  }
  r.recommendation = Recommend(r, node_utilization_pct);
  return r;
}

std::string Recommend(const CostReport& r, absl::optional<double> node_utilization_pct) {
  if (!r.cpu_utilization_percent || !r.wasted_capacity_percent) return "Not enough usage data";
  const double util = *r.cpu_utilization_percent, wasted = *r.wasted_capacity_percent;
  const std::string save = absl::StrFormat("Could save $%.2f/month", r.optimization_potential);
  if (wasted > 40 || util < 30) {
    const double per_pod =
        r.measured_pod_hours > 0 ? r.used_core_hours / r.measured_pod_hours : 0;
    return absl::StrFormat(
        "High waste. Reduce CPU requests to about 1.2x usage (%dm per pod). %s",
        static_cast<int64_t>(std::ceil(1.2 * per_pod * 1000)), save);
  }
  if (wasted > 25 || util < 50) return absl::StrCat("Moderate waste. ", save);
  if (node_utilization_pct && *node_utilization_pct < 50) {
    return "Nodes are under-used. Consider increasing the HPA target";
  }
  return "Well-optimized";
}

}  // namespace costs
