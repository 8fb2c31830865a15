#include "backtest/simulator.h"

#include <cmath>
#include <functional>

#include "backtest/demand.h"
#include "gtest/gtest.h"

namespace backtest {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000 - 1700000000 % 3600);

Demand MakeDemand(const std::vector<std::pair<absl::Duration, double>>& knots) {
  std::vector<base::Point> points;
  for (const auto& [d, v] : knots) points.push_back({kT0 + d, v});
  // p95_cores equal to the raw p95 keeps the values as given (scale 1).
  std::vector<double> v;
  for (const auto& p : points) v.push_back(p.value);
  std::sort(v.begin(), v.end());
  const double pos = 0.95 * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const double p95 = v[lo] + (pos - lo) * (v[std::min(lo + 1, v.size() - 1)] - v[lo]);
  absl::StatusOr<Demand> d = Demand::FromTrace(points, p95);
  EXPECT_TRUE(d.ok()) << d.status();
  EXPECT_NEAR(d->scale(), 1.0, 1e-12);
  return *d;
}

// A metric set by the test as a function of time.
class ScriptedPolicy : public MetricPolicy {
 public:
  explicit ScriptedPolicy(std::function<absl::optional<double>(absl::Time)> f) : f_(f) {}
  absl::optional<double> Ratio(const SyncView& view) override { return last_ = f_(view.now()); }
  absl::optional<double> LastMetric() const override { return last_; }

 private:
  std::function<absl::optional<double>(absl::Time)> f_;
  absl::optional<double> last_;
};

int ReplicasAt(const SimResult& r, absl::Time t) {
  for (const SyncRecord& s : r.series) {
    if (s.time == t) return s.replicas;
  }
  ADD_FAILURE() << "no sync at " << t;
  return -1;
}

TEST(DemandTest, ScalesToTheP95AndIntegratesTheLinearCurveExactly) {
  std::vector<base::Point> pts;
  for (int i = 0; i <= 100; ++i) pts.push_back({kT0 + absl::Minutes(i), double(i)});
  absl::StatusOr<Demand> d = Demand::FromTrace(pts, 8);
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(d->scale(), 8.0 / 95.0, 1e-12);  // p95 of 0..100 is 95
  EXPECT_NEAR(d->At(kT0 + absl::Seconds(30)), 0.5 * 8 / 95, 1e-12);
  // 0 -> 2 cores linearly over 60 s against 1 core: above it for the last 30 s, 0.5 core on
  // average while above, so 15 core-seconds unserved.
  Demand ramp = MakeDemand({{absl::ZeroDuration(), 0}, {absl::Seconds(60), 2}});
  Shortfall s = ramp.Against(kT0, kT0 + absl::Seconds(60), 1);
  EXPECT_NEAR(s.overloaded_seconds, 30, 1e-9);
  EXPECT_NEAR(s.unserved_core_seconds, 15, 1e-9);
  EXPECT_NEAR(s.served_core_seconds, 60 - 15, 1e-9);
  EXPECT_NEAR(ramp.Max(kT0, kT0 + absl::Seconds(30)), 1, 1e-12);
  EXPECT_NEAR(ramp.Mean(kT0, kT0 + absl::Seconds(60)), 1, 1e-12);
}

TEST(DemandTest, RejectsBadTraces) {
  EXPECT_FALSE(Demand::FromTrace({{kT0, 1}}, 8).ok());
  EXPECT_FALSE(Demand::FromTrace({{kT0, 1}, {kT0, 2}}, 8).ok());
  EXPECT_FALSE(Demand::FromTrace({{kT0, 0}, {kT0 + absl::Minutes(1), 0}}, 8).ok());
  EXPECT_FALSE(Demand::FromTrace({{kT0, -1}, {kT0 + absl::Minutes(1), 2}}, 8).ok());
  EXPECT_FALSE(Demand::FromTrace({{kT0, 1}, {kT0 + absl::Minutes(1), 2}}, 0).ok());
}

TEST(SimulatorTest, NativeReactsToAStepOneMetricsWindowPlusOneSyncLate) {
  // 3.5 cores on 5 pods is exactly the 70 % target; at r0 (a metrics-server refresh) demand
  // steps to 7 cores.
  const absl::Time start = kT0 + absl::Minutes(15);
  const absl::Time r0 = start + absl::Minutes(5);
  Demand d = MakeDemand({{absl::ZeroDuration(), 3.5},
                         {r0 - kT0, 3.5},
                         {r0 - kT0 + absl::Seconds(1), 7},
                         {absl::Hours(2), 7}});
  NativePolicy native(70);
  SimResult r = Simulate(d, {kT0, start, kT0 + absl::Hours(1)}, HpaOptions{}, 5, &native, true);
  // The refresh at r0 + 60 s is the first to hold the step; the HPA reads it at the next sync.
  EXPECT_EQ(ReplicasAt(r, r0 + absl::Seconds(60)), 5);
  // Five pods capped at 1 core: 100 % / 70 % x 5 ready = 7.14 -> 8.
  EXPECT_EQ(ReplicasAt(r, r0 + absl::Seconds(75)), 8);
  // The new pods serve 90 s later: 7 cores over 5 pods from r0 until then.
  const double expected_overload_min = (75 + 90 - 1) / 60.0;
  EXPECT_NEAR(r.figures.overloaded_minutes, expected_overload_min, 0.02);
}

TEST(SimulatorTest, ScaleDownWaitsForTheLargestProposalOfTheLast300Seconds) {
  const absl::Time start = kT0 + absl::Minutes(15);
  const absl::Time x = start + absl::Minutes(10);
  Demand d = MakeDemand({{absl::ZeroDuration(), 7}, {absl::Hours(2), 7}});
  ScriptedPolicy p([&](absl::Time t) -> absl::optional<double> { return t < x ? 1.0 : 0.5; });
  SimResult r = Simulate(d, {kT0, start, kT0 + absl::Hours(1)}, HpaOptions{}, 10, &p, true);
  // The last proposal of 10 was at x - 15 s; it leaves the 300 s window at x + 285 s.
  EXPECT_EQ(ReplicasAt(r, x), 10);
  EXPECT_EQ(ReplicasAt(r, x + absl::Seconds(270)), 10);
  for (absl::Time t = x; t < x + absl::Seconds(285); t += absl::Seconds(15)) {
    EXPECT_EQ(ReplicasAt(r, t), 10) << t;
  }
  EXPECT_EQ(ReplicasAt(r, x + absl::Seconds(285)), 5);
}

TEST(SimulatorTest, ScaleUpIsLimitedToFourPodsOrDoublingPerSync) {
  HpaOptions o;
  std::vector<Recommendation> recs;
  const absl::Time t = kT0;
  EXPECT_EQ(NextReplicas(100.0, 2, 2, t, o, &recs), 6);          // max(2 + 4, 4)
  EXPECT_EQ(NextReplicas(100.0, 6, 2, t, o, &recs), 12);         // max(10, 12)
  EXPECT_EQ(NextReplicas(100.0, 150, 150, t, o, &recs), 200);    // maxReplicas
  EXPECT_EQ(NextReplicas(1.05, 10, 10, t, o, &recs), 10);        // inside the tolerance
  EXPECT_EQ(NextReplicas(absl::nullopt, 7, 7, t, o, &recs), 7);  // no metric: hold
  EXPECT_EQ(NextReplicas(1.2, 10, 8, t, o, &recs), 10);          // ceil(1.2 x 8 ready) = 10
  // Through the replay: 2 -> 6 -> 12 -> 24 -> 48 -> 96 -> 192 -> 200, one sync each.
  const absl::Time start = kT0 + absl::Minutes(15);
  Demand d = MakeDemand({{absl::ZeroDuration(), 1}, {absl::Hours(2), 1}});
  ScriptedPolicy p([](absl::Time) -> absl::optional<double> { return 100.0; });
  SimResult r = Simulate(d, {kT0, start, kT0 + absl::Hours(1)}, o, 2, &p, true);
  const int want[] = {6, 12, 24, 48, 96, 192, 200, 200};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(ReplicasAt(r, start + i * o.sync_period), want[i]) << i;
  }
}

TEST(SimulatorTest, OracleNeverOverloadsARampThatOverloadsNative) {
  const absl::Time start = kT0 + absl::Minutes(15);
  Demand d = MakeDemand({{absl::ZeroDuration(), 4},
                         {absl::Minutes(30), 4},
                         {absl::Minutes(50), 60},
                         {absl::Hours(3), 60}});
  HpaOptions o;
  OraclePolicy oracle(70);
  SimResult ro = Simulate(d, {kT0, start, kT0 + absl::Hours(3)}, o, 6, &oracle);
  NativePolicy native(70);
  SimResult rn = Simulate(d, {kT0, start, kT0 + absl::Hours(3)}, o, 6, &native);
  EXPECT_EQ(ro.figures.overloaded_minutes, 0);
  EXPECT_EQ(ro.figures.unserved_core_minutes, 0);
  EXPECT_GT(rn.figures.overloaded_minutes, 5);
  // It holds about demand / 0.7 and no more.
  EXPECT_LT(ro.figures.replica_hours, rn.figures.replica_hours * 1.2);
}

TEST(SimulatorTest, PodRatesFollowPrometheusExtrapolation) {
  // 4 cores on 4 pods: every ready pod uses 1 core.
  const absl::Time start = kT0 + absl::Minutes(15);
  Demand d = MakeDemand({{absl::ZeroDuration(), 4}, {absl::Hours(2), 4}});
  struct Probe : MetricPolicy {
    absl::optional<double> Ratio(const SyncView& v) override {
      if (v.now() == v.window().start + absl::Minutes(5)) {
        old_rate = v.PodCpuRate(v.pods().front(), v.now(), absl::Minutes(10));
        mean = v.ReadyPodCpu(v.now() - absl::Minutes(1), v.now());
      }
      return 1.0;
    }
    absl::optional<double> LastMetric() const override { return absl::nullopt; }
    absl::optional<double> old_rate;
    double mean = 0;
  } probe;
  Simulate(d, {kT0, start, kT0 + absl::Hours(1)}, HpaOptions{}, 4, &probe);
  ASSERT_TRUE(probe.old_rate);
  EXPECT_NEAR(*probe.old_rate, 1.0, 1e-9);
  EXPECT_NEAR(probe.mean, 1.0, 1e-9);
}

}  // namespace
}  // namespace backtest
