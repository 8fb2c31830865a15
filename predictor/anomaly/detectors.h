// The sustained-condition anomaly detectors, as pure functions over a deployment's
// time-ordered history (oldest first, newest last): persistent high CPU, scaling thrashing
// and pattern deviation against the forecast's p10-p90 band. The CPU-spike detector is
// streaming (spike.h).
//
//   absl::StatusOr<Finding> f = predictor::anomaly::DetectPersistentHigh(utilization, {});
//   if (f.ok() && f->active) ...;   // f->since, f->value, f->high (the threshold) are the evidence
//
// Every function judges the newest sample and the run of samples ending at it, and returns
// InvalidArgument naming the first sample whose time is not after the one before it (the
// history must be oldest first). An empty history is not an anomaly. Pure; thread-safe.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "predictor/series.h"

namespace predictor::anomaly {

enum class AnomalyType { kCpuSpike, kPersistentHighCpu, kScalingThrashing, kPatternDeviation };
enum class Severity { kInfo, kWarning, kCritical };

// "cpu_spike", "persistent_high_cpu", "scaling_thrashing", "pattern_deviation".
const char* AnomalyTypeName(AnomalyType type);
// "info", "warning", "critical".
const char* SeverityName(Severity severity);

// The verdict on the newest sample, with its evidence.
struct Finding {
  AnomalyType type = AnomalyType::kCpuSpike;
  bool active = false;
  Severity severity = Severity::kInfo;
  absl::Time since = absl::InfinitePast();  // first sample of the run (active only)
  double value = 0;                         // the newest value, or what `judged` says
  // What `value` is where it is not simply the newest value (the spike's judged feature:
  // "the value" or "the mean of the last 2h"); empty otherwise.
  std::string judged;
  // The band or threshold the values were judged against (NaN where one side does not apply).
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
  // The values of the run, newest last (at most 64), or the replica counts for thrashing.
  std::vector<double> values;
};

struct PersistentHighOptions {
  double threshold_percent = 85;                // of the CPU request
  absl::Duration sustained = absl::Minutes(10);
  double critical_percent = 100;                // the whole run above this: critical
};

// Active when every sample of the last `sustained` (and at least one sample at or before its
// start, so a short history cannot look sustained) is above threshold_percent. Values are CPU
// utilisation in percent of request.
absl::StatusOr<Finding> DetectPersistentHigh(const std::vector<Sample>& utilization,
                                             const PersistentHighOptions& options = {});

struct ThrashingOptions {
  absl::Duration window = absl::Minutes(30);
  int max_changes = 4;  // more replica changes than this within the window: thrashing
  int critical_changes = 8;
};

// Counts changes of the replica count (HPA status.currentReplicas, values are replica
// counts) between consecutive samples within the `window` ending at the newest sample.
absl::StatusOr<Finding> DetectThrashing(const std::vector<Sample>& replicas,
                                        const ThrashingOptions& options = {});

// One actual value and the forecast band that was issued for its time.
struct BandSample {
  absl::Time time;
  double actual = 0;
  double p10 = 0;
  double p90 = 0;
};

struct PatternDeviationOptions {
  // p10-p90 leaves 20 % of values outside by design; a run of this long (and this many
  // samples) outside is what is rare.
  absl::Duration sustained = absl::Minutes(30);
  int min_samples = 6;
  // Critical when the newest value is beyond the band by more than this many band widths.
  double critical_widths = 2;
};

// Active when every sample of the last `sustained` (at least min_samples, and one at or before
// its start) lies outside its own p10-p90 band. Values are CPU demand in any one unit.
absl::StatusOr<Finding> DetectPatternDeviation(const std::vector<BandSample>& history,
                                               const PatternDeviationOptions& options = {});

}  // namespace predictor::anomaly
