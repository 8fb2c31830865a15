// web: the reconciler's page (HTML/JS/CSS and the vendored uPlot, embedded in the binary), the
// deployment sub-resources it reads besides the JSON API's own ("explain", "history"), the
// original project's /api/health and /api/deployments, and the component health checks
// (/livez, /readyz?verbose).
//
//   reconciler::web::WebOptions web{store.get(), clock, config.check_interval, clock->Now()};
//   web.checks.push_back({"prometheus", [&] { return CheckResult{!breaker_open, "..."}; }});
//   reconciler::web::AddDeploymentResources(&view, &web);  // before RegisterApi
//   reconciler::RegisterApi(&api, &view);
//   reconciler::web::RegisterPage(&api, &view, &web);
//
// Routes (GET, read-only):
//   /, /static/{app.js,app.css,uplot.min.js,uplot.min.css}   the page
//   /api/v1/deployments/<ns>/<name>/explain[?format=text]     "why this number" (explain.h);
//                                                            404 unmanaged, 503 before a decision
//   /api/v1/deployments/<ns>/<name>/history?range=1h|24h|7d  (or ?hours=1..168, the original's):
//        the stored demand, ready capacity, forecast p10/p90 and peak, served values, target
//        and replicas on one time axis (360 buckets), and "accuracy": the forecast p50's
//        first-step error against persistence's over the same origins (7 d: the forecasts made
//        in the first 5 minutes of each 28-minute bucket); 400 for a bad parameter, 503
//        without a store
//        (with the original's "timestamps", "pod_cpu_usage", "pod_count", "hpa_target",
//        "node_utilization", "confidence" arrays on the same buckets)
//   /api/v1/deployments/<ns>/<name>/predictions   the latest stored forecast (model, origin,
//        lead-window peak p50/p90, the path's p10/p50/p90 per step, cores, and the original's
//        "predicted_cpu", "validated", "actual_cpu", "error" and "accuracy_stats"); 404 without
//        one in the last hour, 400 for any parameter, 503 without a store
//   /api/v1/deployments/<ns>/<name>/current       the original's current state (its names);
//        also the original's bare /api/deployment/<ns>/<name>
//   (all also under the original's /api/deployment/<ns>/<name>/...)
//   /api/deployments       the original's list: [{"key","namespace","deployment","hpa_name",...}]
//   /api/health            {"status":"healthy"|"unhealthy","timestamp",...,"checks":{...}} and
//        the original's "prometheus", "kubernetes", "database", "degraded", "overall_status",
//        "components"
//   /livez[?verbose]       503 only when wedged: no cycle completed for 3 check intervals
//   /readyz[?verbose]      503 while the data is stale or a check fails; per-check lines
//                          "[+]store ok: ..." / "[-]prometheus failed: ..." as kube-apiserver's
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "reconciler/api.h"
#include "storage/store.h"

namespace reconciler::web {

struct CheckResult {
  bool ok = true;
  std::string detail;  // "size 12 MiB, 40 series", "breaker open", ...
};

// One component check for /readyz and /api/health. `required` false: shown, never fails
// readiness (e.g. connected adapters, leadership).
struct HealthCheck {
  std::string name;
  std::function<CheckResult()> check;  // thread-safe
  bool required = true;
};

struct WebOptions {
  const storage::Store* store = nullptr;  // history; null: 503
  const base::Clock* clock = nullptr;     // required
  absl::Duration check_interval = absl::Seconds(30);
  absl::Time started = absl::InfinitePast();  // process start, for /livez before a first cycle
  // Allowed before the first cycle on top of 3 intervals (the informers' first LIST).
  absl::Duration startup_grace = absl::Minutes(2);
  std::vector<HealthCheck> checks;
};

// Adds "explain", "history" and "predictions" to view->deployment_resources (a resource already
// registered under that key is kept). `options` must outlive the server.
void AddDeploymentResources(StatusView* view, const WebOptions* options);

// The page, /api/deployments, /api/health, /livez and /readyz. Call after RegisterApi.
void RegisterPage(base::HttpServer* server, const StatusView* view, const WebOptions* options);

// Exposed for tests: the history response for `ns/name` at `now` (HTTP code and JSON body).
base::HttpResponse HistoryResponse(const storage::Store* store, const std::string& ns,
                                   const std::string& name, const base::HttpRequest& req,
                                   absl::Time now);

// Exposed for tests: the predictions response (see above); `status` (null: not managed) gives
// the original's "accuracy_stats".
base::HttpResponse PredictionsResponse(const storage::Store* store, const std::string& ns,
                                       const std::string& name, const base::HttpRequest& req,
                                       absl::Time now, const DeploymentStatus* status = nullptr);

}  // namespace reconciler::web
