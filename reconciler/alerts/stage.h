// The anomaly step of one reconciler cycle: per deployment, the streaming spike detector over
// its CPU demand, persistent high CPU over its utilisation, thrashing over its HPA's replica
// counts, and pattern deviation over its demand's 5-minute means (against the p10-p90 band the
// predictor's ensemble forecast for each bucket, hours ahead, as `anomalies --input --pattern`
// judges a CSV), each finding handed to the AlertManager.
//
//   reconciler::alerts::AnomalyStage stage(&alert_manager);
//   stage.Seed("shop", "api", loaded_week);   // optional: the demand history loaded at start
//   stage.QueueSeed("shop", "api", loaded_week);  // or seeded later, a budget per cycle:
//   stage.SeedQueued();                           //   once per cycle, before Observe
//   std::vector<predictor::anomaly::Finding> f = stage.Observe(reading, leader.IsLeader());
//
// Missing readings are skipped, never read as zero: a deployment whose CPU could not be read
// this cycle keeps its state and reports no new finding for that signal. Thread-compatible
// (the loop owns it).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "predictor/anomaly/detectors.h"
#include "predictor/anomaly/pattern.h"
#include "predictor/anomaly/spike.h"
#include "reconciler/alerts/alerts.h"

namespace reconciler::alerts {

struct DeploymentReading {
  std::string namespace_name;
  std::string name;
  absl::Time time;
  std::optional<double> demand_millicores;     // total CPU demand (spike detector)
  std::optional<double> utilization_percent;   // of the CPU request (persistent high)
  std::optional<int> current_replicas;         // HPA status.currentReplicas (thrashing)
};

struct StageOptions {
  predictor::anomaly::SpikeOptions spike;
  predictor::anomaly::PersistentHighOptions persistent_high;
  predictor::anomaly::ThrashingOptions thrashing;
  predictor::anomaly::PatternOptions pattern;
  // Demand readings are averaged over buckets of this length before the pattern tracker sees
  // them (the predictor's step); a finding is made when a bucket closes.
  absl::Duration pattern_bucket = absl::Minutes(5);
  // How often readings come (the cycle interval; 0: unknown). Seed replays the last
  // spike.recent_long of a history at it, so that the spike's recent means weigh the history
  // as they weigh readings (by count) and a handful of readings after a start does not
  // outweigh the buckets before it.
  absl::Duration reading_interval = absl::ZeroDuration();
  // An active spike resolves only once its score has stayed below the threshold for this
  // long (a score hovering at the threshold would otherwise resolve and start again from
  // one cycle to the next; measured end to end, BENCHMARKS.md). 0: at the first score below.
  absl::Duration spike_resolve_after = absl::Minutes(5);
  // SeedQueued seeds at most this many queued histories per call (per cycle). Seeding one
  // deployment costs 17-22 ms of CPU (BENCHMARKS.md, mostly the pattern ensemble's fit), so
  // the default bounds it to about 1 s per cycle: 1,000 histories arriving in one cycle are
  // seeded over 20 cycles instead of adding ~20 s to that one.
  int seeds_per_cycle = 50;
};

// The progress of queued seeding.
struct SeedProgress {
  int pending = 0;         // histories queued, not seeded yet
  int64_t seeded = 0;      // seeded since start (by Seed or SeedQueued)
};

class AnomalyStage {
 public:
  // `alerts` must outlive the stage.
  explicit AnomalyStage(AlertManager* alerts, StageOptions options = {});
  // Updates the deployment's detectors with this cycle's reading and returns the findings
  // (one per signal that was present), after passing each to the AlertManager.
  std::vector<predictor::anomaly::Finding> Observe(const DeploymentReading& reading,
                                                   bool is_leader);
  // Seeds the deployment's spike detector and pattern tracker with the demand history loaded
  // at start (oldest first, millicores; the reconciler's 5-minute bucket means of the week),
  // so that both judge the next reading against it instead of warming up on readings (12
  // readings and then 12 scored ones for the spike, 4 days for the pattern's forecast). The
  // two detectors' state from readings already observed is replaced (the history covers
  // them); persistent high CPU, thrashing and the AlertManager's anomalies are kept.
  // InvalidArgument naming the first sample that is not after the one before it (nothing
  // changes then).
  absl::Status Seed(const std::string& namespace_name, const std::string& name,
                    const std::vector<predictor::Sample>& history);
  // Queues the history for SeedQueued (same order check and errors as Seed, at once; nothing
  // is queued then). Until it is seeded the deployment's detectors behave as without it
  // (warming up on readings); its demand readings observed meanwhile are kept (at most
  // kMaxHeldReadings) and replayed after the history when it is seeded, so none is lost. A
  // history queued again for the same deployment replaces the one waiting, in its place.
  absl::Status QueueSeed(const std::string& namespace_name, const std::string& name,
                         std::vector<predictor::Sample> history);
  // Seeds up to options.seeds_per_cycle queued histories, first queued first; returns how
  // many were seeded.
  int SeedQueued();
  SeedProgress seed_progress() const;
  // Forgets a deployment that is no longer managed (its active anomalies are not resolved),
  // and its queued history.
  void Forget(const std::string& namespace_name, const std::string& name);

  static constexpr int kMaxHeldReadings = 10000;

 private:
  struct PerDeployment {
    explicit PerDeployment(const StageOptions& o) : spike(o.spike), pattern(o.pattern) {}
    predictor::anomaly::SpikeDetector spike;
    predictor::anomaly::PatternTracker pattern;
    absl::Time bucket = absl::InfinitePast();  // start of the open demand bucket
    absl::Time spike_above = absl::InfinitePast();  // the last spike score >= threshold
    double bucket_sum = 0;
    int bucket_n = 0;
    std::deque<predictor::Sample> utilization, replicas;
  };
  using Key = std::pair<std::string, std::string>;
  struct Queued {
    std::vector<predictor::Sample> history;
    std::vector<predictor::Sample> held;  // demand readings observed while queued
  };
  // Seeds `key` with `history` (in order), then replays `held` (readings after it) through
  // the spike and the pattern's buckets.
  void SeedNow(const Key& key, const std::vector<predictor::Sample>& history,
               const std::vector<predictor::Sample>& held);
  // Feeds `history` (not empty, in order) to `spike`, its last recent_long replayed at
  // reading_interval.
  void SeedSpike(predictor::anomaly::SpikeDetector& spike,
                 const std::vector<predictor::Sample>& history) const;
  // The pattern finding when `d`'s open bucket closes at `t` (nullopt otherwise).
  std::optional<predictor::anomaly::Finding> Pattern(PerDeployment& d, absl::Time t,
                                                     double demand) const;

  AlertManager* const alerts_;
  const StageOptions options_;
  std::map<Key, PerDeployment> deployments_;
  std::map<Key, Queued> queued_;
  std::deque<Key> queue_order_;  // keys of queued_, first queued first
  int64_t seeded_ = 0;
};

}  // namespace reconciler::alerts
