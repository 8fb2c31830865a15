#include "predictor/anomaly/spike.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace predictor::anomaly {
namespace {

// The upper tail of the standard normal distribution.
double NormalTail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// The median of sorted `v` (the mean of the middle two for an even count).
double SortedMedian(const std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 0 ? 0.5 * (v[mid] + v[mid - 1]) : v[mid];
}

absl::Status CheckOrder(const std::vector<Sample>& history) {
  for (size_t i = 1; i < history.size(); ++i) {
    if (history[i].time <= history[i - 1].time) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history is not in time order: sample ", i, " (", absl::FormatTime(history[i].time),
          ") is not after sample ", i - 1, " (", absl::FormatTime(history[i - 1].time), ")"));
    }
  }
  return absl::OkStatus();
}

// The z whose tail score log(Q(z)) / log(1e-10) is `threshold` (Q decreasing: bisection);
// infinite above 1 (the score is clamped there), minus infinity at 0 or below.
double ThresholdZ(double threshold) {
  if (threshold > 1) return HUGE_VAL;
  if (threshold <= 0) return -HUGE_VAL;
  const double p = std::pow(1e-10, threshold);
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (NormalTail(mid) > p ? lo : hi) = mid;
  }
  return hi;  // Q(hi) <= p: at the limit the score reaches the threshold
}

}  // namespace

std::string SpikeBasisDescription(SpikeBasis basis, const SpikeOptions& options) {
  switch (basis) {
    case SpikeBasis::kValue:
      return "the value";
    case SpikeBasis::kRecentMean:
      return absl::StrCat("the mean of the last ", absl::FormatDuration(options.recent));
    case SpikeBasis::kRecentLongMean:
      return absl::StrCat("the mean of the last ", absl::FormatDuration(options.recent_long));
  }
  return "";
}

SpikeDetector::SpikeDetector(const SpikeOptions& options)
    : options_(options), threshold_z_(ThresholdZ(options.threshold)) {}

void SpikeDetector::Running::Add(absl::Time t, double v) {
  points.push_back({t, v});
  sum += v;
  sq += v * v;
}

void SpikeDetector::Running::EvictBefore(absl::Time t) {
  while (!points.empty() && points.front().time <= t) {
    sum -= points.front().value;
    sq -= points.front().value * points.front().value;
    points.pop_front();
  }
  if (points.empty()) sum = sq = 0;  // no drift from the running sums
}

double SpikeDetector::Running::Mean() const { return points.empty() ? 0 : sum / size(); }

// The Gaussian tail score of `feature` against the feature's own values over long_window,
// then `feature` joins them.
double SpikeDetector::Likelihood(Running& history, absl::Time time, double feature,
                                 double unadjusted, double* limit) const {
  history.EvictBefore(time - options_.long_window);
  double score = 0;
  *limit = HUGE_VAL;
  const int n = history.size();
  if (n >= options_.min_points) {
    const double mean = history.sum / n;
    const double sd = std::max(std::sqrt(std::max(0.0, history.sq / n - mean * mean)), 1e-3);
    *limit = std::max(0.0, mean + threshold_z_ * sd);
    // The log of the tail probability, 0 at p = 1 and 1 at p = 1e-10: scores near 1 stay
    // distinguishable (1 - p rounds to 1 in double precision from z ~ 8).
    const double tail = std::max(NormalTail((feature - mean) / sd), 1e-300);
    score = std::clamp(std::log(tail) / std::log(1e-10), 0.0, 1.0);
  }
  history.Add(time, unadjusted);
  return score;
}

bool SpikeDetector::Recurs(absl::Time time, double dev) const {
  if (options_.recurrence_days <= 0 || std::abs(dev) < options_.recurrence_min_deviation) {
    return false;
  }
  const auto by_time = [](const Sample& s, absl::Time t) { return s.time < t; };
  for (int k = 1; k <= options_.recurrence_days; ++k) {
    const absl::Time at = time - k * absl::Hours(24);
    auto it = std::lower_bound(raw_devs_.begin(), raw_devs_.end(),
                               at - options_.recurrence_tolerance, by_time);
    double best = 0;
    for (; it != raw_devs_.end() && it->time <= at + options_.recurrence_tolerance; ++it) {
      best = std::max(best, dev > 0 ? it->value : -it->value);
    }
    if (best < options_.recurrence_ratio * std::abs(dev)) return false;
  }
  return true;
}

double SpikeDetector::SortedMad(double median) const {
  // The deviations in increasing order are a merge of two sorted runs: below the median
  // (walking down) and from it up. Only the first n/2 + 1 are needed.
  const std::vector<double>& v = sorted_;
  const size_t n = v.size(), mid = n / 2;
  ptrdiff_t lo = std::lower_bound(v.begin(), v.end(), median) - v.begin() - 1;
  size_t hi = static_cast<size_t>(lo + 1);
  double prev = 0, cur = 0;
  for (size_t k = 0; k <= mid; ++k) {
    prev = cur;
    const double down = lo >= 0 ? std::abs(v[lo] - median) : HUGE_VAL;
    const double up = hi < n ? std::abs(v[hi] - median) : HUGE_VAL;
    if (down <= up) {
      cur = down;
      --lo;
    } else {
      cur = up;
      ++hi;
    }
  }
  return n % 2 == 0 ? 0.5 * (cur + prev) : cur;
}

SpikeScore SpikeDetector::Update(absl::Time time, double value) {
  SpikeScore r;
  if (time <= last_time_ || !std::isfinite(value)) return r;
  last_time_ = time;
  while (!window_.empty() && window_.front().time <= time - options_.baseline) {
    sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), window_.front().value));
    window_.pop_front();
  }
  if (static_cast<int>(window_.size()) >= options_.min_points) {
    const size_t n = sorted_.size();
    const double range = sorted_[static_cast<size_t>(0.95 * (n - 1))] -
                         sorted_[static_cast<size_t>(0.05 * (n - 1))];
    const double median = SortedMedian(sorted_);
    const double mad = 1.4826 * SortedMad(median);
    r.baseline = median;
    r.scale = std::max({mad, options_.min_scale_relative * std::abs(median),
                        options_.min_scale_relative * range, 1e-9});
    const double raw_dev = (value - median) / r.scale;
    raw_devs_.push_back({time, raw_dev});
    while (raw_devs_.front().time <
           time - options_.recurrence_days * absl::Hours(24) - options_.recurrence_tolerance) {
      raw_devs_.pop_front();
    }
    // A recurring deviation scores as none, while the feature distributions keep seeing the
    // raw deviations (so a daily job does not make the calm rest look wider than it is).
    const bool recurs = Recurs(time, raw_dev);
    const double signed_dev = recurs ? 0.0 : raw_dev;
    r.deviation = std::abs(signed_dev);
    r.has_baseline = true;
    recent_.EvictBefore(time - options_.recent);
    recent_long_.EvictBefore(time - options_.recent_long);
    const double raw_recent = std::abs((recent_.sum + raw_dev) / (recent_.size() + 1));
    const double raw_long = std::abs((recent_long_.sum + raw_dev) / (recent_long_.size() + 1));
    recent_.Add(time, signed_dev);
    recent_long_.Add(time, signed_dev);
    // The three features, signed; each judged by its size.
    const double judged[3] = {signed_dev, recent_.Mean(), recent_long_.Mean()};
    const double unadjusted[3] = {std::abs(raw_dev), recurs ? raw_recent : std::abs(judged[1]),
                                  recurs ? raw_long : std::abs(judged[2])};
    Running* hist[3] = {&point_hist_, &recent_hist_, &long_hist_};
    for (int k = 0; k < 3; ++k) {
      double limit = 0;
      const double score =
          Likelihood(*hist[k], time, std::abs(judged[k]), unadjusted[k], &limit);
      if (k == 0 || score > r.score) {
        r.score = score;
        r.basis = static_cast<SpikeBasis>(k);
        r.judged = judged[k];
        r.limit = limit;
      }
    }
    if (r.score >= options_.threshold && time - last_detection_ >= options_.suppress) {
      r.is_anomaly = true;
      last_detection_ = time;
    }
  }
  window_.push_back({time, value});
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), value), value);
  return r;
}

absl::StatusOr<std::vector<SpikeScore>> ScoreHistory(const std::vector<Sample>& history,
                                                     const SpikeOptions& options) {
  if (absl::Status s = CheckOrder(history); !s.ok()) return s;
  SpikeDetector d(options);
  std::vector<SpikeScore> out;
  out.reserve(history.size());
  for (const Sample& s : history) out.push_back(d.Update(s.time, s.value));
  return out;
}

absl::StatusOr<std::vector<double>> WindowedGaussianScores(const std::vector<Sample>& history,
                                                           int window, int step) {
  if (absl::Status s = CheckOrder(history); !s.ok()) return s;
  std::vector<double> out;
  out.reserve(history.size());
  std::vector<double> data, buffer;
  double mean = 0, sd = 1e-6;
  auto refresh = [&] {
    double sum = 0, sq = 0;
    for (double v : data) sum += v;
    mean = sum / data.size();
    for (double v : data) sq += (v - mean) * (v - mean);
    sd = std::sqrt(sq / data.size());  // population deviation, as numpy.std
    if (sd == 0) sd = 1e-6;
  };
  for (const Sample& s : history) {
    out.push_back(data.empty() ? 0.0 : 1.0 - NormalTail(std::abs(s.value - mean) / sd));
    if (static_cast<int>(data.size()) < window) {
      data.push_back(s.value);
      refresh();
    } else {
      buffer.push_back(s.value);
      if (static_cast<int>(buffer.size()) == step) {
        data.erase(data.begin(), data.begin() + step);
        data.insert(data.end(), buffer.begin(), buffer.end());
        buffer.clear();
        refresh();
      }
    }
  }
  return out;
}

}  // namespace predictor::anomaly
