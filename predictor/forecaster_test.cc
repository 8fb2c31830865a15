#include "predictor/forecaster.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace predictor {
namespace {

constexpr double kPi = 3.14159265358979323846;

Series Make(int n, const std::function<double(int)>& f, absl::Duration step = absl::Minutes(5)) {
  Series s;
  s.start = absl::FromUnixSeconds(1700000000 - 1700000000 % 86400);
  s.step = step;
  for (int i = 0; i < n; ++i) s.values.push_back(f(i));
  s.gap.assign(n, 0);
  return s;
}

double DailySine(int i) { return 100 + 20 * std::sin(2 * kPi * i / 288.0); }

TEST(ForecasterTest, HoltWintersForecastsDailySineWithinOnePercent) {
  const int n = 7 * 288;
  Series s = Make(n, DailySine);
  auto f = NewForecaster(ModelKind::kHoltWinters);
  ASSERT_TRUE(f->Fit(s, 12).ok());
  Band b = f->Forecast(12);
  ASSERT_EQ(b.size(), 12);
  for (int k = 0; k < 12; ++k) {
    const double truth = DailySine(n + k);
    EXPECT_NEAR(b.p50[k], truth, 0.01 * std::abs(truth)) << "step " << k + 1;
    EXPECT_LE(b.p10[k], b.p50[k]);
    EXPECT_GE(b.p90[k], b.p50[k]);
  }
}

TEST(ForecasterTest, ArimaForecastsLinearRamp) {
  const int n = 3 * 288;
  auto ramp = [](int i) { return 10 + 0.5 * i; };
  Series s = Make(n, ramp);
  auto f = NewForecaster(ModelKind::kArima);
  ASSERT_TRUE(f->Fit(s, 12).ok());
  Band b = f->Forecast(12);
  for (int k = 0; k < 12; ++k) EXPECT_NEAR(b.p50[k], ramp(n + k), 1e-6) << "step " << k + 1;
  // Persistence, by contrast, is off by the ramp.
  auto p = NewForecaster(ModelKind::kPersistence);
  ASSERT_TRUE(p->Fit(s, 12).ok());
  EXPECT_GT(std::abs(p->Forecast(12).p50.back() - ramp(n + 11)), 5.0);
}

TEST(ForecasterTest, ConstantAndAllZeroSeriesGiveExactForecasts) {
  std::vector<ModelKind> kinds = AllModels();
  kinds.push_back(ModelKind::kEnsemble);
  for (double c : {0.0, 0.37, 42.0}) {
    Series s = Make(8 * 288, [c](int) { return c; });
    for (ModelKind kind : kinds) {
      auto f = NewForecaster(kind);
      ASSERT_TRUE(f->Fit(s, 12).ok()) << ModelName(kind);
      Band b = f->Forecast(12);
      ASSERT_EQ(b.size(), 12) << ModelName(kind);
      for (int k = 0; k < 12; ++k) {
        EXPECT_DOUBLE_EQ(b.p50[k], c) << ModelName(kind) << " step " << k + 1;
        EXPECT_DOUBLE_EQ(b.p10[k], c) << ModelName(kind);
        EXPECT_DOUBLE_EQ(b.p90[k], c) << ModelName(kind);
      }
      EXPECT_TRUE(std::isfinite(f->Confidence()));
      if (c == 0.0) EXPECT_EQ(b.p50.back(), 0.0) << ModelName(kind);
    }
  }
}

TEST(ForecasterTest, ThreeDaySeriesFallsBackToPersistenceWithLowConfidence) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  Series s = Make(3 * 288, [&](int i) { return DailySine(i) + noise(rng); });
  auto f = NewEnsemble();
  ASSERT_TRUE(f->Fit(s, 12).ok());
  Band b = f->Forecast(12);
  for (int k = 0; k < 12; ++k) EXPECT_EQ(b.p50[k], s.values.back());
  EXPECT_LT(f->Confidence(), 0.5);
  auto weights = EnsembleWeights(*f);
  ASSERT_EQ(weights.size(), 1u);
  EXPECT_EQ(weights[0].first, "persistence");

  // With ten days the same signal gets a confident, non-trivial ensemble.
  Series long_s = Make(10 * 288, [&](int i) { return DailySine(i) + noise(rng); });
  auto g = NewEnsemble();
  ASSERT_TRUE(g->Fit(long_s, 12).ok());
  EXPECT_GT(g->Confidence(), 0.8);
  EXPECT_GT(EnsembleWeights(*g).size(), 3u);
}

TEST(ForecasterTest, TreesRecoverNoiselessFunctionOfLags) {
  // A sawtooth of period 36 steps: the change over 12 steps is +12 while the level is below
  // 24 and -24 above, a noiseless function of the lag features.
  auto saw = [](int i) { return static_cast<double>(i % 36); };
  Series s = Make(7 * 288 + 5, saw);
  for (ModelKind kind : {ModelKind::kGradientBoosting, ModelKind::kRandomForest}) {
    for (int extra = 0; extra < 36; extra += 7) {
      Series t = Make(7 * 288 + extra, saw);
      auto f = NewForecaster(kind);
      ASSERT_TRUE(f->Fit(t, 12).ok());
      const double truth = saw(t.size() - 1 + 12);
      EXPECT_NEAR(f->Forecast(12).p50.back(), truth, 0.5) << ModelName(kind) << " " << extra;
    }
  }
}

TEST(ForecasterTest, SpikyAndShortSeriesNeverProduceNaN) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<ModelKind> kinds = AllModels();
  kinds.push_back(ModelKind::kEnsemble);
  for (int n : {1, 2, 5, 40, 300, 9 * 288}) {
    Series s = Make(n, [&](int) {
      const double r = u(rng);
      return r < 0.02 ? 1e6 : (r < 0.3 ? 0.0 : r);
    });
    for (ModelKind kind : kinds) {
      auto f = NewForecaster(kind);
      ASSERT_TRUE(f->Fit(s, 12).ok());
      Band b = f->Forecast(12);
      ASSERT_EQ(b.size(), 12);
      for (int k = 0; k < 12; ++k) {
        ASSERT_TRUE(std::isfinite(b.p10[k]) && std::isfinite(b.p50[k]) && std::isfinite(b.p90[k]))
            << ModelName(kind) << " n=" << n;
      }
      ASSERT_TRUE(std::isfinite(f->Confidence()));
    }
  }
}

// Mean absolute error at the horizon of `kind` and of persistence over rolling origins from
// `first` to the end of `s` every `every` steps, each fitted on up to 7 days before it.
std::pair<double, double> RollingMae(const Series& s, ModelKind kind, int first, int every) {
  double err = 0, pers = 0;
  for (int o = first; o + 12 < s.size(); o += every) {
    Series hist = s;
    const int begin = std::max(0, o + 1 - 7 * 288);
    hist.start = s.TimeAt(begin);
    hist.values.assign(s.values.begin() + begin, s.values.begin() + o + 1);
    hist.gap.assign(hist.values.size(), 0);
    auto f = NewForecaster(kind);
    EXPECT_TRUE(f->Fit(hist, 12).ok());
    err += std::abs(f->Forecast(12).p50.back() - s.values[o + 12]);
    pers += std::abs(s.values[o] - s.values[o + 12]);
  }
  return {err, pers};
}

TEST(ForecasterTest, EnsembleIsNotWorseThanPersistenceAfterALevelShift) {
  // A noisy daily cycle around 60 that drops to a flat 12 for the last half day (a
  // misconfigured autoscaling group): the members that learned the cycle expect it back.
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 3);
  const int n = 8 * 288, shift = n - 144;
  Series s = Make(n, [&](int i) {
    return i < shift ? 60 + 20 * std::sin(2 * kPi * i / 288.0) + noise(rng) : 12 + 0.1 * noise(rng);
  });
  // Right after the drop nothing tells it from a dip that will recover. Once the backtest
  // has seen the new regime for Options::recent_window past the horizon (1 h + 3 h), the
  // regime-change guard hands the forecast to persistence.
  const auto [ens, pers] = RollingMae(s, ModelKind::kEnsemble, shift + 48, 6);
  EXPECT_LE(ens, pers);
  // Without the guards the members keep expecting the cycle back for hours.
  Options no_guard;
  no_guard.max_recent_ratio = 0;
  no_guard.range_quantile = 0;
  double err = 0, pers_err = 0;
  for (int o = shift + 48; o + 12 < n; o += 6) {
    Series hist = s;
    hist.start = s.TimeAt(o + 1 - 7 * 288);
    hist.values.assign(s.values.begin() + o + 1 - 7 * 288, s.values.begin() + o + 1);
    hist.gap.assign(hist.values.size(), 0);
    auto f = NewEnsemble(no_guard);
    ASSERT_TRUE(f->Fit(hist, 12).ok());
    err += std::abs(f->Forecast(12).p50.back() - s.values[o + 12]);
    pers_err += std::abs(s.values[o] - s.values[o + 12]);
  }
  EXPECT_GT(err, 2 * pers_err);
}

TEST(ForecasterTest, DropBelowEverythingSeenIsServedByPersistenceAtOnce) {
  // The same drop to 12, seen from 30 minutes and from 3 hours after it: the level lies below
  // anything the history held before its backtest window (Options::range_quantile), so the
  // forecast is the last value at once, before the regime-change guard could tell; without
  // the out-of-range guard the members expect the cycle back (right after the drop).
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 3);
  const int n = 8 * 288, shift = n - 144;
  Series s = Make(n, [&](int i) {
    return i < shift ? 60 + 20 * std::sin(2 * kPi * i / 288.0) + noise(rng) : 12 + 0.1 * noise(rng);
  });
  Options no_guard;
  no_guard.range_quantile = 0;
  for (int after : {6, 36}) {
    Series hist = s;
    const int end = shift + after;  // exclusive
    hist.values.assign(s.values.begin(), s.values.begin() + end);
    hist.gap.assign(end, 0);
    auto f = NewEnsemble();
    ASSERT_TRUE(f->Fit(hist, 12).ok());
    EXPECT_DOUBLE_EQ(f->Forecast(12).p50.back(), hist.values.back()) << after;
    if (after == 6) {
      auto g = NewEnsemble(no_guard);
      ASSERT_TRUE(g->Fit(hist, 12).ok());
      EXPECT_GT(g->Forecast(12).p50.back(), hist.values.back() + 5);
    }
    // Append keeps the guard: one more point at the new level still gives persistence.
    ASSERT_TRUE(f->Append(12.5).ok());
    EXPECT_DOUBLE_EQ(f->Forecast(12).p50.back(), 12.5) << after;
  }
  // A burst above the range is left to the members (bursts decay; see the option's comment):
  // the forecast is the same with the guard off.
  Series burst = Make(8 * 288, [&](int i) {
    return i < n - 6 ? 60 + 20 * std::sin(2 * kPi * i / 288.0) + noise(rng) : 200 + noise(rng);
  });
  auto b = NewEnsemble();
  ASSERT_TRUE(b->Fit(burst, 12).ok());
  auto b_off = NewEnsemble(no_guard);
  ASSERT_TRUE(b_off->Fit(burst, 12).ok());
  EXPECT_DOUBLE_EQ(b->Forecast(12).p50.back(), b_off->Forecast(12).p50.back());
}

TEST(ForecasterTest, ConsistentGainKeepsTheFullCombination) {
  // A daily sine with a little noise: the members' gain over persistence is large on every
  // hour, so the pessimistic shrink choice (Options::shrink_lcb_k) keeps the combination
  // whole and the forecast follows the cycle; the MAE-based choice agrees.
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 0.2);
  const int n = 7 * 288 + 283;  // the hour ahead crosses the steepest part of the cycle
  Series s = Make(n, [&](int i) { return DailySine(i) + noise(rng); });
  Options mae_choice;
  mae_choice.shrink_lcb_k = 0;
  for (const Options& o : {Options{}, mae_choice}) {
    auto f = NewEnsemble(o);
    ASSERT_TRUE(f->Fit(s, 12).ok());
    const double truth = DailySine(n + 11);
    EXPECT_NEAR(f->Forecast(12).p50.back(), truth, 0.25 * std::abs(truth - s.values.back()));
  }
}

TEST(ForecasterTest, RandomWalkIsServedByPersistence) {
  // Nothing beats the last value of a random walk consistently: the block test on the
  // backtest gains keeps the members out.
  std::mt19937 rng(5);
  std::normal_distribution<double> step(0, 1);
  double level = 100;
  Series s = Make(8 * 288, [&](int) { return level += step(rng); });
  auto f = NewEnsemble();
  ASSERT_TRUE(f->Fit(s, 12).ok());
  EXPECT_DOUBLE_EQ(f->Forecast(12).p50.back(), s.values.back());
  const auto [ens, pers] = RollingMae(s, ModelKind::kEnsemble, 7 * 288, 12);
  EXPECT_LE(ens, 1.02 * pers);
}

TEST(ForecasterTest, SeasonalMeanAveragesTheLastFiveDays) {
  // Day d holds the value d (plus the phase of the day): the same phase averaged over the
  // last five days is 3 below the last day.
  Series s = Make(8 * 288, [](int i) { return (i / 288) * 1.0 + (i % 288) / 288.0; });
  auto f = NewForecaster(ModelKind::kSeasonalMeanDaily);
  ASSERT_TRUE(f->Fit(s, 12).ok());
  const Band b = f->Forecast(12);
  for (int k = 0; k < 12; ++k) {
    // Step k+1 after the last point is phase k of day 8; days 3..7 average to 5.
    EXPECT_NEAR(b.p50[k], 5 + k / 288.0, 1e-9) << "step " << k + 1;
  }
}

TEST(ForecasterTest, DailyJobsAreForecastAndAOneOffBurstIsNot) {
  // A daily job from 10:00 to 11:00 on a flat base, and yesterday one extra burst at 14:00.
  std::mt19937 rng(2);
  std::normal_distribution<double> noise(0, 1);
  auto series = [&](int n) {
    return Make(n, [&](int i) {
      const int phase = i % 288, day = i / 288;
      double v = 20 + noise(rng);
      if (phase >= 120 && phase < 132) v += 50;
      if (day == 6 && phase >= 168 && phase < 180) v += 50;
      return v;
    });
  };
  // From 09:05 on day 7, an hour ahead is inside the job: the ensemble expects it.
  Series before_job = series(7 * 288 + 110);
  auto f = NewEnsemble();
  ASSERT_TRUE(f->Fit(before_job, 12).ok());
  EXPECT_GT(f->Forecast(12).p50.back(), 50);
  // From 13:05 on day 7, an hour ahead is yesterday's one-off burst: the daily seasonal naive
  // repeats all of it, the ensemble less than half (the seasonal mean counts it 1/5, and the
  // consensus clip holds the naive's forecast near the other members).
  Series before_burst = series(7 * 288 + 158);
  auto g = NewEnsemble();
  ASSERT_TRUE(g->Fit(before_burst, 12).ok());
  EXPECT_LT(g->Forecast(12).p50.back(), 20 + 50 / 2);
  auto naive = NewForecaster(ModelKind::kSeasonalNaiveDaily);
  ASSERT_TRUE(naive->Fit(before_burst, 12).ok());
  EXPECT_GT(naive->Forecast(12).p50.back(), 60);
}

TEST(ForecasterTest, IntervalsNarrowWhenTheSeriesCalmsDown) {
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> z(8 * 288);
  for (double& v : z) v = noise(rng);
  const int calm_from = 8 * 288 - 36;  // the last three hours
  Series busy = Make(8 * 288, [&](int i) { return 50 + 5 * z[i]; });
  Series calm = Make(8 * 288, [&](int i) { return 50 + (i >= calm_from ? 0.2 : 5) * z[i]; });
  auto width = [](const Series& s) {
    auto f = NewEnsemble();
    EXPECT_TRUE(f->Fit(s, 12).ok());
    const Band b = f->Forecast(12);
    return b.p90.back() - b.p10.back();
  };
  const double busy_width = width(busy), calm_width = width(calm);
  EXPECT_GT(busy_width, 0);
  EXPECT_LT(calm_width, 0.3 * busy_width);
}

TEST(ForecasterTest, AppendUpdatesWithoutRefit) {
  Series s = Make(8 * 288, DailySine);
  auto f = NewEnsemble();
  EXPECT_EQ(f->Append(1.0).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(f->Fit(s, 12).ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(f->Append(DailySine(s.size() + i)).ok());
  Band b = f->Forecast(12);
  for (int k = 0; k < 12; ++k) {
    EXPECT_NEAR(b.p50[k], DailySine(s.size() + 30 + k), 1.0) << "step " << k + 1;
  }
  EXPECT_FALSE(f->Append(std::nan("")).ok());
}

TEST(ForecasterTest, RejectsEmptyHistoryAndBadHorizon) {
  auto f = NewEnsemble();
  Series empty;
  EXPECT_EQ(f->Fit(empty, 12).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f->Fit(Make(10, DailySine), 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f->Forecast(12).size(), 0);
}

TEST(ForecasterTest, DeriveTakesHorizonValueAndLeadPeak) {
  Band b;
  b.p10 = {1, 2, 0, 1};
  b.p50 = {2, 5, 3, 4};
  b.p90 = {3, 6, 9, 8};
  Derived d = Derive(b, 2);
  EXPECT_EQ(d.at_horizon, 4);
  EXPECT_EQ(d.at_horizon_p90, 8);
  EXPECT_EQ(d.peak_lead, 5);
  EXPECT_EQ(d.peak_lead_p90, 6);
  EXPECT_EQ(Derive(b, 99).peak_lead_p90, 9);
  EXPECT_EQ(Derive(Band{}, 2).peak_lead, 0);
}


namespace guarantee {

// 9 days of 5-minute data: a daily cycle around 30 and, `after` steps before the end, a jump
// to 70 that stays.
double JumpSeries(int i, int jump) {
  std::mt19937 rng(1000 + i);
  std::normal_distribution<double> noise(0, 2);
  return (i >= jump ? 70 : 30) + 10 * std::sin(2 * kPi * i / 288.0) + noise(rng);
}

TEST(ForecasterTest, JumpAndStayIsForecastAtTheNewLevelWithinTwoHours) {
  const int n = 9 * 288, jump = n - 24;  // fitted 2 h after the jump
  Series s = Make(n, [&](int i) { return JumpSeries(i, jump); });
  auto f = NewEnsemble();
  ASSERT_TRUE(f->Fit(s, 12).ok());
  Band b = f->Forecast(12);
  for (int k = 0; k < 12; ++k) EXPECT_GT(b.p50[k], 55) << "fit 2 h after the jump, step " << k + 1;

  // Online: fitted before the jump, then 2 h of the new level appended without a refit.
  Series head = Make(jump, [&](int i) { return JumpSeries(i, jump); });
  auto g = NewEnsemble();
  ASSERT_TRUE(g->Fit(head, 12).ok());
  for (int i = jump; i < n; ++i) ASSERT_TRUE(g->Append(JumpSeries(i, jump)).ok());
  b = g->Forecast(12);
  for (int k = 0; k < 12; ++k) EXPECT_GT(b.p50[k], 55) << "appended 2 h, step " << k + 1;
}

// Utilisation in percent whose daily top is cut off at 100.
double Saturated(int i) {
  std::mt19937 rng(2000 + i);
  std::normal_distribution<double> noise(0, 2);
  return std::min(100.0, 70 + 45 * std::sin(2 * kPi * i / 288.0) + noise(rng));
}

TEST(ForecasterTest, SaturatedSeriesIsNeverForecastBelowItsCeiling) {
  int checked = 0;
  // Every origin of a day where the last value sits at the ceiling, at 5 minutes and at 1
  // minute (the latter fitted on 5-minute buckets).
  for (int per_5m : {1, 5}) {
    const int day = 288 * per_5m;
    for (int end = 8 * day; end < 9 * day; end += 7 * per_5m) {
      Series s = Make(end, [&](int i) { return Saturated(i / per_5m); },
                      absl::Minutes(5) / per_5m);
      MarkCensored(s, 100);
      if (!s.censored.back()) continue;
      auto f = NewEnsemble();
      ASSERT_TRUE(f->Fit(s, 12 * per_5m).ok());
      const Band b = f->Forecast(12 * per_5m);
      for (int k = 0; k < b.size(); ++k) {
        ASSERT_GE(b.p50[k], s.values.back()) << "end " << end << " step " << k + 1;
        ASSERT_GE(b.p90[k], s.values.back());
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
  // After Append: a censored value holds the floor, an uncensored one releases it.
  Series s = Make(8 * 288 + 200, Saturated);
  MarkCensored(s, 100);
  auto f = NewEnsemble();
  ASSERT_TRUE(f->Fit(s, 12).ok());
  ASSERT_TRUE(f->Append(100, /*censored=*/true).ok());
  for (double v : f->Forecast(12).p50) EXPECT_GE(v, 100);
  ASSERT_TRUE(f->Append(20, /*censored=*/false).ok());
  EXPECT_LT(f->Forecast(12).p50.front(), 100);
}

}  // namespace guarantee

}  // namespace
}  // namespace predictor
