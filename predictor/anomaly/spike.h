// CPU-spike detection against a robust baseline, and NAB's windowed-Gaussian baseline
// detector (the original project's mean + 3 sigma idea) for comparison.
//
//   predictor::anomaly::SpikeDetector d;                   // default options
//   for (const predictor::Sample& s : history) {
//     predictor::anomaly::SpikeScore r = d.Update(s.time, s.value);
//     if (r.is_anomaly) ...;                                // a new spike starts here
//   }
//
// The baseline is the median of the values in the trailing `baseline` window (the current
// value excluded) and its scale the median absolute deviation (x 1.4826), floored so that a
// flat series does not turn noise into spikes. Three features are taken from the signed
// deviation (value - median) / scale: its size, and the size of its mean over the last
// `recent` and `recent_long`. Each is judged against its own distribution over `long_window`
// (an anomaly likelihood, as in NAB's HTM detector): the score is the larger log-scaled
// Gaussian tail probability, 0 for p = 1 and 1 for p <= 1e-10 (0.5 is p = 1e-5). So a
// one-sample spike and a small sustained shift both stand out, and a noisy series needs a
// larger move than a calm one. A deviation that also happened at the same time of day on the
// previous day(s) scores as none (a nightly job is not a spike). A detection starts when the
// score reaches `threshold`; further detections are suppressed for `suppress` (one event is
// reported once). The defaults were chosen on NAB's scores (BENCHMARKS.md). Thread-compatible;
// owned by its caller.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "predictor/series.h"

namespace predictor::anomaly {

struct SpikeOptions {
  // Trailing window of the robust baseline (median, MAD).
  absl::Duration baseline = absl::Hours(24);
  // Below this many baseline values the score is 0 (not enough history to judge).
  int min_points = 12;
  // The scale is at least this share of |median| and of the baseline's 5-95 % range.
  double min_scale_relative = 0.02;
  // The signed deviations are averaged over these windows (current value included); each
  // mean, and the single value's deviation, is judged against its own distribution over
  // `long_window`: a one-sample spike and a sustained small shift both stand out.
  absl::Duration recent = absl::Hours(2);
  absl::Duration recent_long = absl::Hours(8);
  absl::Duration long_window = absl::Hours(24 * 7);
  // Daily recurrence: a deviation is taken as expected (0) when, on each of the previous
  // `recurrence_days` days, a deviation in the same direction of at least `recurrence_ratio`
  // of it occurred within `recurrence_tolerance` of the same time of day (a nightly job is not
  // a spike). 0 days disables.
  int recurrence_days = 1;
  double recurrence_ratio = 0.3;
  absl::Duration recurrence_tolerance = absl::Minutes(15);
  // ... and only deviations of at least this many scale units are candidates (the rule is
  // for excursions; below it any noise on the previous day would look like a recurrence).
  double recurrence_min_deviation = 5;
  // Score at or above which a detection starts.
  double threshold = 0.7;
  // After a detection, no new one for this long.
  absl::Duration suppress = absl::Hours(24);
};

// The feature whose likelihood gave the score: the value's deviation, or the mean of the
// deviations over `recent` or `recent_long`.
enum class SpikeBasis { kValue, kRecentMean, kRecentLongMean };

// The result for one value, with its evidence.
struct SpikeScore {
  double score = 0;          // 0..1
  double baseline = 0;       // median of the baseline window
  double scale = 0;          // robust scale used
  double deviation = 0;      // |value - baseline| / scale
  bool is_anomaly = false;   // a detection starts at this value
  bool has_baseline = false; // false while the history is too short (score is then 0)
  // What decided, in scale units from the baseline: the feature with the highest score
  // (`basis`, the first of equals), its signed deviation (`judged`: for kValue the value's,
  // 0 when it recurred the day before; for the means, the mean of the signed deviations) and
  // the size at which that feature scores `threshold` against its own distribution (`limit`:
  // |judged| >= limit is what makes score >= threshold; infinite while that distribution has
  // fewer than min_points values). So baseline + judged * scale is the judged value and
  // baseline -+ limit * scale the band it was judged against: an active score's judged value
  // is outside (or on) it.
  SpikeBasis basis = SpikeBasis::kValue;
  double judged = 0;
  double limit = 0;
};

// "the value", or "the mean of the last 2h" (recent) / "... 8h" (recent_long): what a
// SpikeScore's judged value is.
std::string SpikeBasisDescription(SpikeBasis basis, const SpikeOptions& options);

class SpikeDetector {
 public:
  explicit SpikeDetector(const SpikeOptions& options = {});
  // Scores `value` at `time` against the values before it, then adds it to the history.
  // Times must increase; a value at or before the last time, or one that is not finite, is
  // ignored and returns a zero score with has_baseline false (the caller validates order: see
  // ScoreHistory).
  SpikeScore Update(absl::Time time, double value);

 private:
  // A running mean and variance over a trailing time window.
  struct Running {
    std::deque<Sample> points;
    double sum = 0, sq = 0;
    void Add(absl::Time t, double v);
    void EvictBefore(absl::Time t);
    int size() const { return static_cast<int>(points.size()); }
    double Mean() const;
  };
  // The Gaussian tail score (log scale, 0..1) of `feature` against the feature's values over
  // long_window; `unadjusted` (the feature before the recurrence rule) then joins them.
  // `*limit` is the feature's size at which the score reaches options_.threshold.
  double Likelihood(Running& history, absl::Time time, double feature, double unadjusted,
                    double* limit) const;
  // True when the signed deviation `dev` at `time` recurred on each of the previous days.
  bool Recurs(absl::Time time, double dev) const;
  // The median of |v - median| over sorted_ (as the median of the deviations, averaging the
  // middle two for an even count).
  double SortedMad(double median) const;

  SpikeOptions options_;
  double threshold_z_;  // the z at which the tail score is options_.threshold
  std::deque<Sample> window_;
  Running recent_, recent_long_;        // signed deviations
  std::deque<Sample> raw_devs_;         // signed deviations over the recurrence days
  Running point_hist_, recent_hist_, long_hist_;  // feature distributions
  // The values of window_, kept sorted (insertion and removal by binary search), so the
  // median, the 5-95 % range and the MAD are read off in O(n) cheap steps, not selected anew.
  std::vector<double> sorted_;
  absl::Time last_time_ = absl::InfinitePast();
  absl::Time last_detection_ = absl::InfinitePast();
};

// Scores every value of a time-ordered history with a fresh detector (what the CLI writes
// and NAB scores). InvalidArgument naming the first index whose time is not after the one
// before it.
absl::StatusOr<std::vector<SpikeScore>> ScoreHistory(const std::vector<Sample>& history,
                                                     const SpikeOptions& options = {});

// NAB's windowed Gaussian: each value scored 1 - Q(|z|) (Q the normal upper tail) against the
// mean and standard deviation of the preceding `window` values, refreshed every `step` values
// once the window is full (NAB's 6400 and 100). The first value scores 0. InvalidArgument on
// disordered times, as ScoreHistory.
absl::StatusOr<std::vector<double>> WindowedGaussianScores(const std::vector<Sample>& history,
                                                           int window = 6400, int step = 100);

}  // namespace predictor::anomaly
