#include "backtest/prometheus_source.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "reconciler/signals.h"

namespace backtest {

std::string PodCpuRequestQuery(const std::string& namespace_name, const std::string& deployment) {
  auto quote = [](const std::string& v) {
    return absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"\"", "\\\""}});
  };
  auto regex = [](const std::string& v) {
    return absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"\"", "\\\""}, {".", "\\\\."}});
  };
  return absl::StrCat("max(sum by (pod) (kube_pod_container_resource_requests{namespace=\"",
                      quote(namespace_name), "\",pod=~\"", regex(deployment),
                      "-[a-z0-9]+-[a-z0-9]+\",resource=\"cpu\"}))");
}

absl::StatusOr<PrometheusWorkload> LoadFromPrometheus(clients::prometheus::PrometheusClient* prom,
                                                      const std::string& namespace_name,
                                                      const std::string& deployment,
                                                      absl::Time from, absl::Time to,
                                                      absl::Duration step) {
  if (!(to > from) || step <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the range must end after it starts, with a step > 0");
  }
  const std::string query = reconciler::DemandHistoryQuery(namespace_name, deployment);
  std::map<absl::Time, double> points;
  const absl::Duration chunk = step * 10000;
  for (absl::Time a = from; a <= to; a += chunk + step) {
    const absl::Time b = std::min(to, a + chunk);
    auto r = prom->QueryRange(query, a, b, step);
    if (!r.ok()) return r.status();
    for (const auto& series : *r) {
      for (const auto& p : series.points) {
        if (std::isfinite(p.value) && p.value >= 0) points[p.time] = p.value;
      }
    }
  }
  if (points.empty()) {
    return absl::NotFoundError(absl::StrCat("no CPU demand for ", namespace_name, "/", deployment,
                                            " in Prometheus: ", query));
  }
  PrometheusWorkload w;
  for (const auto& [t, v] : points) w.demand.push_back({t, v});
  auto req = prom->Query(PodCpuRequestQuery(namespace_name, deployment), to);
  if (!req.ok()) return req.status();
  if (!req->empty() && !req->front().points.empty()) {
    const double cores = req->front().points.back().value;
    if (std::isfinite(cores) && cores > 0) {
      w.pod_cpu_request_millicores = static_cast<int64_t>(std::llround(cores * 1000));
    }
  }
  return w;
}

}  // namespace backtest
