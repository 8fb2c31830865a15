// loop_cycle_bench: the CPU of one reconcile cycle of the loop itself, in process. The
// cluster view is a fixed ClusterState and Prometheus a client that hands back prepared
// typed series (no HTTP, no JSON), so what is measured is the loop's own work: targets, the
// pod join, readings, node pressure, decisions, forecasts and the table. The clock advances
// one minute per cycle (a 5-minute bucket closes every fifth cycle).
//
//   bazel run -c opt //tests/bench:loop_cycle_bench -- --benchmark_repetitions=5
//
// Arguments: deployments (10 pods each, 500 nodes), ENABLE_PREDICTIVE.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "benchmark/benchmark.h"
#include "clients/prometheus/prometheus.h"
#include "reconciler/cluster.h"
#include "reconciler/config.h"
#include "reconciler/loop.h"

namespace {

namespace kube = clients::kube;
namespace prom = clients::prometheus;

const absl::Time kStart = absl::FromUnixSeconds(1764000000);

class FixedCluster : public reconciler::ClusterSource {
 public:
  explicit FixedCluster(std::shared_ptr<const reconciler::ClusterState> s) : s_(std::move(s)) {}
  absl::StatusOr<std::shared_ptr<const reconciler::ClusterState>> Snapshot() override {
    return s_;
  }
  std::string Describe() const override { return "bench"; }

 private:
  std::shared_ptr<const reconciler::ClusterState> s_;
};

// Prepared answers to the five signal queries; range queries answer an empty series.
class PreparedPrometheus : public prom::PrometheusClient {
 public:
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view promql,
                                                  absl::Time) override {
    if (absl::StrContains(promql, "node_cpu_seconds_total")) return nodes;
    if (absl::StrContains(promql, "memory")) return pod_memory;
    return pod_cpu;
  }
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view, absl::Time,
                                                       absl::Time, absl::Duration) override {
    return std::vector<prom::Series>{prom::Series{}};
  }
  std::vector<prom::Series> pod_cpu, pod_memory, nodes;
};

prom::Series PodSeries(const std::string& ns, const std::string& pod, double value) {
  prom::Series s;
  s.labels["namespace"] = ns;
  s.labels["pod"] = pod;
  s.points.push_back({kStart, value});
  return s;
}

std::shared_ptr<reconciler::ClusterState> MakeCluster(int deployments, int pods, int nodes,
                                                      PreparedPrometheus* p) {
  auto s = std::make_shared<reconciler::ClusterState>();
  for (int n = 0; n < nodes; ++n) {
    kube::Node node;
    node.metadata.name = absl::StrCat("node-", n);
    node.allocatable.cpu_millicores = 16000;
    node.ready = true;
    s->nodes.push_back(node);
    prom::Series series;
    series.labels["instance"] = node.metadata.name + ":9100";
    series.points.push_back({kStart, 6.0 + n % 5});
    p->nodes.push_back(series);
  }
  for (int d = 0; d < deployments; ++d) {
    const std::string ns = absl::StrCat("ns-", d % 50);
    const std::string name = absl::StrCat("app-", d);
    kube::Deployment dep;
    dep.metadata.namespace_name = ns;
    dep.metadata.name = name;
    kube::ContainerResources c;
    c.name = "app";
    c.requests.cpu_millicores = 250 + 50 * (d % 8);
    c.requests.memory_bytes = int64_t{256} << 20;
    dep.containers.push_back(c);
    s->deployments.push_back(dep);
    kube::HorizontalPodAutoscaler h;
    h.metadata.namespace_name = ns;
    h.metadata.name = name;
    h.scale_target_ref = {"apps/v1", "Deployment", name};
    kube::HpaMetric m;
    m.type = "External";
    m.name = "smart_cpu_pressure";
    m.selector.match_labels["deployment"] = name;
    h.metrics.push_back(m);
    s->hpas.push_back(h);
    kube::ReplicaSet rs;
    rs.metadata.namespace_name = ns;
    rs.metadata.name = name + "-5d9f";
    rs.metadata.owner_references.push_back({"apps/v1", "Deployment", name, "uid", true});
    s->replica_sets.push_back(rs);
    for (int i = 0; i < pods; ++i) {
      kube::Pod pod;
      pod.metadata.namespace_name = ns;
      pod.metadata.name = absl::StrCat(rs.metadata.name, "-p", i);
      pod.metadata.owner_references.push_back(
          {"apps/v1", "ReplicaSet", rs.metadata.name, "u", true});
      pod.node_name = absl::StrCat("node-", (d * pods + i) % nodes);
      pod.phase = "Running";
      pod.ready = true;
      pod.start_time = kStart - absl::Hours(2);
      pod.containers = dep.containers;
      s->pods.push_back(pod);
      p->pod_cpu.push_back(PodSeries(ns, pod.metadata.name, 0.1 + 0.01 * (i + d % 7)));
      p->pod_memory.push_back(PodSeries(ns, pod.metadata.name, 100.0 * (1 << 20)));
    }
  }
  return s;
}

void BM_ReconcileCycle(benchmark::State& state) {
  PreparedPrometheus prom;
  FixedCluster cluster(MakeCluster(static_cast<int>(state.range(0)), 10, 500, &prom));
  reconciler::Config config;
  config.enable_predictive = state.range(1) != 0;
  base::FakeClock clock(kStart);
  reconciler::Reconciler r(config, &cluster, &prom, /*store=*/nullptr, &clock);
  for (int i = 0; i < 10; ++i) {  // past the first cycles' history loads
    r.RunCycle();
    clock.Advance(absl::Minutes(1));
  }
  for (auto _ : state) {
    reconciler::CycleReport report = r.RunCycle();
    benchmark::DoNotOptimize(report.points);
    clock.Advance(absl::Minutes(1));
  }
}
BENCHMARK(BM_ReconcileCycle)->Args({5000, 0})->Args({5000, 1})->Unit(benchmark::kMillisecond);

}  // namespace
