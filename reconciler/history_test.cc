#include "reconciler/history.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "proto/records.pb.h"

namespace reconciler {
namespace {

namespace prom = clients::prometheus;

constexpr absl::Duration kStep = ForecastTracker::kStep;
const absl::Time kNow = absl::FromUnixSeconds(1764000000) + absl::Minutes(2);

// Answers range queries with `value` every step; counts them.
class FakePrometheus : public prom::PrometheusClient {
 public:
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view, absl::Time) override {
    return absl::UnimplementedError("instant queries are not the history's");
  }
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view promql, absl::Time from,
                                                       absl::Time to,
                                                       absl::Duration step) override {
    ++range_queries;
    last_query = std::string(promql);
    if (down) return absl::UnavailableError("connection refused");
    prom::Series s;
    for (absl::Time t = from; t <= to; t += step) s.points.push_back({t, value});
    return std::vector<prom::Series>{s};
  }
  int range_queries = 0;
  std::string last_query;
  double value = 1.0;
  bool down = false;
};

class HistoryTest : public ::testing::Test {
 protected:
  HistoryTest() : clock_(kNow) {
    storage::Options so;
    so.path = std::string(getenv("TEST_TMPDIR")) + "/" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    so.clock = &clock_;
    auto s = storage::OpenRocksStore(so);
    EXPECT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    h_.namespace_name = "shop";
    h_.name = "api";
  }
  storage::SeriesId Id(const char* metric) {
    auto id = store_->LookupSeries({"shop", "api", metric, {}});
    return id.ok() ? *id : 0;
  }
  base::FakeClock clock_;
  FakePrometheus prom_;
  std::unique_ptr<storage::Store> store_;
  DeploymentHistory h_;
};

TEST_F(HistoryTest, WritesEachValueToItsNamedSeries) {
  HistoryWriter w(store_.get(), &prom_, &clock_);
  StoredValues v;
  v.demand_cores = 1.5;
  v.blended_pct = 60;
  v.predicted_pct = 70;
  v.pressure_ratio = 0.9;
  v.target_pct = 78;
  v.memory_pct = NAN;  // non-finite: not stored
  w.WriteCycle(kNow, {{v, &h_}});
  const std::pair<const char*, double> want[] = {{"cpu_demand_cores", 1.5},
                                                 {"smart_cpu_blended", 60},
                                                 {"smart_cpu_predicted", 70},
                                                 {"smart_cpu_pressure", 0.9},
                                                 {"smart_cpu_target", 78}};
  for (const auto& [metric, value] : want) {
    auto latest = store_->Latest(Id(metric));
    ASSERT_TRUE(latest.ok()) << metric;
    EXPECT_EQ(latest->value, value) << metric;
    EXPECT_EQ(latest->time, kNow);
  }
  EXPECT_EQ(Id("smart_memory_blended"), 0u) << "never registered without a value";
  EXPECT_EQ(h_.series.demand_cores, Id("cpu_demand_cores"));
  EXPECT_EQ(h_.series.pressure_ratio, Id("smart_cpu_pressure"));
  EXPECT_EQ(h_.series.memory_pct, 0u);
}

TEST_F(HistoryTest, QueuedDecisionsAndForecastsAreWrittenOnceWithTheCycle) {
  HistoryWriter w(store_.get(), &prom_, &clock_);
  StoredValues v;
  v.demand_cores = 1.0;
  w.WriteCycle(kNow - absl::Minutes(1), {{v, &h_}});  // registers the demand series
  Reading r;
  r.cpu_request_millicores = 500;
  r.ready_pods = 3;
  r.blended_pct = 61;
  r.node_pressure.level = PressureLevel::kWarning;
  TargetDecision t;
  t.previous_target_pct = 70;
  t.target_pct = 75;
  w.AddDecision(r, t, /*dry_run=*/true, kNow, &h_);
  ForecastRecord f;
  f.origin = kNow - absl::Minutes(2);
  f.step = kStep;
  f.lead = absl::Minutes(10);
  f.model = "ensemble";
  f.band.p10 = {1, 1};
  f.band.p50 = {2, 2};
  f.band.p90 = {3, 4};
  f.peak_lead_p90_cores = 4;
  w.AddForecasts({f}, &h_);
  w.WriteCycle(kNow, {{StoredValues{}, &h_}});
  w.WriteCycle(kNow + absl::Minutes(1), {{StoredValues{}, &h_}});
  auto decisions = store_->ScanEvents(storage::EventLog::kDecisions, kNow - absl::Hours(1),
                                      kNow + absl::Hours(1));
  ASSERT_TRUE(decisions.ok());
  ASSERT_EQ(decisions->size(), 1u);
  smartautoscaler::v1::Decision d;
  ASSERT_TRUE(d.ParseFromString((*decisions)[0].payload));
  EXPECT_EQ(d.previous_target_pct(), 70);
  EXPECT_EQ(d.recommended_target_pct(), 75);
  EXPECT_EQ(d.reason(), "node pressure warning, request 500m");
  EXPECT_TRUE(d.dry_run());
  EXPECT_EQ(d.inputs().ready_pods(), 3);
  auto forecasts = store_->ScanEvents(storage::EventLog::kForecasts, kNow - absl::Hours(1),
                                      kNow + absl::Hours(1));
  ASSERT_TRUE(forecasts.ok());
  ASSERT_EQ(forecasts->size(), 1u);
  EXPECT_EQ((*forecasts)[0].time, f.origin);
  smartautoscaler::v1::Forecast fp;
  ASSERT_TRUE(fp.ParseFromString((*forecasts)[0].payload));
  EXPECT_EQ(fp.series_id(), Id("cpu_demand_cores"));
  EXPECT_EQ(fp.path_size(), 2);
  EXPECT_EQ(fp.path(1).p90(), 4);
  EXPECT_EQ(fp.path(1).timestamp_ms(), absl::ToUnixMillis(f.origin + 2 * kStep));
}

TEST_F(HistoryTest, AWeekFromPrometheusIsWrittenBackAndTheNextLoadNeedsNoQuery) {
  HistoryWriter w(store_.get(), &prom_, &clock_);
  LoadBudget budget = HistoryWriter::CycleBudget(Config{}, kNow);
  EXPECT_EQ(budget.remote_queries, 3);
  EXPECT_EQ(budget.deadline, kNow + absl::Seconds(15));
  HistoryLoad load = w.LoadWeek(kNow, &budget, &h_);
  EXPECT_TRUE(load.done);
  EXPECT_TRUE(load.used_remote);
  EXPECT_EQ(budget.remote_queries, 2);
  EXPECT_NE(prom_.last_query.find("api"), std::string::npos);
  ASSERT_EQ(load.points.size(), size_t{ForecastTracker::kHistoryBuckets});
  // The last complete bucket before now.
  EXPECT_EQ(load.points.back().first, absl::FromUnixSeconds(1764000000) - kStep);

  DeploymentHistory again;
  again.namespace_name = "shop";
  again.name = "api";
  LoadBudget none{0, kNow + absl::Seconds(15)};
  HistoryLoad local = w.LoadWeek(kNow, &none, &again);
  EXPECT_TRUE(local.done);
  EXPECT_FALSE(local.used_remote);
  EXPECT_EQ(prom_.range_queries, 1);
  EXPECT_EQ(local.points.size(), load.points.size());
}

TEST_F(HistoryTest, CensoredMarksAreStoredAndComeBackWithTheirBucketsAfterARestart) {
  const absl::Time end = absl::FromUnixSeconds(1764000000) - kStep;  // last complete bucket
  const absl::Time start = end - (ForecastTracker::kHistoryBuckets - 1) * kStep;
  {
    HistoryWriter w(store_.get(), &prom_, &clock_);
    for (int i = 0; i < ForecastTracker::kHistoryBuckets; ++i) {
      // Two cycles per bucket: 1.0 core, then 2.0 cores, at the limit in every 10th bucket.
      StoredValues a, b;
      a.demand_cores = 1.0;
      a.demand_censored = 0;
      b.demand_cores = 2.0;
      b.demand_censored = i % 10 == 0 ? 1 : 0;
      w.WriteCycle(start + i * kStep + absl::Minutes(1), {{a, &h_}});
      w.WriteCycle(start + i * kStep + absl::Minutes(3), {{b, &h_}});
    }
  }
  ASSERT_NE(Id("cpu_demand_censored"), 0u);
  EXPECT_EQ(h_.series.demand_censored, Id("cpu_demand_censored"));
  // A restarted writer (new DeploymentHistory, no query budget) reads the marks back.
  HistoryWriter w(store_.get(), &prom_, &clock_);
  DeploymentHistory again;
  again.namespace_name = "shop";
  again.name = "api";
  LoadBudget none{0, kNow + absl::Seconds(15)};
  HistoryLoad load = w.LoadWeek(kNow, &none, &again);
  ASSERT_TRUE(load.done);
  EXPECT_FALSE(load.used_remote);
  EXPECT_EQ(prom_.range_queries, 0);
  ASSERT_EQ(load.points.size(), size_t{ForecastTracker::kHistoryBuckets});
  ASSERT_EQ(load.censored.size(), load.points.size());
  int marked = 0;
  for (size_t i = 0; i < load.points.size(); ++i) {
    EXPECT_EQ(load.points[i].first, start + static_cast<int64_t>(i) * kStep);
    EXPECT_DOUBLE_EQ(load.points[i].second, 1.5);
    // A bucket is censored when any of its samples is.
    EXPECT_EQ(load.censored[i], i % 10 == 0 ? 1 : 0) << i;
    marked += load.censored[i];
  }
  EXPECT_EQ(marked, (ForecastTracker::kHistoryBuckets + 9) / 10);
}

TEST_F(HistoryTest, ABackfillFromPrometheusKeepsTheStoredMarksWhereTheStoreHasBuckets) {
  // A day in the store (the last 288 buckets, every 4th censored), less than the forecaster's
  // minimum: the week is completed from Prometheus; the stored day keeps its values and marks.
  const absl::Time end = absl::FromUnixSeconds(1764000000) - kStep;
  const int day = 288;
  {
    HistoryWriter w(store_.get(), &prom_, &clock_);
    for (int i = 0; i < day; ++i) {
      StoredValues v;
      v.demand_cores = 3.0;
      v.demand_censored = i % 4 == 0 ? 1 : 0;
      w.WriteCycle(end - (day - 1 - i) * kStep + absl::Minutes(1), {{v, &h_}});
    }
  }
  HistoryWriter w(store_.get(), &prom_, &clock_);
  DeploymentHistory again;
  again.namespace_name = "shop";
  again.name = "api";
  LoadBudget budget{1, kNow + absl::Seconds(15)};
  HistoryLoad load = w.LoadWeek(kNow, &budget, &again);
  ASSERT_TRUE(load.done);
  EXPECT_TRUE(load.used_remote);
  ASSERT_EQ(load.points.size(), size_t{ForecastTracker::kHistoryBuckets});
  ASSERT_EQ(load.censored.size(), load.points.size());
  const size_t first_local = load.points.size() - day;
  for (size_t i = 0; i < load.points.size(); ++i) {
    if (i < first_local) {
      EXPECT_EQ(load.points[i].second, prom_.value) << i;
      EXPECT_EQ(load.censored[i], 0) << i;
    } else {
      EXPECT_EQ(load.points[i].second, 3.0) << i;
      EXPECT_EQ(load.censored[i], (i - first_local) % 4 == 0 ? 1 : 0) << i;
    }
  }
}

TEST_F(HistoryTest, BucketsFromPrometheusCarryNoCensoredMark) {
  HistoryWriter w(store_.get(), &prom_, &clock_);
  LoadBudget budget{1, kNow + absl::Seconds(15)};
  HistoryLoad load = w.LoadWeek(kNow, &budget, &h_);
  ASSERT_TRUE(load.used_remote);
  ASSERT_EQ(load.censored.size(), load.points.size());
  for (uint8_t c : load.censored) EXPECT_EQ(c, 0);
}

TEST_F(HistoryTest, NoBudgetOrAFailedQueryIsRetriedNextCycle) {
  HistoryWriter w(store_.get(), &prom_, &clock_);
  LoadBudget none{0, kNow + absl::Seconds(15)};
  HistoryLoad load = w.LoadWeek(kNow, &none, &h_);
  EXPECT_FALSE(load.done);
  EXPECT_FALSE(load.used_remote);
  EXPECT_EQ(prom_.range_queries, 0);

  prom_.down = true;
  LoadBudget one{1, kNow + absl::Seconds(15)};
  load = w.LoadWeek(kNow, &one, &h_);
  EXPECT_FALSE(load.done);
  EXPECT_TRUE(load.used_remote);
  EXPECT_EQ(one.remote_queries, 0);
  EXPECT_NE(load.error.find("backfill shop/api: UNAVAILABLE"), std::string::npos) << load.error;
}

TEST_F(HistoryTest, TheTimeBudgetReadsTheInjectedClock) {
  HistoryWriter w(store_.get(), &prom_, &clock_);
  LoadBudget b = HistoryWriter::CycleBudget(Config{}, kNow);
  EXPECT_TRUE(w.CanLoad(b));
  clock_.Advance(absl::Seconds(15));
  EXPECT_FALSE(w.CanLoad(b));
}

TEST_F(HistoryTest, WithoutAStoreNothingIsQueuedAndTheWeekComesFromPrometheus) {
  HistoryWriter w(nullptr, &prom_, &clock_);
  w.AddDecision(Reading{}, TargetDecision{}, false, kNow, &h_);
  EXPECT_TRUE(h_.decisions.empty());
  LoadBudget b{1, kNow + absl::Seconds(15)};
  HistoryLoad load = w.LoadWeek(kNow, &b, &h_);
  EXPECT_TRUE(load.done);
  EXPECT_EQ(load.points.size(), size_t{ForecastTracker::kHistoryBuckets});
}

}  // namespace
}  // namespace reconciler
