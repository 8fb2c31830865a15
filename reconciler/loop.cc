#include "reconciler/loop.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"
#include "predictor/forecaster.h"
#include "reconciler/forecast_tracker.h"
#include "reconciler/reading.h"
#include "proto/records.pb.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

constexpr char kAnnotationEnabled[] = "smart-autoscaler.io/enabled";
constexpr char kAnnotationStartup[] = "smart-autoscaler.io/startup-filter";
constexpr char kAnnotationLead[] = "smart-autoscaler.io/lead-time";

constexpr int kHistoryBuckets = ForecastTracker::kHistoryBuckets;
// Metrics of the stored series per deployment.
const char* const kStoredMetrics[] = {"cpu_demand_cores", "smart_cpu_blended",
                                      "smart_cpu_predicted", "smart_cpu_pressure",
                                      "smart_cpu_target", "smart_memory_blended"};
constexpr int kNumStored = 6;

std::string Key(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, "/", name);
}

// Process CPU time: the cycle's query threads parse on other threads (background informer
// work during the cycle is counted too).
absl::Duration ProcessCpuTime() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

absl::Time Floor(absl::Time t, absl::Duration step) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), step);
}

bool ParseMinutes(const std::string& text, absl::Duration* out) {
  double m;
  if (absl::SimpleAtod(text, &m) && m >= 0 && m <= 24 * 60) {
    *out = absl::Minutes(m);
    return true;
  }
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration() && d <= absl::Hours(24)) {
    *out = d;
    return true;
  }
  return false;
}

// The reading's part of the status.
void ShowReading(const Reading& r, DeploymentStatus* s) {
  s->pods = r.pods;
  s->ready_pods = r.ready_pods;
  s->cpu_request_millicores = r.cpu_request_millicores;
  s->memory_request_bytes = r.memory_request_bytes;
  s->young_pods_excluded = r.young_pods_excluded;
  s->all_pods_young = r.all_pods_young;
  s->blended_pct = r.blended_pct;
  s->demand_cores = r.demand_cores;
  s->memory_pct = r.memory_pct;
  s->confidence = r.confidence;
  s->pressure = r.node_pressure;
  s->nodes = r.nodes;
}

// The forecast's and the decision's part of the status.
void ShowDecision(const ForecastView& view, const Decision& d, const ForecastTracker& tracker,
                  DeploymentStatus* s) {
  s->learned_target_pct = view.learned_target_pct;
  s->target_pct = d.next.target_pct;
  s->last_target_change = d.next.last_target_change;
  s->history_points = tracker.HistoryPoints();
  s->forecast_accuracy = view.accuracy;
  s->forecast_validated = view.validated;
  s->forecast_trusted = view.trusted;
  s->forecast_peak_p90_cores = view.peak_lead_p90_cores;
  s->forecast_note = view.note;
  s->note = d.note;
  if (!d.served_now) return;
  s->served_blended_pct = d.next.served.blended_pct;
  s->served_predicted_pct = d.next.served.predicted_pct;
  s->served_pressure = d.next.served.pressure_ratio;
  s->served_memory_pct = d.next.served.memory_pct;
  s->served_at = d.next.served_at;
}

}  // namespace

struct Reconciler::Target {
  std::string namespace_name, name, source;
  absl::Duration startup_filter;
  absl::Duration lead;   // LEAD_TIME_MINUTES or the smart-autoscaler.io/lead-time annotation
  std::string hpa_name;  // DEPLOYMENT_<N>_HPA_NAME: the HPA legacy mode patches ("" = any
                         // HPA whose scaleTargetRef is the deployment)
};

struct Reconciler::CycleInputs {
  const ClusterState* cluster = nullptr;
  Signals signals;
  absl::flat_hash_map<std::string, const kube::Deployment*> deployments;  // ns/name
  absl::flat_hash_map<std::string, std::vector<const kube::Pod*>> pods;   // ns/deployment
  NodeRequests node_requested;  // node -> millicores requested by its pods
  // The node pressure of each distinct nodeSelector, computed once per cycle.
  absl::flat_hash_map<std::string, NodePressureReading> node_pressure;  // NodeSelectorKey
  const NodePressureReading& NodePressureFor(const std::map<std::string, std::string>& sel) {
    std::string k = NodeSelectorKey(sel);
    auto it = node_pressure.find(k);
    if (it == node_pressure.end()) {
      it = node_pressure
               .emplace(std::move(k), ReadNodePressure(sel, cluster->nodes, node_requested,
                                                       signals))
               .first;
    }
    return it->second;
  }
  int backfills_left = 0;  // Config::backfills_per_cycle: Prometheus range queries left
  // Loading histories (store scans and forecaster fits) stops for this cycle at this wall time.
  absl::Time backfill_deadline = absl::InfiniteFuture();
};

struct Reconciler::State {
  explicit State(const std::string& key) : tracker(key) {}
  DecisionMemory memory;    // the target with its cooldown, the last-known-good served values
  ForecastTracker tracker;  // demand history, forecaster, validation, learned target
  bool backfilled = false;  // the history was loaded (or there was none to load)
  // Stored series ids (0: not registered yet).
  storage::SeriesId ids[kNumStored] = {};
  std::vector<std::string> decisions;  // serialized Decision records to store this cycle
  std::vector<std::pair<absl::Time, std::string>> forecasts;  // serialized Forecast records
  DeploymentStatus status;
};

Reconciler::Reconciler(Config config, ClusterSource* cluster,
                       clients::prometheus::PrometheusClient* prom, storage::Store* store,
                       const base::Clock* clock, HpaPatcher* patcher)
    : clock_(clock),
      cluster_(cluster),
      prom_(prom),
      store_(store),
      patcher_(patcher),
      config_(std::move(config)) {}

Reconciler::~Reconciler() = default;

void Reconciler::UpdateConfig(const Config& config) {
  absl::MutexLock lock(&config_mu_);
  config_ = config;
}

std::vector<MetricPoint> Reconciler::Table() const {
  absl::MutexLock lock(&out_mu_);
  return table_;
}

std::vector<DeploymentStatus> Reconciler::Statuses() const {
  absl::MutexLock lock(&out_mu_);
  return statuses_;
}

CycleReport Reconciler::LastCycle() const {
  absl::MutexLock lock(&out_mu_);
  return last_;
}

CycleReport Reconciler::RunCycle() {
  absl::MutexLock cycle_lock(&cycle_mu_);
  Config cfg;
  {
    absl::MutexLock lock(&config_mu_);
    cfg = config_;
  }
  const absl::Time now = clock_->Now();
  const absl::Duration cpu0 = ProcessCpuTime();
  const absl::Time wall0 = clock_->Now();
  CycleReport report;
  report.start = now;

  auto snapshot = cluster_->Snapshot();
  if (!snapshot.ok()) {
    // No cluster view: nothing can be decided; the served values stand (the adapter's staleness
    // limit ends them if this lasts).
    report.errors.push_back(std::string(snapshot.status().message()));
    LOG(WARNING) << "cycle skipped: " << snapshot.status().message();
    absl::MutexLock lock(&out_mu_);
    report.points = static_cast<int>(table_.size());
    report.wall = clock_->Now() - wall0;
    report.cpu = ProcessCpuTime() - cpu0;
    last_ = report;
    return report;
  }
  const ClusterState& cluster = **snapshot;

  // Targets: HPAs that reference smart_* metrics, DEPLOYMENT_<N>_*, annotations.
  std::map<std::string, Target> targets;
  auto add = [&](const std::string& ns, const std::string& name, const std::string& source,
                 absl::Duration startup, const std::string& hpa = "") {
    if (ns.empty() || name.empty() || targets.count(Key(ns, name))) return;
    targets[Key(ns, name)] = Target{ns, name, source, startup, cfg.lead_time, hpa};
  };
  if (cfg.enable_auto_discovery) {
    for (const kube::HorizontalPodAutoscaler& h : cluster.hpas) {
      for (const kube::HpaMetric& m : h.metrics) {
        if (!absl::StartsWith(m.name, "smart_")) continue;
        std::string name;
        if (m.type == "External") {
          auto it = m.selector.match_labels.find("deployment");
          if (it != m.selector.match_labels.end()) name = it->second;
        } else if (m.type == "Object" && m.described_object.kind == "Deployment") {
          name = m.described_object.name;
        }
        if (name.empty() && h.scale_target_ref.kind == "Deployment") {
          name = h.scale_target_ref.name;
        }
        add(h.metadata.namespace_name, name, absl::StrCat("hpa/", h.metadata.name),
            cfg.startup_filter);
      }
    }
  }
  for (size_t i = 0; i < cfg.deployments.size(); ++i) {
    const StaticTarget& s = cfg.deployments[i];
    add(s.namespace_name, s.name, absl::StrCat("env/DEPLOYMENT_", i), s.startup_filter,
        s.hpa_name);
  }
  CycleInputs in;
  in.cluster = &cluster;
  in.backfills_left = cfg.backfills_per_cycle;
  in.backfill_deadline = wall0 + std::min(cfg.check_interval / 4, absl::Seconds(15));
  for (const kube::Deployment& d : cluster.deployments) {
    in.deployments[Key(d.metadata.namespace_name, d.metadata.name)] = &d;
    auto enabled = d.metadata.annotations.find(kAnnotationEnabled);
    if (enabled != d.metadata.annotations.end() && enabled->second == "true") {
      add(d.metadata.namespace_name, d.metadata.name, "annotation", cfg.startup_filter);
    }
  }
  // Per-workload annotations: opt-out and overrides.
  for (auto it = targets.begin(); it != targets.end();) {
    auto d = in.deployments.find(it->first);
    if (d != in.deployments.end()) {
      const auto& ann = d->second->metadata.annotations;
      auto enabled = ann.find(kAnnotationEnabled);
      if (enabled != ann.end() && enabled->second == "false") {
        it = targets.erase(it);
        continue;
      }
      absl::Duration v;
      auto s = ann.find(kAnnotationStartup);
      if (s != ann.end() && ParseMinutes(s->second, &v)) it->second.startup_filter = v;
      auto l = ann.find(kAnnotationLead);
      if (l != ann.end() && ParseMinutes(l->second, &v) && v > absl::ZeroDuration()) {
        it->second.lead = v;
      }
    }
    ++it;
  }
  report.deployments = static_cast<int>(targets.size());

  // Join pods to deployments through their ReplicaSets, in memory.
  absl::flat_hash_map<std::string, std::string> rs_owner;  // ns/rs -> ns/deployment
  for (const kube::ReplicaSet& rs : cluster.replica_sets) {
    std::string owner = rs.OwnerDeployment();
    if (!owner.empty()) {
      rs_owner[Key(rs.metadata.namespace_name, rs.metadata.name)] =
          Key(rs.metadata.namespace_name, owner);
    }
  }
  for (const kube::Pod& p : cluster.pods) {
    if (p.phase == "Succeeded" || p.phase == "Failed") continue;
    if (!p.node_name.empty()) in.node_requested[p.node_name] += p.TotalCpuRequestMillicores();
    std::string rs = p.OwnerReplicaSet();
    if (rs.empty()) continue;
    auto owner = rs_owner.find(Key(p.metadata.namespace_name, rs));
    if (owner != rs_owner.end() && targets.count(owner->second)) {
      in.pods[owner->second].push_back(&p);
    }
  }

  if (!targets.empty()) {
    in.signals = GatherSignals(prom_, now, SignalQueries{}, cfg.prometheus_query_concurrency);
    report.queries = in.signals.queries;
    report.query_failures = in.signals.failures;
    for (const std::string& e : in.signals.errors) {
      LOG(WARNING) << "prometheus query failed: " << e;
      report.errors.push_back(e);
    }
  }

  for (const auto& [key, t] : targets) {
    std::unique_ptr<State>& st = states_[key];
    if (!st) st = std::make_unique<State>(key);
    ProcessDeployment(cfg, t, in, now, st.get(), &report);
  }
  // Deployments no longer managed leave the table.
  for (auto it = states_.begin(); it != states_.end();) {
    it = targets.count(it->first) ? std::next(it) : states_.erase(it);
  }

  std::vector<MetricPoint> table;
  std::vector<DeploymentStatus> statuses;
  for (const auto& [key, st] : states_) {
    statuses.push_back(st->status);
    const DecisionMemory& m = st->memory;
    if (!m.has_served) continue;
    ++report.served;
    auto point = [&](const char* metric, double value, absl::Duration window) {
      MetricPoint p;
      p.namespace_name = st->status.namespace_name;
      p.deployment = st->status.name;
      p.metric = metric;
      p.value = value;
      p.timestamp = m.served_at;
      p.window = window;
      table.push_back(std::move(p));
    };
    point("smart_cpu_blended", m.served.blended_pct, absl::Minutes(10));
    point("smart_cpu_predicted", m.served.predicted_pct, absl::Minutes(10));
    point("smart_cpu_pressure", m.served.pressure_ratio, absl::Minutes(10));
    point("smart_cpu_target", m.target_pct, absl::Minutes(10));
    if (m.served.memory_pct) {
      point("smart_memory_blended", *m.served.memory_pct, absl::ZeroDuration());
    }
  }
  report.points = static_cast<int>(table.size());
  if (store_ != nullptr) Store(now);

  report.wall = clock_->Now() - wall0;
  report.cpu = ProcessCpuTime() - cpu0;
  LOG(INFO) << "cycle: " << report.deployments << " deployments, " << report.served
            << " served, " << report.held << " held, " << report.queries << "+"
            << report.backfill_queries << " queries (" << report.query_failures
            << " failed), " << report.histories_loaded << " histories loaded, " << report.points
            << " points, wall "
            << absl::FormatDuration(report.wall) << ", cpu " << absl::FormatDuration(report.cpu);
  absl::MutexLock lock(&out_mu_);
  table_ = std::move(table);
  statuses_ = std::move(statuses);
  last_ = report;
  return report;
}

void Reconciler::ProcessDeployment(const Config& cfg, const Target& t, CycleInputs& in,
                                   absl::Time now, State* st, CycleReport* report) {
  DeploymentStatus& s = st->status;
  st->tracker.SetLead(t.lead);
  s.namespace_name = t.namespace_name;
  s.name = t.name;
  s.source = t.source;
  s.note.clear();
  const std::string key = Key(t.namespace_name, t.name);
  auto dep = in.deployments.find(key);
  if (dep == in.deployments.end()) {
    s.note = "Deployment not found";
    s.pods = s.ready_pods = 0;
    st->memory.has_served = false;  // nothing to scale: serve nothing rather than a ghost's values
    return;
  }
  const kube::Deployment& d = *dep->second;
  const Reading reading = ReadDeployment(d, in.pods[key], in.signals,
                                         in.NodePressureFor(d.node_selector), now,
                                         t.startup_filter);
  ShowReading(reading, &s);

  // A new deployment's demand history: from the local store (a restart; bounded by the cycle's
  // backfill time budget), else one Prometheus range query (bounded by BACKFILLS_PER_CYCLE).
  if (cfg.enable_predictive && !st->backfilled && clock_->Now() < in.backfill_deadline) {
    const double target_now =
        st->memory.has_target ? st->memory.target_pct : cfg.target_node_utilization;
    bool used_remote = false;
    st->backfilled = Backfill(cfg, t, now, TargetDemandCores(target_now, reading),
                              /*allow_remote=*/in.backfills_left > 0, &used_remote, st, report);
    if (used_remote) --in.backfills_left;
    if (st->backfilled && st->tracker.HistoryPoints() > 0) ++report->histories_loaded;
  }
  st->tracker.RefreshLearnedTarget(now, cfg.enable_autotuning);

  // The forecast of total demand (cores) is validated against the demand at which the target
  // decided this cycle is reached; the decision then reads the forecast.
  const TargetDecision target =
      DecideTarget(reading, st->tracker.LearnedTargetPct(), st->memory, cfg, now);
  if (reading.demand_cores) {
    st->tracker.Observe(now, *reading.demand_cores,
                        TargetDemandCores(target.target_pct, reading), cfg.enable_predictive);
  }
  KeepForecasts(st);
  const ForecastView view =
      st->tracker.View(now, {cfg.enable_predictive, cfg.prediction_min_accuracy});
  const Decision decision = Decide(reading, view, st->memory, cfg, now);
  st->memory = decision.next;
  ShowDecision(view, decision, st->tracker, &s);
  if (decision.target.changed) RecordDecision(cfg, t, reading, decision, now, st);
  if (decision.held) {
    ++report->held;
    return;
  }
  if (cfg.hpa_patch_mode && patcher_ != nullptr) PatchHpas(cfg, t, *in.cluster, st, report);
}

void Reconciler::PatchHpas(const Config& cfg, const Target& t, const ClusterState& cluster,
                           State* st, CycleReport* report) {
  // Legacy mode: patch classic CPU HPAs of this deployment.
  for (const kube::HorizontalPodAutoscaler& h : cluster.hpas) {
    if (h.metadata.namespace_name != t.namespace_name) continue;
    if (!t.hpa_name.empty() ? h.metadata.name != t.hpa_name
                            : (h.scale_target_ref.kind != "Deployment" ||
                               h.scale_target_ref.name != t.name)) {
      continue;
    }
    for (size_t i = 0; i < h.metrics.size(); ++i) {
      const kube::HpaMetric& m = h.metrics[i];
      if (m.type != "Resource" || m.name != "cpu" || !m.target.average_utilization) continue;
      int32_t want = static_cast<int32_t>(std::lround(st->memory.target_pct));
      if (want == *m.target.average_utilization) continue;
      ++report->patches;
      if (cfg.dry_run) {
        LOG(INFO) << "DRY_RUN: would patch HPA " << t.namespace_name << "/" << h.metadata.name
                  << " cpu averageUtilization " << *m.target.average_utilization << " -> "
                  << want;
        continue;
      }
      absl::Status ps = patcher_->PatchCpuTarget(t.namespace_name, h.metadata.name,
                                                 static_cast<int>(i),
                                                 *m.target.average_utilization, want);
      if (!ps.ok()) {
        report->errors.push_back(absl::StrCat("patch ", h.metadata.name, ": ", ps.message()));
      }
    }
  }
}

void Reconciler::RecordDecision(const Config& cfg, const Target& t, const Reading& reading,
                                const Decision& decision, absl::Time now, State* st) {
  smartautoscaler::v1::Decision dec;
  dec.set_namespace_(t.namespace_name);
  dec.set_deployment(t.name);
  dec.set_timestamp_ms(absl::ToUnixMillis(now));
  dec.set_previous_target_pct(decision.target.previous_target_pct);
  dec.set_recommended_target_pct(decision.target.target_pct);
  dec.set_reason(absl::StrCat("node pressure ", PressureLevelName(reading.node_pressure.level),
                              ", request ", reading.cpu_request_millicores, "m"));
  dec.set_dry_run(cfg.dry_run);
  auto* inputs = dec.mutable_inputs();
  inputs->set_blended_cpu_pct(reading.blended_pct.value_or(-1));
  inputs->set_cpu_request_millicores(reading.cpu_request_millicores);
  inputs->set_ready_pods(reading.ready_pods);
  inputs->set_filtered_pods(reading.young_pods_excluded);
  inputs->set_node_pressure_pct(reading.node_pressure.utilization_pct);
  inputs->set_confidence(reading.confidence);
  st->decisions.push_back(dec.SerializeAsString());
}

void Reconciler::KeepForecasts(State* st) {
  std::vector<ForecastRecord> records = st->tracker.TakeForecastRecords();
  if (store_ == nullptr) return;
  for (const ForecastRecord& r : records) {
    smartautoscaler::v1::Forecast f;
    f.set_series_id(st->ids[0]);
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
    st->forecasts.push_back({r.origin, f.SerializeAsString()});
  }
}

bool Reconciler::Backfill(const Config& cfg, const Target& t, absl::Time now, double threshold,
                          bool allow_remote, bool* used_remote, State* st, CycleReport* report) {
  absl::Time end = Floor(now, kStep) - kStep;  // the last complete bucket
  absl::Time start = end - (kHistoryBuckets - 1) * kStep;
  std::vector<std::pair<absl::Time, double>> points;
  // The local store first (a restart): enough of it is used as it is.
  std::map<absl::Time, double> local;
  if (store_ != nullptr && st->ids[0] == 0) {
    auto id = store_->LookupSeries({t.namespace_name, t.name, kStoredMetrics[0], {}});
    if (id.ok()) st->ids[0] = *id;
  }
  if (store_ != nullptr && st->ids[0] != 0) {
    auto samples = store_->Scan(st->ids[0], start, end + kStep);
    if (samples.ok()) {
      std::map<absl::Time, std::pair<double, int>> buckets;
      for (const storage::Sample& smp : *samples) {
        auto& b = buckets[Floor(smp.time, kStep)];
        b.first += smp.value;
        ++b.second;
      }
      for (const auto& [bt, b] : buckets) local[bt] = b.first / b.second;
    }
  }
  // Local history shorter than the forecaster's own minimum is completed from Prometheus.
  const int64_t min_local = predictor::Options{}.min_history / kStep;
  if (static_cast<int64_t>(local.size()) >= min_local) {
    points.assign(local.begin(), local.end());
  } else {
    // Too little locally (a new deployment, a fresh replica, or a replica that has not run
    // for long): the week from Prometheus, with the local buckets kept where both exist. The
    // fetched buckets are written to the store so that the next restart needs no query.
    if (!allow_remote) return false;  // no query budget left this cycle: next cycle
    *used_remote = true;
    ++report->backfill_queries;
    auto r = prom_->QueryRange(DemandHistoryQuery(t.namespace_name, t.name), start, end, kStep);
    if (!r.ok()) {
      report->errors.push_back(absl::StrCat("backfill ", t.namespace_name, "/", t.name, ": ",
                                            r.status().ToString()));
      return false;  // retried next cycle
    }
    std::map<absl::Time, double> merged = local;
    std::vector<storage::SeriesSample> fetched;
    if (!r->empty()) {
      for (const auto& p : r->front().points) {
        if (!std::isfinite(p.value)) continue;
        const absl::Time b = Floor(p.time, kStep);
        if (merged.emplace(b, p.value).second) fetched.push_back({0, {b, p.value}});
      }
    }
    if (store_ != nullptr && !fetched.empty()) PersistBackfill(t, &fetched, st);
    points.assign(merged.begin(), merged.end());
  }
  if (points.empty()) return true;  // a new deployment: history grows from now on
  st->tracker.LoadHistory(points, now, threshold);
  LOG(INFO) << "backfilled " << t.namespace_name << "/" << t.name << ": "
            << st->tracker.HistoryPoints() << " buckets of demand history, "
            << st->tracker.ValidatedCount() << " validated forecasts";
  return true;
}

bool Reconciler::EnsureSeries(const std::string& ns, const std::string& name, int metric,
                              State* st) {
  if (st->ids[metric] != 0) return true;
  auto id = store_->RegisterSeries({ns, name, kStoredMetrics[metric], {}});
  if (!id.ok()) {
    LOG(WARNING) << "store: " << id.status();
    return false;
  }
  st->ids[metric] = *id;
  return true;
}

void Reconciler::PersistBackfill(const Target& t, std::vector<storage::SeriesSample>* samples,
                                 State* st) {
  if (!EnsureSeries(t.namespace_name, t.name, 0, st)) return;
  for (storage::SeriesSample& s : *samples) s.series = st->ids[0];
  absl::Status s = store_->Append(*samples, {});
  if (!s.ok()) LOG(WARNING) << "store: backfill of " << t.namespace_name << "/" << t.name << ": " << s;
}

void Reconciler::Store(absl::Time now) {
  std::vector<storage::SeriesSample> batch;
  for (auto& [key, stp] : states_) {
    State& st = *stp;
    const DeploymentStatus& s = st.status;
    absl::optional<double> values[kNumStored] = {s.demand_cores, s.blended_pct,
                                                  absl::nullopt, absl::nullopt,
                                                  absl::optional<double>(st.memory.target_pct),
                                                  s.memory_pct};
    if (st.memory.has_served && st.memory.served_at == now) {
      values[2] = st.memory.served.predicted_pct;
      values[3] = st.memory.served.pressure_ratio;
    }
    if (!st.memory.has_target) values[4] = absl::nullopt;
    for (int i = 0; i < kNumStored; ++i) {
      if (!values[i] || !std::isfinite(*values[i])) continue;
      if (!EnsureSeries(s.namespace_name, s.name, i, &st)) continue;
      batch.push_back({st.ids[i], {now, *values[i]}});
    }
    for (const std::string& d : st.decisions) {
      absl::Status es = store_->AppendEvent(storage::EventLog::kDecisions, now, d, {});
      if (!es.ok()) LOG(WARNING) << "store: " << es;
    }
    st.decisions.clear();
    for (const auto& [t, f] : st.forecasts) {
      absl::Status es = store_->AppendEvent(storage::EventLog::kForecasts, t, f, {});
      if (!es.ok()) LOG(WARNING) << "store: " << es;
    }
    st.forecasts.clear();
  }
  absl::Status s = store_->Append(batch, {});
  if (!s.ok()) LOG(WARNING) << "store: " << s;
}

}  // namespace reconciler
