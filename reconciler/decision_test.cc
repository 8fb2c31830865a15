#include "reconciler/decision.h"

#include "gtest/gtest.h"

namespace reconciler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

// 4 ready pods of 500m, 60 % blended, full confidence, safe node pressure with 50 % free.
Reading GoodReading() {
  Reading r;
  r.pods = r.ready_pods = 4;
  r.cpu_request_millicores = 500;
  r.blended_pct = 60;
  r.demand_cores = 1.2;
  r.memory_pct = 40;
  r.confidence = 1;
  r.node_pressure.level = PressureLevel::kSafe;
  r.node_pressure.utilization_pct = 40;
  r.node_pressure.schedulable_fraction = 0.5;
  r.nodes = 3;
  return r;
}

NodePressure Critical() {
  NodePressure p;
  p.level = PressureLevel::kCritical;
  p.utilization_pct = 90;
  p.schedulable_fraction = 0.05;
  return p;
}

TEST(DecisionTest, FirstDecisionSetsTheTargetAndServesTheReading) {
  Config c;
  Decision d = Decide(GoodReading(), ForecastView{}, DecisionMemory{}, c, kNow);
  EXPECT_TRUE(d.target.changed);
  EXPECT_EQ(d.target.previous_target_pct, 0);
  EXPECT_TRUE(d.next.has_target);
  // Safe pressure with base 70: 75 .. 85 by schedulable fraction 0.3 .. 0.6; 0.5 -> 81.67.
  EXPECT_NEAR(d.next.target_pct, 81.6667, 1e-3);
  EXPECT_EQ(d.next.last_target_change, kNow);
  EXPECT_FALSE(d.held);
  EXPECT_TRUE(d.served_now);
  EXPECT_TRUE(d.next.has_served);
  EXPECT_EQ(d.next.served_at, kNow);
  EXPECT_DOUBLE_EQ(d.next.served.blended_pct, 60);
  EXPECT_DOUBLE_EQ(d.next.served.predicted_pct, 60);
  EXPECT_NEAR(d.next.served.pressure_ratio, 60 / 81.6667, 1e-4);
  EXPECT_EQ(d.next.served.memory_pct, 40);
  EXPECT_EQ(d.note, "");
}

TEST(DecisionTest, CooldownHoldsATargetChangeUntilItHasPassed) {
  Config c;
  c.cooldown = absl::Minutes(5);
  DecisionMemory m;
  m.has_target = true;
  m.target_pct = 70;
  m.last_target_change = kNow - absl::Minutes(2);
  Decision held = Decide(GoodReading(), ForecastView{}, m, c, kNow);
  EXPECT_EQ(held.next.target_pct, 70);
  EXPECT_FALSE(held.target.changed);
  EXPECT_EQ(held.next.last_target_change, kNow - absl::Minutes(2));
  EXPECT_TRUE(held.served_now) << "the cooldown holds the target, not the served values";

  Decision moved = Decide(GoodReading(), ForecastView{}, m, c, kNow + absl::Minutes(3));
  EXPECT_NEAR(moved.next.target_pct, 81.6667, 1e-3);
  EXPECT_TRUE(moved.target.changed);
  EXPECT_EQ(moved.target.previous_target_pct, 70);
  EXPECT_EQ(moved.next.last_target_change, kNow + absl::Minutes(3));
}

TEST(DecisionTest, CriticalNodePressureLowersTheTargetDuringTheCooldown) {
  Config c;
  DecisionMemory m;
  m.has_target = true;
  m.target_pct = 80;
  m.last_target_change = kNow - absl::Minutes(1);
  Reading r = GoodReading();
  r.node_pressure = Critical();
  Decision d = Decide(r, ForecastView{}, m, c, kNow);
  EXPECT_LT(d.next.target_pct, 80);
  EXPECT_TRUE(d.target.changed);
}

TEST(DecisionTest, UnknownNodePressureNeverLowersTheTarget) {
  Config c;
  DecisionMemory m;
  m.has_target = true;
  m.target_pct = 85;
  m.last_target_change = kNow - absl::Hours(1);
  Reading r = GoodReading();
  r.node_pressure = NodePressure{};  // kUnknown: recommends the base, 70
  Decision d = Decide(r, ForecastView{}, m, c, kNow);
  EXPECT_EQ(d.next.target_pct, 85);
  EXPECT_FALSE(d.target.changed);

  m.target_pct = 60;  // below the base: unknown pressure may raise it
  d = Decide(r, ForecastView{}, m, c, kNow);
  EXPECT_EQ(d.next.target_pct, 70);
  EXPECT_TRUE(d.target.changed);
}

DecisionMemory Served() {
  DecisionMemory m;
  m.has_target = true;
  m.target_pct = 81.6667;
  m.last_target_change = kNow - absl::Hours(1);
  m.has_served = true;
  m.served = {55, 58, 0.71, 33};
  m.served_at = kNow - absl::Minutes(1);
  return m;
}

TEST(DecisionTest, MissingCpuDataHoldsTheLastKnownGoodValuesWithTheirTime) {
  Config c;
  Reading r = GoodReading();
  r.blended_pct.reset();
  r.demand_cores.reset();
  Decision d = Decide(r, ForecastView{}, Served(), c, kNow);
  EXPECT_TRUE(d.held);
  EXPECT_FALSE(d.served_now);
  EXPECT_EQ(d.note, "no CPU data this cycle: last-known-good values stand");
  EXPECT_EQ(d.next.served_at, kNow - absl::Minutes(1));
  EXPECT_EQ(d.next.served.blended_pct, 55);
  EXPECT_EQ(d.next.served.pressure_ratio, 0.71);

  Decision first = Decide(r, ForecastView{}, DecisionMemory{}, c, kNow);
  EXPECT_TRUE(first.held);
  EXPECT_FALSE(first.next.has_served);
  EXPECT_EQ(first.note, "no CPU data yet");
  EXPECT_TRUE(first.next.has_target) << "a target is still set without CPU data";
}

TEST(DecisionTest, LowConfidenceHoldsServedValuesButNotTheFirstOnes) {
  Config c;
  Reading r = GoodReading();
  r.confidence = 0.5;
  // Pods still starting beside mature ones: the mature pods' reading is served (holding a
  // ratio to the old ready count would compound as the HPA multiplies it by the new one).
  Decision starting = Decide(r, ForecastView{}, Served(), c, kNow);
  EXPECT_FALSE(starting.held);
  EXPECT_EQ(starting.next.served.blended_pct, 60);
  // Every pod young: nothing mature to read, the previous values stand.
  r.all_pods_young = true;
  Decision d = Decide(r, ForecastView{}, Served(), c, kNow);
  EXPECT_TRUE(d.held);
  EXPECT_EQ(d.note, "confidence 0.5 < 0.6: previous values stand");
  EXPECT_EQ(d.next.served.blended_pct, 55);

  Decision first = Decide(r, ForecastView{}, DecisionMemory{}, c, kNow);
  EXPECT_FALSE(first.held) << "nothing served yet: a low-confidence reading beats none";
  EXPECT_EQ(first.next.served.blended_pct, 60);
}

TEST(DecisionTest, OnlyATrustedForecastRaisesThePredictedValue) {
  Config c;
  ForecastView v;
  // 1.8 cores over 4 pods of 500m = 90 % of request.
  v.peak_lead_p90_cores = 1.8;
  v.trusted = false;
  Decision d = Decide(GoodReading(), v, DecisionMemory{}, c, kNow);
  EXPECT_DOUBLE_EQ(d.next.served.predicted_pct, 60) << "untrusted: falls back to the blend";

  v.trusted = true;
  d = Decide(GoodReading(), v, DecisionMemory{}, c, kNow);
  EXPECT_NEAR(d.next.served.predicted_pct, 90, 1e-9);
  EXPECT_NEAR(d.next.served.pressure_ratio, 90 / d.next.target_pct, 1e-9);
}

TEST(DecisionTest, LearnedTargetReplacesTheTableButNotUnderCriticalPressure) {
  Config c;
  ForecastView v;
  v.learned_target_pct = 88;
  Decision d = Decide(GoodReading(), v, DecisionMemory{}, c, kNow);
  EXPECT_EQ(d.next.target_pct, 88);
  Reading r = GoodReading();
  r.node_pressure = Critical();
  d = Decide(r, v, DecisionMemory{}, c, kNow);
  EXPECT_LT(d.next.target_pct, 88);
}

TEST(DecisionTest, MemoryKeepsItsLastValueWhenAReadingHasNone) {
  Config c;
  Reading r = GoodReading();
  r.memory_pct.reset();
  Decision d = Decide(r, ForecastView{}, Served(), c, kNow);
  EXPECT_TRUE(d.served_now);
  EXPECT_EQ(d.next.served.memory_pct, 33);
}

TEST(DecisionTest, TargetDemandIsTheTargetShareOfTheReadyPodsRequests) {
  Reading r = GoodReading();  // 4 x 500m
  EXPECT_DOUBLE_EQ(TargetDemandCores(80, r), 1.6);
  r.ready_pods = 0;  // at least one pod
  EXPECT_DOUBLE_EQ(TargetDemandCores(80, r), 0.4);
}

// The served demand (the backtest changes).

// Four ready pods of 1000m (limit 1000m), 2 cores served: 50 % on every window.
Reading Steady() {
  Reading r;
  r.pods = r.ready_pods = 4;
  r.cpu_request_millicores = r.cpu_limit_millicores = 1000;
  r.blended_pct = 50;
  r.demand_cores = 2;
  r.windows = {2.0, 2.0, 2.0};
  r.confidence = 1;
  r.node_pressure.level = PressureLevel::kSafe;
  r.node_pressure.schedulable_fraction = 0.9;
  return r;
}

DecisionMemory Served(double pressure) {
  DecisionMemory m;
  m.has_target = true;
  m.target_pct = 80;
  m.last_target_change = kNow - absl::Hours(1);
  m.has_served = true;
  m.served.pressure_ratio = pressure;
  m.served_at = kNow - absl::Minutes(1);
  return m;
}

ForecastView Learned(double pct) {
  ForecastView v;
  v.learned_target_pct = pct;
  return v;
}

TEST(DecisionTest, ServesTheDeploymentsCpuPerReadyPodOverTheTarget) {
  Decision d = Decide(Steady(), Learned(80), {}, Config{}, kNow);
  EXPECT_TRUE(d.served_now);
  EXPECT_NEAR(d.next.served.predicted_pct, 50, 1e-12);
  EXPECT_NEAR(d.next.served.pressure_ratio, 50.0 / 80, 1e-12);
}

TEST(DecisionTest, ScalingUpDoesNotHoldAPressureTheHpaWouldCompound) {
  // A scale-up in progress: 8 pods, 4 ready, the new ones just started (confidence 0.5). The
  // old pressure (1.5, computed for 4 ready pods) must not stand: the same 2 cores over the
  // ready pods are served afresh.
  Reading r = Steady();
  r.pods = 8;
  r.confidence = 0.5;
  r.young_pods_excluded = 4;
  Decision d = Decide(r, Learned(80), Served(1.5), Config{}, kNow);
  EXPECT_FALSE(d.held);
  EXPECT_NEAR(d.next.served.pressure_ratio, 50.0 / 80, 1e-12);
  // Once they are ready the same demand reads lower per pod (no old utilization x new count).
  r.ready_pods = 8;
  d = Decide(r, Learned(80), d.next, Config{}, kNow + absl::Minutes(1));
  EXPECT_NEAR(d.next.served.pressure_ratio, 25.0 / 80, 1e-12);
  // Every pod young: the previous values stand, as before.
  r.all_pods_young = true;
  d = Decide(r, Learned(80), Served(1.5), Config{}, kNow);
  EXPECT_TRUE(d.held);
  EXPECT_EQ(d.next.served.pressure_ratio, 1.5);
}

TEST(DecisionTest, ASurgeCountsAtOnceAndCappedPodsAskForMore) {
  Reading r = Steady();
  r.windows = {2.0, 2.2, 3.6};  // the 1-minute rate: a surge the blend barely shows
  Decision d = Decide(r, Learned(80), {}, Config{}, kNow);
  // 3.6 cores and the rise carried forward (policy.h ServedDemandCores): slope
  // (3.6 - 2.2) / 2 cores a minute for 2 minutes, over 4 pods of one core.
  EXPECT_NEAR(d.next.served.predicted_pct, 100 * (3.6 + 1.4 / 2 * 2) / 4, 1e-12);
  // Capped: 4 cores used of 4 is a lower bound; 1.5 x 4 = 6 cores over 4 pods = 150 %
  // (more than the rise carried forward, 4.0 + 0.1 / 2 x 2).
  r.windows = {3.5, 3.9, 4.0};
  r.saturated = true;
  d = Decide(r, Learned(80), {}, Config{}, kNow);
  EXPECT_NEAR(d.next.served.predicted_pct, 150, 1e-12);
  EXPECT_NEAR(d.next.served.pressure_ratio, 150.0 / 80, 1e-12);
}

TEST(DecisionTest, RiskHeadroomIsAddedToThePresentMinute) {
  // 2 cores over 4 pods of 1 core; the last day's rises call for 1 core more: 3 cores served
  // against a 90 % target.
  ForecastView v = Learned(90);
  v.rise_headroom_cores = 1.0;
  Decision d = Decide(Steady(), v, {}, Config{}, kNow);
  EXPECT_NEAR(d.next.served.predicted_pct, 75, 1e-12);
  EXPECT_NEAR(d.next.served.pressure_ratio, 75.0 / 90, 1e-12);
  // Without a 1-minute rate there is no present minute to add it to: the windows' demand.
  Reading r = Steady();
  r.windows.cores_1m = absl::nullopt;
  d = Decide(r, v, {}, Config{}, kNow);
  EXPECT_NEAR(d.next.served.predicted_pct, 50, 1e-12);
}

}  // namespace
}  // namespace reconciler
