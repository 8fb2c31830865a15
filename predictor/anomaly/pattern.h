// Pattern deviation over a stream: every `refit` the predictor's ensemble is fitted on the
// trailing `train` of history and forecasts the p10-p90 band of the next `refit`; each value
// is judged (DetectPatternDeviation) against the band issued for its time, hours ahead, as the
// reconciler judges what happened against its stored forecasts. (A one-step-ahead band would
// follow any new level at once and never show a sustained departure.)
//
//   predictor::anomaly::PatternTracker t;
//   for (const predictor::Sample& s : history) {
//     absl::StatusOr<predictor::anomaly::Finding> f = t.Update(s.time, s.value);
//   }
//
// Thread-compatible; owned by its caller.
#pragma once

#include <deque>
#include <memory>
#include <optional>

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
