#include "reconciler/history.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "predictor/forecaster.h"
#include "proto/records.pb.h"
#include "reconciler/signals.h"

namespace reconciler {
namespace {

constexpr absl::Duration kStep = ForecastTracker::kStep;

// The stored series by name: metric, id field, value field (registration order).
struct Field {
  const char* metric;
  storage::SeriesId StoredSeries::*id;
  absl::optional<double> StoredValues::*value;
};
constexpr Field kDemandField = {"cpu_demand_cores", &StoredSeries::demand_cores,
                                &StoredValues::demand_cores};
constexpr Field kCensoredField = {"cpu_demand_censored", &StoredSeries::demand_censored,
                                  &StoredValues::demand_censored};
constexpr Field kFields[] = {
    kDemandField,
    kCensoredField,
    {"smart_cpu_blended", &StoredSeries::blended_pct, &StoredValues::blended_pct},
    {"smart_cpu_predicted", &StoredSeries::predicted_pct, &StoredValues::predicted_pct},
    {"smart_cpu_pressure", &StoredSeries::pressure_ratio, &StoredValues::pressure_ratio},
    {"smart_cpu_target", &StoredSeries::target_pct, &StoredValues::target_pct},
    {"smart_memory_blended", &StoredSeries::memory_pct, &StoredValues::memory_pct},
    {"memory_working_set_bytes", &StoredSeries::memory_bytes, &StoredValues::memory_bytes},
};

absl::Time Floor(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), kStep);
}

storage::SeriesKey KeyOf(const DeploymentHistory& h, const Field& f) {
  return {h.namespace_name, h.name, f.metric, {}};
}

// Registers the series unless known; false (logged) when the store refuses.
bool EnsureSeries(storage::Store* store, const Field& f, DeploymentHistory* h) {
  if (h->series.*f.id != 0) return true;
  auto id = store->RegisterSeries(KeyOf(*h, f));
  if (!id.ok()) {
    LOG(WARNING) << "store: " << id.status();
    return false;
  }
  h->series.*f.id = *id;
  return true;
}

}  // namespace

HistoryWriter::HistoryWriter(storage::Store* store, clients::prometheus::PrometheusClient* prom,
                             const base::Clock* clock)
    : store_(store), prom_(prom), clock_(clock) {}

LoadBudget HistoryWriter::CycleBudget(const Config& config, absl::Time start) {
  return {config.backfills_per_cycle,
          start + std::min(config.check_interval / 4, absl::Seconds(15))};
}

bool HistoryWriter::CanLoad(const LoadBudget& budget) const {
  return clock_->Now() < budget.deadline;
}

std::map<absl::Time, HistoryWriter::Bucket> HistoryWriter::LocalBuckets(
    absl::Time start, absl::Time end, DeploymentHistory* h) const {
  std::map<absl::Time, Bucket> local;
  if (store_ == nullptr) return local;
  if (h->series.demand_cores == 0) {
    auto id = store_->LookupSeries(KeyOf(*h, kDemandField));
    if (id.ok()) h->series.demand_cores = *id;
  }
  if (h->series.demand_cores == 0) return local;
  auto samples = store_->Scan(h->series.demand_cores, start, end + kStep);
  if (!samples.ok()) return local;
  std::map<absl::Time, std::pair<double, int>> buckets;
  for (const storage::Sample& smp : *samples) {
    auto& b = buckets[Floor(smp.time)];
    b.first += smp.value;
    ++b.second;
  }
  for (const auto& [bt, b] : buckets) local[bt].mean = b.first / b.second;
  CensoredMarks(start, end, h, &local);
  return local;
}

// A bucket is censored when any of its stored marks is (its mean then includes a lower bound).
// Without the series (stored before the marks existed, or never censored) nothing is marked.
void HistoryWriter::CensoredMarks(absl::Time start, absl::Time end, DeploymentHistory* h,
                                  std::map<absl::Time, Bucket>* buckets) const {
  if (h->series.demand_censored == 0) {
    auto id = store_->LookupSeries(KeyOf(*h, kCensoredField));
    if (id.ok()) h->series.demand_censored = *id;
  }
  if (h->series.demand_censored == 0) return;
  auto marks = store_->Scan(h->series.demand_censored, start, end + kStep);
  if (!marks.ok()) {
    LOG(WARNING) << "store: censored marks of " << h->namespace_name << "/" << h->name << ": "
                 << marks.status();
    return;
  }
  for (const storage::Sample& m : *marks) {
    if (m.value == 0) continue;
    auto it = buckets->find(Floor(m.time));
    if (it != buckets->end()) it->second.censored = true;
  }
}

HistoryLoad HistoryWriter::LoadWeek(absl::Time now, LoadBudget* budget, DeploymentHistory* h) {
  HistoryLoad out;
  const absl::Time end = Floor(now) - kStep;  // the last complete bucket
  const absl::Time start = end - (ForecastTracker::kHistoryBuckets - 1) * kStep;
  // The local store first (a restart): enough of it is used as it is.
  std::map<absl::Time, Bucket> local = LocalBuckets(start, end, h);
  auto assign = [&local, &out] {
    for (const auto& [bt, b] : local) {
      out.points.emplace_back(bt, b.mean);
      out.censored.push_back(b.censored);
    }
    out.done = true;
  };
  const int64_t min_local = predictor::Options{}.min_history / kStep;
  if (static_cast<int64_t>(local.size()) >= min_local) {
    assign();
    return out;
  }
  // Too little locally (a new deployment, a fresh replica, or a replica that has not run for
  // long): the week from Prometheus, with the local buckets kept where both exist. The fetched
  // buckets are written to the store so that the next restart needs no query.
  if (budget->remote_queries <= 0) return out;  // no query budget left this cycle
  out.used_remote = true;
  --budget->remote_queries;
  auto r = prom_->QueryRange(DemandHistoryQuery(h->namespace_name, h->name), start, end, kStep);
  if (!r.ok()) {
    out.error =
        absl::StrCat("backfill ", h->namespace_name, "/", h->name, ": ", r.status().ToString());
    return out;
  }
  std::vector<storage::SeriesSample> fetched;
  if (!r->empty()) {
    for (const auto& p : r->front().points) {
      if (!std::isfinite(p.value)) continue;
      const absl::Time b = Floor(p.time);
      if (local.emplace(b, Bucket{p.value, false}).second) fetched.push_back({0, {b, p.value}});
    }
  }
  if (store_ != nullptr && !fetched.empty()) PersistBackfill(&fetched, h);
  assign();
  return out;
}

void HistoryWriter::PersistBackfill(std::vector<storage::SeriesSample>* samples,
                                    DeploymentHistory* h) {
  if (!EnsureSeries(store_, kDemandField, h)) return;
  for (storage::SeriesSample& s : *samples) s.series = h->series.demand_cores;
  absl::Status s = store_->Append(*samples, {});
  if (!s.ok()) {
    LOG(WARNING) << "store: backfill of " << h->namespace_name << "/" << h->name << ": " << s;
  }
}

void HistoryWriter::AddDecision(const Reading& reading, const TargetDecision& target, bool dry_run,
                                absl::Time now, DeploymentHistory* h) const {
  if (store_ == nullptr) return;
  smartautoscaler::v1::Decision dec;
  dec.set_namespace_(h->namespace_name);
  dec.set_deployment(h->name);
  dec.set_timestamp_ms(absl::ToUnixMillis(now));
  dec.set_previous_target_pct(target.previous_target_pct);
  dec.set_recommended_target_pct(target.target_pct);
  dec.set_reason(absl::StrCat("node pressure ", PressureLevelName(reading.node_pressure.level),
                              ", request ", reading.cpu_request_millicores, "m"));
  dec.set_dry_run(dry_run);
  auto* inputs = dec.mutable_inputs();
  inputs->set_blended_cpu_pct(reading.blended_pct.value_or(-1));
  inputs->set_cpu_request_millicores(reading.cpu_request_millicores);
  inputs->set_ready_pods(reading.ready_pods);
  inputs->set_filtered_pods(reading.young_pods_excluded);
  inputs->set_node_pressure_pct(reading.node_pressure.utilization_pct);
  inputs->set_confidence(reading.confidence);
  h->decisions.push_back(dec.SerializeAsString());
}

void HistoryWriter::AddForecasts(const std::vector<ForecastRecord>& records,
                                 DeploymentHistory* h) const {
  if (store_ == nullptr) return;
  for (const ForecastRecord& r : records) {
    smartautoscaler::v1::Forecast f;
    f.set_series_id(h->series.demand_cores);
    f.set_model(r.model);
    f.set_origin_ms(absl::ToUnixMillis(r.origin));
    f.set_step_ms(absl::ToInt64Milliseconds(r.step));
    for (int k = 0; k < r.band.size(); ++k) {
      auto* p = f.add_path();
      p->set_timestamp_ms(absl::ToUnixMillis(r.origin + (k + 1) * r.step));
      p->set_p10(r.band.p10[k]);
      p->set_p50(r.band.p50[k]);
      p->set_p90(r.band.p90[k]);
    }
    f.set_lead_ms(absl::ToInt64Milliseconds(r.lead));
    f.set_peak_lead_p50(r.peak_lead_p50_cores);
    f.set_peak_lead_p90(r.peak_lead_p90_cores);
    h->forecasts.push_back({r.origin, f.SerializeAsString()});
  }
}

void HistoryWriter::WriteCycle(
    absl::Time now, const std::vector<std::pair<StoredValues, DeploymentHistory*>>& rows) {
  if (store_ == nullptr) return;
  std::vector<storage::SeriesSample> batch;
  for (const auto& [values, h] : rows) {
    for (const Field& f : kFields) {
      const absl::optional<double>& v = values.*f.value;
      if (!v || !std::isfinite(*v)) continue;
      if (!EnsureSeries(store_, f, h)) continue;
      batch.push_back({h->series.*f.id, {now, *v}});
    }
    for (const std::string& d : h->decisions) {
      absl::Status es = store_->AppendEvent(storage::EventLog::kDecisions, now, d, {});
      if (!es.ok()) LOG(WARNING) << "store: " << es;
    }
    h->decisions.clear();
    for (const auto& [t, f] : h->forecasts) {
      absl::Status es = store_->AppendEvent(storage::EventLog::kForecasts, t, f, {});
      if (!es.ok()) LOG(WARNING) << "store: " << es;
    }
    h->forecasts.clear();
  }
  absl::Status s = store_->Append(batch, {});
  if (!s.ok()) LOG(WARNING) << "store: " << s;
}

}  // namespace reconciler
