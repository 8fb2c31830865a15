#include "reconciler/forecast_tracker.h"

#include <cmath>

#include "gtest/gtest.h"

namespace reconciler {
namespace {

constexpr absl::Duration kStep = ForecastTracker::kStep;
const absl::Time kStart = absl::FromUnixSeconds(1764000000);  // on a 5-minute boundary

double Daily(absl::Time t) {
  return 2.0 + std::sin(2 * M_PI * absl::ToDoubleHours(t - absl::UnixEpoch()) / 24);
}

std::vector<std::pair<absl::Time, double>> DailyHistory(absl::Time end, int buckets) {
  std::vector<std::pair<absl::Time, double>> out;
  for (int i = buckets; i >= 1; --i) {
    const absl::Time b = end - i * kStep;
    out.push_back({b, Daily(b)});
  }
  return out;
}

TEST(ForecastTrackerTest, ABucketJoinsTheHistoryWhenItClosesAsTheMeanOfItsReadings) {
  ForecastTracker t("shop/api");
  t.Observe(kStart, 1.0, 10, /*predictive=*/false);
  t.Observe(kStart + absl::Minutes(2), 3.0, 10, false);
  EXPECT_EQ(t.HistoryPoints(), 0) << "the bucket is still open";
  t.Observe(kStart + absl::Minutes(5), 5.0, 10, false);
  EXPECT_EQ(t.HistoryPoints(), 1);
  // Two buckets missed (an outage): the +5 bucket closes at +20; the gap is held with the last
  // value when the +20 bucket closes.
  t.Observe(kStart + absl::Minutes(20), 7.0, 10, false);
  EXPECT_EQ(t.HistoryPoints(), 2);
  t.Observe(kStart + absl::Minutes(25), 9.0, 10, false);
  EXPECT_EQ(t.HistoryPoints(), 5);
  ForecastView v = t.View(kStart + absl::Minutes(25), {/*predictive=*/false, 0.6});
  EXPECT_FALSE(v.peak_lead_p90_cores.has_value());
  EXPECT_FALSE(v.trusted);
  EXPECT_EQ(v.note, "ENABLE_PREDICTIVE=false");
  EXPECT_TRUE(t.TakeForecastRecords().empty());
}

TEST(ForecastTrackerTest, NoForecastBeforeTheFirstBucket) {
  ForecastTracker t("shop/api");
  t.Observe(kStart, 1.0, 10, true);
  ForecastView v = t.View(kStart, {});
  EXPECT_FALSE(v.peak_lead_p90_cores.has_value());
  EXPECT_EQ(v.note, "no forecast yet (needs a 5-minute bucket of demand)");
  EXPECT_FALSE(v.persistence_accuracy) << "nothing validated: no persistence figure, not 0";
  EXPECT_FALSE(v.persistence_mae_cores);
}

TEST(ForecastTrackerTest, PersistenceIsScoredOverTheSameOrigins) {
  // A ramp of 0.01 cores a bucket: persistence (the origin's bucket carried 4 steps ahead) is
  // off by exactly 0.04 cores at every validated origin.
  ForecastTracker t("shop/api");
  t.SetLead(absl::Minutes(20));
  std::vector<std::pair<absl::Time, double>> ramp;
  const int buckets = 400;
  for (int i = 0; i < buckets; ++i) {
    ramp.push_back({kStart - (buckets - i) * kStep, 1.0 + 0.01 * i});
  }
  t.LoadHistory(ramp, kStart, /*threshold_cores=*/100);
  ForecastView v = t.View(kStart, {});
  ASSERT_GT(v.validated, 0);
  ASSERT_TRUE(v.persistence_accuracy && v.persistence_mae_cores && v.mae_cores);
  EXPECT_NEAR(*v.persistence_mae_cores, 0.04, 1e-9);
  EXPECT_DOUBLE_EQ(*v.persistence_accuracy, 1.0) << "0.04 of ~4.8 cores is within 15 %";
  EXPECT_NE(v.note.find("persistence 100%"), std::string::npos) << v.note;
  // Live buckets keep scoring it: the next validated origins are off by 0.04 too.
  for (int m = 0; m <= 30; ++m) {
    const absl::Time now = kStart + absl::Minutes(m);
    const double b = buckets + std::floor(m / 5.0);
    t.Observe(now, 1.0 + 0.01 * b, 100, true);
  }
  v = t.View(kStart + absl::Minutes(30), {});
  EXPECT_NEAR(*v.persistence_mae_cores, 0.04, 1e-9);
}

TEST(ForecastTrackerTest, AForecastNoBetterThanPersistenceIsNotTrusted) {
  // Flat demand: every forecast is within 15 % of the actual (the accuracy gate passes), but
  // persistence is exact, so the forecast cannot beat it and adds nothing.
  ForecastTracker flat("shop/flat");
  std::vector<std::pair<absl::Time, double>> points;
  for (int i = 5 * 24 * 12; i >= 1; --i) points.push_back({kStart - i * kStep, 2.0});
  flat.LoadHistory(points, kStart, /*threshold_cores=*/2.5);
  ForecastView v = flat.View(kStart, {});
  ASSERT_GE(v.validated, 10);
  EXPECT_DOUBLE_EQ(v.accuracy, 1.0);
  ASSERT_TRUE(v.persistence_mae_cores.has_value());
  EXPECT_DOUBLE_EQ(*v.persistence_mae_cores, 0.0);
  EXPECT_FALSE(v.trusted);
  EXPECT_NE(v.note.find("no better than persistence"), std::string::npos) << v.note;
  // A daily cycle: the forecast beats carrying the last bucket forward and is trusted.
  ForecastTracker daily("shop/daily");
  daily.LoadHistory(DailyHistory(kStart, 5 * 24 * 12), kStart, /*threshold_cores=*/2.5);
  v = daily.View(kStart, {});
  ASSERT_TRUE(v.mae_cores && v.persistence_mae_cores);
  EXPECT_LT(*v.mae_cores, *v.persistence_mae_cores);
  EXPECT_TRUE(v.trusted) << v.note;
}

TEST(ForecastTrackerTest, LoadedHistorySeedsValidationAndEveryClosedBucketForecasts) {
  ForecastTracker t("shop/api");
  t.SetLead(absl::Minutes(20));
  const int buckets = 5 * 24 * 12;
  t.LoadHistory(DailyHistory(kStart, buckets), kStart, /*threshold_cores=*/2.5);
  EXPECT_EQ(t.HistoryPoints(), buckets);
  // The last two hours replayed out of sample: 24 forecasts, those whose target is held.
  EXPECT_GT(t.ValidatedCount(), 15);
  EXPECT_LE(t.ValidatedCount(), 24);
  ForecastView v = t.View(kStart, {});
  ASSERT_TRUE(v.peak_lead_p90_cores.has_value());
  EXPECT_GT(*v.peak_lead_p90_cores, 0.5);
  EXPECT_EQ(v.validated, t.ValidatedCount());
  EXPECT_NE(v.note.find("trusted"), std::string::npos) << v.note;
  EXPECT_TRUE(t.TakeForecastRecords().empty()) << "loading makes no stored forecast";

  // Live cycles every minute for 30 minutes: each closed bucket makes one forecast over the
  // lead window (4 steps), which is validated once its target bucket closes.
  const int validated_before = t.ValidatedCount();
  for (int m = 0; m <= 30; ++m) {
    const absl::Time now = kStart + absl::Minutes(m);
    t.Observe(now, Daily(now), 2.5, true);
  }
  std::vector<ForecastRecord> records = t.TakeForecastRecords();
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].origin, kStart);
  EXPECT_EQ(records[0].band.size(), 4);
  EXPECT_EQ(records[0].lead, absl::Minutes(20));
  EXPECT_EQ(records[0].step, kStep);
  EXPECT_FALSE(records[0].model.empty());
  EXPECT_GE(records[0].peak_lead_p90_cores, records[0].peak_lead_p50_cores);
  EXPECT_TRUE(t.TakeForecastRecords().empty());
  // Forecasts from origins kStart, +5, +10 target +20, +25, +30 minutes; +20 and +25 closed.
  EXPECT_EQ(t.ValidatedCount(), validated_before + 2);
}

TEST(ForecastTrackerTest, PausedRefitsAreSkippedWhileTheModelKeepsForecasting) {
  ForecastTracker t("shop/api");
  t.LoadHistory(DailyHistory(kStart, 3 * 24 * 12), kStart, 2.5);  // fits at kStart
  t.TakeForecastRecords();
  t.SetRefitsPaused(true);
  // 90 minutes of live cycles: the refit due at +60 min (and every bucket after) is skipped.
  for (int m = 0; m <= 90; m += 5) t.Observe(kStart + absl::Minutes(m), 2.0, 2.5, true);
  EXPECT_EQ(t.refits_skipped(), 7) << "the buckets closed at +60..+90 min";
  EXPECT_EQ(t.TakeForecastRecords().size(), 18u) << "every closed bucket still forecasts";
  t.SetRefitsPaused(false);
  t.Observe(kStart + absl::Minutes(95), 2.0, 2.5, true);  // refits now
  t.Observe(kStart + absl::Minutes(100), 2.0, 2.5, true);
  EXPECT_EQ(t.refits_skipped(), 7);
  EXPECT_EQ(t.TakeForecastRecords().size(), 2u);
}

TEST(ForecastTrackerTest, PausedWithoutAModelMakesNoForecast) {
  ForecastTracker t("shop/api");
  t.SetRefitsPaused(true);
  for (int m = 0; m <= 30; m += 5) t.Observe(kStart + absl::Minutes(m), 2.0, 2.5, true);
  EXPECT_TRUE(t.TakeForecastRecords().empty());
  EXPECT_EQ(t.refits_skipped(), 6);
  EXPECT_FALSE(t.View(kStart + absl::Minutes(30), {}).peak_lead_p90_cores.has_value());
}

TEST(ForecastTrackerTest, TheLearnedTargetNeedsAWeekAndIsClearedWhenOff) {
  ForecastTracker t("shop/api");
  t.RefreshLearnedTarget(kStart, true);
  EXPECT_FALSE(t.LearnedTargetPct().has_value());
  t.LoadHistory(DailyHistory(kStart, ForecastTracker::kHistoryBuckets), kStart, 2.5);
  t.RefreshLearnedTarget(kStart, true);
  ASSERT_TRUE(t.LearnedTargetPct().has_value());
  EXPECT_GE(*t.LearnedTargetPct(), 50);
  EXPECT_LE(*t.LearnedTargetPct(), 90);
  EXPECT_EQ(t.View(kStart, {}).learned_target_pct, t.LearnedTargetPct());
  t.RefreshLearnedTarget(kStart + absl::Minutes(1), false);
  EXPECT_FALSE(t.LearnedTargetPct().has_value());
}

TEST(ForecastTrackerTest, RiskHeadroomIsTheRiseWithinTheHorizon) {
  ForecastTracker t("ns/d");
  // 1-minute readings: 2 cores, with a rise to 5 cores every 20 minutes for 1 minute.
  absl::Time now = kStart;
  for (int i = 0; i < 400; ++i, now += absl::Minutes(1)) {
    t.ObserveRecent(now, i % 20 == 10 ? 5.0 : 2.0);
    t.RefreshLearnedTarget(now, true);
  }
  // The rises: 3 cores for the three readings before each spike, 0 elsewhere (the spike falls):
  // 15 % of the readings, so the 0.99 quantile is the whole rise.
  ASSERT_TRUE(t.RiseHeadroomCores().has_value());
  EXPECT_DOUBLE_EQ(*t.RiseHeadroomCores(), 3.0);
  EXPECT_EQ(t.LearnedTargetPct(), ForecastTracker::kRiskTargetPct);
  EXPECT_EQ(t.View(now, {}).rise_headroom_cores, t.RiseHeadroomCores());
  t.RefreshLearnedTarget(now, false);
  EXPECT_FALSE(t.RiseHeadroomCores().has_value());
}

TEST(ForecastTrackerTest, NoRiskHeadroomBeforeEnoughRises) {
  ForecastTracker t("ns/d");
  absl::Time now = kStart;
  // kMinRiseSamples readings: the last ones' horizons are still open, so fewer rises.
  int i = 0;
  for (; i < ForecastTracker::kMinRiseSamples; ++i, now += absl::Minutes(1)) {
    t.ObserveRecent(now, 2.0 + i);
  }
  t.RefreshLearnedTarget(now, true);
  EXPECT_FALSE(t.RiseHeadroomCores().has_value());  // fewer than kMinRiseSamples
  EXPECT_FALSE(t.LearnedTargetPct().has_value());   // and no week of buckets
  // A few more close enough horizons: 1 core a minute, so 3 cores over each.
  for (int k = 0; k < 5; ++k, ++i, now += absl::Minutes(1)) t.ObserveRecent(now, 2.0 + i);
  t.RefreshLearnedTarget(now, true);
  ASSERT_TRUE(t.RiseHeadroomCores().has_value());
  EXPECT_DOUBLE_EQ(*t.RiseHeadroomCores(), 3.0);
}

}  // namespace
}  // namespace reconciler
