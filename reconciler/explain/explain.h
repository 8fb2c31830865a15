// explain: "why this number". Replays one deployment's decision (decision.h Decide) from the
// inputs the loop kept (DecisionInputs) and records every input with its time, the rule that
// decided at each step and the arithmetic of each served value, so that a reader can recompute
// the number.
//
//   reconciler::Explanation e = reconciler::Explain(*status.decision_inputs, status);
//   std::string json = reconciler::ExplanationJson(e);  // GET .../<ns>/<name>/explain
//   std::string text = reconciler::ExplanationText(e);  // smart-autoscaler explain ns/name
//
// The replay calls the same policy functions as Decide, so its values are Decide's (tested for
// each rule). The budget guardrail is applied after Decide by the loop; its outcome is read from
// the DeploymentStatus. Pure; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "reconciler/decision.h"
#include "reconciler/loop.h"

namespace reconciler {

// One input of the decision: a name ("cpu_10m_cores"), its value (nullopt: no data), its unit
// ("cores", "%", "millicores", "pods", "0-1"), text for non-numeric inputs, and when it was
// observed (InfinitePast when never).
struct ExplainInput {
  std::string name;
  absl::optional<double> value;
  std::string unit;
  std::string text;
  absl::Time at = absl::InfinitePast();
};

// One step: the rule that applied ("node_pressure", "low_request", "learned_target",
// "cooldown", "first_target", "unknown_pressure_hold", "demand_window", "saturated",
// "forecast_trusted", "forecast_not_trusted", "budget_cap", "held", ...), a sentence with the
// numbers, and the value before and after it.
struct ExplainStep {
  std::string rule;
  std::string text;
  double before = 0;
  double after = 0;
};

// One served value (smart_cpu_target, smart_cpu_blended, smart_cpu_predicted,
// smart_cpu_pressure, smart_memory_blended): its value, its steps, and the arithmetic that
// produced it as a formula with the numbers filled in.
struct ExplainedValue {
  std::string metric;
  absl::optional<double> value;
  std::string unit;
  std::vector<ExplainStep> steps;
  std::string arithmetic;
};

struct Explanation {
  std::string namespace_name, name;
  absl::Time at = absl::InfinitePast();  // the cycle the decision was made in
  std::vector<ExplainInput> inputs;
  std::vector<ExplainedValue> values;
  bool held = false;  // the previous values stand (note says why)
  std::string note;
  // The rule that decided the served smart_cpu_pressure (its last step), e.g. "cooldown".
  std::string deciding_rule;
  std::string deciding_text;
};

// Replays the decision of `in` for the deployment `status` (names, the guardrail's outcome).
Explanation Explain(const DecisionInputs& in, const DeploymentStatus& status);

// The value of `metric` in `e`, nullopt when absent or without a value.
absl::optional<double> ExplainedValueOf(const Explanation& e, const std::string& metric);

// {"namespace","name","at","held","note","decidingRule","decidingText",
//  "inputs":[{"name","value","unit","text","at"}],
//  "values":[{"metric","value","unit","arithmetic","steps":[{"rule","text","before","after"}]}]}
std::string ExplanationJson(const Explanation& e);
// The same as lines for a terminal.
std::string ExplanationText(const Explanation& e);

}  // namespace reconciler
