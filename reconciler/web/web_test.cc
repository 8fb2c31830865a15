// The page's routes over a real base::HttpServer on loopback, a real Reconciler (fake cluster
// and Prometheus, FakeClock) and a real RocksDB store: the embedded page and uPlot, explain
// (both route forms, its 400/404), history (range and the original's hours, the 400s, 503
// without a store), /api/deployments, /api/health, /livez and /readyz.
#include "reconciler/web/web.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"
#include "proto/records.pb.h"
#include "rapidjson/document.h"
#include "reconciler/api.h"
#include "reconciler/loop.h"
#include "storage/store.h"

namespace reconciler::web {
namespace {

namespace kube = clients::kube;
namespace prom = clients::prometheus;

const absl::Time kStart = absl::FromUnixSeconds(1764000000);

class FixedCluster : public ClusterSource {
 public:
  absl::StatusOr<std::shared_ptr<const ClusterState>> Snapshot() override {
    return std::make_shared<const ClusterState>(state);
  }
  std::string Describe() const override { return "test"; }
  ClusterState state;
};

// Every pod at 300m CPU in every window and 256 MiB; the node at 1600m.
class FakePrometheus : public prom::PrometheusClient {
 public:
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view promql,
                                                  absl::Time at) override {
    std::vector<prom::Series> out;
    prom::Series s;
    if (absl::StrContains(promql, "node_cpu_seconds_total")) {
      s.labels["instance"] = "n1:9100";
      s.points.push_back({at, 1.6});
      out.push_back(s);
      return out;
    }
    const bool memory = absl::StrContains(promql, "memory");
    for (int i = 0; i < 2; ++i) {
      s.labels["namespace"] = "shop";
      s.labels["pod"] = absl::StrCat("api-5d9f-p", i);
      s.points = {{at, memory ? 256.0 * (1 << 20) : 0.3}};
      out.push_back(s);
    }
    return out;
  }
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view, absl::Time, absl::Time,
                                                       absl::Duration) override {
    return std::vector<prom::Series>{};
  }
};

ClusterState Cluster() {
  ClusterState s;
  kube::Deployment d;
  d.metadata.namespace_name = "shop";
  d.metadata.name = "api";
  kube::ContainerResources c;
  c.name = "app";
  c.requests.cpu_millicores = 500;
  c.requests.memory_bytes = int64_t{512} << 20;
  d.containers.push_back(c);
  s.deployments.push_back(d);
  kube::HorizontalPodAutoscaler h;
  h.metadata.namespace_name = "shop";
  h.metadata.name = "api";
  h.scale_target_ref = {"apps/v1", "Deployment", "api"};
  kube::HpaMetric m;
  m.type = "External";
  m.name = "smart_cpu_pressure";
  m.selector.match_labels["deployment"] = "api";
  h.metrics.push_back(m);
  s.hpas.push_back(h);
  kube::ReplicaSet rs;
  rs.metadata.namespace_name = "shop";
  rs.metadata.name = "api-5d9f";
  rs.metadata.owner_references.push_back({"apps/v1", "Deployment", "api", "uid", true});
  s.replica_sets.push_back(rs);
  for (int i = 0; i < 2; ++i) {
    kube::Pod pod;
    pod.metadata.namespace_name = "shop";
    pod.metadata.name = absl::StrCat("api-5d9f-p", i);
    pod.metadata.owner_references.push_back({"apps/v1", "ReplicaSet", "api-5d9f", "u", true});
    pod.node_name = "n1";
    pod.phase = "Running";
    pod.ready = true;
    pod.start_time = kStart - absl::Hours(1);
    pod.containers = d.containers;
    s.pods.push_back(pod);
  }
  kube::Node n;
  n.metadata.name = "n1";
  n.allocatable.cpu_millicores = 4000;
  n.ready = true;
  s.nodes.push_back(n);
  return s;
}

class WebTest : public ::testing::Test {
 protected:
  WebTest() : clock_(kStart) {}
  void SetUp() override {
    cluster_.state = Cluster();
    storage::Options so;
    so.path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/tsdb-",
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    so.clock = &clock_;
    auto store = storage::OpenRocksStore(so);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    Config c;
    c.enable_predictive = false;
    loop_ = std::make_unique<Reconciler>(c, &cluster_, &prom_, store_.get(), &clock_);
    options_.store = store_.get();
    options_.clock = &clock_;
    options_.check_interval = absl::Seconds(30);
    options_.started = kStart;
    options_.checks.push_back({"prometheus", [this] { return CheckResult{prom_ok_, "test"}; }});
    view_.reconciler = loop_.get();
    view_.version = "test";
    AddDeploymentResources(&view_, &options_);
    RegisterApi(&server_, &view_);
    RegisterPage(&server_, &view_, &options_);
    ASSERT_TRUE(server_.Start("127.0.0.1:0").ok());
    http_ = clients::http::MakeCurlHttpClient({});
  }

  void Cycles(int n) {
    for (int i = 0; i < n; ++i) {
      loop_->RunCycle();
      clock_.Advance(absl::Seconds(30));
    }
  }

  clients::http::HttpResponse Get(const std::string& path) {
    clients::http::HttpRequest req;
    req.url = absl::StrCat("http://127.0.0.1:", server_.port(), path);
    req.timeout = absl::Seconds(60);
    absl::StatusOr<clients::http::HttpResponse> r = http_->Do(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : clients::http::HttpResponse{};
  }

  rapidjson::Document Json(const clients::http::HttpResponse& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    EXPECT_FALSE(d.HasParseError()) << r.body;
    return d;
  }

  base::FakeClock clock_;
  FixedCluster cluster_;
  FakePrometheus prom_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Reconciler> loop_;
  bool prom_ok_ = true;
  WebOptions options_;
  StatusView view_;
  base::HttpServer server_;
  std::unique_ptr<clients::http::HttpClient> http_;
};

TEST_F(WebTest, ThePageAndUplotAreServedFromTheBinary) {
  clients::http::HttpResponse page = Get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>smart-autoscaler</title>"), std::string::npos);
  EXPECT_NE(page.body.find("/static/uplot.min.js"), std::string::npos);
  EXPECT_EQ(page.body.find("http"), std::string::npos) << "no external resource";
  clients::http::HttpResponse js = Get("/static/uplot.min.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_GT(js.body.size(), 40000u);
  EXPECT_NE(js.body.find("uPlot"), std::string::npos);
  EXPECT_EQ(Get("/static/app.js").status, 200);
  EXPECT_EQ(Get("/static/app.css").status, 200);
}

TEST_F(WebTest, ExplainServesTheLoopsValueOnBothRoutes) {
  EXPECT_EQ(Get("/api/v1/deployments/shop/api/explain").status, 404);  // before any cycle
  Cycles(2);
  const std::vector<DeploymentStatus> st = loop_->Statuses();
  ASSERT_EQ(st.size(), 1u);
  ASSERT_TRUE(st[0].served_pressure);
  for (const char* prefix : {"/api/v1/deployments/", "/api/deployment/"}) {
    clients::http::HttpResponse r = Get(absl::StrCat(prefix, "shop/api/explain"));
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d = Json(r);
    bool found = false;
    for (const auto& v : d["values"].GetArray()) {
      if (std::string(v["metric"].GetString()) != "smart_cpu_pressure") continue;
      EXPECT_DOUBLE_EQ(v["value"].GetDouble(), *st[0].served_pressure);
      found = true;
    }
    EXPECT_TRUE(found);
    EXPECT_STRNE(d["decidingRule"].GetString(), "");
  }
  clients::http::HttpResponse text = Get("/api/v1/deployments/shop/api/explain?format=text");
  EXPECT_EQ(text.status, 200);
  EXPECT_NE(text.body.find("deciding rule: "), std::string::npos) << text.body;
  EXPECT_EQ(Get("/api/v1/deployments/shop/api/explain?format=xml").status, 400);
  EXPECT_EQ(Get("/api/v1/deployments/shop/nope/explain").status, 404);
}

TEST_F(WebTest, HistoryFromTheStoreAndItsParameters) {
  Cycles(4);
  clients::http::HttpResponse r = Get("/api/v1/deployments/shop/api/history?range=1h");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  EXPECT_EQ(d["time"].Size(), 360u);
  for (const char* k : {"cpu_demand_cores", "cpu_ready_capacity_cores", "ready_pods",
                        "smart_cpu_pressure", "smart_cpu_target"}) {
    ASSERT_TRUE(d["series"].HasMember(k)) << k;
    int points = 0;
    double last = 0;
    for (const auto& v : d["series"][k].GetArray()) {
      if (v.IsNumber()) {
        ++points;
        last = v.GetDouble();
      }
    }
    EXPECT_EQ(points, 4) << k;  // one per cycle (30 s apart, 10 s buckets)
    if (std::string(k) == "ready_pods") {
      EXPECT_EQ(last, 2);
    }
    if (std::string(k) == "cpu_ready_capacity_cores") {
      EXPECT_DOUBLE_EQ(last, 1.0);
    }
  }
  EXPECT_EQ(d["accuracy"]["origins"].GetInt(), 0);  // no forecasts (ENABLE_PREDICTIVE off)
  EXPECT_TRUE(d["accuracy"]["ratio"].IsNull());
  clients::http::HttpResponse h = Get("/api/deployment/shop/api/history?hours=24");
  ASSERT_EQ(h.status, 200);
  rapidjson::Document o = Json(h);
  EXPECT_DOUBLE_EQ(o["hours"].GetDouble(), 24);
  // The original's arrays, on the same buckets: its names for our stored series; what is not
  // stored here (node utilisation, confidence) is null throughout, never 0.
  ASSERT_EQ(o["timestamps"].Size(), 360u);
  EXPECT_STREQ(o["timestamps"][0].GetString(), "2025-11-23T16:02:00Z");  // 24 h before now
  for (const char* k :
       {"pod_cpu_usage", "pod_count", "hpa_target", "node_utilization", "confidence"}) {
    ASSERT_TRUE(o.HasMember(k) && o[k].IsArray()) << k;
    ASSERT_EQ(o[k].Size(), 360u) << k;
    int points = 0;
    double last = 0;
    for (const auto& v : o[k].GetArray()) {
      if (v.IsNumber()) {
        ++points;
        last = v.GetDouble();
      }
    }
    const bool stored = std::string(k) != "node_utilization" && std::string(k) != "confidence";
    EXPECT_EQ(points > 0, stored) << k;
    if (std::string(k) == "pod_count") {
      EXPECT_EQ(last, 2);
    }
    if (std::string(k) == "pod_cpu_usage") {
      EXPECT_NEAR(last, 60, 1e-9);  // % of request
    }
  }
  for (const char* bad : {"?range=2h", "?hours=0", "?hours=169", "?hours=x", "?range=1h&hours=1",
                          "?hours=1.5", "?hours=-3", "?hours="}) {
    for (const char* prefix : {"/api/v1/deployments/", "/api/deployment/"}) {
      clients::http::HttpResponse b = Get(absl::StrCat(prefix, "shop/api/history", bad));
      EXPECT_EQ(b.status, 400) << prefix << bad;
      EXPECT_NE(b.body.find(R"("reason":"BadRequest")"), std::string::npos) << b.body;
    }
  }
  EXPECT_EQ(Get("/api/v1/deployments/shop/nope/history").status, 404);
  base::HttpRequest req;
  EXPECT_EQ(HistoryResponse(nullptr, "shop", "api", req, kStart).status, 503);
}

// The forecast's first step against persistence, over the same origin, from the store alone:
// demand 1.0 in the origin's bucket and 2.0 in the next; p50 1.8: errors 0.2 and 1.0.
TEST(HistoryAccuracyTest, ForecastAgainstPersistence) {
  storage::Options so;
  so.path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/tsdb-accuracy");
  base::FakeClock clock(kStart);
  so.clock = &clock;
  auto store = storage::OpenRocksStore(so);
  ASSERT_TRUE(store.ok()) << store.status();
  // 200 other series first, so this one's id takes a 2-byte varint in the forecast records.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE((*store)->RegisterSeries({"other", absl::StrCat("d", i), "x", {}}).ok());
  }
  auto id = (*store)->RegisterSeries({"shop", "api", "cpu_demand_cores", {}});
  ASSERT_TRUE(id.ok());
  ASSERT_GT(*id, 127u);
  const absl::Time origin = kStart - absl::Minutes(30);
  std::vector<storage::SeriesSample> batch;
  for (int i = 0; i < 10; ++i) {
    batch.push_back({*id, {origin + absl::Seconds(30 * i), 1.0}});
    batch.push_back({*id, {origin + absl::Minutes(5) + absl::Seconds(30 * i), 2.0}});
  }
  ASSERT_TRUE((*store)->Append(batch, {}).ok());
  smartautoscaler::v1::Forecast f;
  f.set_series_id(*id);
  f.set_origin_ms(absl::ToUnixMillis(origin));
  f.set_step_ms(5 * 60 * 1000);
  auto* p = f.add_path();
  p->set_timestamp_ms(absl::ToUnixMillis(origin + absl::Minutes(5)));
  p->set_p10(1.5);
  p->set_p50(1.8);
  p->set_p90(2.1);
  f.set_peak_lead_p90(2.1);
  ASSERT_TRUE(
      (*store)->AppendEvent(storage::EventLog::kForecasts, origin, f.SerializeAsString(), {}).ok());
  // Another deployment's forecasts at the same time (one with a series id sharing the low
  // byte): not this deployment's band.
  for (uint64_t other : {*id + 1, *id + 128, uint64_t{5}}) {
    smartautoscaler::v1::Forecast g = f;
    g.set_series_id(other);
    g.mutable_path(0)->set_p90(9.9);
    g.set_peak_lead_p90(9.9);
    ASSERT_TRUE((*store)
                    ->AppendEvent(storage::EventLog::kForecasts, origin, g.SerializeAsString(), {})
                    .ok());
  }
  base::HttpRequest req;
  req.query["range"] = "1h";
  base::HttpResponse r = HistoryResponse(store->get(), "shop", "api", req, kStart);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  const auto& a = d["accuracy"];
  EXPECT_EQ(a["origins"].GetInt(), 1);
  EXPECT_NEAR(a["forecastMae"].GetDouble(), 0.2, 1e-9);
  EXPECT_NEAR(a["persistenceMae"].GetDouble(), 1.0, 1e-9);
  EXPECT_NEAR(a["ratio"].GetDouble(), 0.2, 1e-9);
  int band = 0;
  for (const auto& v : d["series"]["forecast_p90_cores"].GetArray()) {
    if (!v.IsNumber()) continue;
    ++band;
    EXPECT_DOUBLE_EQ(v.GetDouble(), 2.1) << "only this deployment's forecast";
  }
  EXPECT_EQ(band, 1);

  // The original's predictions: the latest forecast.
  base::HttpResponse pr = PredictionsResponse(store->get(), "shop", "api", {}, kStart);
  ASSERT_EQ(pr.status, 200) << pr.body;
  rapidjson::Document pd;
  pd.Parse(pr.body.c_str());
  ASSERT_EQ(pd["predictions"].Size(), 1u);
  EXPECT_DOUBLE_EQ(pd["predictions"][0]["p50_cores"].GetDouble(), 1.8);
  EXPECT_DOUBLE_EQ(pd["peak_lead_p90_cores"].GetDouble(), 2.1);
  // The original's fields: its step (origin + 5 min .. + 10 min) has passed, demand 2.0 there.
  const auto& p0 = pd["predictions"][0];
  EXPECT_DOUBLE_EQ(p0["predicted_cpu"].GetDouble(), 1.8);
  EXPECT_TRUE(p0["validated"].GetBool());
  EXPECT_DOUBLE_EQ(p0["actual_cpu"].GetDouble(), 2.0);
  EXPECT_NEAR(p0["error"].GetDouble(), 0.2, 1e-9);
  EXPECT_TRUE(p0["confidence"].IsNull());
  EXPECT_TRUE(pd["accuracy_stats"].IsNull()) << "not managed";
  DeploymentStatus st;
  st.forecast_validated = 20;
  st.forecast_accuracy = 0.75;
  st.forecast_false_positives = 2;
  st.persistence_accuracy = 0.5;
  pd.Parse(PredictionsResponse(store->get(), "shop", "api", {}, kStart, &st).body.c_str());
  const auto& stats = pd["accuracy_stats"];
  EXPECT_EQ(stats["total_predictions"].GetInt(), 20);
  EXPECT_EQ(stats["accurate_predictions"].GetInt(), 15);
  EXPECT_DOUBLE_EQ(stats["accuracy_rate"].GetDouble(), 75);
  EXPECT_DOUBLE_EQ(stats["false_positive_rate"].GetDouble(), 10);
  EXPECT_EQ(stats["false_negatives"].GetInt(), 0);
  EXPECT_DOUBLE_EQ(stats["avg_accuracy"].GetDouble(), 0.75);
  EXPECT_DOUBLE_EQ(stats["persistence_accuracy_rate"].GetDouble(), 50);
  EXPECT_EQ(PredictionsResponse(store->get(), "shop", "nope", {}, kStart).status, 404);
  EXPECT_EQ(PredictionsResponse(store->get(), "shop", "api", {}, kStart + absl::Hours(2)).status,
            404);  // nothing in the last hour
  base::HttpRequest bad;
  bad.query["hours"] = "2";
  EXPECT_EQ(PredictionsResponse(store->get(), "shop", "api", bad, kStart).status, 400);
  EXPECT_EQ(PredictionsResponse(nullptr, "shop", "api", {}, kStart).status, 503);
}

TEST_F(WebTest, TheOriginalsDeploymentList) {
  Cycles(1);
  clients::http::HttpResponse r = Get("/api/deployments");
  ASSERT_EQ(r.status, 200);
  rapidjson::Document d = Json(r);
  ASSERT_TRUE(d.IsArray()) << r.body;  // the original's shape: a list
  ASSERT_EQ(d.Size(), 1u);
  const auto& x = d[0];
  EXPECT_STREQ(x["key"].GetString(), "shop/api");
  EXPECT_STREQ(x["namespace"].GetString(), "shop");
  EXPECT_STREQ(x["deployment"].GetString(), "api");
  EXPECT_STREQ(x["hpa_name"].GetString(), "api");
  EXPECT_STREQ(x["name"].GetString(), "api");
  EXPECT_EQ(x["ready_replicas"].GetInt(), 2);
  EXPECT_NEAR(x["cpu_usage_percent"].GetDouble(), 60, 1e-9);  // 300m of 500m
  for (const char* k : {"replicas", "hpa_target", "predicted_cpu_percent", "memory_usage_percent",
                        "node_pressure", "node_utilization_percent", "confidence"}) {
    EXPECT_TRUE(x.HasMember(k)) << k;
  }
}

TEST_F(WebTest, TheOriginalsCurrentState) {
  EXPECT_EQ(Get("/api/deployment/shop/api").status, 404) << "no cycle yet: not managed";
  Cycles(2);
  for (const char* path : {"/api/deployment/shop/api", "/api/deployment/shop/api/current",
                           "/api/v1/deployments/shop/api/current"}) {
    clients::http::HttpResponse r = Get(path);
    ASSERT_EQ(r.status, 200) << path << r.body;
    rapidjson::Document d = Json(r);
    EXPECT_EQ(d["pod_count"].GetInt(), 2) << path;
    EXPECT_NEAR(d["pod_cpu_usage"].GetDouble(), 0.3, 1e-9);  // cores per pod
    EXPECT_NEAR(d["memory_usage"].GetDouble(), 256, 1e-9);   // MB per pod
    EXPECT_EQ(d["cpu_request"].GetInt(), 500);
    EXPECT_NEAR(d["memory_request"].GetDouble(), 512, 1e-9);
    EXPECT_NEAR(d["node_utilization"].GetDouble(), 40, 1e-9);  // 1.6 of 4 cores
    EXPECT_TRUE(d["hpa_target"].IsNumber());
    EXPECT_TRUE(d["confidence"].IsNumber());
    EXPECT_STREQ(d["action_taken"].GetString(), "served");
    EXPECT_STREQ(d["timestamp"].GetString(), "2025-11-24T16:00:30Z") << "the second cycle";
    EXPECT_TRUE(d["priority"].IsNull());
  }
  EXPECT_EQ(Get("/api/deployment/shop/nope").status, 404);
  EXPECT_EQ(Get("/api/deployment/shop/api?hours=2").status, 400);
}

TEST_F(WebTest, HealthChecksAndProbes) {
  clients::http::HttpResponse before = Get("/readyz?verbose");
  EXPECT_EQ(before.status, 503);
  EXPECT_NE(before.body.find("[-]data failed: no cycle completed yet"), std::string::npos)
      << before.body;
  EXPECT_EQ(Get("/livez").status, 200);  // starting up
  Cycles(1);
  clients::http::HttpResponse ready = Get("/readyz?verbose");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("[+]data ok"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("[+]prometheus ok: test"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("readyz check passed"), std::string::npos) << ready.body;
  EXPECT_EQ(Get("/readyz").body, "ok");
  rapidjson::Document h = Json(Get("/api/health"));
  EXPECT_STREQ(h["status"].GetString(), "healthy");
  EXPECT_STREQ(h["checks"]["prometheus"]["status"].GetString(), "ok");
  EXPECT_EQ(h["deployments"].GetInt(), 1);
  // The original's fields: no store check here, so "database" is unknown (not healthy).
  EXPECT_STREQ(h["prometheus"].GetString(), "healthy");
  EXPECT_STREQ(h["database"].GetString(), "unknown");
  EXPECT_STREQ(h["overall_status"].GetString(), "healthy");
  EXPECT_FALSE(h["degraded"].GetBool());
  EXPECT_STREQ(h["components"]["prometheus"]["status"].GetString(), "healthy");

  prom_ok_ = false;
  clients::http::HttpResponse failing = Get("/readyz");
  EXPECT_EQ(failing.status, 503);
  EXPECT_NE(failing.body.find("[-]prometheus failed: test"), std::string::npos) << failing.body;
  clients::http::HttpResponse unhealthy = Get("/api/health");
  EXPECT_EQ(unhealthy.status, 503);
  EXPECT_STREQ(Json(unhealthy)["status"].GetString(), "unhealthy");
  EXPECT_STREQ(Json(unhealthy)["prometheus"].GetString(), "unhealthy");
  EXPECT_STREQ(Json(unhealthy)["overall_status"].GetString(), "unhealthy");
  EXPECT_EQ(Get("/livez").status, 200);  // a failing dependency is not a wedged process

  // No cycle for 2 intervals: stale (not ready); for 3: wedged (not live).
  prom_ok_ = true;
  clock_.Advance(absl::Seconds(31));  // 61 s since the cycle
  EXPECT_EQ(Get("/readyz").status, 503);
  EXPECT_EQ(Get("/livez").status, 200);
  clock_.Advance(absl::Seconds(30));  // 91 s
  clients::http::HttpResponse wedged = Get("/livez?verbose");
  EXPECT_EQ(wedged.status, 503);
  EXPECT_NE(wedged.body.find("[-]cycle failed"), std::string::npos) << wedged.body;
}

// 7 d: buckets of 28 min read only the forecasts made in their first 5 minutes (one per bucket
// here), so every bucket still has its band and peak; 24 h (4-min buckets) reads them all.
TEST(HistoryAccuracyTest, TheWeekReadsOneForecastPerBucket) {
  storage::Options so;
  so.path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/tsdb-week");
  base::FakeClock clock(kStart);
  so.clock = &clock;
  auto store = storage::OpenRocksStore(so);
  ASSERT_TRUE(store.ok()) << store.status();
  auto id = (*store)->RegisterSeries({"shop", "api", "cpu_demand_cores", {}});
  ASSERT_TRUE(id.ok());
  std::vector<storage::SeriesSample> batch;
  for (absl::Time o = kStart - absl::Hours(24 * 7); o < kStart; o += absl::Minutes(5)) {
    batch.push_back({*id, {o, 1.0}});
    smartautoscaler::v1::Forecast f;
    f.set_series_id(*id);
    f.set_origin_ms(absl::ToUnixMillis(o));
    f.set_step_ms(5 * 60 * 1000);
    auto* p = f.add_path();
    p->set_timestamp_ms(absl::ToUnixMillis(o + absl::Minutes(5)));
    p->set_p10(0.9);
    p->set_p50(1.1);
    p->set_p90(1.4);
    f.set_peak_lead_p90(1.5);
    ASSERT_TRUE(
        (*store)->AppendEvent(storage::EventLog::kForecasts, o, f.SerializeAsString(), {}).ok());
  }
  ASSERT_TRUE((*store)->Append(batch, {}).ok());
  auto points = [](const rapidjson::Value& a) {
    int n = 0;
    for (const auto& v : a.GetArray()) n += v.IsNumber();
    return n;
  };
  base::HttpRequest req;
  req.query["range"] = "7d";
  rapidjson::Document d;
  d.Parse(HistoryResponse(store->get(), "shop", "api", req, kStart).body.c_str());
  EXPECT_EQ(points(d["series"]["forecast_p90_cores"]), 360);
  EXPECT_EQ(points(d["series"]["forecast_peak_p90_cores"]), 360);
  EXPECT_EQ(d["accuracy"]["origins"].GetInt(), 360);
  EXPECT_NEAR(d["accuracy"]["forecastMae"].GetDouble(), 0.1, 1e-9);
  EXPECT_NEAR(d["accuracy"]["persistenceMae"].GetDouble(), 0, 1e-9);
  req.query["range"] = "24h";
  d.Parse(HistoryResponse(store->get(), "shop", "api", req, kStart).body.c_str());
  EXPECT_EQ(d["accuracy"]["origins"].GetInt(), 287) << "every origin of the day but the newest";
}

}  // namespace
}  // namespace reconciler::web
