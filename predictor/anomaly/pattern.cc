#include "predictor/anomaly/pattern.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

namespace predictor::anomaly {

PatternTracker::PatternTracker(const PatternOptions& options) : options_(options) {}

absl::Status PatternTracker::Refit(absl::Time now) {
  last_fit_ = now;
  path_.reset();
  std::vector<Sample> samples(history_.begin(), history_.end());
  absl::StatusOr<Series> series = Regularize(samples);
  if (!series.ok()) return series.status();
  step_ = series->step;
  const int horizon = std::max<int>(1, static_cast<int>(options_.refit / step_) + 1);
  model_ = NewEnsemble(options_.forecaster);
  if (absl::Status s = model_->Fit(*series, horizon); !s.ok()) return s;
  path_ = model_->Forecast(horizon);
  return absl::OkStatus();
}

absl::StatusOr<Finding> PatternTracker::Update(absl::Time time, double value) {
  if (!history_.empty() && time <= history_.back().time) {
    return absl::InvalidArgumentError(absl::StrCat("sample at ", absl::FormatTime(time),
                                                   " is not after the previous one"));
  }
  Finding f;
  f.type = AnomalyType::kPatternDeviation;
  f.value = value;
  const int k = path_.has_value()
                    ? static_cast<int>(std::lround((time - last_fit_) / step_)) - 1
                    : -1;
  if (k >= 0 && k < path_->size()) {
    bands_.push_back({time, value, path_->p10[k], path_->p90[k]});
    const absl::Duration keep = options_.deviation.sustained + absl::Hours(1);
    while (bands_.front().time < time - keep) bands_.pop_front();
    std::vector<BandSample> recent(bands_.begin(), bands_.end());
    absl::StatusOr<Finding> judged = DetectPatternDeviation(recent, options_.deviation);
    if (!judged.ok()) return judged.status();
    f = *judged;
  }
  history_.push_back({time, value});
  while (history_.front().time < time - options_.train) history_.pop_front();
  const bool enough = time - history_.front().time >= options_.min_history;
  if (enough && (model_ == nullptr || time - last_fit_ >= options_.refit)) {
    // A failed fit (e.g. a history too irregular) leaves no band until the next refit.
    Refit(time).IgnoreError();
  }
  return f;
}

absl::Status PatternTracker::Seed(const std::vector<Sample>& history) {
  for (size_t i = 0; i < history.size(); ++i) {
    const absl::Time before = i > 0              ? history[i - 1].time
                              : history_.empty() ? absl::InfinitePast()
                                                 : history_.back().time;
    if (history[i].time <= before) {
      return absl::InvalidArgumentError(absl::StrCat("seed sample ", i, " (",
                                                     absl::FormatTime(history[i].time),
                                                     ") is not after the sample before it"));
    }
  }
  if (history.empty()) return absl::OkStatus();
  history_.insert(history_.end(), history.begin(), history.end());
  const absl::Time last = history_.back().time;
  while (history_.front().time < last - options_.train) history_.pop_front();
  if (last - history_.front().time >= options_.min_history) {
    Refit(last).IgnoreError();  // as in Update: no band until the next refit
  }
  return absl::OkStatus();
}

}  // namespace predictor::anomaly
