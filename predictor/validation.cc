#include "predictor/validation.h"

#include <algorithm>
#include <cmath>

namespace predictor {

ValidationSummary Summarize(const std::vector<Validated>& log, absl::Time now,
                            const ValidationOptions& o) {
  ValidationSummary s;
  double abs_err = 0;
  for (const Validated& v : log) {
    if (v.target_time > now || v.target_time <= now - o.window) continue;
    if (!std::isfinite(v.forecast) || !std::isfinite(v.actual)) continue;
    ++s.total;
    const double err = std::abs(v.forecast - v.actual);
    abs_err += err;
    if (err <= std::max(o.abs_tolerance, o.rel_tolerance * std::abs(v.actual))) ++s.accurate;
    const bool predicted_up = v.forecast >= v.threshold;
    const bool actual_up = v.actual >= v.threshold;
    if (predicted_up && !actual_up) ++s.false_positives;
    if (!predicted_up && actual_up) ++s.false_negatives;
  }
  if (s.total == 0) return s;
  s.accuracy = static_cast<double>(s.accurate) / s.total;
  s.false_positive_rate = static_cast<double>(s.false_positives) / s.total;
  s.false_negative_rate = static_cast<double>(s.false_negatives) / s.total;
  s.mae = abs_err / s.total;
  const double support = std::min(1.0, static_cast<double>(s.total) / std::max(1, o.min_samples));
  s.confidence = std::clamp(s.accuracy * (1.0 - 0.5 * s.false_positive_rate) * support, 0.0, 1.0);
  s.trusted = s.total >= o.min_samples && s.accuracy >= o.min_accuracy &&
              s.false_positive_rate <= o.max_false_positive_rate;
  return s;
}

}  // namespace predictor
