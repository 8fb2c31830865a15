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
#include "predictor/validation.h"
#include "proto/records.pb.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

constexpr char kAnnotationEnabled[] = "smart-autoscaler.io/enabled";
constexpr char kAnnotationStartup[] = "smart-autoscaler.io/startup-filter";
constexpr char kAnnotationLead[] = "smart-autoscaler.io/lead-time";

// A week of 5-minute buckets is what the forecaster trains on.
constexpr int kHistoryBuckets = 7 * 24 * 12;
constexpr absl::Duration kRefitEvery = absl::Hours(1);
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

int LeadSteps(absl::Duration lead) {
  return std::max<int64_t>(1, absl::ToInt64Seconds(lead + Reconciler::kStep - absl::Seconds(1)) /
                                  absl::ToInt64Seconds(Reconciler::kStep));
}

std::string SelectorKey(const std::map<std::string, std::string>& sel) {
  std::string k;
  for (const auto& [a, b] : sel) absl::StrAppend(&k, a, "=", b, ",");
  return k;
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
  absl::flat_hash_map<std::string, double> node_requested;                // node -> millicores
  struct NodeCount {
    NodePressure pressure;
    int nodes = 0;
  };
  absl::flat_hash_map<std::string, NodeCount> pressure;  // nodeSelector -> pressure
  int backfills_left = 0;  // Config::backfills_per_cycle: Prometheus range queries left
  // Loading histories (store scans and forecaster fits) stops for this cycle at this wall time.
  absl::Time backfill_deadline = absl::InfiniteFuture();
};

struct Reconciler::State {
  // Last-known-good served values.
  bool has_served = false;
  double blended = 0, predicted = 0, pressure = 0;
  absl::optional<double> memory;
  absl::Time served_at = absl::InfinitePast();
  // The recommended target, with its cooldown.
  bool has_target = false;
  double target = 0;
  absl::Time last_change = absl::InfinitePast();
  // Demand history in 5-minute buckets (mean of the cycle readings in each bucket).
  std::deque<double> history;
  absl::Time history_start = absl::InfinitePast();
  absl::Time bucket_start = absl::InfinitePast();
  double bucket_sum = 0;
  int bucket_n = 0;
  bool backfilled = false;
  // The forecaster and its validation.
  std::unique_ptr<predictor::Forecaster> model;
  absl::Time last_fit = absl::InfinitePast();
  absl::optional<predictor::Derived> derived;
  struct Pending {
    absl::Time target;
    double forecast, threshold;
  };
  std::deque<Pending> pending;
  std::vector<predictor::Validated> validated;
  predictor::ValidationSummary summary;
  absl::Duration lead = absl::Minutes(10);  // this deployment's lead window
  // Auto-tuned target (policy.h LearnedTargetPct), refreshed hourly.
  absl::optional<double> learned;
  absl::Time learned_at = absl::InfinitePast();
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
  const absl::Time wall0 = absl::Now();
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
    report.wall = absl::Now() - wall0;
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
    if (!st) st = std::make_unique<State>();
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
    if (!st->has_served) continue;
    ++report.served;
    auto point = [&](const char* metric, double value, absl::Duration window) {
      MetricPoint p;
      p.namespace_name = st->status.namespace_name;
      p.deployment = st->status.name;
      p.metric = metric;
      p.value = value;
      p.timestamp = st->served_at;
      p.window = window;
      table.push_back(std::move(p));
    };
    point("smart_cpu_blended", st->blended, absl::Minutes(10));
    point("smart_cpu_predicted", st->predicted, absl::Minutes(10));
    point("smart_cpu_pressure", st->pressure, absl::Minutes(10));
    point("smart_cpu_target", st->target, absl::Minutes(10));
    if (st->memory) point("smart_memory_blended", *st->memory, absl::ZeroDuration());
  }
  report.points = static_cast<int>(table.size());
  if (store_ != nullptr) Store(now);

  report.wall = absl::Now() - wall0;
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
  st->lead = t.lead;
  s.namespace_name = t.namespace_name;
  s.name = t.name;
  s.source = t.source;
  s.note.clear();
  auto dep = in.deployments.find(Key(t.namespace_name, t.name));
  if (dep == in.deployments.end()) {
    s.note = "Deployment not found";
    s.pods = s.ready_pods = 0;
    st->has_served = false;  // nothing to scale: serve nothing rather than a ghost's values
    return;
  }
  const kube::Deployment& d = *dep->second;
  const Signals& sig = in.signals;

  // Pods: usage, readiness, requests.
  std::vector<PodUsage> usage;
  int ready = 0;
  int64_t mem_request_total = 0;
  double mem_used_total = 0;
  bool mem_any = false;
  int64_t pod_request = d.TotalCpuRequestMillicores();
  int64_t pod_mem_request = 0;
  for (const auto& c : d.containers) pod_mem_request += c.requests.memory_bytes.value_or(0);
  const auto& pods = in.pods[Key(t.namespace_name, t.name)];
  absl::Time youngest_cutoff = now - t.startup_filter;
  for (const kube::Pod* p : pods) {
    if (p->phase != "Running") continue;
    bool is_ready = p->ready && !p->metadata.deletion_timestamp;
    if (is_ready) ++ready;
    PodUsage u;
    u.start_time = p->start_time.value_or(p->metadata.creation_timestamp.value_or(now));
    u.ready = is_ready;
    u.cpu_request_millicores = p->TotalCpuRequestMillicores();
    std::string key = Key(p->metadata.namespace_name, p->metadata.name);
    if (sig.pod_cpu_10m_ok) u.cpu_10m_millicores = sig.Get(sig.pod_cpu_10m, key);
    if (sig.pod_cpu_5m_ok) u.cpu_5m_millicores = sig.Get(sig.pod_cpu_5m, key);
    usage.push_back(u);
    // Memory follows the same startup filter.
    if (sig.pod_memory_ok && u.start_time <= youngest_cutoff) {
      if (auto m = sig.Get(sig.pod_memory, key)) {
        mem_used_total += *m;
        mem_any = true;
        int64_t req = 0;
        for (const auto& c : p->containers) req += c.requests.memory_bytes.value_or(0);
        mem_request_total += req;
      }
    }
  }
  s.pods = static_cast<int>(usage.size());
  s.ready_pods = ready;
  s.cpu_request_millicores = pod_request;
  s.memory_request_bytes = pod_mem_request;
  PodFilter filter = FilterStartupPods(usage, now, t.startup_filter);
  s.young_pods_excluded = filter.excluded;
  s.all_pods_young = filter.all_young;
  s.blended_pct = BlendedCpuPct(filter.pods);
  s.demand_cores = BlendedDemandCores(filter.pods);
  s.memory_pct = absl::nullopt;
  if (mem_any && mem_request_total > 0) s.memory_pct = 100.0 * mem_used_total / mem_request_total;
  s.confidence = ReadingConfidence(usage, filter, now);

  // Node pressure of the ready, schedulable nodes matching the nodeSelector (computed once per
  // distinct nodeSelector per cycle).
  auto matches = [&](const kube::Node& n) {
    if (!n.ready || n.unschedulable) return false;
    for (const auto& [k, v] : d.node_selector) {
      auto it = n.metadata.labels.find(k);
      if (it == n.metadata.labels.end() || it->second != v) return false;
    }
    return true;
  };
  std::string sel = SelectorKey(d.node_selector);
  auto cached = in.pressure.find(sel);
  if (cached == in.pressure.end()) {
    std::vector<NodeUsage> nodes;
    for (const kube::Node& n : in.cluster->nodes) {
      if (!matches(n)) continue;
      NodeUsage u;
      u.allocatable_millicores = static_cast<double>(n.allocatable.cpu_millicores.value_or(0));
      auto req = in.node_requested.find(n.metadata.name);
      u.requested_millicores = req == in.node_requested.end() ? 0 : req->second;
      absl::optional<double> u10, u5;
      if (sig.node_cpu_10m_ok) u10 = sig.Get(sig.node_cpu_10m, n.metadata.name);
      if (sig.node_cpu_5m_ok) u5 = sig.Get(sig.node_cpu_5m, n.metadata.name);
      if (u10) u.used_millicores = 0.7 * *u10 + 0.3 * u5.value_or(*u10);
      nodes.push_back(u);
    }
    CycleInputs::NodeCount count{ClassifyNodePressure(nodes), static_cast<int>(nodes.size())};
    cached = in.pressure.emplace(sel, count).first;
  }
  s.pressure = cached->second.pressure;
  s.nodes = cached->second.nodes;

  // The target: pressure table + low-request rule, cooldown; never lowered for lack of data.
  TargetPolicy policy;
  policy.base_pct = cfg.target_node_utilization;
  policy.safe_min_pct = std::min(95.0, policy.base_pct + 5);
  policy.safe_max_pct = std::min(95.0, policy.base_pct + 15);
  policy.critical_max_pct = std::max(10.0, policy.base_pct - 10);
  policy.critical_min_pct = std::max(10.0, policy.base_pct - 20);
  // A new deployment's demand history: from the local store (a restart; bounded by the cycle's
  // backfill time budget), else one Prometheus range query (bounded by BACKFILLS_PER_CYCLE).
  if (cfg.enable_predictive && !st->backfilled && absl::Now() < in.backfill_deadline) {
    const double target_now = st->has_target ? st->target : cfg.target_node_utilization;
    bool used_remote = false;
    st->backfilled = Backfill(cfg, t, now,
                              target_now / 100.0 * std::max(1, ready) * pod_request / 1000.0,
                              /*allow_remote=*/in.backfills_left > 0, &used_remote, st, report);
    if (used_remote) --in.backfills_left;
    if (st->backfilled && !st->history.empty()) ++report->histories_loaded;
  }

  // Auto-tuning: learned from a week of this deployment's own demand, refreshed hourly.
  // (Until a week of history is held there is nothing to learn: no copy, no call.)
  if (cfg.enable_autotuning && static_cast<int>(st->history.size()) >= kHistoryBuckets &&
      (st->learned_at == absl::InfinitePast() || now - st->learned_at >= kRefitEvery)) {
    st->learned = LearnedTargetPct(std::vector<double>(st->history.begin(), st->history.end()),
                                   std::max(1, LeadSteps(st->lead)));
    st->learned_at = now;
  }
  if (!cfg.enable_autotuning) st->learned = absl::nullopt;
  s.learned_target_pct = st->learned;
  double recommended = RecommendTarget(s.pressure, pod_request, policy, st->learned);
  const double previous = st->target;
  const bool had_target = st->has_target;
  if (!st->has_target) {
    st->target = recommended;
    st->has_target = true;
    st->last_change = now;
  } else if (s.pressure.level == PressureLevel::kUnknown && recommended < st->target) {
    // Unknown pressure (node data missing) must not lower a target.
  } else {
    double next = ApplyCooldown(st->target, recommended, st->last_change, now, s.pressure.level,
                                cfg.cooldown);
    if (next != st->target) {
      st->target = next;
      st->last_change = now;
    }
  }
  s.target_pct = st->target;
  s.last_target_change = st->last_change;
  if (!had_target || st->target != previous) {
    smartautoscaler::v1::Decision dec;
    dec.set_namespace_(t.namespace_name);
    dec.set_deployment(t.name);
    dec.set_timestamp_ms(absl::ToUnixMillis(now));
    dec.set_previous_target_pct(previous);
    dec.set_recommended_target_pct(st->target);
    dec.set_reason(absl::StrCat("node pressure ", PressureLevelName(s.pressure.level),
                                ", request ", pod_request, "m"));
    dec.set_dry_run(cfg.dry_run);
    auto* inputs = dec.mutable_inputs();
    inputs->set_blended_cpu_pct(s.blended_pct.value_or(-1));
    inputs->set_cpu_request_millicores(pod_request);
    inputs->set_ready_pods(ready);
    inputs->set_filtered_pods(filter.excluded);
    inputs->set_node_pressure_pct(s.pressure.utilization_pct);
    inputs->set_confidence(s.confidence);
    st->decisions.push_back(dec.SerializeAsString());
  }

  // Forecast of total demand (cores), validated against what happened.
  const double threshold_cores =
      st->target / 100.0 * std::max(1, ready) * pod_request / 1000.0;
  if (s.demand_cores) UpdateForecast(cfg, now, *s.demand_cores, threshold_cores, st);
  s.history_points = static_cast<int>(st->history.size());
  predictor::ValidationOptions vo;
  vo.min_accuracy = cfg.prediction_min_accuracy;
  st->summary = predictor::Summarize(st->validated, now, vo);
  s.forecast_accuracy = st->summary.accuracy;
  s.forecast_validated = st->summary.total;
  s.forecast_trusted = false;
  s.forecast_peak_p90_cores = absl::nullopt;
  if (!cfg.enable_predictive) {
    s.forecast_note = "ENABLE_PREDICTIVE=false";
  } else if (!st->model || !st->derived) {
    s.forecast_note = "no forecast yet (needs a 5-minute bucket of demand)";
  } else {
    s.forecast_peak_p90_cores = st->derived->peak_lead_p90;
    if (!st->summary.trusted) {
      s.forecast_note = absl::StrCat("not trusted: ", st->summary.total, " validated, accuracy ",
                                     static_cast<int>(100 * st->summary.accuracy),
                                     "%, false positives ",
                                     static_cast<int>(100 * st->summary.false_positive_rate), "%");
    } else {
      s.forecast_trusted = true;
      s.forecast_note = absl::StrCat("trusted: accuracy ",
                                     static_cast<int>(100 * st->summary.accuracy), "% over ",
                                     st->summary.total, " forecasts");
    }
  }

  // Served values: hold the previous ones without data or with low confidence.
  if (!s.blended_pct) {
    s.note = st->has_served ? "no CPU data this cycle: last-known-good values stand"
                            : "no CPU data yet";
    ++report->held;
    return;
  }
  if (s.confidence < kMinConfidence && st->has_served) {
    s.note = absl::StrCat("confidence ", s.confidence, " < ", kMinConfidence,
                          ": previous values stand");
    ++report->held;
    return;
  }
  st->blended = *s.blended_pct;
  st->predicted = PredictedCpuPct(*s.blended_pct, s.forecast_peak_p90_cores, ready, pod_request,
                                  s.forecast_trusted);
  st->pressure = PressureRatio(st->predicted, st->target);
  if (s.memory_pct) st->memory = s.memory_pct;
  st->served_at = now;
  st->has_served = true;
  s.served_blended_pct = st->blended;
  s.served_predicted_pct = st->predicted;
  s.served_pressure = st->pressure;
  s.served_memory_pct = st->memory;
  s.served_at = st->served_at;

  // Legacy mode: patch classic CPU HPAs of this deployment.
  if (cfg.hpa_patch_mode && patcher_ != nullptr) {
    for (const kube::HorizontalPodAutoscaler& h : in.cluster->hpas) {
      if (h.metadata.namespace_name != t.namespace_name) continue;
      if (!t.hpa_name.empty() ? h.metadata.name != t.hpa_name
                              : (h.scale_target_ref.kind != "Deployment" ||
                                 h.scale_target_ref.name != t.name)) {
        continue;
      }
      for (size_t i = 0; i < h.metrics.size(); ++i) {
        const kube::HpaMetric& m = h.metrics[i];
        if (m.type != "Resource" || m.name != "cpu" || !m.target.average_utilization) continue;
        int32_t want = static_cast<int32_t>(std::lround(st->target));
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
}

void Reconciler::UpdateForecast(const Config& cfg, absl::Time now, double demand,
                                double threshold, State* st) {
  absl::Time bucket = Floor(now, kStep);
  if (st->bucket_start == absl::InfinitePast()) st->bucket_start = bucket;
  if (bucket > st->bucket_start && st->bucket_n > 0) {
    PushBucket(cfg, st->bucket_start, st->bucket_sum / st->bucket_n, threshold, now, st);
    st->bucket_sum = 0;
    st->bucket_n = 0;
  }
  st->bucket_start = bucket;
  st->bucket_sum += demand;
  ++st->bucket_n;
}

void Reconciler::PushBucket(const Config& cfg, absl::Time bucket, double value,
                            double threshold, absl::Time now, State* st) {
  if (st->history.empty()) {
    st->history_start = bucket;
  } else {
    absl::Time next = st->history_start + static_cast<int64_t>(st->history.size()) * kStep;
    if (bucket < next) return;  // already have it (backfilled)
    // Hold the last value across missed buckets (a reconciler restart, a Prometheus outage).
    double last = st->history.back();
    for (; next < bucket; next += kStep) {
      st->history.push_back(last);
      if (st->model) st->model->Append(last).IgnoreError();
    }
  }
  st->history.push_back(value);
  while (static_cast<int>(st->history.size()) > kHistoryBuckets) {
    st->history.pop_front();
    st->history_start += kStep;
  }
  // Validate the forecasts whose target is this bucket.
  while (!st->pending.empty() && st->pending.front().target <= bucket) {
    const State::Pending& p = st->pending.front();
    if (p.target == bucket) st->validated.push_back({p.target, p.forecast, value, p.threshold});
    st->pending.pop_front();
  }
  auto old = std::remove_if(st->validated.begin(), st->validated.end(),
                            [&](const predictor::Validated& v) {
                              return v.target_time < now - absl::Hours(24);
                            });
  st->validated.erase(old, st->validated.end());
  if (!cfg.enable_predictive) return;
  if (!st->model || now - st->last_fit >= kRefitEvery) {
    Refit(cfg, now, st);
  } else {
    st->model->Append(value).IgnoreError();
  }
  int lead = LeadSteps(st->lead);
  predictor::Band band = st->model->Forecast(lead);
  if (band.size() == 0) return;
  st->derived = predictor::Derive(band, lead);
  st->pending.push_back({bucket + band.size() * kStep, band.p50.back(), threshold});
  if (store_ != nullptr) {
    smartautoscaler::v1::Forecast f;
    f.set_series_id(st->ids[0]);
    f.set_model(st->model->Name());
    f.set_origin_ms(absl::ToUnixMillis(bucket));
    f.set_step_ms(absl::ToInt64Milliseconds(kStep));
    for (int k = 0; k < band.size(); ++k) {
      auto* p = f.add_path();
      p->set_timestamp_ms(absl::ToUnixMillis(bucket + (k + 1) * kStep));
      p->set_p10(band.p10[k]);
      p->set_p50(band.p50[k]);
      p->set_p90(band.p90[k]);
    }
    f.set_lead_ms(absl::ToInt64Milliseconds(st->lead));
    f.set_peak_lead_p50(st->derived->peak_lead);
    f.set_peak_lead_p90(st->derived->peak_lead_p90);
    st->forecasts.push_back({bucket, f.SerializeAsString()});
  }
}

void Reconciler::Refit(const Config& cfg, absl::Time now, State* st) {
  predictor::Series series;
  series.start = st->history_start;
  series.step = kStep;
  series.values.assign(st->history.begin(), st->history.end());
  series.gap.assign(series.values.size(), 0);
  auto model = predictor::NewEnsemble();
  int horizon = std::max(LeadSteps(st->lead), 12);
  absl::Status s = model->Fit(series, horizon);
  if (!s.ok()) {
    LOG(WARNING) << "forecast fit failed for " << st->status.namespace_name << "/"
                 << st->status.name << ": " << s.message();
    return;
  }
  st->model = std::move(model);
  st->last_fit = now;
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
  for (const auto& [bt, v] : points) {
    absl::Time b = Floor(bt, kStep);
    if (st->history.empty()) {
      st->history_start = b;
      st->history.push_back(v);
      continue;
    }
    absl::Time next = st->history_start + static_cast<int64_t>(st->history.size()) * kStep;
    if (b < next) continue;
    double last = st->history.back();
    for (; next < b; next += kStep) st->history.push_back(last);
    st->history.push_back(v);
  }
  // Seed the validation log out of sample: fit without the last two hours, then step through
  // them forecasting the lead window ahead, as the live loop would have.
  int n = static_cast<int>(st->history.size());
  int lead = LeadSteps(st->lead);
  const int replay = 24;
  if (n > 12 * 24 + replay) {
    predictor::Series series;
    series.start = st->history_start;
    series.step = kStep;
    series.values.assign(st->history.begin(), st->history.end() - replay);
    series.gap.assign(series.values.size(), 0);
    auto model = predictor::NewEnsemble();
    if (model->Fit(series, std::max(lead, 12)).ok()) {
      for (int i = n - replay; i < n; ++i) {
        predictor::Band band = model->Forecast(lead);
        int target = i - 1 + band.size();
        if (band.size() > 0 && target < n) {
          st->validated.push_back({st->history_start + target * kStep, band.p50.back(),
                                   st->history[target], threshold});
        }
        model->Append(st->history[i]).IgnoreError();
      }
    }
  }
  Refit(cfg, now, st);
  if (st->model) {
    predictor::Band band = st->model->Forecast(lead);
    if (band.size() > 0) st->derived = predictor::Derive(band, lead);
  }
  LOG(INFO) << "backfilled " << t.namespace_name << "/" << t.name << ": " << n
            << " buckets of demand history, " << st->validated.size() << " validated forecasts";
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
                                                  absl::optional<double>(st.target),
                                                  s.memory_pct};
    if (st.has_served && st.served_at == now) {
      values[2] = st.predicted;
      values[3] = st.pressure;
    }
    if (!st.has_target) values[4] = absl::nullopt;
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
