#include "reconciler/loop.h"

#include <atomic>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/records.pb.h"
#include "reconciler/costs/costs.h"
#include "storage/store.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;
namespace prom = clients::prometheus;

const absl::Time kStart = absl::FromUnixSeconds(1764000000);  // a Monday, 16:00 UTC

// A cluster view set directly by the test.
class FixedCluster : public ClusterSource {
 public:
  absl::StatusOr<std::shared_ptr<const ClusterState>> Snapshot() override {
    if (fail) return absl::UnavailableError("informers not synced yet");
    return std::make_shared<const ClusterState>(state);
  }
  std::string Describe() const override { return "test"; }
  ClusterState state;
  bool fail = false;
};

// Answers the five signal queries from per-pod / per-node values and counts every query.
class FakePrometheus : public prom::PrometheusClient {
 public:
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view promql,
                                                  absl::Time at) override {
    ++queries;
    if (down) return absl::UnavailableError("connection refused");
    std::vector<prom::Series> out;
    bool node = absl::StrContains(promql, "node_cpu_seconds_total");
    bool memory = absl::StrContains(promql, "memory");
    bool five = absl::StrContains(promql, "[5m]");
    const auto& src = node ? (five ? node_cpu5 : node_cpu10)
                           : memory ? pod_memory : (five ? pod_cpu5 : pod_cpu10);
    for (const auto& [key, value] : src) {
      prom::Series s;
      if (node) {
        s.labels["instance"] = key + ":9100";
      } else {
        size_t slash = key.find('/');
        s.labels["namespace"] = key.substr(0, slash);
        s.labels["pod"] = key.substr(slash + 1);
      }
      s.points.push_back({at, value});
      out.push_back(s);
    }
    return out;
  }
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view promql, absl::Time from,
                                                       absl::Time to,
                                                       absl::Duration step) override {
    ++range_queries;
    if (down) return absl::UnavailableError("connection refused");
    last_range_query = std::string(promql);
    prom::Series s;
    if (history) {
      for (absl::Time t = from; t <= to; t += step) s.points.push_back({t, history(t)});
    }
    return std::vector<prom::Series>{s};
  }

  std::map<std::string, double> pod_cpu10, pod_cpu5, pod_memory, node_cpu10, node_cpu5;
  std::function<double(absl::Time)> history;
  std::string last_range_query;
  std::atomic<int> queries{0};  // queries run concurrently
  std::atomic<int> range_queries{0};
  bool down = false;
};

kube::Deployment MakeDeployment(const std::string& ns, const std::string& name,
                                int64_t cpu_request_m) {
  kube::Deployment d;
  d.metadata.namespace_name = ns;
  d.metadata.name = name;
  kube::ContainerResources c;
  c.name = "app";
  c.requests.cpu_millicores = cpu_request_m;
  c.requests.memory_bytes = int64_t{512} << 20;
  d.containers.push_back(c);
  return d;
}

kube::HorizontalPodAutoscaler SmartHpa(const std::string& ns, const std::string& deployment) {
  kube::HorizontalPodAutoscaler h;
  h.metadata.namespace_name = ns;
  h.metadata.name = deployment;
  h.scale_target_ref = {"apps/v1", "Deployment", deployment};
  kube::HpaMetric m;
  m.type = "External";
  m.name = "smart_cpu_pressure";
  m.selector.match_labels["deployment"] = deployment;
  h.metrics.push_back(m);
  return h;
}

// Adds a deployment with `pods` pods (via one ReplicaSet) on node "n1" and its smart HPA.
void AddWorkload(ClusterState* s, FakePrometheus* p, const std::string& ns,
                 const std::string& name, int pods, int64_t request_m, double cpu10_m,
                 double cpu5_m, absl::Time started) {
  s->deployments.push_back(MakeDeployment(ns, name, request_m));
  s->hpas.push_back(SmartHpa(ns, name));
  kube::ReplicaSet rs;
  rs.metadata.namespace_name = ns;
  rs.metadata.name = name + "-5d9f";
  rs.metadata.owner_references.push_back({"apps/v1", "Deployment", name, "uid", true});
  s->replica_sets.push_back(rs);
  for (int i = 0; i < pods; ++i) {
    kube::Pod pod;
    pod.metadata.namespace_name = ns;
    pod.metadata.name = absl::StrCat(name, "-5d9f-p", i);
    pod.metadata.owner_references.push_back({"apps/v1", "ReplicaSet", rs.metadata.name, "u", true});
    pod.node_name = "n1";
    pod.phase = "Running";
    pod.ready = true;
    pod.start_time = started;
    pod.containers = s->deployments.back().containers;
    s->pods.push_back(pod);
    std::string key = ns + "/" + pod.metadata.name;
    p->pod_cpu10[key] = cpu10_m / 1000;  // cores, as Prometheus reports
    p->pod_cpu5[key] = cpu5_m / 1000;
    p->pod_memory[key] = 256.0 * (1 << 20);
  }
}

void AddNode(ClusterState* s, FakePrometheus* p, const std::string& name, int64_t alloc_m,
             double used_m) {
  kube::Node n;
  n.metadata.name = name;
  n.allocatable.cpu_millicores = alloc_m;
  n.ready = true;
  s->nodes.push_back(n);
  p->node_cpu10[name] = used_m / 1000;
  p->node_cpu5[name] = used_m / 1000;
}

double Value(const std::vector<MetricPoint>& table, const std::string& deployment,
             const std::string& metric) {
  for (const MetricPoint& p : table) {
    if (p.deployment == deployment && p.metric == metric) return p.value;
  }
  return NAN;
}

class LoopTest : public ::testing::Test {
 protected:
  LoopTest() : clock_(kStart) {}
  Config MakeConfig() {
    Config c;
    c.enable_predictive = false;
    return c;
  }
  base::FakeClock clock_;
  FixedCluster cluster_;
  FakePrometheus prom_;
};

TEST_F(LoopTest, ServesTheBlendAndPressureOfADiscoveredDeployment) {
  // 2 pods, 500m request each, 10m rate 300m and 5m rate 400m per pod: blend 330m = 66 %.
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 500, 300, 400, kStart - absl::Hours(1));
  // A node at 40 % with 1000m of 4000m requested: safe pressure, 75 % schedulable.
  AddNode(&cluster_.state, &prom_, "n1", 4000, 1600);
  Reconciler r(MakeConfig(), &cluster_, &prom_, nullptr, &clock_);
  CycleReport rep = r.RunCycle();
  EXPECT_EQ(rep.deployments, 1);
  EXPECT_EQ(rep.served, 1);
  EXPECT_EQ(rep.queries, 6);
  auto table = r.Table();
  EXPECT_NEAR(Value(table, "api", "smart_cpu_blended"), 66.0, 1e-9);
  // Predictive off, but the 5-minute rate above the 10-minute one is a rise: its trend to the
  // end of the windows, 2 x 400m - 300m = 500m per pod = 100 %, is served.
  EXPECT_NEAR(Value(table, "api", "smart_cpu_predicted"), 100.0, 1e-9);
  double target = Value(table, "api", "smart_cpu_target");
  // Safe pressure with 75 % schedulable: the top of the safe band.
  EXPECT_NEAR(target, 85.0, 1e-9);
  EXPECT_NEAR(Value(table, "api", "smart_cpu_pressure"), 100.0 / 85.0, 1e-9);
  EXPECT_NEAR(Value(table, "api", "smart_memory_blended"), 50.0, 1e-9);
  for (const MetricPoint& p : table) EXPECT_EQ(p.timestamp, kStart);
  auto st = r.Statuses();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].source, "hpa/api");
  EXPECT_EQ(st[0].pressure.level, PressureLevel::kSafe);
  EXPECT_EQ(st[0].ready_pods, 2);
}

// Thrashing is counted from the HPA's status.currentReplicas as the informer sees it.
TEST_F(LoopTest, StatusCarriesTheHpaCurrentReplicas) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 500, 300, 400, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 1600);
  Reconciler r(MakeConfig(), &cluster_, &prom_, nullptr, &clock_);
  r.RunCycle();
  EXPECT_FALSE(r.Statuses()[0].hpa_current_replicas.has_value());  // no status reported yet
  cluster_.state.hpas[0].current_replicas = 5;  // differs from the 2 pods: the HPA's view
  clock_.Advance(absl::Minutes(1));
  r.RunCycle();
  EXPECT_EQ(r.Statuses()[0].hpa_current_replicas, 5);
  cluster_.state.hpas[0].scale_target_ref.name = "other";
  clock_.Advance(absl::Minutes(1));
  r.RunCycle();
  ASSERT_EQ(r.Statuses().size(), 1u);
  EXPECT_FALSE(r.Statuses()[0].hpa_current_replicas.has_value());
}

TEST_F(LoopTest, QueriesPerCycleDoNotGrowWithDeployments) {
  for (int n : {10, 1000}) {
    FixedCluster cluster;
    FakePrometheus prom;
    for (int i = 0; i < n; ++i) {
      AddWorkload(&cluster.state, &prom, "ns" + std::to_string(i % 7), "d" + std::to_string(i),
                  3, 200, 100, 120, kStart - absl::Hours(2));
    }
    AddNode(&cluster.state, &prom, "n1", 1000000, 100000);
    Reconciler r(MakeConfig(), &cluster, &prom, nullptr, &clock_);
    CycleReport rep = r.RunCycle();
    EXPECT_EQ(rep.deployments, n);
    EXPECT_EQ(rep.served, n);
    EXPECT_EQ(prom.queries, 6) << n << " deployments";
    EXPECT_EQ(rep.points, 5 * n);
  }
}

TEST_F(LoopTest, YoungPodsAreLeftOutOfTheBlend) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, 500, 500, kStart - absl::Hours(1));
  // A third pod started 30 s ago, spiking at 1000m.
  kube::Pod young = cluster_.state.pods.back();
  young.metadata.name = "api-5d9f-young";
  young.start_time = kStart - absl::Seconds(30);
  cluster_.state.pods.push_back(young);
  prom_.pod_cpu10["shop/api-5d9f-young"] = 1.0;
  prom_.pod_cpu5["shop/api-5d9f-young"] = 1.0;
  AddNode(&cluster_.state, &prom_, "n1", 8000, 2000);
  Reconciler r(MakeConfig(), &cluster_, &prom_, nullptr, &clock_);
  r.RunCycle();
  EXPECT_NEAR(Value(r.Table(), "api", "smart_cpu_blended"), 50.0, 1e-9);
  EXPECT_EQ(r.Statuses()[0].young_pods_excluded, 1);
}

TEST_F(LoopTest, PrometheusOutageKeepsLastKnownGoodValuesAndTargets) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 500, 300, 300, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 1600);
  Reconciler r(MakeConfig(), &cluster_, &prom_, nullptr, &clock_);
  r.RunCycle();
  auto before = r.Table();
  prom_.down = true;
  clock_.Advance(absl::Minutes(10));
  CycleReport rep = r.RunCycle();
  EXPECT_EQ(rep.query_failures, 6);
  EXPECT_EQ(rep.held, 1);
  auto after = r.Table();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].value, before[i].value) << after[i].metric;
    EXPECT_EQ(after[i].timestamp, kStart) << "the old timestamp lets the adapter expire it";
  }
  EXPECT_NE(r.Statuses()[0].note.find("last-known-good"), std::string::npos);
  // Back up: fresh values with the new time.
  prom_.down = false;
  clock_.Advance(absl::Minutes(1));
  r.RunCycle();
  for (const MetricPoint& p : r.Table()) EXPECT_EQ(p.timestamp, clock_.Now());
}

TEST_F(LoopTest, UnknownNodePressureNeverLowersTheTarget) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 500, 300, 300, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 400);  // safe
  Reconciler r(MakeConfig(), &cluster_, &prom_, nullptr, &clock_);
  r.RunCycle();
  double safe_target = Value(r.Table(), "api", "smart_cpu_target");
  EXPECT_GT(safe_target, 70);
  prom_.node_cpu10.clear();  // node_exporter gone: pressure unknown (base would be 70)
  prom_.node_cpu5.clear();
  clock_.Advance(absl::Minutes(10));
  r.RunCycle();
  EXPECT_EQ(r.Statuses()[0].pressure.level, PressureLevel::kUnknown);
  EXPECT_EQ(Value(r.Table(), "api", "smart_cpu_target"), safe_target);
}

TEST_F(LoopTest, CooldownHoldsTargetChangesButCriticalBypassesIt) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 500, 300, 300, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 2800);  // 70 %: warning -> base 70
  Reconciler r(MakeConfig(), &cluster_, &prom_, nullptr, &clock_);
  r.RunCycle();
  EXPECT_EQ(Value(r.Table(), "api", "smart_cpu_target"), 70);
  prom_.node_cpu10["n1"] = prom_.node_cpu5["n1"] = 0.4;  // 10 %: safe -> 85
  clock_.Advance(absl::Minutes(1));
  r.RunCycle();
  EXPECT_EQ(Value(r.Table(), "api", "smart_cpu_target"), 70) << "within the 5-minute cooldown";
  clock_.Advance(absl::Minutes(5));
  r.RunCycle();
  EXPECT_EQ(Value(r.Table(), "api", "smart_cpu_target"), 85);
  prom_.node_cpu10["n1"] = prom_.node_cpu5["n1"] = 3.9;  // 97.5 %: critical -> 50, at once
  clock_.Advance(absl::Minutes(1));
  r.RunCycle();
  EXPECT_EQ(Value(r.Table(), "api", "smart_cpu_target"), 50);
}

TEST_F(LoopTest, AnnotationsOptInOptOutAndStaticTargets) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 1, 500, 100, 100, kStart - absl::Hours(1));
  AddWorkload(&cluster_.state, &prom_, "shop", "web", 1, 500, 100, 100, kStart - absl::Hours(1));
  AddWorkload(&cluster_.state, &prom_, "shop", "batch", 1, 500, 100, 100, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 400);
  cluster_.state.hpas.clear();
  cluster_.state.deployments[0].metadata.annotations["smart-autoscaler.io/enabled"] = "true";
  cluster_.state.hpas.push_back(SmartHpa("shop", "web"));
  cluster_.state.deployments[1].metadata.annotations["smart-autoscaler.io/enabled"] = "false";
  Config c = MakeConfig();
  c.deployments.push_back({"shop", "batch", "batch", absl::Minutes(2), "low"});
  Reconciler r(c, &cluster_, &prom_, nullptr, &clock_);
  r.RunCycle();
  std::vector<std::string> names;
  for (const auto& s : r.Statuses()) names.push_back(s.name + ":" + s.source);
  EXPECT_EQ(names, (std::vector<std::string>{"api:annotation", "batch:env/DEPLOYMENT_0"}));
}

TEST_F(LoopTest, NoClusterViewServesTheLastTable) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 1, 500, 100, 100, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 400);
  Reconciler r(MakeConfig(), &cluster_, &prom_, nullptr, &clock_);
  r.RunCycle();
  cluster_.fail = true;
  CycleReport rep = r.RunCycle();
  ASSERT_EQ(rep.errors.size(), 1u);
  EXPECT_EQ(r.Table().size(), 5u);
}

class RecordingPatcher : public HpaPatcher {
 public:
  absl::Status PatchCpuTarget(const std::string& ns, const std::string& hpa, int index,
                              int32_t expected, int32_t target) override {
    calls.push_back(absl::StrCat(ns, "/", hpa, "[", index, "] ", expected, "->", target));
    return absl::OkStatus();
  }
  std::vector<std::string> calls;
};

TEST_F(LoopTest, LegacyPatchModeHonoursDryRun) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 500, 300, 300, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 400);  // safe -> 85
  kube::HorizontalPodAutoscaler classic = SmartHpa("shop", "api");
  classic.metadata.name = "api-cpu";
  classic.metrics.clear();
  kube::HpaMetric cpu;
  cpu.type = "Resource";
  cpu.name = "cpu";
  cpu.target.type = "Utilization";
  cpu.target.average_utilization = 60;
  classic.metrics.push_back(cpu);
  cluster_.state.hpas.push_back(classic);
  RecordingPatcher patcher;
  Config c = MakeConfig();
  c.hpa_patch_mode = true;
  c.dry_run = true;
  {
    Reconciler r(c, &cluster_, &prom_, nullptr, &clock_, &patcher);
    EXPECT_EQ(r.RunCycle().patches, 1);
    EXPECT_TRUE(patcher.calls.empty());
  }
  c.dry_run = false;
  Reconciler r(c, &cluster_, &prom_, nullptr, &clock_, &patcher);
  EXPECT_EQ(r.RunCycle().patches, 1);
  EXPECT_EQ(patcher.calls, std::vector<std::string>{"shop/api-cpu[0] 60->85"});
  // DEPLOYMENT_<N>_HPA_NAME names the HPA to patch, whatever its scaleTargetRef says.
  patcher.calls.clear();
  cluster_.state.hpas.back().scale_target_ref.name = "renamed";
  c.deployments.push_back({"shop", "api", "api-cpu", absl::Minutes(2), "medium"});
  c.enable_auto_discovery = false;
  Reconciler by_name(c, &cluster_, &prom_, nullptr, &clock_, &patcher);
  EXPECT_EQ(by_name.RunCycle().patches, 1);
  EXPECT_EQ(patcher.calls, std::vector<std::string>{"shop/api-cpu[0] 60->85"});
}

TEST_F(LoopTest, ForecastIsBackfilledValidatedAndRaisesPredictedAheadOfARise) {
  // Demand follows a daily cycle between 0.5 and 1.5 cores; now (16:00 UTC) it is rising.
  auto demand = [](absl::Time t) {
    double day = absl::ToDoubleHours(t - absl::UnixEpoch()) / 24.0;
    return 1.0 + 0.5 * std::sin(2 * M_PI * (day - 0.5));
  };
  prom_.history = demand;
  double now_cores = demand(kStart);
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, now_cores * 500,
              now_cores * 500, kStart - absl::Hours(72));
  AddNode(&cluster_.state, &prom_, "n1", 16000, 4000);
  Config c = MakeConfig();
  c.enable_predictive = true;
  c.lead_time = absl::Minutes(60);
  Reconciler r(c, &cluster_, &prom_, nullptr, &clock_);
  std::vector<std::pair<std::string, size_t>> observed;  // the anomaly detectors' seed
  r.SetHistoryObserver([&](const std::string& ns, const std::string& name,
                           const std::vector<std::pair<absl::Time, double>>& points) {
    observed.push_back({ns + "/" + name, points.size()});
    for (size_t i = 1; i < points.size(); ++i) ASSERT_LT(points[i - 1].first, points[i].first);
  });
  CycleReport rep = r.RunCycle();
  EXPECT_EQ(rep.backfill_queries, 1);
  EXPECT_NE(prom_.last_range_query.find("pod=~\"api-[a-z0-9]+-[a-z0-9]+\""), std::string::npos);
  auto st = r.Statuses()[0];
  EXPECT_EQ(st.history_points, 7 * 24 * 12);
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(observed[0], std::make_pair(std::string("shop/api"), size_t{7 * 24 * 12}));
  // A week of history: the auto-tuned target is learned and within its bounds.
  ASSERT_TRUE(st.learned_target_pct.has_value());
  EXPECT_GE(*st.learned_target_pct, 50);
  EXPECT_LE(*st.learned_target_pct, 90);
  EXPECT_GE(st.forecast_validated, 10);
  EXPECT_TRUE(st.forecast_trusted) << st.forecast_note;
  ASSERT_TRUE(st.forecast_peak_p90_cores.has_value());
  EXPECT_GT(*st.forecast_peak_p90_cores, now_cores);
  double blended = Value(r.Table(), "api", "smart_cpu_blended");
  double predicted = Value(r.Table(), "api", "smart_cpu_predicted");
  EXPECT_GT(predicted, blended) << "demand is rising: the forecast leads the blend";
  // Predicted = p90 peak demand / (2 ready pods x 1 core).
  EXPECT_NEAR(predicted, 100 * *st.forecast_peak_p90_cores / 2, 1e-9);
  // A second cycle does not backfill again (nor hand the history over again).
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(r.RunCycle().backfill_queries, 0);
  EXPECT_EQ(observed.size(), 1u);
}

// Answers grouped range queries with one pod of "api" at 0.8 cores every step.
class GroupedHistoryPrometheus : public prom::PrometheusClient {
 public:
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view, absl::Time) override {
    return absl::UnimplementedError("range queries only");
  }
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view promql, absl::Time from,
                                                       absl::Time to,
                                                       absl::Duration step) override {
    EXPECT_TRUE(absl::StrContains(promql, "sum by (namespace, pod)")) << promql;
    prom::Series s;
    s.labels = {{"namespace", "shop"}, {"pod", "api-5d9f-x2b7q"}};
    for (absl::Time t = from; t <= to; t += step) s.points.push_back({t, 0.8});
    return std::vector<prom::Series>{s};
  }
};

TEST_F(LoopTest, BackgroundBackfillerSeedsTheForecasterWithoutPerCycleQueries) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, 400, 400, kStart - absl::Hours(72));
  AddNode(&cluster_.state, &prom_, "n1", 16000, 4000);
  Config c = MakeConfig();
  c.enable_predictive = true;
  c.backfills_per_cycle = 0;  // the per-cycle fallback is off: only the backfiller loads
  GroupedHistoryPrometheus history_prom;
  BackfillOptions o;
  o.queries_per_second = 100;
  Backfiller backfiller(&history_prom, &base::RealClock(), o);
  Reconciler r(c, &cluster_, &prom_, nullptr, &clock_);
  r.SetBackfiller(&backfiller);
  size_t observed_points = 0;
  r.SetHistoryObserver([&](const std::string&, const std::string& name,
                           const std::vector<std::pair<absl::Time, double>>& points) {
    EXPECT_EQ(name, "api");
    observed_points += points.size();
  });
  CycleReport rep = r.RunCycle();  // starts it
  EXPECT_EQ(rep.backfill_queries, 0);
  EXPECT_EQ(prom_.range_queries, 0);
  ASSERT_TRUE(backfiller.WaitDone(absl::Seconds(30)));
  clock_.Advance(absl::Minutes(1));
  rep = r.RunCycle();
  EXPECT_EQ(rep.histories_loaded, 1);
  EXPECT_EQ(r.Statuses()[0].history_points, 7 * 24 * 12);
  EXPECT_EQ(observed_points, size_t{7 * 24 * 12});
  EXPECT_EQ(backfiller.progress().loaded, 1);
}

TEST_F(LoopTest, StoresSamplesDecisionsForecastsAndBackfillsFromTheStoreAfterARestart) {
  auto demand = [](absl::Time t) {
    return 1.0 + 0.5 * std::sin(2 * M_PI * absl::ToDoubleHours(t - absl::UnixEpoch()) / 24);
  };
  prom_.history = demand;
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, 500, 500, kStart - absl::Hours(72));
  AddNode(&cluster_.state, &prom_, "n1", 16000, 4000);
  storage::Options so;
  so.path = std::string(getenv("TEST_TMPDIR")) + "/db";
  so.clock = &clock_;  // retention is relative to the test's clock
  auto store = storage::OpenRocksStore(so);
  ASSERT_TRUE(store.ok()) << store.status();
  cluster_.state.deployments[0].metadata.annotations["smart-autoscaler.io/lead-time"] = "20";
  Config c = MakeConfig();
  c.enable_predictive = true;
  {
    Reconciler r(c, &cluster_, &prom_, store->get(), &clock_);
    r.RunCycle();
    clock_.Advance(absl::Minutes(5));
    r.RunCycle();  // closes the first 5-minute bucket: a forecast is made and stored
  }
  auto blended = (*store)->LookupSeries({"shop", "api", "smart_cpu_blended", {}});
  ASSERT_TRUE(blended.ok());
  EXPECT_EQ((*store)->Scan(*blended, kStart, clock_.Now() + absl::Seconds(1))->size(), 2u);
  auto decisions = (*store)->ScanEvents(storage::EventLog::kDecisions, kStart - absl::Hours(1),
                                        clock_.Now() + absl::Seconds(1));
  ASSERT_TRUE(decisions.ok());
  EXPECT_EQ(decisions->size(), 1u) << "the first target is a decision; an unchanged one is not";
  auto forecasts = (*store)->ScanEvents(storage::EventLog::kForecasts, kStart - absl::Hours(1),
                                        clock_.Now() + absl::Seconds(1));
  ASSERT_TRUE(forecasts.ok());
  ASSERT_EQ(forecasts->size(), 1u);
  smartautoscaler::v1::Forecast f;
  ASSERT_TRUE(f.ParseFromString((*forecasts)[0].payload));
  EXPECT_EQ(f.lead_ms(), 20 * 60 * 1000) << "the per-workload lead-time annotation wins";
  EXPECT_EQ(f.path_size(), 4);  // the lead window in 5-minute steps

  // The first cycle's backfill from Prometheus went to the store: a restarted reconciler
  // with no query budget loads the week from there and does not ask Prometheus.
  auto demand_id = (*store)->LookupSeries({"shop", "api", "cpu_demand_cores", {}});
  ASSERT_TRUE(demand_id.ok());
  EXPECT_GE((*store)->Scan(*demand_id, kStart - absl::Hours(7 * 24), kStart)->size(),
            7 * 24 * 12 - 1u);
  int range_before = prom_.range_queries;
  c.backfills_per_cycle = 0;  // no query budget: local histories load anyway
  Reconciler restarted(c, &cluster_, &prom_, store->get(), &clock_);
  clock_.Advance(absl::Minutes(1));
  CycleReport rep = restarted.RunCycle();
  EXPECT_EQ(rep.backfill_queries, 0);
  EXPECT_EQ(prom_.range_queries, range_before);
  EXPECT_GE(restarted.Statuses()[0].history_points, 7 * 24 * 12 - 1);
}

TEST_F(LoopTest, MonthlyBudgetCapsTheForecastHeadroomButNeverTheMeasuredLoad) {
  // The rising daily cycle of the forecast test: the trusted forecast leads the blend.
  auto demand = [](absl::Time t) {
    double day = absl::ToDoubleHours(t - absl::UnixEpoch()) / 24.0;
    return 1.0 + 0.5 * std::sin(2 * M_PI * (day - 0.5));
  };
  prom_.history = demand;
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, demand(kStart) * 500,
              demand(kStart) * 500, kStart - absl::Hours(72));
  AddNode(&cluster_.state, &prom_, "n1", 16000, 4000);
  Config c = MakeConfig();
  c.enable_predictive = true;
  c.lead_time = absl::Minutes(60);
  auto run = [&](const char* budget) {
    cluster_.state.deployments[0].metadata.annotations["smart-autoscaler.io/monthly-budget"] =
        budget;
    Reconciler r(c, &cluster_, &prom_, nullptr, &clock_);
    CycleReport rep = r.RunCycle();
    return std::make_pair(rep, r.Statuses()[0]);
  };
  // 2 pods x (1 core x $0.04 + 0.536870912 GB x $0.005) x 730 h = $62.32/month now.
  auto [rich_rep, rich] = run("100000");
  ASSERT_TRUE(rich.served_predicted_pct && rich.served_blended_pct);
  ASSERT_GT(*rich.served_predicted_pct, *rich.served_blended_pct) << rich.forecast_note;
  EXPECT_FALSE(rich.budget_capped);
  EXPECT_EQ(rich_rep.budget_capped, 0);
  EXPECT_GT(rich.forecast_monthly_cost_change, 0);
  // Under the current run-rate: the forecast headroom goes, the measured load stays.
  auto [poor_rep, poor] = run("50");
  EXPECT_TRUE(poor.budget_capped) << poor.guardrail_note;
  EXPECT_EQ(poor_rep.budget_capped, 1);
  EXPECT_EQ(*poor.served_predicted_pct, *poor.served_blended_pct);
  EXPECT_NEAR(*poor.served_pressure, *poor.served_predicted_pct / poor.target_pct, 1e-12);
  // Room for half the headroom's cost: served halfway between blend and forecast.
  const double current = 2 * (0.04 + 0.536870912 * 0.005) * 730;
  const std::string half = absl::StrCat(current + rich.forecast_monthly_cost_change / 2);
  auto [mid_rep, mid] = run(half.c_str());
  EXPECT_TRUE(mid.budget_capped);
  EXPECT_NEAR(*mid.served_predicted_pct,
              (*rich.served_predicted_pct + *rich.served_blended_pct) / 2, 1e-3);
  // A bad annotation is reported and caps nothing.
  auto [bad_rep, bad] = run("lots");
  EXPECT_FALSE(bad.budget_capped);
  EXPECT_EQ(bad.guardrail_note,
            "smart-autoscaler.io/monthly-budget: monthly budget 'lots' is not a positive amount "
            "of USD per month");
}

TEST_F(LoopTest, WritesPodLifetimesForCosts) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, 500, 500, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 16000, 4000);
  cluster_.state.pods[0].metadata.creation_timestamp = kStart - absl::Minutes(90);
  storage::Options so;
  so.path = std::string(getenv("TEST_TMPDIR")) + "/lifetimes-db";
  so.clock = &clock_;
  auto store = storage::OpenRocksStore(so);
  ASSERT_TRUE(store.ok()) << store.status();
  Reconciler r(MakeConfig(), &cluster_, &prom_, store->get(), &clock_);
  r.RunCycle();
  clock_.Advance(absl::Seconds(60));
  cluster_.state.pods.pop_back();  // api-5d9f-p1 is gone at kStart + 60 s
  r.RunCycle();
  clock_.Advance(absl::Seconds(60));
  r.RunCycle();  // nothing changes: nothing written
  auto events = (*store)->ScanEvents(storage::EventLog::kPodLifetimes, absl::InfinitePast(),
                                     absl::InfiniteFuture());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);  // two starts, one end
  std::map<std::string, costs::PodLifetime> last;
  for (const storage::Event& e : *events) {
    auto d = costs::DecodePodLifetime(e.payload);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->namespace_name, "shop");
    EXPECT_EQ(d->deployment, "api");
    last[d->life.pod] = d->life;
  }
  const costs::PodLifetime& p0 = last["api-5d9f-p0"];
  EXPECT_EQ(p0.start, kStart - absl::Minutes(90));  // the creation timestamp
  EXPECT_EQ(p0.end, absl::InfiniteFuture());
  EXPECT_EQ(p0.cpu_request_millicores, 1000);
  EXPECT_EQ(p0.memory_request_bytes, int64_t{512} << 20);
  EXPECT_EQ(p0.node, "n1");
  const costs::PodLifetime& p1 = last["api-5d9f-p1"];
  EXPECT_EQ(p1.start, kStart - absl::Hours(1));  // no creation timestamp: the start time
  EXPECT_EQ(p1.end, kStart + absl::Seconds(30));  // halfway between the last sighting and now
  // The working set beside the CPU demand: one pod of 256 MiB left.
  auto mem = (*store)->LookupSeries({"shop", "api", costs::kMemoryWorkingSetMetric, {}});
  ASSERT_TRUE(mem.ok()) << mem.status();
  auto latest = (*store)->Latest(*mem);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->value, 256.0 * (1 << 20));
  auto first = (*store)->Scan(*mem, kStart, kStart + absl::Seconds(1));
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].value, 2 * 256.0 * (1 << 20));
  EXPECT_TRUE((*store)->LookupSeries({"shop", "api", costs::kCpuDemandMetric, {}}).ok());
}

TEST_F(LoopTest, ShortLocalHistoryIsCompletedFromPrometheusAndKeptWhereBothHaveIt) {
  // A replica that ran for one day only (then restarted): its store holds a day of demand at
  // 5 cores, Prometheus a week at 1 core. Less than four days locally is completed from
  // Prometheus: the store's buckets win where both exist, the fetched ones are written back.
  prom_.history = [](absl::Time) { return 1.0; };
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, 500, 500, kStart - absl::Hours(72));
  AddNode(&cluster_.state, &prom_, "n1", 16000, 4000);
  storage::Options so;
  so.path = std::string(getenv("TEST_TMPDIR")) + "/short";
  so.clock = &clock_;
  auto store = storage::OpenRocksStore(so);
  ASSERT_TRUE(store.ok()) << store.status();
  auto id = (*store)->RegisterSeries({"shop", "api", "cpu_demand_cores", {}});
  ASSERT_TRUE(id.ok());
  std::vector<storage::SeriesSample> day;
  for (absl::Time t = kStart - absl::Hours(24); t < kStart; t += absl::Minutes(1)) {
    day.push_back({*id, {t, 5.0}});
  }
  ASSERT_TRUE((*store)->Append(day, {}).ok());
  Config c = MakeConfig();
  c.enable_predictive = true;
  c.backfills_per_cycle = 0;
  {
    // No query budget: a day is not enough to forecast from, so it waits for the budget.
    Reconciler r(c, &cluster_, &prom_, store->get(), &clock_);
    EXPECT_EQ(r.RunCycle().backfill_queries, 0);
    EXPECT_EQ(r.Statuses()[0].history_points, 0);
  }
  c.backfills_per_cycle = 3;
  Reconciler r(c, &cluster_, &prom_, store->get(), &clock_);
  EXPECT_EQ(r.RunCycle().backfill_queries, 1);
  EXPECT_EQ(r.Statuses()[0].history_points, 7 * 24 * 12);
  auto stored = (*store)->Scan(*id, kStart - absl::Hours(7 * 24), kStart);
  ASSERT_TRUE(stored.ok());
  int ones = 0, fives = 0;
  for (const storage::Sample& smp : *stored) {
    if (smp.time < kStart - absl::Hours(24)) {
      EXPECT_EQ(smp.value, 1.0) << absl::FormatTime(smp.time);
      ++ones;
    } else {
      EXPECT_EQ(smp.value, 5.0) << "the store's own day is not overwritten";
      ++fives;
    }
  }
  EXPECT_EQ(ones, 6 * 24 * 12);  // the week's buckets before the stored day
  EXPECT_EQ(fives, 24 * 60);
}

// A week in the store of a daily cycle clipped at the pods' summed CPU limit (2 cores) for
// `name`, its peak at 14:30 UTC, clipped from about 12:50 to 16:08; with `marks`, the clipped
// samples carry the stored censored mark.
void StoreClippedWeek(storage::Store* store, const std::string& name, bool marks) {
  auto demand = store->RegisterSeries({"shop", name, "cpu_demand_cores", {}});
  auto censored = store->RegisterSeries({"shop", name, "cpu_demand_censored", {}});
  ASSERT_TRUE(demand.ok() && censored.ok());
  std::vector<storage::SeriesSample> week;
  for (absl::Time t = kStart - absl::Hours(7 * 24); t < kStart; t += absl::Minutes(5)) {
    const double hours = absl::ToDoubleHours(t - absl::UnixEpoch());
    const double v = std::min(2.0, 1.0 + 1.1 * std::cos(2 * M_PI * (hours - 14.5) / 24));
    week.push_back({*demand, {t, v}});
    if (marks) week.push_back({*censored, {t, v >= 2.0 ? 1.0 : 0.0}});
  }
  ASSERT_TRUE(store->Append(week, {}).ok());
}

// The path of the last stored forecast of `name`.
smartautoscaler::v1::Forecast LastForecast(storage::Store* store, const std::string& name,
                                           absl::Time now) {
  smartautoscaler::v1::Forecast last;
  auto id = store->LookupSeries({"shop", name, "cpu_demand_cores", {}});
  auto events = store->ScanEvents(storage::EventLog::kForecasts, kStart - absl::Hours(1),
                                  now + absl::Seconds(1));
  if (!id.ok() || !events.ok()) return last;
  for (const storage::Event& e : *events) {
    smartautoscaler::v1::Forecast f;
    if (f.ParseFromString(e.payload) && f.series_id() == *id) last = f;
  }
  return last;
}

TEST_F(LoopTest, ADeploymentPinnedAtItsCpuLimitIsForecastAsAtLeastThatLevel) {
  // "api" and "web": 2 pods each, 1000m request and limit, both at the limit now (16:00 UTC,
  // 1 core per pod: 2 cores) with the same stored week, a daily cycle clipped at 2 cores. Only
  // api's week and readings are marked censored (web has no limit): its forecast never goes
  // below the 2 cores it is pinned at, while web's follows the cycle back down.
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 1000, 1000, 1000, kStart - absl::Hours(72));
  AddWorkload(&cluster_.state, &prom_, "shop", "web", 2, 1000, 1000, 1000, kStart - absl::Hours(72));
  AddNode(&cluster_.state, &prom_, "n1", 16000, 4000);
  cluster_.state.deployments[0].containers[0].limits.cpu_millicores = 1000;
  for (kube::Pod& pod : cluster_.state.pods) {
    if (pod.metadata.name.rfind("api-", 0) == 0) pod.containers[0].limits.cpu_millicores = 1000;
  }
  storage::Options so;
  so.path = std::string(getenv("TEST_TMPDIR")) + "/pinned";
  so.clock = &clock_;
  auto store = storage::OpenRocksStore(so);
  ASSERT_TRUE(store.ok()) << store.status();
  StoreClippedWeek(store->get(), "api", /*marks=*/true);
  StoreClippedWeek(store->get(), "web", /*marks=*/false);
  Config c = MakeConfig();
  c.enable_predictive = true;
  c.backfills_per_cycle = 0;  // the week comes from the store
  c.lead_time = absl::Minutes(60);
  Reconciler r(c, &cluster_, &prom_, store->get(), &clock_);
  r.RunCycle();
  clock_.Advance(absl::Minutes(5));
  r.RunCycle();  // closes the bucket of 16:00 (censored for api): a forecast is stored
  for (const DeploymentStatus& st : r.Statuses()) {
    EXPECT_EQ(st.history_points, 7 * 24 * 12) << st.name;
    EXPECT_EQ(st.demand_censored, st.name == "api") << st.name;
  }
  const smartautoscaler::v1::Forecast api = LastForecast(store->get(), "api", clock_.Now());
  const smartautoscaler::v1::Forecast web = LastForecast(store->get(), "web", clock_.Now());
  ASSERT_EQ(api.path_size(), 12);
  ASSERT_EQ(web.path_size(), 12);
  for (const auto& p : api.path()) {
    EXPECT_GE(p.p50(), 2.0 - 1e-9) << p.timestamp_ms();
    EXPECT_GE(p.p90(), 2.0 - 1e-9) << p.timestamp_ms();
  }
  EXPECT_GE(api.peak_lead_p50(), 2.0 - 1e-9);
  EXPECT_LT(web.path(11).p50(), 1.95) << "unmarked, the same week is forecast to come down";
  // The reading's mark is stored beside the demand sample of the cycle.
  auto marks = (*store)->LookupSeries({"shop", "api", "cpu_demand_censored", {}});
  ASSERT_TRUE(marks.ok());
  auto latest = (*store)->Latest(*marks);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->time, clock_.Now());
  EXPECT_EQ(latest->value, 1.0);
  auto web_marks = (*store)->LookupSeries({"shop", "web", "cpu_demand_censored", {}});
  ASSERT_TRUE(web_marks.ok());
  EXPECT_EQ((*store)->Latest(*web_marks)->value, 0.0);
}

}  // namespace
}  // namespace reconciler

namespace reconciler {
namespace {

TEST_F(LoopTest, PoolPricesAndTheCostOfEachTargetChangeAreRecorded) {
  AddWorkload(&cluster_.state, &prom_, "shop", "api", 2, 500, 300, 300, kStart - absl::Hours(1));
  AddNode(&cluster_.state, &prom_, "n1", 4000, 2800);  // 70 %: warning -> base 70
  cluster_.state.nodes[0].metadata.labels["pool"] = "big";
  storage::Options so;
  so.path = std::string(getenv("TEST_TMPDIR")) + "/decision-cost-db";
  so.clock = &clock_;
  auto store = storage::OpenRocksStore(so);
  ASSERT_TRUE(store.ok()) << store.status();
  Reconciler r(MakeConfig(), &cluster_, &prom_, store->get(), &clock_);
  auto table = costs::PriceTable::Parse("label pool\nbig 0.10 0.01\n", {0.04, 0.005});
  ASSERT_TRUE(table.ok()) << table.status();
  r.SetPrices(*table);
  r.RunCycle();
  // 500m x $0.10 + 0.536870912 GB x $0.01 per pod-hour in pool "big".
  const double pod_hourly = 0.5 * 0.10 + 0.536870912 * 0.01;
  DeploymentStatus s = r.Statuses()[0];
  EXPECT_EQ(s.price_pool, "big");
  EXPECT_NEAR(s.pod_hourly_cost, pod_hourly, 1e-12);
  ASSERT_TRUE(s.decision_monthly_cost_change.has_value());  // the first target: nothing to price
  EXPECT_EQ(*s.decision_monthly_cost_change, 0);
  prom_.node_cpu10["n1"] = prom_.node_cpu5["n1"] = 0.4;  // 10 %: safe -> 85 after the cooldown
  clock_.Advance(absl::Minutes(6));
  r.RunCycle();
  ASSERT_EQ(Value(r.Table(), "api", "smart_cpu_target"), 85);
  // 70 % -> 85 %: the HPA wants 2 x (70 / 85 - 1) = -0.353 replicas, for a month.
  const double change = 2 * (70.0 / 85 - 1) * pod_hourly * 730;
  s = r.Statuses()[0];
  ASSERT_TRUE(s.decision_monthly_cost_change.has_value());
  EXPECT_NEAR(*s.decision_monthly_cost_change, change, 1e-9);
  EXPECT_NE(s.decision_cost_why.find("target 70% -> 85%"), std::string::npos) << s.decision_cost_why;
  auto events = (*store)->ScanEvents(storage::EventLog::kDecisions, absl::InfinitePast(),
                                     absl::InfiniteFuture());
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  smartautoscaler::v1::Decision d;
  ASSERT_TRUE(d.ParseFromString((*events)[1].payload));
  EXPECT_NEAR(d.cost().monthly_cost_change_usd(), change, 1e-9);
  EXPECT_NEAR(d.cost().current_monthly_cost_usd(), 2 * pod_hourly * 730, 1e-9);
  // The pods' lifetimes carry their pool.
  auto lives = (*store)->ScanEvents(storage::EventLog::kPodLifetimes, absl::InfinitePast(),
                                    absl::InfiniteFuture());
  ASSERT_TRUE(lives.ok());
  ASSERT_FALSE(lives->empty());
  EXPECT_EQ(costs::DecodePodLifetime((*lives)[0].payload)->life.pool, "big");
}

}  // namespace
}  // namespace reconciler
