// api: the reconciler's read-only HTTP surface. The JSON API and web page (API_ADDRESS, :5000)
// and the Prometheus /metrics endpoint (METRICS_ADDRESS, :8000).
//
//   reconciler::StatusView view{&reconciler, &elector_state, ...};
//   base::HttpServer api;    reconciler::RegisterApi(&api, &view);      api.Start(":5000");
//   base::HttpServer prom;   reconciler::RegisterMetrics(&prom, &view); prom.Start(":8000");
//
// JSON API (GET only; nothing here changes state: the original's dashboard exposed mutating
// endpoints without authentication, this one exposes none):
//   /api/v1/status                       leader, last cycle, cluster source, config summary
//   /api/v1/deployments                  every managed deployment (DeploymentStatus)
//   /api/v1/deployments/<ns>/<name>      one (404 Status-like JSON when unknown)
//   /api/v1/deployments/<ns>/<name>/<r>  a sub-resource registered in
//   /api/deployment/<ns>/<name>/<r>      StatusView::deployment_resources (the second form is
//                                        the original project's route); 404 for an unknown <r>
//   /api/v1/metrics                      the served metric table, as the adapters receive it
//   /healthz  always ok
// The web page, /livez, /readyz, /api/health and the explain and history resources are
// reconciler/web's (web.h), registered next to these.
// /metrics: the process registry (StatusView::metrics: cycles, queries, HTTP servers, leader,
// store) plus the per-deployment gauges of the last cycle (DeploymentGauges), so deployments
// that stop being managed disappear from the scrape instead of leaving stale series.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "base/http_server.h"
#include "prometheus/registry.h"
#include "reconciler/api_metrics.h"
#include "reconciler/loop.h"

namespace reconciler {

// A deployment's sub-resource (cost, anomalies, explain, ...): called with the namespace and
// name from the path, for managed and unmanaged deployments alike (the handler decides), and
// the request (for its query parameters). Thread-safe.
using DeploymentResource = std::function<base::HttpResponse(
    const std::string& namespace_name, const std::string& name, const base::HttpRequest& req)>;

// Everything the endpoints read; all callbacks thread-safe.
struct StatusView {
  const Reconciler* reconciler = nullptr;
  std::function<bool()> is_leader;        // null: always leader (leader election off)
  std::function<std::string()> describe;  // cluster source etc., for /api/v1/status
  std::function<std::string()> config_text;  // DescribeConfig() of the config in force
  std::string version;
  prometheus::Registry* metrics = nullptr;  // served on /metrics; null: only the gauges
  // The background backfiller (null: none); its progress is the status's "backfill" object.
  const Backfiller* backfiller = nullptr;
  // Keyed by the resource's path segment ("cost" serves /api/v1/deployments/<ns>/<name>/cost).
  // Filled before RegisterApi.
  std::map<std::string, DeploymentResource> deployment_resources;
};

// A JSON error body shaped like a Kubernetes Status ({"kind":"Status","code":...,"message":...})
// with that HTTP status, for resource handlers (400 for bad query parameters, 404, 503).
base::HttpResponse JsonError(int code, const std::string& message);

void RegisterApi(base::HttpServer* server, const StatusView* view);
// /metrics (and /healthz unless `with_healthz` is false, for a server that already has the API).
void RegisterMetrics(base::HttpServer* server, const StatusView* view, bool with_healthz = true);

// JSON renderings, exposed for tests.
std::string DeploymentsJson(const std::vector<DeploymentStatus>& statuses);
std::string TableJson(const std::vector<MetricPoint>& table);

}  // namespace reconciler
