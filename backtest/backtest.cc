#include "backtest/backtest.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace backtest {
namespace {

absl::Time FloorTo(absl::Time t, absl::Duration step) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), step);
}

absl::Time CeilTo(absl::Time t, absl::Duration step) {
  return absl::UnixEpoch() + absl::Ceil(t - absl::UnixEpoch(), step);
}

int InitialReplicas(const Demand& demand, const ReplayWindow& w, const Options& o) {
  const double pod = o.hpa.pod_cpu_millicores / 1000.0;
  const double want = std::ceil(demand.At(w.warmup_start) / (o.target_pct / 100.0) / pod);
  return static_cast<int>(std::clamp<double>(want, o.hpa.min_replicas, o.hpa.max_replicas));
}

PolicyResult Result(const std::string& name, absl::optional<double> target, const SimResult& r,
                    const Options& o) {
  PolicyResult p;
  p.policy = name;
  p.target_pct = target;
  p.figures = r.figures;
  const PolicyResult priced = PriceReplicaHours(r.figures.replica_hours, o);
  p.cpu_cost = priced.cpu_cost;
  p.memory_cost = priced.memory_cost;
  p.cost = priced.cost;
  return p;
}

std::string Pricing(const Options& o) {
  std::string out = absl::StrFormat("replica-hours x (%dm x $%g/vCPU-h", o.hpa.pod_cpu_millicores,
                                    o.config.cost_per_vcpu_hour);
  if (o.pod_memory_bytes > 0) {
    absl::StrAppendFormat(&out, " + %g GB x $%g/GB-h)", o.pod_memory_bytes / 1e9,
                          o.config.cost_per_gb_memory_hour);
  } else {
    absl::StrAppend(&out, "); memory not priced (no --pod-memory-bytes)");
  }
  return out;
}

}  // namespace

PolicyResult PriceReplicaHours(double replica_hours, const Options& o) {
  PolicyResult p;
  p.cpu_cost = replica_hours * o.hpa.pod_cpu_millicores / 1000.0 * o.config.cost_per_vcpu_hour;
  if (o.pod_memory_bytes > 0) {
    p.memory_cost = replica_hours * (o.pod_memory_bytes / 1e9) * o.config.cost_per_gb_memory_hour;
  }
  p.cost = p.cpu_cost + p.memory_cost.value_or(0);
  return p;
}

absl::StatusOr<ReplayWindow> ChooseWindow(const Demand& demand, const Options& options) {
  const absl::Duration span = demand.end() - demand.start();
  if (span <= options.history + absl::Hours(1)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the trace covers ", absl::FormatDuration(span), "; the protocol needs more than ",
        absl::FormatDuration(options.history), " of history plus a replay"));
  }
  ReplayWindow w;
  w.end = FloorTo(demand.end(), absl::Minutes(1));
  const absl::Time after_history = CeilTo(demand.start() + options.history, absl::Minutes(1));
  w.start = std::max(after_history, FloorTo(w.end - options.replay, absl::Minutes(1)));
  w.warmup_start = w.start - options.warmup;
  return w;
}

CostMatch MatchCost(const std::function<SimResult(double)>& run, double replica_hours, double lo,
                    double hi, double tolerance) {
  CostMatch best;
  double best_err = HUGE_VAL;
  auto consider = [&](double target) {
    SimResult r = run(target);
    ++best.runs;
    const double err = (r.figures.replica_hours - replica_hours) / replica_hours;
    if (std::fabs(err) < best_err) {
      best_err = std::fabs(err);
      best.target_pct = target;
      best.result = std::move(r);
    }
    return err;  // > 0: too many replica-hours, raise the target
  };
  const double err_lo = consider(lo);
  if (std::fabs(err_lo) <= tolerance || err_lo < 0) {
    best.matched = std::fabs(err_lo) <= tolerance;
    return best;  // even the lowest target holds fewer replica-hours than asked
  }
  const double err_hi = consider(hi);
  if (std::fabs(err_hi) <= tolerance || err_hi > 0) {
    best.matched = std::fabs(err_hi) <= tolerance;
    return best;
  }
  for (int i = 0; i < 40 && best_err > tolerance && hi - lo > 1e-4; ++i) {
    const double mid = (lo + hi) / 2;
    (consider(mid) > 0 ? lo : hi) = mid;
  }
  best.matched = best_err <= tolerance;
  return best;
}

absl::StatusOr<TraceResult> RunTrace(const std::string& trace, const Demand& demand,
                                     const Options& options) {
  absl::StatusOr<ReplayWindow> window = ChooseWindow(demand, options);
  if (!window.ok()) return window.status();
  TraceResult out;
  out.trace = trace;
  out.window = *window;
  out.pricing = Pricing(options);
  const int initial = InitialReplicas(demand, *window, options);
  auto progress = [&](const std::string& what) {
    if (options.progress) options.progress(absl::StrCat(trace, ": ", what));
  };
  auto native = [&](double target, bool series) {
    NativePolicy p(target);
    return Simulate(demand, *window, options.hpa, initial, &p, series);
  };
  progress("native");
  SimResult n = native(options.target_pct, options.keep_series);
  progress("smart (the reconciler, 7 days of backfill, hourly refits)");
  SmartOptions smart_options;
  smart_options.rate_lag = options.smart_data_lag;
  std::vector<std::pair<absl::Time, std::string>> rules;  // per cycle, for the series
  if (options.keep_series) {
    smart_options.explain = true;
    smart_options.on_cycle = [&rules](const SmartCycle& c) {
      rules.emplace_back(c.time, c.deciding_rule);
    };
  }
  SmartPolicy smart_policy(options.config, &demand, smart_options);
  SimResult s = Simulate(demand, *window, options.hpa, initial, &smart_policy, options.keep_series);
  out.smart = smart_policy.stats();
  progress("native_cost_matched (bisection on the target)");
  CostMatch m = MatchCost([&](double t) { return native(t, false); }, s.figures.replica_hours,
                          options.search_min_pct, options.search_max_pct, options.match_tolerance);
  out.cost_matched = m.matched;
  out.search_runs = m.runs;
  if (options.keep_series) m.result = native(m.target_pct, true);
  progress("oracle");
  OraclePolicy oracle_policy(options.target_pct);
  SimResult o =
      Simulate(demand, *window, options.hpa, initial, &oracle_policy, options.keep_series);
  out.policies.push_back(Result("native", options.target_pct, n, options));
  // smart's target is the one it served (learned, node pressure): the mean over its cycles.
  absl::optional<double> smart_target;
  if (out.smart.cycles > 0) smart_target = out.smart.target_pct_sum / out.smart.cycles;
  out.policies.push_back(Result("smart", smart_target, s, options));
  out.policies.push_back(Result("native_cost_matched", m.target_pct, m.result, options));
  out.policies.push_back(Result("oracle", options.target_pct, o, options));
  const double gap = n.figures.overloaded_minutes - o.figures.overloaded_minutes;
  if (gap > 0) {
    out.gap_closed = (n.figures.overloaded_minutes - s.figures.overloaded_minutes) / gap;
  }
  if (options.keep_series) {
    const SimResult* runs[] = {&n, &s, &m.result, &o};
    const double pod = options.hpa.pod_cpu_millicores / 1000.0;
    size_t cycle = 0;  // the first cycle not yet visible to the HPA
    for (size_t i = 0; i < n.series.size(); ++i) {
      SeriesRow row;
      row.time = n.series[i].time;
      row.demand_cores = n.series[i].demand_cores;
      for (const SimResult* r : runs) row.ready_cores.push_back(r->series[i].ready * pod);
      row.smart_pressure = s.series[i].metric;
      // What the HPA reads at a sync is what the cycles before it served (SmartPolicy::Ratio).
      while (cycle < rules.size() && rules[cycle].first < row.time) ++cycle;
      if (cycle > 0) row.smart_rule = rules[cycle - 1].second;
      out.series.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace backtest
