#include "backtest/simulator.h"

#include <algorithm>
#include <cmath>

#include "glog/logging.h"

namespace backtest {
namespace {

// Counter value of pods that were running before the replay (an hour of CPU), so that their
// first scrape in a window is far from zero (no extrapolation to a zero crossing).
constexpr double kOldPodCounter = 3600;

class Replay : public SyncView {
 public:
  Replay(const Demand& demand, const ReplayWindow& window, const HpaOptions& options)
      : demand_(demand), window_(window), options_(options) {
    step_s_ = absl::ToDoubleSeconds(options.sync_period);
    const int64_t n = (window.end - window.warmup_start) / options.sync_period;
    cum_.reserve(n + 2);
    cum_.push_back(0);
  }

  absl::Time now() const override { return now_; }
  const HpaOptions& options() const override { return options_; }
  const ReplayWindow& window() const override { return window_; }
  const std::vector<Pod>& pods() const override { return pods_; }
  int ready_pods() const override { return ready_; }
  const Demand& demand() const override { return demand_; }

  absl::optional<double> PodCpuRate(const Pod& pod, absl::Time at,
                                    absl::Duration window) const override;
  double ReadyPodCpu(absl::Time from, absl::Time to) const override {
    return (cum_[Index(to)] - cum_[Index(from)]) / absl::ToDoubleSeconds(to - from);
  }

  // Grid index of t (t on the grid, clamped to what has been recorded).
  int64_t Index(absl::Time t) const {
    int64_t i = (t - window_.warmup_start) / options_.sync_period;
    return std::clamp<int64_t>(i, 0, static_cast<int64_t>(cum_.size()) - 1);
  }
  // The pod's counter at grid index i.
  double Counter(const Pod& pod, int64_t i) const {
    if (pod.ready_at <= window_.warmup_start) return kOldPodCounter + cum_[i];
    const int64_t r = Index(pod.ready_at);
    return i < r ? 0 : cum_[i] - cum_[r];
  }

  const Demand& demand_;
  const ReplayWindow window_;
  const HpaOptions options_;
  double step_s_ = 15;
  absl::Time now_;
  std::vector<Pod> pods_;
  int ready_ = 0;
  std::vector<double> cum_;  // core-seconds used by one ready pod, per grid point
};

absl::optional<double> Replay::PodCpuRate(const Pod& pod, absl::Time at,
                                          absl::Duration window) const {
  // The scrapes in [at - window, at] (Prometheus 2.x range selectors include both ends).
  const absl::Time range_start = at - window;
  absl::Time first_t = std::max(range_start, pod.created);
  // Round up to the grid.
  const absl::Duration off = first_t - window_.warmup_start;
  if (off > absl::ZeroDuration()) {
    first_t = window_.warmup_start + absl::Ceil(off, options_.sync_period);
  } else {
    first_t = window_.warmup_start;
  }
  const int64_t i0 = Index(first_t), i1 = Index(at);
  const int64_t n = i1 - i0 + 1;
  if (n < 2) return absl::nullopt;
  const double first = Counter(pod, i0), last = Counter(pod, i1);
  const double increase = last - first;
  // Prometheus' extrapolatedRate.
  const double sampled = (i1 - i0) * step_s_;
  const double average = sampled / (n - 1);
  double to_start = absl::ToDoubleSeconds(first_t - range_start);
  const double to_end = 0;  // the last scrape is at `at`
  if (increase > 0 && first >= 0) {
    const double to_zero = sampled * (first / increase);
    if (to_zero < to_start) to_start = to_zero;
  }
  const double threshold = average * 1.1;
  double extrapolate = sampled;
  extrapolate += to_start < threshold ? to_start : average / 2;
  extrapolate += to_end < threshold ? to_end : average / 2;
  return increase * (extrapolate / sampled) / absl::ToDoubleSeconds(window);
}

}  // namespace

int NextReplicas(absl::optional<double> ratio, int current, int ready, absl::Time now,
                 const HpaOptions& options, std::vector<Recommendation>* recommendations) {
  if (!ratio || !std::isfinite(*ratio)) return current;  // no metric: hold, record nothing
  int proposal = current;
  if (std::fabs(*ratio - 1.0) > options.tolerance) {
    proposal = static_cast<int>(std::min<double>(std::ceil(*ratio * ready), 1e6));
  }
  // Stabilisation: the largest proposal within the scale-down window (this one included).
  const absl::Time cutoff = now - options.scale_down_window;
  recommendations->erase(std::remove_if(recommendations->begin(), recommendations->end(),
                                        [&](const Recommendation& r) { return r.time <= cutoff; }),
                         recommendations->end());
  recommendations->push_back({now, proposal});
  int down_floor = proposal;
  for (const Recommendation& r : *recommendations) down_floor = std::max(down_floor, r.replicas);
  int next = proposal >= current ? proposal : std::min(current, down_floor);
  // Scale-up limit per sync.
  const int limit =
      std::max(current + options.scale_up_pods,
               static_cast<int>(std::ceil(current * (1 + options.scale_up_percent / 100.0))));
  next = std::min(next, limit);
  return std::clamp(next, options.min_replicas, options.max_replicas);
}

SimResult Simulate(const Demand& demand, const ReplayWindow& window, const HpaOptions& options,
                   int initial_replicas, MetricPolicy* policy, bool keep_series) {
  CHECK(window.warmup_start <= window.start && window.start < window.end);
  Replay r(demand, window, options);
  const double pod_cores = options.pod_cpu_millicores / 1000.0;
  int64_t next_id = 1;
  for (int i = 0; i < initial_replicas; ++i) {
    r.pods_.push_back({next_id++, window.warmup_start - absl::Hours(24),
                       window.warmup_start - absl::Hours(24) + options.startup});
  }
  SimResult result;
  std::vector<Recommendation> recommendations;
  double overloaded_s = 0, unserved_cs = 0, pod_s = 0;
  for (absl::Time t = window.warmup_start; t < window.end; t += options.sync_period) {
    r.now_ = t;
    r.ready_ = 0;
    for (const Pod& p : r.pods_) r.ready_ += p.ready_at <= t ? 1 : 0;
    const bool acting = t >= window.start;
    if (acting) {
      const int current = static_cast<int>(r.pods_.size());
      const int next =
          NextReplicas(policy->Ratio(r), current, r.ready_, t, options, &recommendations);
      if (next != current) ++result.figures.scale_events;
      while (static_cast<int>(r.pods_.size()) > next) {
        if (r.pods_.back().ready_at <= t) --r.ready_;
        r.pods_.pop_back();  // the newest first
      }
      while (static_cast<int>(r.pods_.size()) < next) {
        r.pods_.push_back({next_id++, t, t + options.startup});
      }
      if (keep_series) {
        result.series.push_back(
            {t, demand.At(t), static_cast<int>(r.pods_.size()), r.ready_, policy->LastMetric()});
      }
    }
    const Shortfall s = demand.Against(t, t + options.sync_period, r.ready_ * pod_cores);
    r.cum_.push_back(r.cum_.back() + (r.ready_ > 0 ? s.served_core_seconds / r.ready_ : 0));
    if (acting) {
      overloaded_s += s.overloaded_seconds;
      unserved_cs += s.unserved_core_seconds;
      pod_s += r.pods_.size() * r.step_s_;
    }
  }
  result.figures.overloaded_minutes = overloaded_s / 60;
  result.figures.unserved_core_minutes = unserved_cs / 60;
  result.figures.replica_hours = pod_s / 3600;
  return result;
}

absl::optional<double> NativePolicy::Ratio(const SyncView& view) {
  // The newest refresh strictly before now (a refresh reaches the HPA at its next sync).
  const absl::Time origin = view.window().warmup_start;
  const absl::Duration since = view.now() - origin - absl::Nanoseconds(1);
  if (since < window_) return absl::nullopt;
  const absl::Time refresh = origin + absl::Floor(since, window_);
  if (refresh - window_ < origin) return absl::nullopt;
  const double pct = 100.0 * view.ReadyPodCpu(refresh - window_, refresh) /
                     (view.options().pod_cpu_millicores / 1000.0);
  last_ = pct;
  return pct / target_pct_;
}

absl::optional<double> OraclePolicy::Ratio(const SyncView& view) {
  const HpaOptions& o = view.options();
  const double peak = view.demand().Max(view.now(), view.now() + o.startup + o.sync_period);
  const int ready = std::max(1, view.ready_pods());
  const double pct = 100.0 * peak / (ready * o.pod_cpu_millicores / 1000.0);
  last_ = pct;
  return pct / target_pct_;
}

}  // namespace backtest
