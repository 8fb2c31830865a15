#include "predictor/anomaly/detectors.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace predictor::anomaly {
namespace {

constexpr size_t kMaxEvidence = 64;

template <typename T>
absl::Status CheckOrder(const std::vector<T>& h) {
  for (size_t i = 1; i < h.size(); ++i) {
    if (h[i].time <= h[i - 1].time) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history is not oldest-first: sample ", i, " (", absl::FormatTime(h[i].time),
          ") is not after sample ", i - 1, " (", absl::FormatTime(h[i - 1].time), ")"));
    }
  }
  return absl::OkStatus();
}

// The index of the first sample of the trailing run of samples satisfying `pred`, or
// h.size() when the newest does not.
template <typename T, typename Pred>
size_t RunStart(const std::vector<T>& h, Pred pred) {
  size_t i = h.size();
  while (i > 0 && pred(h[i - 1])) --i;
  return i;
}

void KeepEvidence(Finding& f, std::vector<double> values) {
  if (values.size() > kMaxEvidence) values.erase(values.begin(), values.end() - kMaxEvidence);
  f.values = std::move(values);
}

}  // namespace

const char* AnomalyTypeName(AnomalyType type) {
  switch (type) {
    case AnomalyType::kCpuSpike: return "cpu_spike";
    case AnomalyType::kPersistentHighCpu: return "persistent_high_cpu";
    case AnomalyType::kScalingThrashing: return "scaling_thrashing";
    case AnomalyType::kPatternDeviation: return "pattern_deviation";
  }
  return "unknown";
}

const char* SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kCritical: return "critical";
  }
  return "unknown";
}

absl::StatusOr<Finding> DetectPersistentHigh(const std::vector<Sample>& h,
                                             const PersistentHighOptions& o) {
  if (absl::Status s = CheckOrder(h); !s.ok()) return s;
  Finding f;
  f.type = AnomalyType::kPersistentHighCpu;
  f.high = o.threshold_percent;
  if (h.empty()) return f;
  f.value = h.back().value;
  const size_t start = RunStart(h, [&](const Sample& s) { return s.value > o.threshold_percent; });
  if (start == h.size()) return f;
  // Sustained: the run covers the whole period, i.e. it starts at or before newest - sustained.
  if (h.back().time - h[start].time < o.sustained) return f;
  f.active = true;
  f.since = h[start].time;
  std::vector<double> values;
  double min_value = INFINITY;
  for (size_t i = start; i < h.size(); ++i) {
    values.push_back(h[i].value);
    min_value = std::min(min_value, h[i].value);
  }
  f.severity = min_value > o.critical_percent ? Severity::kCritical : Severity::kWarning;
  KeepEvidence(f, std::move(values));
  return f;
}

absl::StatusOr<Finding> DetectThrashing(const std::vector<Sample>& h, const ThrashingOptions& o) {
  if (absl::Status s = CheckOrder(h); !s.ok()) return s;
  Finding f;
  f.type = AnomalyType::kScalingThrashing;
  f.high = o.max_changes;
  if (h.empty()) return f;
  f.value = h.back().value;
  const absl::Time from = h.back().time - o.window;
  size_t first = h.size() - 1;
  while (first > 0 && h[first - 1].time >= from) --first;
  // A change into the window counts when its earlier sample is the one just before it.
  const size_t begin = first > 0 ? first - 1 : 0;
  int changes = 0;
  absl::Time first_change = absl::InfinitePast();
  std::vector<double> values;
  for (size_t i = begin; i < h.size(); ++i) {
    values.push_back(h[i].value);
    if (i > begin && h[i].value != h[i - 1].value) {
      if (changes++ == 0) first_change = h[i].time;
    }
  }
  f.value = changes;
  if (changes > o.max_changes) {
    f.active = true;
    f.since = first_change;
    f.severity = changes > o.critical_changes ? Severity::kCritical : Severity::kWarning;
    KeepEvidence(f, std::move(values));
  }
  return f;
}

absl::StatusOr<Finding> DetectPatternDeviation(const std::vector<BandSample>& h,
                                               const PatternDeviationOptions& o) {
  if (absl::Status s = CheckOrder(h); !s.ok()) return s;
  Finding f;
  f.type = AnomalyType::kPatternDeviation;
  if (h.empty()) return f;
  const BandSample& last = h.back();
  f.value = last.actual;
  f.low = last.p10;
  f.high = last.p90;
  const size_t start = RunStart(
      h, [](const BandSample& s) { return s.actual < s.p10 || s.actual > s.p90; });
  if (start == h.size() || static_cast<int>(h.size() - start) < o.min_samples ||
      last.time - h[start].time < o.sustained) {
    return f;
  }
  f.active = true;
  f.since = h[start].time;
  const double width = std::max(last.p90 - last.p10, 1e-12);
  const double beyond = last.actual > last.p90 ? last.actual - last.p90 : last.p10 - last.actual;
  f.severity = beyond > o.critical_widths * width ? Severity::kCritical : Severity::kWarning;
  std::vector<double> values;
  for (size_t i = start; i < h.size(); ++i) values.push_back(h[i].actual);
  KeepEvidence(f, std::move(values));
  return f;
}

}  // namespace predictor::anomaly
