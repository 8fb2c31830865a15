// CostService over a real RocksDB store (a temporary directory, a fake clock for retention):
// figures computed by hand at $0.04/vCPU-h and $0.005/GB-h, the incremental lifetime index, and
// the errors (unknown deployment, no store, bad hours).
#include "reconciler/costs/service.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "storage/store.h"

namespace costs {
namespace {

constexpr double kGb = 1e9;

class CostServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/cost-service-", getpid());
    std::filesystem::remove_all(dir_);
    auto store = storage::OpenRocksStore({.path = dir_, .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    // Pod a (500m, 1 GB) from T-3h on; pod b (500m, 1 GB) from T-2h (both open records).
    Put(end_ - absl::Hours(3), "api", a_);
    Put(end_ - absl::Hours(2), "api", b_);
    // Another deployment's pod, logged at T-10m: the newest record in the log.
    Put(end_ - absl::Minutes(10), "web", {"web-a", end_ - absl::Minutes(10),
                                         absl::InfiniteFuture(), 100, 0, "n1", ""});
    // CPU demand 0.75 cores before T-90m, 0.5 after; working set 0.5 GB; one sample a minute
    // from T-2h up to and including T.
    auto cpu = store_->RegisterSeries({"shop", "api", kCpuDemandMetric, {}});
    auto mem = store_->RegisterSeries({"shop", "api", kMemoryWorkingSetMetric, {}});
    ASSERT_TRUE(cpu.ok() && mem.ok());
    std::vector<storage::SeriesSample> batch;
    for (int m = 0; m <= 120; ++m) {
      const absl::Time t = end_ - absl::Hours(2) + absl::Minutes(m);
      batch.push_back({*cpu, {t, t < end_ - absl::Minutes(90) ? 0.75 : 0.5}});
      batch.push_back({*mem, {t, 0.5 * kGb}});
    }
    ASSERT_TRUE(store_->Append(batch, {}).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Put(absl::Time at, const std::string& deployment, const PodLifetime& p) {
    ASSERT_TRUE(store_->AppendEvent(storage::EventLog::kPodLifetimes, at,
                                    EncodePodLifetime("shop", deployment, p), {})
                    .ok());
  }

  std::string dir_;
  const absl::Time end_ = absl::FromUnixSeconds(1764720000);  // 2025-12-03 00:00 UTC
  base::FakeClock clock_{end_};
  std::unique_ptr<storage::Store> store_;
  const PodLifetime a_{"api-a", end_ - absl::Hours(3), absl::InfiniteFuture(), 500,
                       1000000000, "n1", ""};
  const PodLifetime b_{"api-b", end_ - absl::Hours(2), absl::InfiniteFuture(), 500,
                       1000000000, "n1", ""};
};

PriceTable Flat() { return PriceTable::Flat({.per_vcpu_hour = 0.04, .per_gb_hour = 0.005}); }

TEST_F(CostServiceTest, PricesPodTimeAndUsageFromTheStore) {
  CostService svc(store_.get(), Flat);
  PodLifetime ended = b_;
  ended.end = end_ - absl::Minutes(90);
  Put(ended.end, "api", ended);
  auto c = svc.Deployment("shop", "api", end_, absl::Hours(2));
  ASSERT_TRUE(c.ok()) << c.status();
  // a: 2 h x 0.5 core; b: 0.5 h x 0.5 core -> 1.25 core-hours x $0.04 = $0.05.
  EXPECT_NEAR(c->cost.requested_core_hours, 1.25, 1e-9);
  EXPECT_NEAR(c->cost.cpu_cost, 0.05, 1e-9);
  // 2.5 GB-hours x $0.005.
  EXPECT_NEAR(c->cost.memory_cost, 0.0125, 1e-9);
  // Used: 0.5 h x 0.75 + 1.5 h x 0.5 = 1.125 core-hours, 90 % of 1.25.
  EXPECT_NEAR(c->cost.used_core_hours, 1.125, 1e-9);
  ASSERT_TRUE(c->cost.cpu_utilization_percent.has_value());
  EXPECT_NEAR(*c->cost.cpu_utilization_percent, 90.0, 1e-6);
  EXPECT_EQ(c->cpu_request_millicores, 500);
  EXPECT_EQ(c->memory_request_bytes, 1000000000);
}

TEST_F(CostServiceTest, LaterRecordsAreReadIncrementallyIncludingBackDatedEnds) {
  CostService svc(store_.get(), Flat);
  auto before = svc.Deployment("shop", "api", end_, absl::Hours(2));
  ASSERT_TRUE(before.ok()) << before.status();
  // Both pods open until the newest sample (T): 2 h x 2 x 0.5 core = 2 core-hours.
  EXPECT_NEAR(before->cost.cpu_cost, 0.08, 1e-9);
  // b's end is logged now, dated T-90m: before the newest record already read (T-10m).
  PodLifetime ended = b_;
  ended.end = end_ - absl::Minutes(90);
  Put(ended.end, "api", ended);
  auto after = svc.Deployment("shop", "api", end_, absl::Hours(2));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NEAR(after->cost.cpu_cost, 0.05, 1e-9);
  // A stale open record read again never reopens the ended pod.
  auto again = svc.Deployment("shop", "api", end_, absl::Hours(2));
  ASSERT_TRUE(again.ok());
  EXPECT_NEAR(again->cost.cpu_cost, 0.05, 1e-9);
}

TEST_F(CostServiceTest, AllListsDeploymentsWithPodsAndUnmeasuredUsageIsNotZero) {
  CostService svc(store_.get(), Flat);
  auto all = svc.All(end_, absl::Hours(2), /*rightsizing=*/false);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].deployment, "api");
  EXPECT_EQ((*all)[1].deployment, "web");
  // web has no usage series: its utilisation is unknown, not 0 %.
  EXPECT_FALSE((*all)[1].cost.cpu_utilization_percent.has_value());
  EXPECT_EQ((*all)[1].cost.measured_hours, 0);
  // 10 min x 0.1 core x $0.04.
  EXPECT_NEAR((*all)[1].cost.cpu_cost, 0.1 * (10.0 / 60) * 0.04, 1e-9);
  auto newest = svc.NewestCycle();
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(*newest, end_);
}

TEST_F(CostServiceTest, UnknownDeploymentNotFoundAndNoStoreUnavailable) {
  CostService svc(store_.get(), Flat);
  EXPECT_TRUE(absl::IsNotFound(svc.Deployment("shop", "nope", end_, absl::Hours(2)).status()));
  CostService none(nullptr, Flat);
  EXPECT_TRUE(absl::IsUnavailable(none.Deployment("shop", "api", end_, absl::Hours(2)).status()));
  EXPECT_TRUE(absl::IsUnavailable(none.All(end_, absl::Hours(2), false).status()));
}

TEST_F(CostServiceTest, UndecodableRecordsAreCountedAndSkipped) {
  ASSERT_TRUE(store_->AppendEvent(storage::EventLog::kPodLifetimes, end_ - absl::Minutes(5),
                                  "not a record", {})
                  .ok());
  CostService svc(store_.get(), Flat);
  ASSERT_TRUE(svc.All(end_, absl::Hours(2), false).ok());
  ASSERT_TRUE(svc.All(end_, absl::Hours(2), false).ok());  // re-read: counted once
  EXPECT_EQ(svc.bad_records(), 1);
}

TEST(ParseWindowHoursTest, AcceptsPositiveHoursWithinRetention) {
  const absl::Duration max = absl::Hours(720);
  EXPECT_EQ(*ParseWindowHours("24", max), absl::Hours(24));
  EXPECT_EQ(*ParseWindowHours("0.5", max), absl::Minutes(30));
  EXPECT_EQ(*ParseWindowHours("720", max), absl::Hours(720));
  for (const char* bad : {"", "abc", "24h", "0", "-3", "nan", "721", "inf"}) {
    auto r = ParseWindowHours(bad, max);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << bad;
  }
  EXPECT_EQ(ParseWindowHours("abc", max).status().message(), "hours=abc: not a number of hours");
  EXPECT_EQ(ParseWindowHours("0", max).status().message(), "hours=0: must be > 0");
  EXPECT_EQ(ParseWindowHours("721", max).status().message(),
            "hours=721: more than the 720 h the store keeps");
}

}  // namespace
}  // namespace costs

namespace costs {
namespace {

TEST(PriceSourceTest, ReloadsAnEditedFileAndKeepsTheTableOnABadOne) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/pricing-", getpid());
  std::ofstream(path) << "label pool\nbig 0.10 0.01\n";
  PriceSource prices({0.04, 0.005});
  EXPECT_EQ(prices.Get().For("big").per_vcpu_hour, 0.04);  // flat until the first reload
  ASSERT_TRUE(prices.Reload({0.04, 0.005}, path).ok());
  EXPECT_EQ(prices.Get().For("big").per_vcpu_hour, 0.10);
  EXPECT_EQ(prices.Get().For("other").per_vcpu_hour, 0.04);
  std::ofstream(path) << "label pool\nbig 0.20 0.01\n";
  ASSERT_TRUE(prices.Reload({0.04, 0.005}, path).ok());
  EXPECT_EQ(prices.Get().For("big").per_vcpu_hour, 0.20);
  std::ofstream(path) << "label pool\nbig -1 0.01\n";
  EXPECT_TRUE(absl::IsInvalidArgument(prices.Reload({0.04, 0.005}, path)));
  EXPECT_EQ(prices.Get().For("big").per_vcpu_hour, 0.20);  // the last good table stays
  EXPECT_TRUE(absl::IsNotFound(prices.Reload({0.04, 0.005}, path + ".missing")));
  ASSERT_TRUE(prices.Reload({0.05, 0.005}, "").ok());  // unset: flat prices
  EXPECT_EQ(prices.Get().For("big").per_vcpu_hour, 0.05);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace costs
