// Regular time series for the predictor: resampling raw samples to a fixed step, gap marking
// and season detection. Pure functions; no I/O.
//
//   absl::StatusOr<predictor::Series> s = predictor::Regularize(samples);
//   int season = predictor::DetectDailySeason(*s);  // steps per day, or 0 when no daily cycle
//
// Thread-compatible value types.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace predictor {

// One raw observation.
struct Sample {
  absl::Time time;
  double value = 0;
};

// A series on a fixed grid: values[i] is the value at start + i * step. Never holds NaN.
struct Series {
  absl::Time start;
  absl::Duration step = absl::Minutes(5);
  std::vector<double> values;
  // gap[i] != 0 when values[i] was filled across a long gap (no observation within
  // RegularizeOptions::max_interpolated_gap); such points are interpolated but should not be
  // scored. Same length as values.
  std::vector<uint8_t> gap;

  // censored[i] != 0 when values[i] is a lower bound on demand, not a measurement of it (the
  // sample sat at a ceiling: CPU at the pod's limit, utilisation at 100 %). Empty: nothing
  // censored; else the same length as values. A forecaster never forecasts a series whose
  // last value is censored below that value; a learned target should skip censored peaks.
  std::vector<uint8_t> censored;

  int size() const { return static_cast<int>(values.size()); }
  absl::Time TimeAt(int i) const { return start + i * step; }
  // Steps per day / week, or 0 when the step does not divide them.
  int StepsPerDay() const;
  int StepsPerWeek() const;
};

struct RegularizeOptions {
  // The grid step. Zero: the series' own step (the median spacing of the samples).
  absl::Duration step = absl::ZeroDuration();
  // Empty buckets spanning at most this long are linearly interpolated silently; longer runs
  // are interpolated too but marked in Series::gap.
  absl::Duration max_interpolated_gap = absl::Minutes(30);
};

// Resamples time-ordered samples onto a regular grid (mean of the samples in each bucket,
// buckets aligned to the first sample rounded down to the step). Non-finite values are treated
// as missing. InvalidArgument when there are no finite samples or times are not increasing.
absl::StatusOr<Series> Regularize(const std::vector<Sample>& samples,
                                  const RegularizeOptions& options = {});

// Marks (Series::censored) every value at or above (1 - tolerance) * ceiling, for a ceiling
// > 0 (e.g. 100 for a utilisation in percent, the pod's CPU limit in millicores). Returns how
// many were marked. A ceiling <= 0 or non-finite marks nothing and leaves `censored` empty.
int MarkCensored(Series& series, double ceiling, double tolerance = 0.001);

// The ceiling to assume for a series with no stated one: 100 when every value lies in
// [0, 100] (a utilisation in percent), else 0 (none).
double DefaultCeiling(const Series& series);

// Sample autocorrelation of x at `lag`; 0 for a constant series or lag >= size.
double Autocorrelation(const std::vector<double>& x, int lag);
double Autocorrelation(const double* x, int n, int lag);

// Daily season length in steps when the series shows a daily cycle (autocorrelation at one
// day >= `threshold` and at least two full days of data), else 0.
int DetectDailySeason(const double* x, int n, int steps_per_day, double threshold = 0.3);
// Weekly season in steps when at least two weeks are present and the weekly autocorrelation
// is >= threshold and above the daily one; else 0.
int DetectWeeklySeason(const double* x, int n, int steps_per_week, int steps_per_day,
                       double threshold = 0.3);

}  // namespace predictor
