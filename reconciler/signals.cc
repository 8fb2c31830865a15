#include "reconciler/signals.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace reconciler {
namespace {

using Map = absl::flat_hash_map<std::string, double>;

// Runs one query; fills `out` (key -> value x scale) and returns whether it answered.
bool RunOne(clients::prometheus::PrometheusClient* prom, absl::Time at, const char* name,
            const std::string& promql, bool by_node, double scale, Map* out, Signals* s) {
  ++s->queries;
  auto result = prom->Query(promql, at);
  if (!result.ok()) {
    ++s->failures;
    s->errors.push_back(absl::StrCat(name, ": ", result.status().ToString()));
    return false;
  }
  for (const auto& series : *result) {
    if (series.points.empty() || !std::isfinite(series.points.back().value)) continue;
    std::string key;
    if (by_node) {
      key = NodeKey(series.labels);
    } else {
      auto ns = series.labels.find("namespace");
      auto pod = series.labels.find("pod");
      if (ns == series.labels.end() || pod == series.labels.end()) continue;
      key = absl::StrCat(ns->second, "/", pod->second);
    }
    if (key.empty()) continue;
    (*out)[key] += series.points.back().value * scale;
  }
  return true;
}

}  // namespace

std::string NodeKey(const std::map<std::string, std::string>& labels) {
  auto node = labels.find("node");
  if (node != labels.end() && !node->second.empty()) return node->second;
  auto inst = labels.find("instance");
  if (inst == labels.end()) return "";
  std::string v = inst->second;
  // "[::1]:9100" -> "[::1]"; "host:9100" -> "host".
  size_t colon = v.rfind(':');
  if (colon != std::string::npos && v.find(']', colon) == std::string::npos) v.resize(colon);
  return v;
}

Signals GatherSignals(clients::prometheus::PrometheusClient* prom, absl::Time at,
                      const SignalQueries& q, int concurrency) {
  // The six queries are independent and, on a large cluster, each takes Prometheus a second
  // or more, so `concurrency` workers share them (round-robin, the big pod queries first). Each
  // job fills its own Signals; the results are merged after. More workers cut wall time but
  // hold more parsed responses in memory at once (tens of MB each at 50,000 pods).
  struct Job {
    const char* name;
    const std::string* promql;
    bool by_node;
    double scale;
    Map Signals::*map;
    bool Signals::*ok;
  };
  const Job jobs[] = {
      {"pod_cpu_10m", &q.pod_cpu_10m, false, 1000, &Signals::pod_cpu_10m, &Signals::pod_cpu_10m_ok},
      {"pod_cpu_5m", &q.pod_cpu_5m, false, 1000, &Signals::pod_cpu_5m, &Signals::pod_cpu_5m_ok},
      {"pod_cpu_1m", &q.pod_cpu_1m, false, 1000, &Signals::pod_cpu_1m, &Signals::pod_cpu_1m_ok},
      {"pod_memory", &q.pod_memory, false, 1, &Signals::pod_memory, &Signals::pod_memory_ok},
      {"node_cpu_10m", &q.node_cpu_10m, true, 1000, &Signals::node_cpu_10m,
       &Signals::node_cpu_10m_ok},
      {"node_cpu_5m", &q.node_cpu_5m, true, 1000, &Signals::node_cpu_5m, &Signals::node_cpu_5m_ok},
  };
  constexpr int kJobs = sizeof(jobs) / sizeof(jobs[0]);
  Signals partial[kJobs];
  const int workers = std::clamp(concurrency, 1, kJobs);
  auto work = [&](int w) {
    for (int i = w; i < kJobs; i += workers) {
      const Job& j = jobs[i];
      partial[i].*(j.ok) = RunOne(prom, at, j.name, *j.promql, j.by_node, j.scale,
                                  &(partial[i].*(j.map)), &partial[i]);
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (std::thread& t : threads) t.join();
  Signals s;
  for (int i = 0; i < kJobs; ++i) {
    const Job& j = jobs[i];
    s.*(j.map) = std::move(partial[i].*(j.map));
    s.*(j.ok) = partial[i].*(j.ok);
    s.queries += partial[i].queries;
    s.failures += partial[i].failures;
    s.errors.insert(s.errors.end(), partial[i].errors.begin(), partial[i].errors.end());
  }
  return s;
}

std::string DemandHistoryQuery(const std::string& namespace_name, const std::string& deployment) {
  // Label values in PromQL are double-quoted strings; Kubernetes names hold no quotes, but
  // escape anyway. Regex metacharacters cannot occur in DNS-1123 names except '.'.
  auto esc = [](const std::string& v) {
    return absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"\"", "\\\""}, {".", "\\\\."}});
  };
  return absl::StrCat("sum(rate(container_cpu_usage_seconds_total{namespace=\"",
                      absl::StrReplaceAll(namespace_name, {{"\\", "\\\\"}, {"\"", "\\\""}}),
                      "\",pod=~\"", esc(deployment),
                      "-[a-z0-9]+-[a-z0-9]+\",container!=\"\",container!=\"POD\"}[5m]))");
}

}  // namespace reconciler
