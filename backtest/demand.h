// demand: a deployment's CPU demand in cores over time, as the backtest replays it.
//
//   absl::StatusOr<backtest::Demand> d = backtest::Demand::FromTrace(points, /*p95_cores=*/8);
//   double now = d->At(t);                                    // cores
//   double peak = d->Max(t, t + absl::Seconds(105));          // cores
//   backtest::Shortfall s = d->Against(t, t + absl::Seconds(15), /*capacity_cores=*/6);
//
// A trace (`timestamp,value`, any unit) is scaled so that the 95th percentile of its values is
// `p95_cores`. Between two samples demand is linear (the straight line between them, so a
// 5-minute trace does not turn into 5-minute steps the HPA could exploit); before the first
// and after the last sample it is held. Every query is exact for that piecewise-linear curve.
// Immutable after construction; thread-safe.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "base/trace_csv.h"

namespace backtest {

// What a constant capacity did against demand over an interval.
struct Shortfall {
  double overloaded_seconds = 0;     // time with demand > capacity
  double unserved_core_seconds = 0;  // integral of (demand - capacity) where positive
  double served_core_seconds = 0;    // integral of min(demand, capacity)
};

class Demand {
 public:
  // InvalidArgument with fewer than two points, unordered times, a non-finite or negative
  // value, or a 95th percentile that is not positive (nothing to scale), or p95_cores <= 0.
  static absl::StatusOr<Demand> FromTrace(const std::vector<base::Point>& points, double p95_cores);
  // Points already in cores (e.g. from Prometheus), not scaled. The same errors, except that a
  // 95th percentile of 0 is allowed.
  static absl::StatusOr<Demand> FromCores(const std::vector<base::Point>& points);

  absl::Time start() const { return absl::FromUnixSeconds(0) + absl::Seconds(t_.front()); }
  absl::Time end() const { return absl::FromUnixSeconds(0) + absl::Seconds(t_.back()); }
  // The factor the trace's values were multiplied by.
  double scale() const { return scale_; }

  // Demand at `t`, cores.
  double At(absl::Time t) const;
  // The largest demand over [from, to], cores. At(from) when to <= from.
  double Max(absl::Time from, absl::Time to) const;
  // The mean demand over [from, to], cores. At(from) when to <= from.
  double Mean(absl::Time from, absl::Time to) const;
  // Demand against a constant `capacity_cores` over [from, to).
  Shortfall Against(absl::Time from, absl::Time to, double capacity_cores) const;

 private:
  Demand() = default;
  static absl::StatusOr<Demand> FromTraceScaled(const std::vector<base::Point>& points,
                                                absl::optional<double> p95_cores);
  double AtSeconds(double s) const;
  // Index of the segment [t_[i], t_[i+1]] holding s (clamped to the ends).
  size_t Segment(double s) const;

  std::vector<double> t_;  // Unix seconds
  std::vector<double> v_;  // cores
  double scale_ = 1;
};

}  // namespace backtest
