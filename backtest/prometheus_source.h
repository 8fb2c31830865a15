// prometheus_source: a live deployment's demand history for the backtest, read from
// Prometheus with the range form of the reconciler's own demand query, and its pods' CPU
// request.
//
//   auto prom = clients::prometheus::MakePrometheusClient({.base_url = url}, http.get());
//   absl::StatusOr<backtest::PrometheusWorkload> w = backtest::LoadFromPrometheus(
//       prom.get(), "shop", "api", now - absl::Hours(11 * 24), now);
//
// Demand: `sum(rate(container_cpu_usage_seconds_total{namespace=…, pod=~"<name>-…-…"}[5m]))`
// (reconciler/signals.h DemandHistoryQuery) every `step`, fetched a week per request (under
// Prometheus' 11,000 points per series). It is the usage the pods were allowed, so demand
// above their limits in the past is not seen. The request: the largest per-pod sum of
// kube_pod_container_resource_requests{resource="cpu"} (kube-state-metrics) at `to`.
// Thread-compatible; the client's errors are returned as they came.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "base/trace_csv.h"
#include "clients/prometheus/prometheus.h"

namespace backtest {

struct PrometheusWorkload {
  std::vector<base::Point> demand;  // cores, in time order, non-finite points dropped
  // Per pod; nullopt when kube-state-metrics has no series for the deployment's pods.
  absl::optional<int64_t> pod_cpu_request_millicores;
};

// NotFound when the demand query returns no points at all; InvalidArgument on to <= from or
// step <= 0; otherwise the client's errors.
absl::StatusOr<PrometheusWorkload> LoadFromPrometheus(clients::prometheus::PrometheusClient* prom,
                                                      const std::string& namespace_name,
                                                      const std::string& deployment,
                                                      absl::Time from, absl::Time to,
                                                      absl::Duration step = absl::Minutes(1));

// The request query for the deployment's pods (exposed for tests and logs).
std::string PodCpuRequestQuery(const std::string& namespace_name, const std::string& deployment);

}  // namespace backtest
