// decision: one deployment's decision for one cycle, as a pure function. The live loop and
// the backtest call the same function: plain structs in, plain structs out; no store, no
// cluster, no clock.
//
// One cycle, in the loop's order (the tracker's new forecast is validated against the demand
// at which this cycle's target is reached, and the decision reads the updated forecast):
//
//   if (reading.windows.cores_1m) tracker.ObserveRecent(now, *reading.windows.cores_1m);
//   tracker.RefreshLearnedTarget(now, config.enable_autotuning);
//   reconciler::TargetDecision t = reconciler::DecideTarget(
//       reading, tracker.LearnedTargetPct(), memory, config, now);
//   if (reading.demand_cores) tracker.Observe(now, *reading.demand_cores,
//                                             TargetDemandCores(t.target_pct, reading), true);
//   reconciler::Decision d = reconciler::Decide(reading, tracker.View(now, {}), memory,
//                                               config, now);
//   memory = d.next;  // served: d.next.served, d.next.target_pct
//
// The target: the node pressure table (policy.h), the low-request rule, the learned target
// when auto-tuning has one, the cooldown; unknown node pressure never lowers it. The served
// values: the blend, the predicted % (the served demand: the rate windows' demand or, higher,
// the present minute plus the risk headroom; then the forecast peak when trusted), the
// pressure ratio (predicted / target) and memory. Without CPU data, or with confidence below
// kMinConfidence once something was served, the previous values stand with their time, so the
// adapter's staleness limit decides when they stop being served.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "reconciler/config.h"
#include "reconciler/reading.h"

namespace reconciler {

// What the forecast tracker says this cycle (forecast_tracker.h ForecastTracker::View).
struct ForecastView {
  // The forecast p90 peak of total demand over the lead window, cores; nullopt without a
  // forecast (or with ENABLE_PREDICTIVE=false).
  absl::optional<double> peak_lead_p90_cores;
  // Validated accurately enough to raise the predicted value, and with a lower mean absolute
  // error than persistence over the same origins (a forecast that only repeats the last
  // bucket would add nothing but its p90's spread).
  bool trusted = false;
  double accuracy = 0;   // 0-1 over the validation window
  int validated = 0;     // forecasts validated in the window
  // Persistence (the origin's 5-minute bucket carried forward to the target) scored the same way
  // over the same origins: its accuracy (0-1) and both mean absolute errors (cores). nullopt
  // when nothing was validated in the window.
  absl::optional<double> persistence_accuracy;
  absl::optional<double> mae_cores;
  absl::optional<double> persistence_mae_cores;
  int false_positives = 0;  // validated forecasts >= the threshold whose actual stayed below
  int false_negatives = 0;  // < the threshold whose actual reached it
  std::string note;      // why the forecast is or is not used
  // Auto-tuning's learned target, % of request; nullopt before a week of history or when off.
  absl::optional<double> learned_target_pct;
  // Auto-tuning's risk headroom, cores (ForecastTracker::RiseHeadroomCores): added to the
  // present 1-minute demand in the served demand. nullopt without enough rise history.
  absl::optional<double> rise_headroom_cores;
};

// The values served for one deployment (its last-known-good ones when held).
struct ServedValues {
  double blended_pct = 0;             // smart_cpu_blended
  double predicted_pct = 0;           // smart_cpu_predicted
  double pressure_ratio = 0;          // smart_cpu_pressure: predicted / target
  absl::optional<double> memory_pct;  // smart_memory_blended; nullopt until one reading had it
};

// What a deployment's next decision needs from the previous ones.
struct DecisionMemory {
  bool has_target = false;
  double target_pct = 0;  // smart_cpu_target, % of request
  absl::Time last_target_change = absl::InfinitePast();
  bool has_served = false;
  ServedValues served;                          // valid when has_served
  absl::Time served_at = absl::InfinitePast();  // when `served` was computed
};

// The target part of the decision.
struct TargetDecision {
  double target_pct = 0;  // after the cooldown
  absl::Time last_target_change = absl::InfinitePast();
  double previous_target_pct = 0;  // the memory's (0 when there was none)
  bool changed = false;            // the first target or a new one: a Decision record is due
};

struct Decision {
  DecisionMemory next;  // the memory for the next cycle; its served values are served now
  TargetDecision target;
  bool held = false;        // no fresh served values this cycle (note says why)
  bool served_now = false;  // next.served was computed this cycle (served_at == now)
  std::string note;         // "" or why the values were held
};

// Saturated pods (reading.h Reading::saturated) hide how much demand was turned away; the
// served demand is then at least kSaturatedGrowth x what they served, about what a CPU HPA at
// 70 % asks of capped pods (1 / 0.7), so a capped deployment grows as fast as under native.
inline constexpr double kSaturatedGrowth = 1.5;

// The target from the reading's node pressure and CPU request, `learned_target_pct` and the
// cooldown since previous.last_target_change (config.cooldown, TARGET_NODE_UTILIZATION).
// The first call sets a target at once; unknown node pressure never lowers one.
TargetDecision DecideTarget(const Reading& reading, absl::optional<double> learned_target_pct,
                            const DecisionMemory& previous, const Config& config, absl::Time now);

// The whole decision: DecideTarget with forecast.learned_target_pct, then the served values.
// `forecast` is the tracker's view after this cycle's demand was observed.
Decision Decide(const Reading& reading, const ForecastView& forecast,
                const DecisionMemory& previous, const Config& config, absl::Time now);

// Everything one Decide call read, kept by the loop per deployment so that the decision can be
// explained afterwards (reconciler/explain): Decide(reading, forecast, previous, config with
// these two fields, at) gives the same Decision again.
struct DecisionInputs {
  Reading reading;
  ForecastView forecast;
  DecisionMemory previous;
  double target_node_utilization = 70;  // TARGET_NODE_UTILIZATION, %
  absl::Duration cooldown = absl::Minutes(5);
  double min_accuracy = 0.6;  // PREDICTION_MIN_ACCURACY, 0-1 (what the trust gate compared)
  absl::Time at = absl::InfinitePast();  // the cycle's time
};

// The demand (cores) at which `target_pct` is reached by the ready pods (at least one): what a
// forecast is validated against.
double TargetDemandCores(double target_pct, const Reading& reading);

}  // namespace reconciler
