#include "reconciler/loop.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "reconciler/forecast_tracker.h"
#include "reconciler/reading.h"

namespace reconciler {
namespace {

constexpr char kAnnotationMonthlyBudget[] = "smart-autoscaler.io/monthly-budget";


namespace kube = clients::kube;

// Process CPU time: the cycle's query threads parse on other threads (background informer
// work during the cycle is counted too).
absl::Duration ProcessCpuTime() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
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
  s->demand_censored = r.saturated;
  s->memory_pct = r.memory_pct;
  s->memory_working_set_bytes = r.memory_working_set_bytes;
  s->confidence = r.confidence;
  s->pressure = r.node_pressure;
  s->nodes = r.nodes;
}

// The forecast's and the decision's part of the status. The served values change only when
// the decision served new ones.
void ShowDecision(const ForecastView& view, const Decision& d, const ForecastTracker& tracker,
                  DeploymentStatus* s) {
  s->learned_target_pct = view.learned_target_pct;
  s->target_pct = d.next.target_pct;
  s->last_target_change = d.next.last_target_change;
  s->history_points = tracker.HistoryPoints();
  s->forecast_accuracy = view.accuracy;
  s->forecast_validated = view.validated;
  s->persistence_accuracy = view.persistence_accuracy;
  s->forecast_mae_cores = view.mae_cores;
  s->persistence_mae_cores = view.persistence_mae_cores;
  s->forecast_false_positives = view.false_positives;
  s->forecast_false_negatives = view.false_negatives;
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

// What is stored of one deployment this cycle: the reading, the target once there is one,
// and the predicted value and pressure ratio only when served this cycle.
StoredValues ValuesToStore(const DeploymentStatus& s, const DecisionMemory& m, absl::Time now) {
  StoredValues v;
  v.demand_cores = s.demand_cores;
  if (s.demand_cores) v.demand_censored = s.demand_censored ? 1 : 0;
  v.blended_pct = s.blended_pct;
  v.memory_pct = s.memory_pct;
  v.memory_bytes = s.memory_working_set_bytes;
  if (s.cpu_request_millicores > 0) {
    v.ready_pods = s.ready_pods;
    v.capacity_cores = s.ready_pods * s.cpu_request_millicores / 1000.0;
  }
  if (m.has_target) v.target_pct = m.target_pct;
  if (m.has_served && m.served_at == now) {
    v.predicted_pct = m.served.predicted_pct;
    v.pressure_ratio = m.served.pressure_ratio;
  }
  return v;
}

void AddPoints(const DeploymentStatus& s, const DecisionMemory& m,
               std::vector<MetricPoint>* table) {
  auto point = [&](const char* metric, double value, absl::Duration window) {
    MetricPoint p;
    p.namespace_name = s.namespace_name;
    p.deployment = s.name;
    p.metric = metric;
    p.value = value;
    p.timestamp = m.served_at;
    p.window = window;
    table->push_back(std::move(p));
  };
  point("smart_cpu_blended", m.served.blended_pct, absl::Minutes(10));
  point("smart_cpu_predicted", m.served.predicted_pct, absl::Minutes(10));
  point("smart_cpu_pressure", m.served.pressure_ratio, absl::Minutes(10));
  point("smart_cpu_target", m.target_pct, absl::Minutes(10));
  if (m.served.memory_pct) {
    point("smart_memory_blended", *m.served.memory_pct, absl::ZeroDuration());
  }
}

}  // namespace

struct Reconciler::CycleInputs {
  const ClusterState* cluster = nullptr;
  Signals signals;
  absl::flat_hash_map<std::string, const kube::Deployment*> deployments;  // TargetKey
  absl::flat_hash_map<std::string, std::vector<const kube::Pod*>> pods;   // TargetKey
  NodeRequests node_requested;  // node -> millicores requested by its pods
  // The node pressure of each distinct nodeSelector, computed once per cycle.
  absl::flat_hash_map<std::string, NodePressureReading> node_pressure;  // NodeSelectorKey
  LoadBudget load_budget;  // loading histories: range queries and time left this cycle
  costs::PriceTable prices = costs::PriceTable::Flat({});
  absl::flat_hash_map<std::string, std::string> node_pool;  // node -> its prices.label() value

  // The pool of the first scheduled pod of `pods` ("" when none, or flat prices).
  std::string PoolOf(const std::vector<const kube::Pod*>& pods) const {
    for (const kube::Pod* p : pods) {
      auto it = node_pool.find(p->node_name);
      if (it != node_pool.end()) return it->second;
    }
    return "";
  }

  const NodePressureReading& NodePressureFor(const std::map<std::string, std::string>& sel) {
    std::string k = NodeSelectorKey(sel);
    auto it = node_pressure.find(k);
    if (it == node_pressure.end()) {
      NodePressureReading r = ReadNodePressure(sel, cluster->nodes, node_requested, signals);
      it = node_pressure.emplace(std::move(k), r).first;
    }
    return it->second;
  }
};

struct Reconciler::State {
  explicit State(const Target& t) : tracker(TargetKey(t.namespace_name, t.name)) {
    history.namespace_name = t.namespace_name;
    history.name = t.name;
  }
  DecisionMemory memory;        // the target with its cooldown, the last-known-good served values
  ForecastTracker tracker;      // demand history, forecaster, validation, learned target
  bool history_loaded = false;  // loaded (or there was none to load)
  DeploymentHistory history;    // stored series and the records of this cycle
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
      history_(store, prom, clock),
      config_(std::move(config)) {}

Reconciler::~Reconciler() = default;

void Reconciler::UpdateConfig(const Config& config) {
  absl::MutexLock lock(&config_mu_);
  config_ = config;
}

void Reconciler::SetPrices(costs::PriceTable prices) {
  absl::MutexLock lock(&config_mu_);
  prices_ = std::move(prices);
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
  costs::PriceTable prices = costs::PriceTable::Flat({});
  {
    absl::MutexLock lock(&config_mu_);
    cfg = config_;
    prices = prices_ ? *prices_
                     : costs::PriceTable::Flat({cfg.cost_per_vcpu_hour, cfg.cost_per_gb_memory_hour});
  }
  const absl::Time now = clock_->Now();
  const absl::Duration cpu0 = ProcessCpuTime();
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
    report.wall = clock_->Now() - now;
    report.cpu = ProcessCpuTime() - cpu0;
    last_ = report;
    return report;
  }
  const ClusterState& cluster = **snapshot;
  const std::map<std::string, Target> targets = DiscoverTargets(cluster, cfg);
  report.deployments = static_cast<int>(targets.size());
  CycleInputs in;
  in.cluster = &cluster;
  in.load_budget = HistoryWriter::CycleBudget(cfg, now);
  in.prices = std::move(prices);
  if (!in.prices.label().empty()) {
    for (const kube::Node& n : cluster.nodes) {
      auto it = n.metadata.labels.find(in.prices.label());
      if (it != n.metadata.labels.end()) in.node_pool[n.metadata.name] = it->second;
    }
  }
  JoinPods(cluster, targets, &in);
  if (backfiller_ != nullptr && cfg.enable_predictive) {
    if (!backfill_started_) {
      std::vector<BackfillTarget> todo;
      for (const auto& [key, t] : targets) {
        int pods = static_cast<int>(in.pods[key].size());
        todo.push_back({t.namespace_name, t.name, std::max(1, pods)});
      }
      backfiller_->Start(std::move(todo), now);
      backfill_started_ = true;
    }
    for (LoadedHistory& h : backfiller_->TakeLoaded()) {
      backfilled_[TargetKey(h.namespace_name, h.name)] = std::move(h.points);
    }
  }
  TrackPods(in, now);
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
    if (!st) st = std::make_unique<State>(t);
    ProcessDeployment(cfg, t, in, now, st.get(), &report);
  }
  // Deployments no longer managed leave the table.
  for (auto it = states_.begin(); it != states_.end();) {
    it = targets.count(it->first) ? std::next(it) : states_.erase(it);
  }
  std::vector<MetricPoint> table;
  std::vector<DeploymentStatus> statuses;
  BuildTable(&table, &statuses, &report);
  if (store_ != nullptr) Store(now);
  return Finish(std::move(report), cpu0, std::move(table), std::move(statuses));
}

void Reconciler::JoinPods(const ClusterState& cluster, const std::map<std::string, Target>& targets,
                          CycleInputs* in) {
  for (const kube::Deployment& d : cluster.deployments) {
    in->deployments[TargetKey(d.metadata.namespace_name, d.metadata.name)] = &d;
  }
  absl::flat_hash_map<std::string, std::string> rs_owner;  // ns/rs -> ns/deployment
  for (const kube::ReplicaSet& rs : cluster.replica_sets) {
    std::string owner = rs.OwnerDeployment();
    if (!owner.empty()) {
      rs_owner[TargetKey(rs.metadata.namespace_name, rs.metadata.name)] =
          TargetKey(rs.metadata.namespace_name, owner);
    }
  }
  for (const kube::Pod& p : cluster.pods) {
    if (p.phase == "Succeeded" || p.phase == "Failed") continue;
    if (!p.node_name.empty()) in->node_requested[p.node_name] += p.TotalCpuRequestMillicores();
    std::string rs = p.OwnerReplicaSet();
    if (rs.empty()) continue;
    auto owner = rs_owner.find(TargetKey(p.metadata.namespace_name, rs));
    if (owner != rs_owner.end() && targets.count(owner->second)) {
      in->pods[owner->second].push_back(&p);
    }
  }
}

void Reconciler::ProcessDeployment(const Config& cfg, const Target& t, CycleInputs& in,
                                   absl::Time now, State* st, CycleReport* report) {
  DeploymentStatus& s = st->status;
  st->tracker.SetLead(t.lead);
  s.namespace_name = t.namespace_name;
  s.name = t.name;
  s.source = t.source;
  s.note.clear();
  const std::string key = TargetKey(t.namespace_name, t.name);
  auto dep = in.deployments.find(key);
  if (dep == in.deployments.end()) {
    s.note = "Deployment not found";
    s.pods = s.ready_pods = 0;
    s.decision_inputs.reset();
    st->memory.has_served = false;  // nothing to scale: serve nothing rather than a ghost's
    return;
  }
  const kube::Deployment& d = *dep->second;
  const Reading reading = ReadDeployment(
      d, in.pods[key], in.signals, in.NodePressureFor(d.node_selector), now, t.startup_filter);
  ShowReading(reading, &s);
  s.hpa_current_replicas.reset();
  for (const kube::HorizontalPodAutoscaler& h : in.cluster->hpas) {
    if (h.metadata.namespace_name == t.namespace_name && h.scale_target_ref.kind == "Deployment" &&
        h.scale_target_ref.name == t.name && (t.hpa_name.empty() || h.metadata.name == t.hpa_name) &&
        h.current_replicas > 0) {  // 0: no status yet (the informer's object has none)
      s.hpa_current_replicas = h.current_replicas;
      break;
    }
  }
  auto backfilled = backfilled_.find(key);
  if (cfg.enable_predictive && !st->history_loaded && backfilled != backfilled_.end()) {
    st->history_loaded = true;  // the background backfiller's week (possibly empty: new)
    const double target_now =
        st->memory.has_target ? st->memory.target_pct : cfg.target_node_utilization;
    if (!backfilled->second.empty()) {
      st->tracker.LoadHistory(backfilled->second, now, TargetDemandCores(target_now, reading));
      if (history_observer_) history_observer_(t.namespace_name, t.name, backfilled->second);
      ++report->histories_loaded;
    }
    backfilled_.erase(backfilled);
  }
  if (cfg.enable_predictive && !st->history_loaded && history_.CanLoad(in.load_budget)) {
    LoadHistory(cfg, reading, now, in, st, report);
  }
  if (reading.windows.cores_1m) st->tracker.ObserveRecent(now, *reading.windows.cores_1m);
  st->tracker.RefreshLearnedTarget(now, cfg.enable_autotuning);

  // The forecast of total demand (cores) is validated against the demand at which the target
  // decided this cycle is reached; the decision then reads the forecast.
  const TargetDecision target =
      DecideTarget(reading, st->tracker.LearnedTargetPct(), st->memory, cfg, now);
  if (reading.demand_cores) {
    st->tracker.SetRefitsPaused(refits_paused_.load());
    st->tracker.Observe(now, *reading.demand_cores, TargetDemandCores(target.target_pct, reading),
                        cfg.enable_predictive, reading.saturated);
  }
  history_.AddForecasts(st->tracker.TakeForecastRecords(), &st->history);
  const ForecastView view =
      st->tracker.View(now, {cfg.enable_predictive, cfg.prediction_min_accuracy});
  auto inputs = std::make_shared<DecisionInputs>();
  inputs->reading = reading;
  inputs->forecast = view;
  inputs->previous = st->memory;
  inputs->target_node_utilization = cfg.target_node_utilization;
  inputs->cooldown = cfg.cooldown;
  inputs->min_accuracy = cfg.prediction_min_accuracy;
  inputs->at = now;
  s.decision_inputs = std::move(inputs);
  const Decision decision = Decide(reading, view, st->memory, cfg, now);
  st->memory = decision.next;
  ShowDecision(view, decision, st->tracker, &s);
  s.price_pool = in.PoolOf(in.pods[key]);
  const costs::Prices& prices = in.prices.For(s.price_pool);
  s.pod_hourly_cost = reading.cpu_request_millicores / 1000.0 * prices.per_vcpu_hour +
                      reading.memory_request_bytes / costs::kBytesPerGb * prices.per_gb_hour;
  const bool had_headroom = s.forecast_monthly_cost_change > 0;
  if (decision.served_now) ApplyBudget(cfg, d, reading, prices, &st->memory, &s, report);
  const bool headroom_began = s.forecast_monthly_cost_change > 0 && !had_headroom;
  if (decision.target.changed || headroom_began) {
    const DecisionCostImpact cost = CostOfDecision(reading, decision.target, st->memory, &s, now);
    history_.AddDecision(reading, decision.target, cfg.dry_run, now, &st->history, &cost);
  }
  if (decision.held) {
    ++report->held;
    return;
  }
  if (cfg.hpa_patch_mode && patcher_ != nullptr) {
    HpaPatchResult r =
        PatchCpuHpas(in.cluster->hpas, t, st->memory.target_pct, cfg.dry_run, patcher_);
    report->patches += r.patches;
    for (std::string& e : r.errors) report->errors.push_back(std::move(e));
  }
}

void Reconciler::LoadHistory(const Config& cfg, const Reading& reading, absl::Time now,
                             CycleInputs& in, State* st, CycleReport* report) {
  // From the local store (a restart), else one Prometheus range query; validation seeded
  // against the target in force before this cycle's decision.
  HistoryLoad load = history_.LoadWeek(now, &in.load_budget, &st->history);
  if (load.used_remote) ++report->backfill_queries;
  if (!load.error.empty()) report->errors.push_back(std::move(load.error));
  if (!load.done) return;  // retried next cycle
  st->history_loaded = true;
  if (!load.points.empty()) {
    const double target_now =
        st->memory.has_target ? st->memory.target_pct : cfg.target_node_utilization;
    st->tracker.LoadHistory(load.points, now, TargetDemandCores(target_now, reading),
                            load.censored);
    if (history_observer_) {
      history_observer_(st->history.namespace_name, st->history.name, load.points);
    }
    LOG(INFO) << "backfilled " << st->history.namespace_name << "/" << st->history.name << ": "
              << st->tracker.HistoryPoints() << " buckets of demand history, "
              << st->tracker.ValidatedCount() << " validated forecasts";
  }
  // Empty points: a new deployment, whose history grows from now on.
  if (st->tracker.HistoryPoints() > 0) ++report->histories_loaded;
}

void Reconciler::BuildTable(std::vector<MetricPoint>* table,
                            std::vector<DeploymentStatus>* statuses, CycleReport* report) const {
  for (const auto& [key, st] : states_) {
    statuses->push_back(st->status);
    if (!st->memory.has_served) continue;
    ++report->served;
    AddPoints(st->status, st->memory, table);
  }
  report->points = static_cast<int>(table->size());
}

// The cost guardrail over this cycle's served values. The projected monthly cost is the
// run-rate of the replicas the served value asks for (ready pods x the pod's hourly price in
// its node pool x 730 h); only the forecast's headroom above the blend is ever capped.
void Reconciler::ApplyBudget(const Config& cfg, const kube::Deployment& d, const Reading& reading,
                             const costs::Prices& prices, DecisionMemory* m, DeploymentStatus* s,
                             CycleReport* report) {
  s->monthly_budget = absl::nullopt;
  s->budget_capped = false;
  s->forecast_monthly_cost_change = 0;
  s->forecast_served_cost_change = 0;
  s->guardrail_note.clear();
  auto ann = d.metadata.annotations.find(kAnnotationMonthlyBudget);
  if (ann != d.metadata.annotations.end()) {
    auto b = costs::ParseMonthlyBudget(ann->second);
    if (!b.ok()) {
      s->guardrail_note = absl::StrCat(kAnnotationMonthlyBudget, ": ", b.status().message());
      return;
    }
    s->monthly_budget = *b;
  } else {
    for (const StaticTarget& t : cfg.deployments) {
      if (t.namespace_name == s->namespace_name && t.name == s->name && t.monthly_budget > 0) {
        s->monthly_budget = t.monthly_budget;
      }
    }
  }
  costs::GuardrailInput in;
  in.blended_pct = m->served.blended_pct;
  in.predicted_pct = m->served.predicted_pct;
  in.target_pct = m->target_pct;
  in.ready_pods = reading.ready_pods;
  in.cpu_request_millicores = reading.cpu_request_millicores;
  in.memory_request_bytes = reading.memory_request_bytes;
  in.prices = prices;
  in.expected_duration = absl::Hours(costs::kHoursPerMonth);
  in.monthly_budget = s->monthly_budget;
  const double pod_hourly = in.cpu_request_millicores / 1000.0 * in.prices.per_vcpu_hour +
                            in.memory_request_bytes / costs::kBytesPerGb * in.prices.per_gb_hour;
  in.current_monthly_cost = in.ready_pods * pod_hourly * costs::kHoursPerMonth;
  const costs::GuardrailDecision g = costs::CapPredicted(in);
  s->forecast_monthly_cost_change = g.monthly_cost_change;
  s->forecast_served_cost_change = g.served_cost_change;
  s->guardrail_note = g.why;
  if (!g.capped) return;
  s->budget_capped = true;
  ++report->budget_capped;
  m->served.predicted_pct = g.predicted_pct;
  m->served.pressure_ratio = PressureRatio(g.predicted_pct, m->target_pct);
  s->served_predicted_pct = m->served.predicted_pct;
  s->served_pressure = m->served.pressure_ratio;
  VLOG(1) << s->namespace_name << "/" << s->name << ": " << g.why;
}

// A target change moves the HPA's desired replicas by about ready x (previous / new - 1) (the
// HPA scales utilisation / target); priced as a month of those pods. Forecast headroom that began
// this cycle is priced by the guardrail (its uncapped and served monthly change).
DecisionCostImpact Reconciler::CostOfDecision(const Reading& reading, const TargetDecision& target,
                                              const DecisionMemory& m, DeploymentStatus* s,
                                              absl::Time now) const {
  DecisionCostImpact c;
  c.current_monthly_cost = reading.ready_pods * s->pod_hourly_cost * costs::kHoursPerMonth;
  c.monthly_budget = s->monthly_budget.value_or(0);
  c.capped = s->budget_capped;
  c.uncapped_predicted_pct = m.served.predicted_pct;
  if (target.changed && target.previous_target_pct > 0 && target.target_pct > 0) {
    const double extra = reading.ready_pods * (target.previous_target_pct / target.target_pct - 1);
    c.monthly_cost_change = extra * s->pod_hourly_cost * costs::kHoursPerMonth;
    c.served_cost_change = c.monthly_cost_change;
    c.why = absl::StrFormat("target %.0f%% -> %.0f%%: %+.2f replicas x $%.4f/pod-hour x 730 h",
                            target.previous_target_pct, target.target_pct, extra,
                            s->pod_hourly_cost);
  } else {
    // Forecast headroom (or a first target, which changes nothing to price but its headroom).
    c.monthly_cost_change = s->forecast_monthly_cost_change;
    c.served_cost_change = s->forecast_served_cost_change;
    c.why = s->guardrail_note.empty() ? "first target: no change to price" : s->guardrail_note;
  }
  s->decision_monthly_cost_change = c.monthly_cost_change;
  s->decision_cost_at = now;
  s->decision_cost_why = c.why;
  LOG(INFO) << s->namespace_name << "/" << s->name << ": decision cost "
            << absl::StrFormat("%+.2f", c.monthly_cost_change) << " USD/month (" << c.why << ")";
  return c;
}

void Reconciler::TrackPods(const CycleInputs& in, absl::Time now) {
  std::vector<costs::ObservedPod> seen;
  for (const auto& [key, pods] : in.pods) {
    const std::string deployment = key.substr(key.find('/') + 1);
    for (const kube::Pod* p : pods) {
      if (p->node_name.empty()) continue;  // unscheduled: holds no node capacity
      costs::ObservedPod o;
      o.namespace_name = p->metadata.namespace_name;
      o.deployment = deployment;
      o.pod = p->metadata.name;
      o.created = p->metadata.creation_timestamp.value_or(p->start_time.value_or(now));
      o.cpu_request_millicores = p->TotalCpuRequestMillicores();
      for (const kube::ContainerResources& c : p->containers) {
        o.memory_request_bytes += c.requests.memory_bytes.value_or(0);
      }
      o.node = p->node_name;
      if (auto it = in.node_pool.find(p->node_name); it != in.node_pool.end()) o.pool = it->second;
      seen.push_back(std::move(o));
    }
  }
  auto changed = pod_lifetimes_.Observe(now, seen);
  lifetime_changes_.insert(lifetime_changes_.end(), changed.begin(), changed.end());
  pod_lifetimes_.Forget(now - absl::Hours(24));
  if (store_ == nullptr) lifetime_changes_.clear();
}

void Reconciler::Store(absl::Time now) {
  for (const auto& [key, life] : lifetime_changes_) {
    const size_t slash = key.find('/');
    const absl::Time at = life.end == absl::InfiniteFuture() ? now : life.end;
    absl::Status s = store_->AppendEvent(
        storage::EventLog::kPodLifetimes, at,
        costs::EncodePodLifetime(key.substr(0, slash), key.substr(slash + 1), life), {});
    if (!s.ok()) LOG(WARNING) << "store: pod lifetime of " << life.pod << ": " << s;
  }
  lifetime_changes_.clear();
  std::vector<std::pair<StoredValues, DeploymentHistory*>> rows;
  rows.reserve(states_.size());
  for (auto& [key, st] : states_) {
    rows.emplace_back(ValuesToStore(st->status, st->memory, now), &st->history);
  }
  history_.WriteCycle(now, rows);
}

CycleReport Reconciler::Finish(CycleReport report, absl::Duration cpu0,
                               std::vector<MetricPoint> table,
                               std::vector<DeploymentStatus> statuses) {
  report.wall = clock_->Now() - report.start;
  report.cpu = ProcessCpuTime() - cpu0;
  LOG(INFO) << "cycle: " << report.deployments << " deployments, " << report.served << " served, "
            << report.held << " held, " << report.queries << "+" << report.backfill_queries
            << " queries (" << report.query_failures << " failed), " << report.histories_loaded
            << " histories loaded, " << report.points << " points, wall "
            << absl::FormatDuration(report.wall) << ", cpu " << absl::FormatDuration(report.cpu);
  absl::MutexLock lock(&out_mu_);
  table_ = std::move(table);
  statuses_ = std::move(statuses);
  last_ = report;
  return report;
}

}  // namespace reconciler
