// The weekly report sent through the alert channels: a real webhook Dispatcher (generic channel,
// libcurl) posting to a real base::HttpServer on loopback (port 0) standing in for the receiving
// service. The report is built from a real RocksDB store; the schedule's times are passed in.
#include "reconciler/costs/report.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "clients/http/curl_http_client.h"
#include "clients/webhook/dispatcher.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "storage/store.h"

namespace costs {
namespace {

class WeeklyReportSendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/cost-report-", getpid());
    std::filesystem::remove_all(dir_);
    auto store = storage::OpenRocksStore({.path = dir_, .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    // shop/api: one pod of 1000m and no memory request from 10 h before the Monday on.
    const PodLifetime p{"api-a", monday_ - absl::Hours(10), absl::InfiniteFuture(), 1000, 0,
                        "n1", ""};
    ASSERT_TRUE(store_->AppendEvent(storage::EventLog::kPodLifetimes, p.start,
                                    EncodePodLifetime("shop", "api", p), {})
                    .ok());
    receiver_.Handle("/hook", [this](const base::HttpRequest& req) {
      absl::MutexLock lock(&mu_);
      bodies_.push_back(req.body);
      return base::HttpResponse{};
    });
    ASSERT_TRUE(receiver_.Start("127.0.0.1:0").ok());
  }
  void TearDown() override {
    receiver_.Stop();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::vector<std::string> Bodies() {
    absl::MutexLock lock(&mu_);
    return bodies_;
  }

  std::string dir_;
  const absl::Time monday_ = absl::FromUnixSeconds(1764547200);  // 2025-12-01 00:00 UTC
  base::FakeClock clock_{monday_ + absl::Hours(1)};
  std::unique_ptr<storage::Store> store_;
  base::HttpServer receiver_;
  absl::Mutex mu_;
  std::vector<std::string> bodies_ ABSL_GUARDED_BY(mu_);
};

TEST_F(WeeklyReportSendTest, TheLeaderSendsOneReportEachMondayToTheChannel) {
  CostService service(store_.get(),
                      [] { return PriceTable::Flat({.per_vcpu_hour = 0.04, .per_gb_hour = 0}); });
  auto transport = clients::http::MakeCurlHttpClient({});
  clients::webhook::ChannelConfig generic{
      clients::webhook::Channel::kGeneric,
      absl::StrCat("http://127.0.0.1:", receiver_.port(), "/hook")};
  clients::webhook::Dispatcher dispatcher({generic}, transport.get(), &base::RealClock(),
                                          &base::RealSleeper());
  WeeklyReportSender sender(
      &service, [&](const clients::webhook::Alert& a) { dispatcher.Enqueue(a); },
      absl::Hours(168));
  ASSERT_TRUE(sender.AfterCycle(monday_ - absl::Hours(2), true).ok());  // arms, mid-week
  ASSERT_TRUE(sender.AfterCycle(monday_ - absl::Hours(1), true).ok());
  ASSERT_TRUE(sender.AfterCycle(monday_, /*is_leader=*/false).ok());  // due, but a standby
  ASSERT_TRUE(sender.AfterCycle(monday_ + absl::Minutes(1), true).ok());  // the period passed
  EXPECT_EQ(sender.sent(), 0);
  const absl::Time next = monday_ + absl::Hours(168);
  ASSERT_TRUE(sender.AfterCycle(next, true).ok());
  ASSERT_TRUE(sender.AfterCycle(next + absl::Minutes(1), true).ok());
  EXPECT_EQ(sender.sent(), 1);
  ASSERT_TRUE(dispatcher.WaitIdle(absl::Seconds(120)));
  std::vector<std::string> bodies = Bodies();
  ASSERT_EQ(bodies.size(), 1u);
  rapidjson::Document d;
  d.Parse(bodies[0].c_str());
  ASSERT_FALSE(d.HasParseError()) << bodies[0];
  EXPECT_STREQ(d["type"].GetString(), "cost_report");
  EXPECT_STREQ(d["key"].GetString(), "cost_report/2025-12-08T00:00:00+00:00");
  // The pod ran the whole week: 168 h x 1 core x $0.04 = $6.72; $0.04 x 730 h a month.
  EXPECT_STREQ(d["fields"]["total_cost"].GetString(), "$6.72");
  EXPECT_STREQ(d["fields"]["estimated_monthly_cost"].GetString(), "$29.20");
  EXPECT_NE(std::string(d["text"].GetString()).find("- shop/api: $6.72"), std::string::npos)
      << d["text"].GetString();
}

TEST_F(WeeklyReportSendTest, AStoreErrorSkipsThePeriod) {
  CostService none(nullptr, [] { return PriceTable::Flat({}); });
  int sent = 0;
  WeeklyReportSender sender(&none, [&](const clients::webhook::Alert&) { ++sent; },
                            absl::Hours(168));
  ASSERT_TRUE(sender.AfterCycle(monday_ - absl::Hours(1), true).ok());
  EXPECT_TRUE(absl::IsUnavailable(sender.AfterCycle(monday_, true)));
  EXPECT_TRUE(sender.AfterCycle(monday_ + absl::Minutes(1), true).ok());  // not retried
  EXPECT_EQ(sent, 0);
}

}  // namespace
}  // namespace costs
