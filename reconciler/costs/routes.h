// routes: the costs on the reconciler's JSON API and /metrics.
//
//   costs::CostService service(store, prices_fn);
//   costs::AddCostRoutes(&view, &api_server, &service, &clock, {.max_window = retention});
//   reconciler::RegisterApi(&api_server, &view);     // after: "cost" is a deployment resource
//   costs::CostMetrics gauges(&registry);             // served by /metrics with the registry
//   gauges.MaybeRefresh(&service, clock.Now());       // after each cycle
//
// JSON (GET; money in USD, rounded to 1e-6; errors are Status-shaped JSON):
//   /api/deployment/<ns>/<name>/cost?hours=24      one deployment's costs over the last `hours`
//   /api/v1/deployments/<ns>/<name>/cost?hours=24  (default 24): the original's fields plus the
//       allocated cost, right-sizing and the guardrail; 400 for a bad `hours` (not a number,
//       <= 0, beyond the store's retention), 404 when no pod of it was ever recorded, 503 when
//       the store is not available. Unmeasured usage is null with a "note", never 0.
//       "from"/"to" are the window (microseconds); &detail=usage adds the priced pod lifetimes
//       ("pods") and usage spans ("usage"). "guardrail" (managed deployments): the budget, whether
//       it capped this cycle's forecast headroom, that headroom's monthly cost change, the price
//       pool, the pod's hourly price and the last decision record's monthly cost change.
//   /api/overview, /api/v1/overview?hours=24       totals over every deployment, and each one's
//       headline figures (with "active_anomalies"), plus the original's fields:
//       total_deployments (managed), total_monthly_cost, total_savings_potential,
//       recent_anomalies_24h, avg_prediction_confidence (the managed deployments' mean validated
//       forecast accuracy, 0-1; null without one) and efficiency_score (%);
//       "anomalies_by_deployment" {"ns/name": {"active","started_24h"}} for every deployment in
//       the anomaly log; a count that could not be read is null, never 0
//   /api/v1/report/weekly[?format=text]            the weekly report (the last 168 h)
// /metrics (per deployment, labels namespace and deployment; absent when unknown):
//   autoscaler_monthly_cost_usd, autoscaler_wasted_capacity_percent,
//   autoscaler_hourly_cost_usd{resource="cpu"|"memory"}, autoscaler_rightsizing_cpu_millicores.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "reconciler/api.h"
#include "reconciler/costs/service.h"

namespace costs {

// One deployment's anomalies for the overview: open now, and started in the last 24 h.
struct AnomalyCounts {
  int active = 0;
  int started_24h = 0;
};
// Keyed by "namespace/deployment"; the anomaly log's error when it cannot be read.
using AnomalyCountsFn =
    std::function<absl::StatusOr<std::map<std::string, AnomalyCounts>>(absl::Time now)>;

struct CostRouteOptions {
  absl::Duration default_window = absl::Hours(24);
  absl::Duration max_window = absl::Hours(24 * 30);  // the store's retention
  // The anomaly log's counts for the overview (null: no log, the counts are null).
  AnomalyCountsFn anomaly_counts;
};

// Adds the "cost" deployment resource to `view` (call before reconciler::RegisterApi) and the
// overview and report routes to `server`. `view`, `service` and `clock` must outlive the server.
void AddCostRoutes(reconciler::StatusView* view, base::HttpServer* server, CostService* service,
                   const base::Clock* clock, CostRouteOptions options = {});

// The cost gauges, registered in `registry` (which must outlive this). Thread-safe.
class CostMetrics {
 public:
  explicit CostMetrics(prometheus::Registry* registry,
                       absl::Duration refresh_every = absl::Minutes(5));
  // Recomputes every deployment's costs over the last 168 h when `refresh_every` has passed
  // since the last refresh (the first call always refreshes). Deployments that left the store
  // leave the scrape. A failing store keeps the previous values and returns its error.
  absl::Status MaybeRefresh(CostService* service, absl::Time now);
  // Sets the gauges to `costs` (exposed for tests).
  void Set(const std::vector<DeploymentCosts>& costs);

 private:
  const absl::Duration refresh_every_;
  prometheus::Family<prometheus::Gauge>& monthly_;
  prometheus::Family<prometheus::Gauge>& wasted_pct_;
  prometheus::Family<prometheus::Gauge>& hourly_;
  prometheus::Family<prometheus::Gauge>& rightsizing_;
  absl::Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Every gauge exported now, with its family (to remove those that disappear).
  std::map<prometheus::Gauge*, prometheus::Family<prometheus::Gauge>*> exported_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace costs
