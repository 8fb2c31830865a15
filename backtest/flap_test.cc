// The served metric does not flap while demand is flat (issue 13, item 3): flat demand with
// realistic noise, replayed through the live reconciler (SmartPolicy runs reconciler::Reconciler's
// own cycle) and the simulated HPA for a day after a week of history. Every cycle's served
// smart_cpu_pressure is the ratio to target the HPA reads (target Value 1), so a flap is that
// ratio leaving the tolerance band [0.9, 1.1] on one side and then on the other: the HPA would
// add pods and then want them gone, or the reverse, with nothing in the demand to explain it.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "backtest/backtest.h"
#include "backtest/demand.h"
#include "backtest/simulator.h"
#include "backtest/smart.h"
#include "gtest/gtest.h"

namespace backtest {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1764000000);  // a Monday, 16:00 UTC

// `level` cores with the noise of a steady service, one sample per scrape (15 s): a slow AR(1)
// wander (about 2-minute memory, 4 % of the level) plus 3 % white jitter, never below zero.
Demand FlatNoisy(absl::Duration span, double level, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> unit(0, 1);
  const double keep = std::exp(-15.0 / 120.0);
  double wander = 0;
  std::vector<base::Point> pts;
  for (absl::Duration d; d <= span; d += absl::Seconds(15)) {
    wander = keep * wander + std::sqrt(1 - keep * keep) * 0.04 * unit(rng);
    pts.push_back({kT0 + d, std::max(0.0, level * (1 + wander + 0.03 * unit(rng)))});
  }
  absl::StatusOr<Demand> demand = Demand::FromCores(pts);
  EXPECT_TRUE(demand.ok()) << demand.status();
  return *demand;
}

struct Served {
  absl::Time time;
  double ratio;  // the served smart_cpu_pressure
  int ready;     // the ready pods the cycle saw
};

// What the smart HPA read over a 1-day replay after 7 days of history, and its replica count.
struct Replay {
  std::vector<Served> served;  // one per reconciler cycle that served a value
  SimResult result;
};

Replay RunFlat(double level, uint32_t seed) {
  Demand demand = FlatNoisy(absl::Hours(8 * 24), level, seed);
  Options o;
  o.replay = absl::Hours(24);
  absl::StatusOr<ReplayWindow> w = ChooseWindow(demand, o);
  EXPECT_TRUE(w.ok()) << w.status();
  Replay out;
  SmartOptions so;
  so.on_cycle = [&](const SmartCycle& c) {
    int ready = 0;
    for (const auto& p : c.cluster->pods) ready += p.ready ? 1 : 0;
    if (c.served_pressure) out.served.push_back({c.time, *c.served_pressure, ready});
  };
  SmartPolicy smart(o.config, &demand, so);
  const int initial = static_cast<int>(std::ceil(level / 0.7));
  out.result = Simulate(demand, *w, o.hpa, initial, &smart, /*keep_series=*/true);
  return out;
}

constexpr double kLow = 0.9, kHigh = 1.1;  // the HPA's default tolerance band

// What the HPA would do with the ratio: +1 add pods, -1 remove pods (before its stabilisation),
// 0 keep the count (inside the band, or ceil(ratio x ready) is the count already).
int Side(const Served& s) {
  if (s.ratio >= kLow && s.ratio <= kHigh) return 0;
  const int proposal = static_cast<int>(std::ceil(s.ratio * s.ready));
  return proposal > s.ready ? 1 : proposal < s.ready ? -1 : 0;
}

// The served ratio once the replay has settled: the headroom needs an hour of 1-minute rises
// (ForecastTracker::kMinRiseSamples) and grows steadier as the day's rises accumulate, then the
// HPA follows it down (one pod per scale-down window at most, as the ratio only just leaves the
// band).
std::vector<Served> Settled(const Replay& r) {
  std::vector<Served> out;
  if (r.served.empty()) return out;
  const absl::Time from = r.served.front().time + absl::Hours(4);
  for (const Served& s : r.served) {
    if (s.time >= from) out.push_back(s);
  }
  return out;
}

// What one replay did once settled.
struct Flaps {
  int cycles = 0;
  int out_of_band = 0;   // cycles whose ratio asks for another replica count
  int reversals = 0;     // ... on the opposite side of the previous cycle's
  int window_flaps = 0;  // ... on the opposite side of one within the last 5 cycles
  int changes = 0;       // replica count changes
  int turns = 0;         // changes opposite to the previous change
};

Flaps Count(const Replay& r) {
  Flaps f;
  const std::vector<Served> settled = Settled(r);
  f.cycles = static_cast<int>(settled.size());
  if (settled.empty()) return f;
  for (size_t i = 0; i < settled.size(); ++i) {
    const int side = Side(settled[i]);
    if (side == 0) continue;
    ++f.out_of_band;
    if (i > 0 && side == -Side(settled[i - 1])) ++f.reversals;
    for (size_t j = i + 1; j < settled.size() && j <= i + 5; ++j) {
      if (Side(settled[j]) == -side) {
        ++f.window_flaps;
        break;
      }
    }
  }
  int last_direction = 0, previous = -1;
  for (const SyncRecord& s : r.result.series) {
    if (s.time < settled.front().time) continue;
    if (previous >= 0 && s.replicas != previous) {
      const int direction = s.replicas > previous ? 1 : -1;
      ++f.changes;
      f.turns += last_direction != 0 && direction != last_direction;
      last_direction = direction;
    }
    previous = s.replicas;
  }
  return f;
}

class FlapTest : public testing::TestWithParam<double> {};

// Four noise draws per level, since one day of one draw says little about rare noise peaks.
// The bounds on the sums: as shipped, 12 draws at 12 cores gave at most 2 flaps within 5
// cycles, 6 replica changes and 3 reversals per day (a noise peak of the present minute lifts
// the ratio past 1.1, the HPA rounds up by 2 pods and takes one back after its stabilisation),
// and none cycle to cycle; a headroom re-estimated from the last 10 minutes gives several
// times that (BENCHMARKS.md, issue 13, 2026-12-04).
TEST_P(FlapTest, TheServedRatioNeverCrossesTheToleranceBandBackAndForth) {
  const double level = GetParam();
  Flaps sum;
  for (uint32_t seed : {1, 2, 3, 4}) {
    const Flaps f = Count(RunFlat(level, seed));
    ASSERT_GT(f.cycles, 19 * 60) << "a day of 1-minute cycles, less the first hours";
    // Cycle to cycle: never out of the band on one side and then on the other.
    EXPECT_EQ(f.reversals, 0) << "seed " << seed;
    // Flat demand keeps the ratio inside the band nearly always (a noise peak may leave it).
    EXPECT_LE(f.out_of_band, f.cycles / 10) << "seed " << seed;
    std::cerr << "level " << level << " seed " << seed << ": " << f.out_of_band << " of "
              << f.cycles << " cycles out of the band, " << f.window_flaps
              << " flaps within 5 cycles, " << f.changes << " replica changes (" << f.turns
              << " reversals)\n";
    sum.window_flaps += f.window_flaps;
    sum.changes += f.changes;
    sum.turns += f.turns;
  }
  // Within a scale-down window (5 cycles) not above the band and then below it, or the
  // reverse (a flap the HPA's stabilisation lets through), but for a rare noise peak.
  EXPECT_LE(sum.window_flaps, 4);
  // The HPA it drives settles and does not go back and forth: 4 days of flat demand.
  EXPECT_LE(sum.changes, 12) << "replica changes";
  EXPECT_LE(sum.turns, 6) << "up-down reversals of the replica count";
}

// A small and a large deployment: the noise is a larger share of a few pods' capacity.
INSTANTIATE_TEST_SUITE_P(Levels, FlapTest, testing::Values(3.0, 12.0));

}  // namespace
}  // namespace backtest
