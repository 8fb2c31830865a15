#include "reconciler/decision.h"

#include "gtest/gtest.h"

namespace reconciler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

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
  r.windows = {2.0, 2.2, 3.6};  // the 2-minute rate: a surge the blend barely shows
  Decision d = Decide(r, Learned(80), {}, Config{}, kNow);
  EXPECT_NEAR(d.next.served.predicted_pct, 90, 1e-12);
  // Capped: 4 cores used of 4 is a lower bound; 1.5 x 4 = 6 cores over 4 pods = 150 %.
  r.windows = {3.5, 3.9, 4.0};
  r.saturated = true;
  d = Decide(r, Learned(80), {}, Config{}, kNow);
  EXPECT_NEAR(d.next.served.predicted_pct, 150, 1e-12);
  EXPECT_NEAR(d.next.served.pressure_ratio, 150.0 / 80, 1e-12);
}

}  // namespace
}  // namespace reconciler
