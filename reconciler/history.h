// history: what the reconciler keeps of each deployment in the store, and the week of demand
// history it loads back. Stored series are addressed by name (StoredSeries), never by index.
//
//   reconciler::HistoryWriter writer(store, prom, &clock);
//   reconciler::LoadBudget budget = reconciler::HistoryWriter::CycleBudget(config, now);
//   if (writer.CanLoad(budget)) {
//     reconciler::HistoryLoad load = writer.LoadWeek(now, &budget, &deployment_history);
//     if (load.done) tracker.LoadHistory(load.points, now, threshold_cores);
//   }
//   writer.WriteCycle(now, rows);   // samples, Decision and Forecast records of the cycle
//
// Per deployment, eight series: cpu_demand_cores (cores), cpu_demand_censored (1 when that
// cycle's demand sat at the pods' CPU limit, a lower bound; else 0), smart_cpu_blended,
// smart_cpu_predicted, smart_cpu_target, smart_memory_blended (% of request),
// smart_cpu_pressure (the pressure ratio) and memory_working_set_bytes. A failing store is logged and skipped: the cycle
// goes on. Thread-compatible (the loop's cycle thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "base/clock.h"
#include "clients/prometheus/prometheus.h"
#include "reconciler/config.h"
#include "reconciler/decision.h"
#include "reconciler/forecast_tracker.h"
#include "storage/store.h"

namespace reconciler {

// The stored series ids of one deployment (0: not registered yet).
struct StoredSeries {
  storage::SeriesId demand_cores = 0;    // cpu_demand_cores
  storage::SeriesId demand_censored = 0;  // cpu_demand_censored
  storage::SeriesId blended_pct = 0;     // smart_cpu_blended
  storage::SeriesId predicted_pct = 0;   // smart_cpu_predicted
  storage::SeriesId pressure_ratio = 0;  // smart_cpu_pressure
  storage::SeriesId target_pct = 0;      // smart_cpu_target
  storage::SeriesId memory_pct = 0;      // smart_memory_blended
  storage::SeriesId memory_bytes = 0;    // memory_working_set_bytes (costs)
};

// One cycle's values of one deployment, by series; nullopt (or non-finite) is not stored.
struct StoredValues {
  absl::optional<double> demand_cores, blended_pct, predicted_pct, pressure_ratio, target_pct,
      memory_pct, memory_bytes;
  absl::optional<double> demand_censored;  // 1 or 0, stored beside demand_cores
};

// What the writer keeps per deployment between cycles (owned by the caller).
struct DeploymentHistory {
  std::string namespace_name, name;
  StoredSeries series;
  std::vector<std::string> decisions;                         // serialized, not yet written
  std::vector<std::pair<absl::Time, std::string>> forecasts;  // (origin, serialized)
};

// The cycle's budget for loading histories: BACKFILLS_PER_CYCLE Prometheus range queries, and
// no loading (store scans and forecaster fits) at or after `deadline` (the injected clock).
struct LoadBudget {
  int remote_queries = 0;
  absl::Time deadline = absl::InfiniteFuture();
};

struct HistoryLoad {
  bool done = false;         // loaded, or nothing to load; false: try again next cycle
  bool used_remote = false;  // a Prometheus range query was run (and charged to the budget)
  std::vector<std::pair<absl::Time, double>> points;  // bucket start -> mean cores, in order
  // Parallel to points: 1 where a stored sample of the bucket was censored (buckets fetched
  // from Prometheus, which knows no limits, are 0).
  std::vector<uint8_t> censored;
  std::string error;                                  // "" or why the Prometheus query failed
};

class HistoryWriter {
 public:
  // `prom` and `clock` are required; `store` may be null (nothing stored or loaded from it).
  // All must outlive the writer.
  HistoryWriter(storage::Store* store, clients::prometheus::PrometheusClient* prom,
                const base::Clock* clock);

  // BACKFILLS_PER_CYCLE range queries, until CHECK_INTERVAL/4 (at most 15 s) after `start`.
  static LoadBudget CycleBudget(const Config& config, absl::Time start);
  // Whether the budget's time is not yet spent (clock's now < deadline).
  bool CanLoad(const LoadBudget& budget) const;

  // The week of demand before `now` (whole 5-minute buckets): from the store alone when it
  // holds at least the forecaster's minimum (predictor::Options::min_history), else from
  // Prometheus (only with a range query left in `budget`) merged with what the store holds,
  // the fetched buckets written to the store. The stored censored marks come back with their
  // buckets (`censored`). Not done (retry next cycle) without budget or
  // when the query fails (`error` says why).
  HistoryLoad LoadWeek(absl::Time now, LoadBudget* budget, DeploymentHistory* h);

  // Queues a Decision record of a target change (nothing without a store).
  void AddDecision(const Reading& reading, const TargetDecision& target, bool dry_run,
                   absl::Time now, DeploymentHistory* h) const;
  // Queues Forecast records, against the demand series as registered now (nothing without a
  // store).
  void AddForecasts(const std::vector<ForecastRecord>& records, DeploymentHistory* h) const;

  // Writes every row's values at `now` (registering series as needed) in one batch, then the
  // queued records, which are cleared. Failures are logged; nothing is retried.
  void WriteCycle(absl::Time now,
                  const std::vector<std::pair<StoredValues, DeploymentHistory*>>& rows);

  bool has_store() const { return store_ != nullptr; }

 private:
  struct Bucket {
    double mean = 0;
    bool censored = false;
  };
  std::map<absl::Time, Bucket> LocalBuckets(absl::Time start, absl::Time end,
                                            DeploymentHistory* h) const;
  void CensoredMarks(absl::Time start, absl::Time end, DeploymentHistory* h,
                     std::map<absl::Time, Bucket>* buckets) const;
  void PersistBackfill(std::vector<storage::SeriesSample>* samples, DeploymentHistory* h);

  storage::Store* const store_;
  clients::prometheus::PrometheusClient* const prom_;
  const base::Clock* const clock_;
};

}  // namespace reconciler
