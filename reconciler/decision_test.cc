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

}  // namespace
}  // namespace reconciler
