// Forecast validation bookkeeping as pure functions of the recorded history: rolling
// accuracy, false positives and negatives against the scale-up threshold, a confidence score
// and the original project's trust gates (skip predictions when accuracy < 60 % or the
// false-positive rate > 40 %).
//
//   std::vector<predictor::Validated> log = ...;  // one entry per forecast whose target passed
//   predictor::ValidationSummary s = predictor::Summarize(log, absl::Now());
//   if (!s.trusted) { /* serve the blended value instead of the forecast */ }
#pragma once

#include <vector>

#include "absl/time/time.h"

namespace predictor {

// A forecast whose target time has passed, with the actual value then observed.
struct Validated {
  absl::Time target_time;
  double forecast = 0;
  double actual = 0;
  double threshold = 0;  // the scale-up threshold in force when the forecast was made
};

struct ValidationOptions {
  absl::Duration window = absl::Hours(24);  // only entries with target in (now - window, now]
  double abs_tolerance = 0;                 // accurate if |error| <= max(abs, rel * |actual|)
  double rel_tolerance = 0.15;
  int min_samples = 10;
  double min_accuracy = 0.60;
  double max_false_positive_rate = 0.40;
};

struct ValidationSummary {
  int total = 0;
  int accurate = 0;
  int false_positives = 0;  // forecast >= threshold, actual < threshold
  int false_negatives = 0;  // forecast < threshold, actual >= threshold
  double accuracy = 0;      // accurate / total (0 when empty)
  double false_positive_rate = 0;
  double false_negative_rate = 0;
  double mae = 0;
  // 0..1: accuracy, lowered by false positives, scaled by how many samples back it.
  double confidence = 0;
  // The gates: enough samples, accuracy >= min_accuracy and FP rate <= max rate.
  bool trusted = false;
};

// Pure; entries may be in any order.
ValidationSummary Summarize(const std::vector<Validated>& log, absl::Time now,
                            const ValidationOptions& options = {});

}  // namespace predictor
