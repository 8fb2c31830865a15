#include "backtest/demand.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace backtest {
namespace {

double Seconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }

// The 95th percentile with linear interpolation between order statistics.
double Percentile95(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double pos = 0.95 * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

// One linear piece from (0, a) to (len, b) against capacity c, added to *out.
void Piece(double len, double a, double b, double c, Shortfall* out) {
  if (len <= 0) return;
  const double above_a = a - c, above_b = b - c;
  if (above_a <= 0 && above_b <= 0) {
    out->served_core_seconds += len * (a + b) / 2;
    return;
  }
  if (above_a >= 0 && above_b >= 0) {
    out->overloaded_seconds += (above_a > 0 || above_b > 0) ? len : 0;
    out->unserved_core_seconds += len * (above_a + above_b) / 2;
    out->served_core_seconds += len * c;
    return;
  }
  // It crosses the capacity once, at x.
  const double x = len * above_a / (above_a - above_b);
  if (above_a > 0) {
    out->overloaded_seconds += x;
    out->unserved_core_seconds += x * above_a / 2;
    out->served_core_seconds += x * c + (len - x) * (c + b) / 2;
  } else {
    out->overloaded_seconds += len - x;
    out->unserved_core_seconds += (len - x) * above_b / 2;
    out->served_core_seconds += x * (a + c) / 2 + (len - x) * c;
  }
}

}  // namespace

absl::StatusOr<Demand> Demand::FromCores(const std::vector<base::Point>& points) {
  return FromTraceScaled(points, absl::nullopt);
}

absl::StatusOr<Demand> Demand::FromTrace(const std::vector<base::Point>& points, double p95_cores) {
  if (!(p95_cores > 0) || !std::isfinite(p95_cores)) {
    return absl::InvalidArgumentError(absl::StrCat("--p95-cores must be > 0, got ", p95_cores));
  }
  return FromTraceScaled(points, p95_cores);
}

absl::StatusOr<Demand> Demand::FromTraceScaled(const std::vector<base::Point>& points,
                                               absl::optional<double> p95_cores) {
  if (points.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("a demand trace needs at least 2 points, got ", points.size()));
  }
  Demand d;
  std::vector<double> values;
  for (size_t i = 0; i < points.size(); ++i) {
    const base::Point& p = points[i];
    if (!std::isfinite(p.value) || p.value < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("point ", i + 1, ": demand must be finite and >= 0, got ", p.value));
    }
    if (i > 0 && !(p.time > points[i - 1].time)) {
      return absl::InvalidArgumentError(
          absl::StrCat("point ", i + 1, ": time not after the previous point's"));
    }
    d.t_.push_back(Seconds(p.time));
    values.push_back(p.value);
  }
  if (p95_cores) {
    const double p95 = Percentile95(values);
    if (!(p95 > 0)) {
      return absl::InvalidArgumentError("the trace's 95th percentile is 0: nothing to scale");
    }
    d.scale_ = *p95_cores / p95;
  }
  d.v_.reserve(values.size());
  for (double v : values) d.v_.push_back(v * d.scale_);
  return d;
}

size_t Demand::Segment(double s) const {
  auto it = std::upper_bound(t_.begin(), t_.end(), s);
  if (it == t_.begin()) return 0;
  size_t i = static_cast<size_t>(it - t_.begin()) - 1;
  return std::min(i, t_.size() - 2);
}

double Demand::AtSeconds(double s) const {
  if (s <= t_.front()) return v_.front();
  if (s >= t_.back()) return v_.back();
  const size_t i = Segment(s);
  const double f = (s - t_[i]) / (t_[i + 1] - t_[i]);
  return v_[i] + f * (v_[i + 1] - v_[i]);
}

double Demand::At(absl::Time t) const { return AtSeconds(Seconds(t)); }

double Demand::Max(absl::Time from, absl::Time to) const {
  const double a = Seconds(from), b = Seconds(to);
  double m = AtSeconds(a);
  if (b <= a) return m;
  m = std::max(m, AtSeconds(b));
  // The curve's maxima are at its knots: every sample strictly inside (a, b).
  for (auto it = std::upper_bound(t_.begin(), t_.end(), a); it != t_.end() && *it < b; ++it) {
    m = std::max(m, v_[it - t_.begin()]);
  }
  return m;
}

double Demand::Mean(absl::Time from, absl::Time to) const {
  const double len = absl::ToDoubleSeconds(to - from);
  if (len <= 0) return At(from);
  // Served against an infinite capacity is the integral.
  return Against(from, to, HUGE_VAL).served_core_seconds / len;
}

Shortfall Demand::Against(absl::Time from, absl::Time to, double capacity_cores) const {
  Shortfall out;
  double a = Seconds(from);
  const double b = Seconds(to);
  if (b <= a) return out;
  double va = AtSeconds(a);
  // Split [a, b] at every knot inside it; each piece is linear.
  for (auto it = std::upper_bound(t_.begin(), t_.end(), a); it != t_.end() && *it < b; ++it) {
    const double vk = v_[it - t_.begin()];
    Piece(*it - a, va, vk, capacity_cores, &out);
    a = *it;
    va = vk;
  }
  Piece(b - a, va, AtSeconds(b), capacity_cores, &out);
  return out;
}

}  // namespace backtest
