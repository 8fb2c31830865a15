// The cost routes over a real base::HttpServer on loopback (port 0) and a real RocksDB store in a
// temporary directory; time from a FakeClock. Figures by hand at $0.04/vCPU-h and $0.005/GB-h.
// The gauges' scrape is checked by Debian's promtool.
#include "reconciler/costs/routes.h"

#include <stdio.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "rapidjson/document.h"
#include "reconciler/costs/report.h"
#include "storage/store.h"

namespace costs {
namespace {

constexpr double kGb = 1e9;

class CostRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/cost-routes-", getpid());
    std::filesystem::remove_all(dir_);
    auto store = storage::OpenRocksStore({.path = dir_, .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    // shop/api: two pods of 500m and 1 GB for the last 3 h; 0.5 cores and 0.5 GB used (60-s
    // samples up to and including now). shop/idle: one pod of 250m, no usage series.
    for (const char* pod : {"api-a", "api-b"}) {
      Put("api", {pod, end_ - absl::Hours(3), absl::InfiniteFuture(), 500, 1000000000, "n1", ""});
    }
    Put("idle", {"idle-a", end_ - absl::Hours(3), absl::InfiniteFuture(), 250, 0, "n1", ""});
    auto cpu = store_->RegisterSeries({"shop", "api", kCpuDemandMetric, {}});
    auto mem = store_->RegisterSeries({"shop", "api", kMemoryWorkingSetMetric, {}});
    ASSERT_TRUE(cpu.ok() && mem.ok());
    std::vector<storage::SeriesSample> batch;
    for (int m = 0; m <= 180; ++m) {
      const absl::Time t = end_ - absl::Hours(3) + absl::Minutes(m);
      batch.push_back({*cpu, {t, 0.5}});
      batch.push_back({*mem, {t, 0.5 * kGb}});
    }
    ASSERT_TRUE(store_->Append(batch, {}).ok());
    service_ = std::make_unique<CostService>(store_.get(), [] {
      return PriceTable::Flat({.per_vcpu_hour = 0.04, .per_gb_hour = 0.005});
    });
    none_ = std::make_unique<CostService>(nullptr, [] { return PriceTable::Flat({}); });
    Serve(service_.get(), &view_, &server_);
    Serve(none_.get(), &none_view_, &none_server_);
    http_ = clients::http::MakeCurlHttpClient({});
  }
  void TearDown() override {
    server_.Stop();
    none_server_.Stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Serve(CostService* s, reconciler::StatusView* view, base::HttpServer* server) {
    AddCostRoutes(view, server, s, &clock_, {.max_window = absl::Hours(720)});
    reconciler::RegisterApi(server, view);
    ASSERT_TRUE(server->Start("127.0.0.1:0").ok());
  }
  void Put(const std::string& deployment, const PodLifetime& p) {
    ASSERT_TRUE(store_->AppendEvent(storage::EventLog::kPodLifetimes, p.start,
                                    EncodePodLifetime("shop", deployment, p), {})
                    .ok());
  }
  clients::http::HttpResponse Get(const base::HttpServer& server, const std::string& path) {
    clients::http::HttpRequest req;
    req.url = absl::StrCat("http://127.0.0.1:", server.port(), path);
    req.timeout = absl::Seconds(60);
    auto r = http_->Do(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : clients::http::HttpResponse{};
  }
  rapidjson::Document Json(const clients::http::HttpResponse& r) {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    EXPECT_FALSE(d.HasParseError()) << r.body;
    return d;
  }

  std::string dir_;
  const absl::Time end_ = absl::FromUnixSeconds(1764720000);  // 2025-12-03 00:00 UTC
  base::FakeClock clock_{end_};
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<CostService> service_, none_;
  reconciler::StatusView view_, none_view_;
  base::HttpServer server_, none_server_;
  std::unique_ptr<clients::http::HttpClient> http_;
};

TEST_F(CostRoutesTest, BothRoutesServeTheOriginalsFieldsWithHandComputedValues) {
  for (const char* path : {"/api/deployment/shop/api/cost?hours=2",
                           "/api/v1/deployments/shop/api/cost?hours=2"}) {
    clients::http::HttpResponse r = Get(server_, path);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    rapidjson::Document d = Json(r);
    // 2 pods x 0.5 core x 2 h x $0.04 = $0.08; 2 x 1 GB x 2 h x $0.005 = $0.02.
    EXPECT_NEAR(d["cpu_cost"].GetDouble(), 0.08, 1e-6);
    EXPECT_NEAR(d["memory_cost"].GetDouble(), 0.02, 1e-6);
    EXPECT_NEAR(d["total_cost"].GetDouble(), 0.10, 1e-6);
    // Used 0.5 of 1 core: half the CPU cost wasted; 0.5 of 2 GB: three quarters of memory.
    EXPECT_NEAR(d["wasted_cpu_cost"].GetDouble(), 0.04, 1e-6);
    EXPECT_NEAR(d["wasted_memory_cost"].GetDouble(), 0.015, 1e-6);
    EXPECT_NEAR(d["total_wasted_cost"].GetDouble(), 0.055, 1e-6);
    EXPECT_NEAR(d["cpu_utilization_percent"].GetDouble(), 50, 1e-6);
    EXPECT_NEAR(d["memory_utilization_percent"].GetDouble(), 25, 1e-6);
    // (1 core x $0.04 + 2 GB x $0.005) per hour x 730 h.
    EXPECT_NEAR(d["estimated_monthly_cost"].GetDouble(), 0.05 * 730, 1e-6);
    EXPECT_TRUE(d["optimization_potential"].IsNumber());
    EXPECT_TRUE(d["recommendation"].IsString());
    EXPECT_STREQ(d["deployment"].GetString(), "api");
    EXPECT_NEAR(d["runtime_hours"].GetDouble(), 2, 1e-9);
    EXPECT_NEAR(d["avg_pod_count"].GetDouble(), 2, 1e-9);  // 4 pod-hours over 2 h
    EXPECT_NEAR(d["avg_utilization"].GetDouble(), 50, 1e-6);
    EXPECT_TRUE(d["wasted_capacity_percent"].IsNumber());
    EXPECT_NEAR(d["allocated_total_cost"].GetDouble(), 0.10, 1e-6);  // usage below requests
    EXPECT_TRUE(d["rightsizing"].IsObject());
    EXPECT_EQ(d["rightsizing"]["cpu_request_millicores"]["current"].GetInt64(), 500);
    EXPECT_FALSE(d["managed"].GetBool());
    EXPECT_TRUE(d["guardrail"].IsNull());
  }
  // The default window is 24 h (the pods ran 3 of them).
  rapidjson::Document d = Json(Get(server_, "/api/v1/deployments/shop/api/cost"));
  EXPECT_NEAR(d["hours"].GetDouble(), 24, 1e-6);
  EXPECT_NEAR(d["cpu_cost"].GetDouble(), 0.12, 1e-6);
}

TEST_F(CostRoutesTest, DetailListsThePricedPodsAndUsageSpans) {
  rapidjson::Document d =
      Json(Get(server_, "/api/v1/deployments/shop/api/cost?hours=2&detail=usage"));
  EXPECT_STREQ(d["from"].GetString(), "2025-12-02T22:00:00.000000Z");
  EXPECT_STREQ(d["to"].GetString(), "2025-12-03T00:00:00.000000Z");
  ASSERT_EQ(d["pods"].Size(), 2u);
  // In (pod, start) order, named and placed as recorded.
  EXPECT_STREQ(d["pods"][0]["pod"].GetString(), "api-a");
  EXPECT_STREQ(d["pods"][1]["pod"].GetString(), "api-b");
  EXPECT_STREQ(d["pods"][0]["end"].GetString(), "2025-12-03T00:00:00.000000Z");  // open: to now
  // The samples from T-2h to T-1m, 60 s each (the one at T is outside [from, to)).
  ASSERT_EQ(d["usage"].Size(), 120u);
  EXPECT_EQ(d["usage"][0]["seconds"].GetDouble(), 60);
  EXPECT_EQ(d["usage"][0]["cpu_cores"].GetDouble(), 0.5);
  EXPECT_FALSE(Json(Get(server_, "/api/v1/deployments/shop/api/cost")).HasMember("usage"));
}

TEST_F(CostRoutesTest, UnmeasuredUsageIsNullWithANoteNeverZero) {
  clients::http::HttpResponse r = Get(server_, "/api/deployment/shop/idle/cost?hours=2");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  EXPECT_NEAR(d["cpu_cost"].GetDouble(), 0.25 * 2 * 0.04, 1e-6);
  for (const char* k :
       {"cpu_utilization_percent", "memory_utilization_percent", "wasted_cpu_cost",
        "wasted_memory_cost", "total_wasted_cost", "optimization_potential", "avg_utilization"}) {
    EXPECT_TRUE(d[k].IsNull()) << k;
  }
  EXPECT_NE(std::string(d["note"].GetString()).find("no usage was measured"), std::string::npos);
}

TEST_F(CostRoutesTest, BadHoursUnknownDeploymentAndNoStoreAreStatuses) {
  for (const char* q : {"abc", "0", "-1", "721", "nan"}) {
    clients::http::HttpResponse r =
        Get(server_, absl::StrCat("/api/deployment/shop/api/cost?hours=", q));
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_NE(r.body.find(absl::StrCat("hours=", q)), std::string::npos) << r.body;
  }
  for (const char* overview : {"/api/overview", "/api/v1/overview"}) {
    for (const char* q : {"x", "0", "-2", "721", ""}) {
      clients::http::HttpResponse r = Get(server_, absl::StrCat(overview, "?hours=", q));
      EXPECT_EQ(r.status, 400) << overview << " hours=" << q;
      EXPECT_NE(r.body.find("\"reason\":\"BadRequest\""), std::string::npos) << r.body;
    }
  }
  clients::http::HttpResponse unknown = Get(server_, "/api/deployment/shop/nope/cost");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("shop/nope"), std::string::npos) << unknown.body;
  for (const char* path : {"/api/deployment/shop/api/cost", "/api/overview",
                           "/api/v1/report/weekly"}) {
    clients::http::HttpResponse r = Get(none_server_, path);
    EXPECT_EQ(r.status, 503) << path;
    EXPECT_NE(r.body.find("\"reason\":\"ServiceUnavailable\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(Get(server_, "/api/v1/report/weekly?format=xml").status, 400);
}

TEST_F(CostRoutesTest, OverviewAndWeeklyReportSumTheDeployments) {
  for (const char* path : {"/api/overview?hours=2", "/api/v1/overview?hours=2"}) {
    clients::http::HttpResponse r = Get(server_, path);
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d = Json(r);
    EXPECT_EQ(d["deployments_count"].GetInt(), 2);
    EXPECT_EQ(d["unmeasured_deployments"].GetInt(), 1);
    EXPECT_NEAR(d["total_cost"].GetDouble(), 0.10 + 0.02, 1e-6);
    EXPECT_TRUE(d["deployments"][1]["total_wasted_cost"].IsNull() ||
                d["deployments"][0]["total_wasted_cost"].IsNull());
  }
  rapidjson::Document w = Json(Get(server_, "/api/v1/report/weekly"));
  EXPECT_NEAR(w["hours"].GetDouble(), 168, 1e-6);
  EXPECT_EQ(w["totals"]["deployments"].GetInt(), 2);
  // 3 h of each: api $0.12 (1 core) + $0.03 (2 GB), idle 0.25 core x 3 h x $0.04 = $0.03.
  EXPECT_NEAR(w["totals"]["total_cost"].GetDouble(), 0.15 + 0.03, 1e-6);
  clients::http::HttpResponse text = Get(server_, "/api/v1/report/weekly?format=text");
  EXPECT_EQ(text.status, 200);
  EXPECT_NE(text.body.find("2 deployment(s): $0.18 requested"), std::string::npos) << text.body;
  EXPECT_NE(text.body.find("- shop/api: $0.15, wasted $0.08"), std::string::npos) << text.body;
  EXPECT_NE(text.body.find("1 deployment(s) without usage data"), std::string::npos);
  EXPECT_NE(text.body.find("- shop/idle: $0.03, wasted unknown"), std::string::npos) << text.body;
}

TEST_F(CostRoutesTest, OverviewHasTheOriginalsFieldsAndTheAnomalyCounts) {
  // Without an anomaly log the counts are unknown (null), never 0.
  rapidjson::Document d = Json(Get(server_, "/api/overview?hours=2"));
  EXPECT_EQ(d["total_deployments"].GetInt(), 2) << "no reconciler: the costed deployments";
  // The original's names for our totals.
  EXPECT_NEAR(d["total_monthly_cost"].GetDouble(), d["estimated_monthly_cost"].GetDouble(), 1e-9);
  EXPECT_NEAR(d["total_savings_potential"].GetDouble(), d["optimization_potential"].GetDouble(),
              1e-9);
  EXPECT_NEAR(
      d["efficiency_score"].GetDouble(),
      100 * (1 - d["optimization_potential"].GetDouble() / d["estimated_monthly_cost"].GetDouble()),
      1e-4);
  EXPECT_TRUE(d["recent_anomalies_24h"].IsNull());
  EXPECT_TRUE(d["avg_prediction_confidence"].IsNull()) << "no managed deployment";
  EXPECT_TRUE(d["deployments"][0]["active_anomalies"].IsNull());
  EXPECT_TRUE(d["anomalies_by_deployment"].IsNull());
  EXPECT_NE(std::string(d["anomalies_note"].GetString()).find("no anomaly log"), std::string::npos);

  absl::Status fail = absl::OkStatus();
  reconciler::StatusView view;
  base::HttpServer server;
  AddCostRoutes(
      &view, &server, service_.get(), &clock_,
      {.max_window = absl::Hours(720), .anomaly_counts = [&](absl::Time now) {
         EXPECT_EQ(now, end_);
         if (!fail.ok()) return absl::StatusOr<std::map<std::string, AnomalyCounts>>(fail);
         return absl::StatusOr<std::map<std::string, AnomalyCounts>>(
             std::map<std::string, AnomalyCounts>{{"shop/api", {2, 3}}, {"other/x", {0, 1}}});
       }});
  reconciler::RegisterApi(&server, &view);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  d = Json(Get(server, "/api/overview?hours=2"));
  EXPECT_EQ(d["recent_anomalies_24h"].GetInt(), 4);
  EXPECT_EQ(d["anomalies_by_deployment"]["other/x"]["started_24h"].GetInt(), 1)
      << "a deployment without costs keeps its counts";
  EXPECT_EQ(d["anomalies_by_deployment"]["shop/api"]["active"].GetInt(), 2);
  for (const auto& x : d["deployments"].GetArray()) {
    EXPECT_EQ(x["active_anomalies"].GetInt(),
              std::string(x["deployment"].GetString()) == "api" ? 2 : 0);
  }
  fail = absl::UnavailableError("store closed");
  d = Json(Get(server, "/api/overview?hours=2"));
  EXPECT_TRUE(d["recent_anomalies_24h"].IsNull());
  EXPECT_EQ(std::string(d["anomalies_note"].GetString()), "anomaly log: store closed");
  server.Stop();
}

// promtool's verdict on a scrape; "" when it passes.
std::string Promtool(const std::string& scrape) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/scrape-", getpid(), ".txt");
  std::ofstream(path) << scrape;
  FILE* p = popen(absl::StrCat("promtool check metrics < ", path, " 2>&1").c_str(), "r");
  if (p == nullptr) return "promtool did not start";
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = pclose(p);
  return rc == 0 ? "" : absl::StrCat("rc ", rc, ": ", out);
}

TEST_F(CostRoutesTest, GaugesPassPromtoolAndLeaveWithTheirDeployment) {
  prometheus::Registry registry;
  CostMetrics gauges(&registry, absl::Minutes(5));
  ASSERT_TRUE(gauges.MaybeRefresh(service_.get(), end_).ok());
  std::string scrape = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_EQ(Promtool(scrape), "") << scrape;
  // 3 h of 168 measured: the monthly figure is the rate of the time the pods ran.
  EXPECT_NE(scrape.find("autoscaler_monthly_cost_usd{deployment=\"api\",namespace=\"shop\"} 36.5"),
            std::string::npos)
      << scrape;
  EXPECT_NE(scrape.find("autoscaler_hourly_cost_usd{deployment=\"api\",namespace=\"shop\","
                        "resource=\"cpu\"} 0.04"),
            std::string::npos)
      << scrape;
  EXPECT_NE(scrape.find("autoscaler_wasted_capacity_percent{deployment=\"api\",namespace=\"shop\"} 50"),
            std::string::npos)
      << scrape;
  // idle has no usage: no wasted-capacity series for it (absent, not 0).
  EXPECT_EQ(scrape.find("autoscaler_wasted_capacity_percent{deployment=\"idle\""),
            std::string::npos);
  // Within the refresh interval nothing is recomputed; then a deployment that left disappears.
  gauges.Set({});
  scrape = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_EQ(scrape.find("deployment=\"api\""), std::string::npos) << scrape;
  EXPECT_EQ(Promtool(scrape), "") << scrape;
}

TEST(ReportScheduleTest, OnceAtEachMondayAfterArming) {
  ReportSchedule s(absl::Hours(168));
  const absl::Time monday = absl::FromUnixSeconds(1764547200);  // 2025-12-01 00:00 UTC, a Monday
  EXPECT_EQ(s.PeriodStart(monday + absl::Hours(50)), monday);
  EXPECT_FALSE(s.Due(monday + absl::Hours(30)));   // arms (a start or restart mid-week)
  EXPECT_FALSE(s.Due(monday + absl::Hours(100)));
  EXPECT_TRUE(s.Due(monday + absl::Hours(168)));   // the next Monday, 00:00
  EXPECT_FALSE(s.Due(monday + absl::Hours(169)));  // once
  EXPECT_TRUE(s.Due(monday + absl::Hours(24 * 21 + 3)));  // a missed week: one report
  EXPECT_FALSE(s.Due(monday + absl::Hours(24 * 21 + 4)));
  ReportSchedule off(absl::ZeroDuration());
  EXPECT_FALSE(off.Due(monday));
  EXPECT_FALSE(off.Due(monday + absl::Hours(1000)));
}

}  // namespace
}  // namespace costs
