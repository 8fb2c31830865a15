// `smart-autoscaler costs` over a real RocksDB store: pod lifetimes in the lifetime log, usage
// series sampled every 60 s, and figures computed by hand at $0.04/vCPU-h and $0.005/GB-h.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "reconciler/costs/costs.h"
#include "storage/store.h"

ABSL_DECLARE_FLAG(std::string, db);ABSL_DECLARE_FLAG(double, hours);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(std::string, until);

namespace cli {
namespace {

class CostsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/costs-", getpid());
    std::filesystem::remove_all(dir_);
    // Within retention of the real clock the command opens the store with.
    end_ = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) / 3600 * 3600 - 3600);
    auto store = storage::OpenRocksStore({.path = dir_});
    ASSERT_TRUE(store.ok()) << store.status();
    Fill(store->get());
    unsetenv("PRICING_FILE");
    absl::SetFlag(&FLAGS_db, dir_);
    absl::SetFlag(&FLAGS_hours, 2);
    absl::SetFlag(&FLAGS_json, true);
    absl::SetFlag(&FLAGS_until, absl::FormatTime(absl::RFC3339_full, end_ - absl::Milliseconds(1),
                                                 absl::UTCTimeZone()));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Pod a (500m, 1 GB) from end-3h on; pod b (500m, 1 GB) from end-2h to end-1h30m. CPU demand
  // 0.75 cores while both run, else 0.5; working set 0.5 GB throughout; a sample every 60 s up to
  // and including `end_`.
  void Fill(storage::Store* s) {
    costs::PodLifetime a{"api-a", end_ - absl::Hours(3), absl::InfiniteFuture(), 500,
                         1000000000, "n1", ""};
    costs::PodLifetime b{"api-b", end_ - absl::Hours(2), absl::InfiniteFuture(), 500,
                         1000000000, "n1", ""};
    auto put = [&](absl::Time t, const costs::PodLifetime& p) {
      ASSERT_TRUE(s->AppendEvent(storage::EventLog::kPodLifetimes, t,
                                 costs::EncodePodLifetime("shop", "api", p), {})
                      .ok());
    };
    put(a.start, a);
    put(b.start, b);
    b.end = end_ - absl::Minutes(90);
    put(b.end, b);  // the ended record replaces the open one
    ASSERT_TRUE(s->AppendEvent(storage::EventLog::kPodLifetimes, end_, "garbage", {}).ok());
    auto cpu = s->RegisterSeries({"shop", "api", costs::kCpuDemandMetric, {}});
    auto mem = s->RegisterSeries({"shop", "api", costs::kMemoryWorkingSetMetric, {}});
    ASSERT_TRUE(cpu.ok() && mem.ok());
    std::vector<storage::SeriesSample> batch;
    for (absl::Time t = end_ - absl::Hours(3); t <= end_; t += absl::Seconds(60)) {
      const bool both = t >= b.start && t < b.end;
      batch.push_back({*cpu, {t, both ? 0.75 : 0.5}});
      batch.push_back({*mem, {t, 0.5e9}});
    }
    ASSERT_TRUE(s->Append(batch, {.sync = true}).ok());
  }

  std::string Run(int* rc) {
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    *rc = CostsMain({});
    err_ = ::testing::internal::GetCapturedStderr();
    return ::testing::internal::GetCapturedStdout();
  }

  std::string dir_, err_;
  absl::Time end_;
};

TEST_F(CostsCommandTest, PricesPodTimeAndUsageFromTheStore) {
  int rc;
  std::string out = Run(&rc);
  ASSERT_EQ(rc, 0) << err_;
  EXPECT_NE(err_.find("costs: 1 pod-lifetime record(s) did not decode; skipped\n"),
            std::string::npos)
      << err_;
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(out.c_str()).HasParseError()) << out;
  ASSERT_EQ(d["deployments"].Size(), 1u) << out;
  const auto& api = d["deployments"][0];
  EXPECT_STREQ(api["namespace"].GetString(), "shop");
  // Window [end-2h, end): a 2 h + b 0.5 h = 2.5 pod-hours x 0.5 core x $0.04 = $0.05;
  // x 1 GB x $0.005 = $0.0125.
  EXPECT_NEAR(api["pod_hours"].GetDouble(), 2.5, 1e-6);
  EXPECT_NEAR(api["cpu_cost"].GetDouble(), 0.05, 1e-6);
  EXPECT_NEAR(api["memory_cost"].GetDouble(), 0.0125, 1e-6);
  EXPECT_NEAR(api["total_cost"].GetDouble(), 0.0625, 1e-6);
  // Used 0.75 x 0.5 h + 0.5 x 1.5 h = 1.125 of 1.25 core-hours: 90 %; waste 0.25 x 0.5 h.
  EXPECT_NEAR(api["cpu_utilization_percent"].GetDouble(), 90, 1e-4);
  EXPECT_NEAR(api["wasted_cpu_cost"].GetDouble(), 0.005, 1e-6);
  // Memory 0.5 GB x 2 h of 2.5 GB-h: 40 %; waste 1.5 x 0.5 h + 0.5 x 1.5 h = 1.5 GB-h.
  EXPECT_NEAR(api["memory_utilization_percent"].GetDouble(), 40, 1e-4);
  EXPECT_NEAR(api["wasted_memory_cost"].GetDouble(), 0.0075, 1e-6);
  // 2 h of window: $0.03125/h x 730 h.
  EXPECT_NEAR(api["estimated_monthly_cost"].GetDouble(), 22.8125, 1e-6);
  EXPECT_EQ(api["rightsizing"]["cpu_request_millicores"]["current"].GetInt64(), 500);
  EXPECT_TRUE(api["rightsizing"]["cpu_request_millicores"]["recommended"].IsInt64());
  EXPECT_NEAR(d["totals"]["total_cost"].GetDouble(), 0.0625, 1e-6);
}

TEST_F(CostsCommandTest, TextOutputNamesTheDeploymentAndTheAdvice) {
  absl::SetFlag(&FLAGS_json, false);
  int rc;
  std::string out = Run(&rc);
  ASSERT_EQ(rc, 0) << err_;
  EXPECT_NE(out.find("shop/api: $0.06 (cpu $0.05, memory $0.01)"), std::string::npos) << out;
  EXPECT_NE(out.find("total: 1 deployment(s)"), std::string::npos) << out;
}

TEST_F(CostsCommandTest, BadInputIsAClearErrorAndExit2) {
  int rc;
  absl::SetFlag(&FLAGS_hours, 0);
  Run(&rc);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(err_, "costs: --hours=0 must be in (0, 8760]\n");
  absl::SetFlag(&FLAGS_hours, 2);
  const std::string prices = absl::StrCat(dir_, "-prices.txt");
  std::ofstream(prices) << "label pool\nbig -1 0.01\nsmall 0.03\n";
  setenv("PRICING_FILE", prices.c_str(), 1);
  Run(&rc);
  unsetenv("PRICING_FILE");
  std::filesystem::remove(prices);
  EXPECT_EQ(rc, 2);
  EXPECT_EQ(err_,
            "costs: pricing line 2: '-1' is not a price (USD per vCPU-hour >= 0)\n"
            "costs: pricing line 3: want '<label value> <USD per vCPU-hour> <USD per GB-hour>', "
            "got 2 field(s)\n");
}

}  // namespace
}  // namespace cli
