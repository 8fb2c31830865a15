#include "predictor/series.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace predictor {

int Series::StepsPerDay() const {
  if (step <= absl::ZeroDuration()) return 0;
  const int64_t s = absl::ToInt64Seconds(step);
  if (s <= 0 || 86400 % s != 0) return 0;
  return static_cast<int>(86400 / s);
}

int Series::StepsPerWeek() const { return 7 * StepsPerDay(); }

int MarkCensored(Series& series, double ceiling, double tolerance) {
  series.censored.clear();
  if (!(ceiling > 0) || !std::isfinite(ceiling)) return 0;
  series.censored.assign(series.values.size(), 0);
  const double at = (1 - tolerance) * ceiling;
  int marked = 0;
  for (size_t i = 0; i < series.values.size(); ++i) {
    if (series.values[i] >= at) {
      series.censored[i] = 1;
      ++marked;
    }
  }
  return marked;
}

double DefaultCeiling(const Series& series) {
  if (series.values.empty()) return 0;
  for (double v : series.values) {
    if (!(v >= 0 && v <= 100)) return 0;
  }
  return 100;
}

absl::StatusOr<Series> Regularize(const std::vector<Sample>& samples,
                                  const RegularizeOptions& options) {
  std::vector<Sample> finite;
  finite.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i > 0 && samples[i].time <= samples[i - 1].time) {
      return absl::InvalidArgumentError(
          absl::StrCat("sample ", i, ": timestamp not after the previous one"));
    }
    if (std::isfinite(samples[i].value)) finite.push_back(samples[i]);
  }
  if (finite.empty()) return absl::InvalidArgumentError("no finite samples");
  absl::Duration step = options.step;
  if (step <= absl::ZeroDuration()) {
    // The most common spacing (the smallest among ties): robust to gaps and to jitter.
    std::vector<int64_t> diffs;
    for (size_t i = 1; i < samples.size(); ++i) {
      diffs.push_back(absl::ToInt64Seconds(samples[i].time - samples[i - 1].time));
    }
    std::sort(diffs.begin(), diffs.end());
    int64_t best = 300;
    size_t best_count = 0;
    for (size_t i = 0; i < diffs.size();) {
      size_t j = i;
      while (j < diffs.size() && diffs[j] == diffs[i]) ++j;
      if (diffs[i] > 0 && j - i > best_count) {
        best = diffs[i];
        best_count = j - i;
      }
      i = j;
    }
    step = absl::Seconds(best);
  }
  const int64_t step_s = std::max<int64_t>(1, absl::ToInt64Seconds(step));
  step = absl::Seconds(step_s);
  const int64_t t0 = absl::ToUnixSeconds(finite.front().time);
  const int64_t start_s = t0 - ((t0 % step_s) + step_s) % step_s;
  const int64_t n = (absl::ToUnixSeconds(finite.back().time) - start_s) / step_s + 1;
  std::vector<double> sum(n, 0.0);
  std::vector<int> count(n, 0);
  for (const Sample& s : finite) {
    const int64_t i = (absl::ToUnixSeconds(s.time) - start_s) / step_s;
    sum[i] += s.value;
    ++count[i];
  }
  Series out;
  out.start = absl::FromUnixSeconds(start_s);
  out.step = step;
  out.values.assign(n, 0.0);
  out.gap.assign(n, 0);
  const int64_t max_gap =
      std::max<int64_t>(1, absl::ToInt64Seconds(options.max_interpolated_gap) / step_s);
  int64_t last = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (count[i] == 0) continue;
    out.values[i] = sum[i] / count[i];
    if (last >= 0 && i - last > 1) {
      const bool long_gap = (i - last - 1) > max_gap;
      for (int64_t j = last + 1; j < i; ++j) {
        const double f = static_cast<double>(j - last) / (i - last);
        out.values[j] = out.values[last] + f * (out.values[i] - out.values[last]);
        out.gap[j] = long_gap ? 1 : 0;
      }
    }
    last = i;
  }
  return out;
}

double Autocorrelation(const double* x, int n, int lag) {
  if (lag <= 0 || lag >= n) return 0.0;
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += x[i];
  mean /= n;
  double var = 0;
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  if (!(var > 1e-12 * n * (1 + mean * mean))) return 0.0;
  double cov = 0;
  for (int i = lag; i < n; ++i) cov += (x[i] - mean) * (x[i - lag] - mean);
  return cov / var;
}

double Autocorrelation(const std::vector<double>& x, int lag) {
  return Autocorrelation(x.data(), static_cast<int>(x.size()), lag);
}

int DetectDailySeason(const double* x, int n, int steps_per_day, double threshold) {
  if (steps_per_day < 2 || n < 2 * steps_per_day) return 0;
  return Autocorrelation(x, n, steps_per_day) >= threshold ? steps_per_day : 0;
}

int DetectWeeklySeason(const double* x, int n, int steps_per_week, int steps_per_day,
                       double threshold) {
  if (steps_per_week < 2 || n < 2 * steps_per_week) return 0;
  const double w = Autocorrelation(x, n, steps_per_week);
  const double d = steps_per_day > 0 ? Autocorrelation(x, n, steps_per_day) : 0.0;
  return (w >= threshold && w > d) ? steps_per_week : 0;
}

}  // namespace predictor
