// The reconcile cycle against a REAL Prometheus (Debian's, over a promtool-built TSDB) and the
// real cluster-file code path: the demo workload (CPU from bundled real traces) is backfilled,
// the Reconciler runs at a time on the sample grid, and the served values are checked against
// values computed independently here from the workload's own counters.
#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "clients/http/curl_http_client.h"
#include "clients/prometheus/prometheus.h"
#include "demo/workload.h"
#include "gtest/gtest.h"
#include "reconciler/api.h"
#include "reconciler/backfill.h"
#include "reconciler/cluster.h"
#include "reconciler/loop.h"
#include "tests/prometheus/prometheus_server.h"

namespace {

namespace prom = clients::prometheus;

// Counts the queries the loop sends to the real client.
class CountingPrometheus : public prom::PrometheusClient {
 public:
  explicit CountingPrometheus(prom::PrometheusClient* inner) : inner_(inner) {}
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view q, absl::Time at) override {
    ++queries;
    return inner_->Query(q, at);
  }
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view q, absl::Time from,
                                                       absl::Time to,
                                                       absl::Duration step) override {
    ++range_queries;
    return inner_->QueryRange(q, from, to, step);
  }
  std::atomic<int> queries{0};  // queries run concurrently
  std::atomic<int> range_queries{0};

 private:
  prom::PrometheusClient* inner_;
};

std::vector<demo::Trace> Traces() {
  std::vector<demo::Trace> traces;
  for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
           {"google2019_cpu_300s", "data/traces/cluster/google2019_cpu_300s.csv"},
           {"ec2_cpu_utilization_5f5533", "data/traces/nab/ec2_cpu_utilization_5f5533.csv"},
           {"rds_cpu_utilization_cc0c53", "data/traces/nab/rds_cpu_utilization_cc0c53.csv"}}) {
    auto t = demo::LoadTrace(name, file);
    EXPECT_TRUE(t.ok()) << t.status();
    traces.push_back(*t);
  }
  return traces;
}

std::string TempDir(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

struct Backfilled {
  std::unique_ptr<testing_util::PrometheusServer> server;
  std::string cluster_file;
};

// Backfills [anchor, end] at 1-minute steps and writes the cluster file.
Backfilled Start(const demo::Workload& w, absl::Time end, const std::string& name) {
  Backfilled s;
  std::ostringstream om;
  w.WriteOpenMetrics(om, w.anchor(), end, absl::Minutes(1));
  auto server = testing_util::PrometheusServer::Start(om.str(), TempDir(name));
  EXPECT_TRUE(server.ok()) << server.status();
  if (server.ok()) s.server = std::move(*server);
  s.cluster_file = TempDir(name + "/cluster.json");
  std::ofstream(s.cluster_file) << w.ClusterJson();
  return s;
}

TEST(ReconcilerPrometheusTest, BlendedValuesMatchAnIndependentComputation) {
  // History from 30 h ago; the cycle runs 2 h after the start, on the 1-minute grid.
  const absl::Time anchor =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(30)) / 3600 * 3600);
  auto w = demo::Workload::Create(demo::DefaultDeployments(), demo::DefaultNodes(), Traces(),
                                  anchor);
  ASSERT_TRUE(w.ok()) << w.status();
  const absl::Time now = anchor + absl::Hours(24) + absl::Minutes(7);
  Backfilled s = Start(*w, anchor + absl::Hours(26), "blend");
  ASSERT_NE(s.server, nullptr);

  auto http = clients::http::MakeCurlHttpClient({});
  auto real = prom::MakePrometheusClient({.base_url = s.server->url()}, http.get());
  CountingPrometheus counting(real.get());
  auto cluster = reconciler::MakeFileClusterSource(s.cluster_file);
  base::FakeClock clock(now);
  reconciler::Config config;
  reconciler::Reconciler loop(config, cluster.get(), &counting, nullptr, &clock);
  reconciler::CycleReport report = loop.RunCycle();
  ASSERT_TRUE(report.errors.empty()) << report.errors[0];
  EXPECT_EQ(report.deployments, 3);
  EXPECT_EQ(report.served, 3);
  EXPECT_EQ(report.queries, 6);
  EXPECT_EQ(counting.queries, 6);
  EXPECT_EQ(counting.range_queries, 3);  // one demand-history backfill per new deployment

  // Independently: Prometheus 2.x's range selector [10m] at t holds the samples in
  // [t-10m, t] (both ends; Prometheus 3 made it left-open), so with samples every 60 s on the
  // grid rate() is exactly (c(t) - c(t-600s)) / 600 s, with no extrapolation; 5 m: 300 s.
  std::map<std::string, double> blended;
  for (size_t d = 0; d < w->deployments().size(); ++d) {
    const demo::DeploymentSpec& spec = w->deployments()[d];
    double sum_m = 0;
    for (int p = 0; p < spec.pods; ++p) {
      double r10 = (w->PodCpuSeconds(d, p, now) - w->PodCpuSeconds(d, p, now - absl::Seconds(600))) / 600;
      double r5 = (w->PodCpuSeconds(d, p, now) - w->PodCpuSeconds(d, p, now - absl::Seconds(300))) / 300;
      sum_m += 1000 * (0.7 * r10 + 0.3 * r5);
    }
    blended[spec.name] = 100 * sum_m / (spec.pods * spec.cpu_request_millicores);
  }
  int checked = 0;
  for (const reconciler::MetricPoint& p : loop.Table()) {
    if (p.metric != "smart_cpu_blended") continue;
    ASSERT_TRUE(blended.count(p.deployment)) << p.deployment;
    EXPECT_NEAR(p.value, blended[p.deployment], 1e-6 * blended[p.deployment]) << p.deployment;
    EXPECT_EQ(p.timestamp, now);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
  // Node pressure was known (node_exporter series joined by instance -> node name).
  for (const reconciler::DeploymentStatus& st : loop.Statuses()) {
    EXPECT_NE(st.pressure.level, reconciler::PressureLevel::kUnknown) << st.name;
    EXPECT_EQ(st.nodes, 3);
    EXPECT_TRUE(st.memory_pct.has_value());
  }
}

TEST(ReconcilerPrometheusTest, QueriesPerCycleAreTheSameAt10And1000Deployments) {
  const absl::Time anchor =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(6)) / 3600 * 3600);
  std::vector<int> counts;
  for (int n : {10, 1000}) {
    std::vector<demo::DeploymentSpec> specs;
    for (int i = 0; i < n; ++i) {
      specs.push_back({absl::StrCat("ns", i % 20), absl::StrCat("svc", i), 1, 100,
                       int64_t{128} << 20, "ec2_cpu_utilization_5f5533", 0.6});
    }
    std::vector<demo::NodeSpec> nodes;
    for (int i = 0; i < 10; ++i) nodes.push_back({absl::StrCat("node-", i), 64000, 0.5});
    auto w = demo::Workload::Create(specs, nodes, Traces(), anchor);
    ASSERT_TRUE(w.ok()) << w.status();
    const absl::Time now = anchor + absl::Minutes(50);
    Backfilled s = Start(*w, anchor + absl::Hours(1), absl::StrCat("scale", n));
    ASSERT_NE(s.server, nullptr);
    auto http = clients::http::MakeCurlHttpClient({});
    auto real = prom::MakePrometheusClient({.base_url = s.server->url()}, http.get());
    CountingPrometheus counting(real.get());
    auto cluster = reconciler::MakeFileClusterSource(s.cluster_file);
    base::FakeClock clock(now);
    reconciler::Config config;  // defaults: forecasts on, so new deployments are backfilled
    reconciler::Reconciler loop(config, cluster.get(), &counting, nullptr, &clock);
    reconciler::CycleReport report = loop.RunCycle();
    EXPECT_EQ(report.deployments, n);
    EXPECT_EQ(report.served, n);
    EXPECT_EQ(report.query_failures, 0);
    counts.push_back(counting.queries + counting.range_queries);
  }
  // 6 signal queries + at most 3 backfills of new deployments per cycle, at any scale.
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_EQ(counts[0], 9);
}

// A fresh reconciler with the background backfiller over 300 deployments in 12 namespaces:
// every one gets its history from one grouped range query per namespace, under the
// backfiller's own budget, with no per-cycle backfill query; /api/v1/status reports it.
TEST(ReconcilerPrometheusTest, TheBackgroundBackfillerLoadsEveryDeploymentWithinItsBudget) {
  const absl::Time anchor =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(6)) / 3600 * 3600);
  const int n = 300, namespaces = 12;
  std::vector<demo::DeploymentSpec> specs;
  for (int i = 0; i < n; ++i) {
    specs.push_back({absl::StrCat("ns", i % namespaces), absl::StrCat("svc", i), 2, 100,
                     int64_t{128} << 20, "ec2_cpu_utilization_5f5533", 0.6});
  }
  std::vector<demo::NodeSpec> nodes;
  for (int i = 0; i < 10; ++i) nodes.push_back({absl::StrCat("node-", i), 64000, 0.5});
  auto w = demo::Workload::Create(specs, nodes, Traces(), anchor);
  ASSERT_TRUE(w.ok()) << w.status();
  const absl::Time now = anchor + absl::Hours(2);
  Backfilled s = Start(*w, now, "background");
  ASSERT_NE(s.server, nullptr);
  auto http = clients::http::MakeCurlHttpClient({});
  auto real = prom::MakePrometheusClient({.base_url = s.server->url()}, http.get());
  CountingPrometheus counting(real.get());
  auto cluster = reconciler::MakeFileClusterSource(s.cluster_file);
  base::FakeClock clock(now);
  reconciler::Config config;
  config.backfills_per_cycle = 0;  // only the background backfiller loads histories
  reconciler::Reconciler loop(config, cluster.get(), &counting, nullptr, &clock);
  // The bucket runs on the real clock (it paces real queries); 20/s keeps the test short.
  reconciler::Backfiller backfiller(&counting, &base::RealClock(), {.queries_per_second = 20});
  loop.SetBackfiller(&backfiller);

  reconciler::CycleReport first = loop.RunCycle();
  EXPECT_EQ(first.deployments, n);
  EXPECT_EQ(first.backfill_queries, 0);
  // Generous: 12 queries at 20/s take 0.6 s on a quiet machine.
  ASSERT_TRUE(backfiller.WaitDone(absl::Minutes(3)));
  reconciler::BackfillProgress p = backfiller.progress();
  EXPECT_EQ(p.loaded, n);
  EXPECT_EQ(p.failed, 0);
  EXPECT_EQ(p.pending, 0);
  EXPECT_EQ(p.planned, namespaces);  // 50 pods x 2016 steps fit one answer per namespace
  EXPECT_EQ(p.queries, namespaces);
  EXPECT_EQ(p.query_errors, 0);
  EXPECT_LE(p.throttled, namespaces - 1);  // burst 1 (a slow answer can leave no wait)
  EXPECT_EQ(counting.range_queries, namespaces);

  clock.Advance(absl::Minutes(1));
  reconciler::CycleReport second = loop.RunCycle();
  EXPECT_EQ(second.histories_loaded, n);
  EXPECT_EQ(second.backfill_queries, 0);
  EXPECT_EQ(counting.range_queries, namespaces);  // the cycle sent none of its own
  int with_history = 0;
  for (const reconciler::DeploymentStatus& st : loop.Statuses()) {
    // 2 hours of 5-minute buckets, the first 5 minutes without a rate.
    if (st.history_points >= 20) ++with_history;
  }
  EXPECT_EQ(with_history, n);

  reconciler::StatusView view;
  view.reconciler = &loop;
  view.backfiller = &backfiller;
  base::HttpServer api;
  reconciler::RegisterApi(&api, &view);
  ASSERT_TRUE(api.Start("127.0.0.1:0").ok());
  clients::http::HttpRequest req;
  req.url = absl::StrCat("http://127.0.0.1:", api.port(), "/api/v1/status");
  auto status = http->Do(req);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(absl::StrContains(
      status->body, absl::StrCat(R"("backfill":{"enabled":true,"pending":0,"done":)", n,
                                 R"(,"failed":0,"plannedQueries":12,"queries":12,)")))
      << status->body;
}

}  // namespace
