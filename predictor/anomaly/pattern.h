// Pattern deviation over a stream: every `refit` the predictor's ensemble is fitted on the
// trailing `train` of history and forecasts the p10-p90 band of the next `refit`; each value
// is judged (DetectPatternDeviation) against the band issued for its time, hours ahead, as the
// reconciler judges what happened against its stored forecasts. (A one-step-ahead band would
// follow any new level at once and never show a sustained departure.)
//
//   predictor::anomaly::PatternTracker t;
//   t.Seed(loaded_week);            // optional: a history loaded at start (judged by none)
//   for (const predictor::Sample& s : history) {
//     absl::StatusOr<predictor::anomaly::Finding> f = t.Update(s.time, s.value);
//   }
//
// Thread-compatible; owned by its caller.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "predictor/anomaly/detectors.h"
#include "predictor/forecaster.h"
#include "predictor/series.h"

namespace predictor::anomaly {

struct PatternOptions {
  absl::Duration refit = absl::Hours(3);
  absl::Duration train = absl::Hours(24 * 7);
  // No band (and no finding) before this much history: the ensemble's own minimum, below
  // which it is persistence, whose band hours ahead misses any daily shape.
  absl::Duration min_history = Options().min_history;
  PatternDeviationOptions deviation;
  Options forecaster;
};

class PatternTracker {
 public:
  explicit PatternTracker(const PatternOptions& options = {});
  // Judges `value` against the band forecast for it (inactive while there is none), then
  // adds it. InvalidArgument when `time` is not after the previous one.
  absl::StatusOr<Finding> Update(absl::Time time, double value);
  // Adds `history` (oldest first, every time after the tracker's last) without judging it,
  // as a week loaded at start: with at least min_history the ensemble is fitted at once, so
  // the next Update is judged against a band instead of waiting min_history of Updates.
  // InvalidArgument naming the first sample that is not after the one before it (nothing is
  // added then). A failed fit leaves no band until the next refit, as in Update.
  absl::Status Seed(const std::vector<Sample>& history);

 private:
  absl::Status Refit(absl::Time now);

  PatternOptions options_;
  std::deque<Sample> history_;     // the trailing `train`
  std::deque<BandSample> bands_;   // actual vs issued band, the last few hours
  std::unique_ptr<Forecaster> model_;
  std::optional<Band> path_;       // issued at last_fit_ for the steps after it
  absl::Duration step_;
  absl::Time last_fit_ = absl::InfinitePast();
};

}  // namespace predictor::anomaly
