#include "backtest/backtest.h"

#include <cmath>
#include <map>
#include <memory>

#include "absl/strings/match.h"
#include "backtest/report.h"
#include "base/clock.h"
#include "clients/prometheus/prometheus.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "reconciler/explain/explain.h"
#include "reconciler/loop.h"

namespace backtest {
namespace {

namespace prom = clients::prometheus;

const absl::Time kT0 = absl::FromUnixSeconds(1764000000);  // a Monday, 16:00 UTC

// A deterministic demand with a daily cycle and a faster wave, one sample a minute.
Demand Synthetic(absl::Duration span) {
  std::vector<base::Point> pts;
  for (absl::Duration d; d <= span; d += absl::Minutes(1)) {
    const double h = absl::ToDoubleHours(d);
    pts.push_back({kT0 + d, 4 + 2 * std::sin(2 * M_PI * h / 24) +
                                1.5 * std::sin(2 * M_PI * h * 60 / 47) * (h > 170 ? 1 : 0.3)});
  }
  absl::StatusOr<Demand> d = Demand::FromTrace(pts, 8);
  EXPECT_TRUE(d.ok()) << d.status();
  return *d;
}

TEST(MatchCostTest, BisectsTheTargetToTheReplicaHours) {
  // Replica-hours fall as the target rises: 3000 / target.
  int runs = 0;
  auto run = [&](double target) {
    ++runs;
    SimResult r;
    r.figures.replica_hours = 3000 / target;
    return r;
  };
  CostMatch m = MatchCost(run, 3000 / 52.5, 30, 95, 0.005);
  EXPECT_TRUE(m.matched);
  EXPECT_NEAR(m.target_pct, 52.5, 52.5 * 0.005);
  EXPECT_NEAR(m.result.figures.replica_hours, 3000 / 52.5, 3000 / 52.5 * 0.005);
  EXPECT_EQ(m.runs, runs);
  EXPECT_LE(runs, 12);
  // Out of range on either side: the closest end, not matched.
  CostMatch low = MatchCost(run, 3000 / 20.0, 30, 95, 0.005);
  EXPECT_FALSE(low.matched);
  EXPECT_EQ(low.target_pct, 30);
  CostMatch high = MatchCost(run, 3000 / 99.0, 30, 95, 0.005);
  EXPECT_FALSE(high.matched);
  EXPECT_EQ(high.target_pct, 95);
}

TEST(ChooseWindowTest, ReplaysTheLastFourDaysOrWhatFollowsTheFirstSeven) {
  Options o;
  Demand longer = Synthetic(absl::Hours(24 * 12));
  absl::StatusOr<ReplayWindow> w = ChooseWindow(longer, o);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->end, kT0 + absl::Hours(24 * 12));
  EXPECT_EQ(w->start, kT0 + absl::Hours(24 * 8));
  EXPECT_EQ(w->warmup_start, w->start - absl::Minutes(15));
  Demand shorter = Synthetic(absl::Hours(24 * 9));
  w = ChooseWindow(shorter, o);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->start, kT0 + absl::Hours(24 * 7));
  Demand week = Synthetic(absl::Hours(24 * 7));
  EXPECT_EQ(ChooseWindow(week, o).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PriceReplicaHoursTest, PricesCpuAndMemoryAtTheConfiguredPrices) {
  Options o;
  o.hpa.pod_cpu_millicores = 500;
  o.config.cost_per_vcpu_hour = 0.04;
  o.config.cost_per_gb_memory_hour = 0.005;
  // Memory unknown: the CPU alone, memory null (not $0).
  PolicyResult p = PriceReplicaHours(10, o);
  EXPECT_NEAR(p.cpu_cost, 10 * 0.5 * 0.04, 1e-12);
  EXPECT_FALSE(p.memory_cost.has_value());
  EXPECT_NEAR(p.cost, 0.2, 1e-12);
  // 512 MB = 0.512 GB (10^9 bytes): 10 h x 0.512 x $0.005 = $0.0256.
  o.pod_memory_bytes = 512000000;
  p = PriceReplicaHours(10, o);
  ASSERT_TRUE(p.memory_cost.has_value());
  EXPECT_NEAR(*p.memory_cost, 0.0256, 1e-12);
  EXPECT_NEAR(p.cost, 0.2256, 1e-12);
}

TEST(ReportTest, JsonHasTheIssueSchema) {
  TraceResult r;
  r.trace = "t";
  for (const char* p : {"native", "smart", "native_cost_matched", "oracle"}) {
    PolicyResult pr;
    pr.policy = p;
    pr.target_pct = 70;
    pr.figures.overloaded_minutes = 1.5;
    pr.figures.scale_events = 3;
    r.policies.push_back(pr);
  }
  rapidjson::Document doc;
  doc.Parse(FormatJson(r).c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["trace"].GetString(), "t");
  ASSERT_EQ(doc["policies"].Size(), 4u);
  const auto& p = doc["policies"][1];
  EXPECT_STREQ(p["policy"].GetString(), "smart");
  for (const char* k : {"target_pct", "overloaded_minutes", "unserved_core_minutes",
                        "replica_hours", "scale_events", "cost", "cpu_cost", "memory_cost"}) {
    EXPECT_TRUE(p.HasMember(k)) << k;
  }
  EXPECT_EQ(p["scale_events"].GetInt(), 3);
  EXPECT_TRUE(p["memory_cost"].IsNull());  // unknown, not 0
}

TEST(ReportTest, SeriesCsvNamesTheDecidingRule) {
  TraceResult r;
  for (const char* p : {"native", "smart"}) {
    PolicyResult pr;
    pr.policy = p;
    r.policies.push_back(pr);
  }
  SeriesRow before, after;
  before.time = absl::FromUnixSeconds(60);
  before.demand_cores = 1;
  before.ready_cores = {2, 2};
  after = before;
  after.time = absl::FromUnixSeconds(75);
  after.smart_pressure = 0.5;
  after.smart_rule = "learned_target";
  r.series = {before, after};
  EXPECT_EQ(FormatSeriesCsv(r),
            "time,demand_cores,native_ready_cores,smart_ready_cores,smart_cpu_pressure,smart_rule\n"
            "1970-01-01 00:01:00,1.0000,2,2,,\n"
            "1970-01-01 00:01:15,1.0000,2,2,0.5000,learned_target\n");
}

// The live reconciler's inputs, set per cycle by the test (as reconciler/loop_test.cc does).
class FixedCluster : public reconciler::ClusterSource {
 public:
  absl::StatusOr<std::shared_ptr<const reconciler::ClusterState>> Snapshot() override {
    return state;
  }
  std::string Describe() const override { return "test"; }
  std::shared_ptr<const reconciler::ClusterState> state;
};

class FakePrometheus : public prom::PrometheusClient {
 public:
  explicit FakePrometheus(const Demand* d) : demand_(d) {}
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view promql,
                                                  absl::Time at) override {
    const bool node = absl::StrContains(promql, "node_cpu_seconds_total");
    const bool five = absl::StrContains(promql, "[5m]");
    const bool two = absl::StrContains(promql, "[1m]");
    std::vector<prom::Series> out;
    if (absl::StrContains(promql, "memory")) return out;
    const auto& src = node ? (five ? node5 : node10) : two ? pod2 : (five ? pod5 : pod10);
    for (const auto& [key, v] : src) {
      prom::Series s;
      if (node) {
        s.labels["instance"] = key + ":9100";
      } else {
        s.labels["namespace"] = key.substr(0, key.find('/'));
        s.labels["pod"] = key.substr(key.find('/') + 1);
      }
      s.points.push_back({at, v});
      out.push_back(s);
    }
    return out;
  }
  // The week before: each point the mean demand of the 5 minutes before it.
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view, absl::Time from,
                                                       absl::Time to,
                                                       absl::Duration step) override {
    prom::Series s;
    for (absl::Time t = from; t <= to; t += step) {
      if (t - absl::Minutes(5) >= demand_->start()) {
        s.points.push_back({t, demand_->Mean(t - absl::Minutes(5), t)});
      }
    }
    return std::vector<prom::Series>{s};
  }
  std::map<std::string, double> pod10, pod5, pod2, node10, node5;

 private:
  const Demand* demand_;
};

TEST(GoldenTest, BacktestAndLiveReconcilerServeIdenticalValues) {
  Demand demand = Synthetic(absl::Hours(24 * 7 + 4));
  Options o;
  absl::StatusOr<ReplayWindow> w = ChooseWindow(demand, o);
  ASSERT_TRUE(w.ok());
  std::vector<SmartCycle> cycles;
  SmartOptions so;
  so.on_cycle = [&](const SmartCycle& c) { cycles.push_back(c); };
  so.explain = true;  // the series' smart_rule: explain's words for the live decision
  SmartPolicy smart(o.config, &demand, so);
  SimResult r = Simulate(demand, *w, o.hpa, 9, &smart);
  ASSERT_GT(cycles.size(), 200u);

  // The live Reconciler, fed the same pods and rates through test doubles.
  base::FakeClock clock(cycles.front().time);
  FixedCluster cluster;
  FakePrometheus prom(&demand);
  reconciler::Reconciler live(o.config, &cluster, &prom, nullptr, &clock);
  int served = 0, trusted = 0;
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (const SmartCycle& c : cycles) {
    clock.Set(c.time);
    cluster.state = c.cluster;
    prom.pod10 = c.pod_cpu_10m;
    prom.pod5 = c.pod_cpu_5m;
    prom.pod2 = c.pod_cpu_1m;
    prom.node10 = c.node_cpu_10m;
    prom.node5 = c.node_cpu_5m;
    live.RunCycle();
    absl::optional<double> pressure;
    for (const reconciler::MetricPoint& p : live.Table()) {
      if (p.metric == "smart_cpu_pressure") pressure = p.value;
    }
    ASSERT_EQ(pressure.has_value(), c.served_pressure.has_value()) << c.time;
    if (!pressure) continue;
    ASSERT_EQ(*pressure, *c.served_pressure) << c.time;  // bit-identical
    for (const reconciler::DeploymentStatus& st : live.Statuses()) {
      ASSERT_NE(st.decision_inputs, nullptr) << c.time;
      const std::string rule = reconciler::Explain(*st.decision_inputs, st).deciding_rule;
      ASSERT_FALSE(rule.empty()) << c.time;
      ASSERT_EQ(rule, c.deciding_rule) << c.time;  // the page's words for the same decision
    }
    ++served;
    trusted += c.forecast_trusted ? 1 : 0;
    lo = std::min(lo, *pressure);
    hi = std::max(hi, *pressure);
  }
  // The comparison covered real, moving values, with the forecast in use.
  EXPECT_GT(served, static_cast<int>(cycles.size()) - 5);
  EXPECT_GT(hi - lo, 0.2);
  EXPECT_GT(r.figures.replica_hours, 0);
  std::cerr << served << " cycles compared, forecast trusted in " << trusted << "\n";
}

}  // namespace
}  // namespace backtest
