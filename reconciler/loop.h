// loop: one reconcile cycle, the orchestration of the reconciler's parts. Cluster state (one
// snapshot, no per-deployment LIST) and Prometheus signals (a constant number of grouped
// queries) in; the served metric table, the per-deployment status and stored
// samples/decisions/forecasts out.
//
//   reconciler::Reconciler r(config, cluster_source, prom, store, &clock);
//   reconciler::CycleReport report = r.RunCycle();
//   publisher.Publish(r.Table());
//
// A cycle: snapshot -> targets (targets.h) -> pods joined to their deployments through their
// ReplicaSets -> signals (signals.h) -> per deployment: the reading (reading.h), the demand
// history loaded once (history.h) and observed every cycle (forecast_tracker.h), the decision
// (decision.h), legacy HPA patching (hpa_patch.h) -> the served table -> the store.
// Missing data never reads as zero: a deployment without fresh data keeps its last-known-good
// values with their original timestamps, so the adapter's staleness limit decides when to stop
// serving them, and targets are never lowered for lack of data.
//
// Thread-safe: RunCycle runs on one thread at a time; Table/Statuses/LastCycle may be read
// from any thread (the JSON API) while it runs.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "base/clock.h"
#include "clients/prometheus/prometheus.h"
#include "reconciler/cluster.h"
#include "reconciler/config.h"
#include "reconciler/costs/costs.h"
#include "reconciler/decision.h"
#include "reconciler/history.h"
#include "reconciler/hpa_patch.h"
#include "reconciler/policy.h"
#include "reconciler/backfill.h"
#include "reconciler/signals.h"
#include "snapshot/metric_point.h"
#include "reconciler/targets.h"
#include "storage/store.h"

namespace reconciler {

// The served values are the snapshot stream's points (snapshot/metric_point.h).
using MetricPoint = snapshot::MetricPoint;

// What the JSON API shows for one deployment.
struct DeploymentStatus {
  std::string namespace_name;
  std::string name;
  std::string source;  // "hpa/<name>", "env/DEPLOYMENT_<N>", "annotation"
  int pods = 0;
  int ready_pods = 0;
  // status.currentReplicas of the HPA scaling this deployment, as the informer sees it
  // (nullopt: no HPA, or one that has not reported yet).
  absl::optional<int> hpa_current_replicas;
  int young_pods_excluded = 0;
  bool all_pods_young = false;
  int64_t cpu_request_millicores = 0;  // per pod, summed over containers
  int64_t memory_request_bytes = 0;    // per pod
  absl::optional<double> blended_pct;  // this cycle's reading (nullopt: no data)
  absl::optional<double> demand_cores;
  bool demand_censored = false;  // the pods sat at their CPU limit: demand is a lower bound
  absl::optional<double> memory_pct;
  absl::optional<double> memory_working_set_bytes;  // total over the mature pods (costs)
  double confidence = 0;
  NodePressure pressure;  // node pressure (level, utilization) of the matching nodes
  int nodes = 0;          // ready, schedulable nodes matching the nodeSelector
  double target_pct = 0;
  absl::optional<double> learned_target_pct;  // auto-tuning, after 7 days of history
  absl::Time last_target_change = absl::InfinitePast();
  // Forecast of total demand (cores): p90 peak over the lead window.
  absl::optional<double> forecast_peak_p90_cores;
  bool forecast_trusted = false;
  std::string forecast_note;  // why the forecast is or is not used
  double forecast_accuracy = 0;
  int forecast_validated = 0;
  // Persistence over the same origins (ForecastView): accuracy 0-1 and both MAEs, cores.
  absl::optional<double> persistence_accuracy, forecast_mae_cores, persistence_mae_cores;
  int forecast_false_positives = 0, forecast_false_negatives = 0;
  int history_points = 0;  // 5-minute buckets of demand history held
  // The served values (last-known-good); empty until the first good reading.
  // served_pressure is the served pressure ratio (smart_cpu_pressure: predicted / target).
  absl::optional<double> served_blended_pct, served_predicted_pct, served_pressure,
      served_memory_pct;
  absl::Time served_at = absl::InfinitePast();
  std::string note;  // "" or why the values were held (no data, low confidence)
  // The cost guardrail (annotation smart-autoscaler.io/monthly-budget or
  // DEPLOYMENT_<N>_MONTHLY_BUDGET): the budget (USD/month), whether this cycle's forecast
  // headroom was capped, the monthly cost change of the uncapped headroom and why.
  absl::optional<double> monthly_budget;
  bool budget_capped = false;
  double forecast_monthly_cost_change = 0;
  double forecast_served_cost_change = 0;  // of what was served (equal unless capped)
  std::string guardrail_note;
  // What this cycle's decision read (null before the first decision), for explain.
  std::shared_ptr<const DecisionInputs> decision_inputs;
  // Prices: the node pool the pods run in (PRICING_FILE's label value; "" for flat prices) and
  // the pod's hourly price at its requests (USD).
  std::string price_pool;
  double pod_hourly_cost = 0;
  // The newest decision record's projected monthly cost change (a target change or the start of
  // forecast-driven headroom), USD per month; nullopt before the first.
  absl::optional<double> decision_monthly_cost_change;
  absl::Time decision_cost_at = absl::InfinitePast();
  std::string decision_cost_why;
};

struct CycleReport {
  absl::Time start = absl::InfinitePast();
  absl::Duration wall;
  absl::Duration cpu;  // process CPU time during the cycle (all threads)
  int deployments = 0;
  int served = 0;   // deployments with values in the table
  int held = 0;     // deployments whose previous values stand this cycle
  int queries = 0;  // Prometheus queries of the cycle (signals)
  int backfill_queries = 0;
  int histories_loaded = 0;  // new deployments whose demand history was loaded this cycle
  int query_failures = 0;
  int points = 0;   // size of the served table
  int patches = 0;  // legacy mode: HPA patches sent (or logged under DRY_RUN)
  int budget_capped = 0;  // deployments whose forecast headroom the budget capped this cycle
  std::vector<std::string> errors;
};

class Reconciler {
 public:
  // `cluster` and `prom` are required; `store` and `patcher` may be null (no history kept /
  // legacy mode off). All must outlive the Reconciler, as must `clock`.
  Reconciler(Config config, ClusterSource* cluster, clients::prometheus::PrometheusClient* prom,
             storage::Store* store, const base::Clock* clock, HpaPatcher* patcher = nullptr);
  ~Reconciler();

  CycleReport RunCycle();

  // The served metric table (every deployment's last-known-good values).
  std::vector<MetricPoint> Table() const;
  std::vector<DeploymentStatus> Statuses() const;
  CycleReport LastCycle() const;
  // Applies a reloaded config from the next cycle on (per-deployment state is kept).
  void UpdateConfig(const Config& config);
  // The prices of the live costs and the guardrail from the next cycle on (PRICING_FILE,
  // re-read by the caller); until called, the config's flat prices.
  void SetPrices(costs::PriceTable prices);

  // Hands the first cycle's deployments to `backfiller` (not owned, may be null; must outlive
  // this), whose loaded weeks seed their forecasters from the following cycles on; the
  // per-cycle LoadWeek path stays the fallback for deployments it has not loaded (yet), and
  // for deployments that appear later. Call before the first cycle.
  void SetBackfiller(Backfiller* backfiller) { backfiller_ = backfiller; }
  // Called on the cycle thread, during RunCycle, with each deployment's demand history once
  // it is loaded (the backfiller's week or LoadWeek's: step start -> cores, oldest first, not
  // empty), e.g. to seed anomaly detectors. Set before the first cycle; it must not call back
  // into this Reconciler.
  using HistoryObserver = std::function<void(
      const std::string& namespace_name, const std::string& name,
      const std::vector<std::pair<absl::Time, double>>& points)>;
  void SetHistoryObserver(HistoryObserver observer) { history_observer_ = std::move(observer); }
  // Memory pressure (MEMORY_CRITICAL_THRESHOLD): from the next cycle on, the forecasters skip
  // their refits (they keep forecasting from the models they have) until called with false.
  // Thread-safe.
  void SetRefitsPaused(bool paused) { refits_paused_ = paused; }

  // Demand history is bucketed at this step (the predictor's step).
  static constexpr absl::Duration kStep = absl::Minutes(5);  // ForecastTracker::kStep

 private:
  struct State;
  struct CycleInputs;
  // Joins pods to the targets through their ReplicaSets and sums pod requests per node.
  static void JoinPods(const ClusterState& cluster, const std::map<std::string, Target>& targets,
                       CycleInputs* in);
  void ProcessDeployment(const Config& cfg, const Target& t, CycleInputs& in, absl::Time now,
                         State* st, CycleReport* report);
  // A new deployment's demand history, within the cycle's LoadBudget.
  void LoadHistory(const Config& cfg, const Reading& reading, absl::Time now, CycleInputs& in,
                   State* st, CycleReport* report);
  // The served table and the statuses of every managed deployment; counts report->served.
  void BuildTable(std::vector<MetricPoint>* table, std::vector<DeploymentStatus>* statuses,
                  CycleReport* report) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(cycle_mu_);
  void Store(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(cycle_mu_);
  // The cost guardrail: caps this cycle's served forecast headroom to the deployment's budget.
  void ApplyBudget(const Config& cfg, const clients::kube::Deployment& d, const Reading& reading,
                   const costs::Prices& prices, DecisionMemory* m, DeploymentStatus* s,
                   CycleReport* report);
  // The decision record's cost of a target change or of forecast headroom that began this
  // cycle; shown in the status and logged.
  DecisionCostImpact CostOfDecision(const Reading& reading, const TargetDecision& target,
                                    const DecisionMemory& m, DeploymentStatus* s,
                                    absl::Time now) const;
  // Feeds the managed deployments' scheduled pods to pod_lifetimes_; the lifetimes that began or
  // ended wait in lifetime_changes_ for Store.
  void TrackPods(const CycleInputs& in, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(cycle_mu_);
  // Ends the cycle: times, the log line, the outputs.
  CycleReport Finish(CycleReport report, absl::Duration cpu0, std::vector<MetricPoint> table,
                     std::vector<DeploymentStatus> statuses);

  const base::Clock* const clock_;
  ClusterSource* const cluster_;
  clients::prometheus::PrometheusClient* const prom_;
  storage::Store* const store_;
  HpaPatcher* const patcher_;
  HistoryWriter history_;
  Backfiller* backfiller_ = nullptr;
  // Touched by RunCycle only: whether the backfiller was started, and the histories it handed
  // over that no cycle has consumed yet (TargetKey -> step start -> cores).
  bool backfill_started_ = false;
  std::map<std::string, std::vector<std::pair<absl::Time, double>>> backfilled_;
  std::atomic<bool> refits_paused_{false};
  HistoryObserver history_observer_;

  mutable absl::Mutex config_mu_;
  Config config_ ABSL_GUARDED_BY(config_mu_);
  absl::optional<costs::PriceTable> prices_ ABSL_GUARDED_BY(config_mu_);

  // Per-deployment state, touched by RunCycle only (one cycle at a time).
  absl::Mutex cycle_mu_;
  std::map<std::string, std::unique_ptr<State>> states_ ABSL_GUARDED_BY(cycle_mu_);
  // Pod time for costs: what the pod-lifetime log receives (deployment "ns/name", lifetime).
  costs::PodLifetimeTracker pod_lifetimes_ ABSL_GUARDED_BY(cycle_mu_);
  std::vector<std::pair<std::string, costs::PodLifetime>> lifetime_changes_
      ABSL_GUARDED_BY(cycle_mu_);

  mutable absl::Mutex out_mu_;
  std::vector<MetricPoint> table_ ABSL_GUARDED_BY(out_mu_);
  std::vector<DeploymentStatus> statuses_ ABSL_GUARDED_BY(out_mu_);
  CycleReport last_ ABSL_GUARDED_BY(out_mu_);
};

}  // namespace reconciler
