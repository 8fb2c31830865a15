#include "reconciler/reading.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

bool NodeMatches(const kube::Node& n, const std::map<std::string, std::string>& selector) {
  if (!n.ready || n.unschedulable) return false;
  for (const auto& [k, v] : selector) {
    auto it = n.metadata.labels.find(k);
    if (it == n.metadata.labels.end() || it->second != v) return false;
  }
  return true;
}

int64_t MemoryRequestBytes(const std::vector<kube::ContainerResources>& containers) {
  int64_t sum = 0;
  for (const auto& c : containers) sum += c.requests.memory_bytes.value_or(0);
  return sum;
}

}  // namespace

std::string NodeSelectorKey(const std::map<std::string, std::string>& node_selector) {
  std::string k;
  for (const auto& [a, b] : node_selector) absl::StrAppend(&k, a, "=", b, ",");
  return k;
}

NodePressureReading ReadNodePressure(const std::map<std::string, std::string>& node_selector,
                                     const std::vector<kube::Node>& nodes,
                                     const NodeRequests& requested, const Signals& signals) {
  std::vector<NodeUsage> usage;
  for (const kube::Node& n : nodes) {
    if (!NodeMatches(n, node_selector)) continue;
    NodeUsage u;
    u.allocatable_millicores = static_cast<double>(n.allocatable.cpu_millicores.value_or(0));
    auto req = requested.find(n.metadata.name);
    u.requested_millicores = req == requested.end() ? 0 : req->second;
    absl::optional<double> u10, u5;
    if (signals.node_cpu_10m_ok) u10 = signals.Get(signals.node_cpu_10m, n.metadata.name);
    if (signals.node_cpu_5m_ok) u5 = signals.Get(signals.node_cpu_5m, n.metadata.name);
    u.used_millicores = BlendCpuRates(u10, u5);
    usage.push_back(u);
  }
  return {ClassifyNodePressure(usage), static_cast<int>(usage.size())};
}

Reading ReadDeployment(const kube::Deployment& d, const std::vector<const kube::Pod*>& pods,
                       const Signals& signals, const NodePressureReading& node_pressure,
                       absl::Time now, absl::Duration startup_filter) {
  Reading r;
  r.cpu_request_millicores = d.TotalCpuRequestMillicores();
  r.memory_request_bytes = MemoryRequestBytes(d.containers);
  for (const kube::ContainerResources& c : d.containers) {
    if (!c.limits.cpu_millicores) {
      r.cpu_limit_millicores = 0;
      break;
    }
    r.cpu_limit_millicores += *c.limits.cpu_millicores;
  }
  std::vector<PodUsage> usage;
  int64_t mem_request_total = 0;
  double mem_used_total = 0;
  bool mem_any = false;
  const absl::Time youngest_cutoff = now - startup_filter;
  for (const kube::Pod* p : pods) {
    if (p->phase != "Running") continue;
    PodUsage u;
    u.start_time = p->start_time.value_or(p->metadata.creation_timestamp.value_or(now));
    u.ready = p->ready && !p->metadata.deletion_timestamp;
    if (u.ready) ++r.ready_pods;
    u.cpu_request_millicores = p->TotalCpuRequestMillicores();
    const std::string key = absl::StrCat(p->metadata.namespace_name, "/", p->metadata.name);
    if (signals.pod_cpu_10m_ok) u.cpu_10m_millicores = signals.Get(signals.pod_cpu_10m, key);
    if (signals.pod_cpu_5m_ok) u.cpu_5m_millicores = signals.Get(signals.pod_cpu_5m, key);
    if (signals.pod_cpu_1m_ok) u.cpu_1m_millicores = signals.Get(signals.pod_cpu_1m, key);
    usage.push_back(u);
    // Memory follows the same startup filter.
    if (signals.pod_memory_ok && u.start_time <= youngest_cutoff) {
      if (auto m = signals.Get(signals.pod_memory, key)) {
        mem_used_total += *m;
        mem_any = true;
        mem_request_total += MemoryRequestBytes(p->containers);
      }
    }
  }
  r.pods = static_cast<int>(usage.size());
  PodFilter filter = FilterStartupPods(usage, now, std::max(startup_filter, kRateCoverage));
  r.young_pods_excluded = filter.excluded;
  r.all_pods_young = filter.all_young;
  r.blended_pct = BlendedCpuPct(filter.pods);
  r.demand_cores = BlendedDemandCores(filter.pods);
  r.windows = SumPodRates(usage);
  // Total demand for the forecaster: every pod's share, not only the counted pods'.
  if (r.demand_cores) r.demand_cores = BlendCpuRates(r.windows.cores_10m, r.windows.cores_5m);
  if (r.cpu_limit_millicores > 0) {
    double used = 0, limit = 0;
    for (const PodUsage& p : filter.pods) {
      const absl::optional<double> recent =
          p.cpu_1m_millicores ? p.cpu_1m_millicores : p.cpu_5m_millicores;
      if (!recent) continue;
      used += *recent;
      limit += r.cpu_limit_millicores;
    }
    r.saturated = limit > 0 && used >= kSaturatedShare * limit;
  }
  if (mem_any && mem_request_total > 0) r.memory_pct = 100.0 * mem_used_total / mem_request_total;
  if (mem_any) r.memory_working_set_bytes = mem_used_total;
  r.confidence = ReadingConfidence(usage, filter, now);
  r.node_pressure = node_pressure.node_pressure;
  r.nodes = node_pressure.nodes;
  return r;
}

}  // namespace reconciler
