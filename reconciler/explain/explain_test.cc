#include "reconciler/explain/explain.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "reconciler/config.h"
#include "reconciler/decision.h"

namespace reconciler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

// 4 ready pods of 500m; the sums 10 m 1.2, 5 m 1.2, 1 m 1.2 cores; safe pressure, 50 % free.
DecisionInputs Inputs() {
  DecisionInputs in;
  Reading& r = in.reading;
  r.pods = r.ready_pods = 4;
  r.cpu_request_millicores = 500;
  r.blended_pct = 60;
  r.demand_cores = 1.2;
  r.windows.cores_10m = 1.2;
  r.windows.cores_5m = 1.2;
  r.windows.cores_1m = 1.2;
  r.memory_pct = 40;
  r.confidence = 1;
  r.node_pressure.level = PressureLevel::kSafe;
  r.node_pressure.utilization_pct = 40;
  r.node_pressure.schedulable_fraction = 0.5;
  r.nodes = 3;
  // 40 validated forecasts; persistence scored over the same origins.
  in.forecast.validated = 40;
  in.forecast.persistence_accuracy = 0.55;
  in.forecast.mae_cores = 0.12;
  in.forecast.persistence_mae_cores = 0.2;
  in.at = kNow;
  return in;
}

// The named input's value in `e` (nullopt when absent or without a value).
absl::optional<double> InputOf(const Explanation& e, const std::string& name) {
  for (const ExplainInput& i : e.inputs) {
    if (i.name == name) return i.value;
  }
  return absl::nullopt;
}

// Persistence's error over the same origins is an input next to the forecast's accuracy, and the
// trust gate's step (when values are served) names it.
void ExpectPersistence(const DecisionInputs& in, const Explanation& e, bool served) {
  const ForecastView& f = in.forecast;
  ASSERT_TRUE(InputOf(e, "forecast_accuracy_pct"));
  if (!f.persistence_accuracy) {
    EXPECT_FALSE(InputOf(e, "persistence_accuracy_pct"));
    EXPECT_FALSE(InputOf(e, "persistence_mae_cores"));
    return;
  }
  ASSERT_TRUE(InputOf(e, "persistence_accuracy_pct"));
  EXPECT_DOUBLE_EQ(*InputOf(e, "persistence_accuracy_pct"), 100 * *f.persistence_accuracy);
  EXPECT_DOUBLE_EQ(*InputOf(e, "forecast_mae_cores"), *f.mae_cores);
  EXPECT_DOUBLE_EQ(*InputOf(e, "persistence_mae_cores"), *f.persistence_mae_cores);
  if (!served) return;
  bool named = false;
  for (const ExplainedValue& v : e.values) {
    if (v.metric != "smart_cpu_predicted") continue;
    for (const ExplainStep& s : v.steps) {
      named = named || ((s.rule == "forecast_trusted" || s.rule == "forecast_not_trusted") &&
                        s.text.find("persistence") != std::string::npos);
    }
  }
  EXPECT_TRUE(named) << ExplanationText(e);
}

DeploymentStatus Status() {
  DeploymentStatus s;
  s.namespace_name = "shop";
  s.name = "api";
  return s;
}

Decision DecideOf(const DecisionInputs& in) {
  Config c;
  c.target_node_utilization = in.target_node_utilization;
  c.cooldown = in.cooldown;
  return Decide(in.reading, in.forecast, in.previous, c, in.at);
}

// The explanation's values equal Decide's, and the given rule appears among its steps.
void ExpectMatches(const DecisionInputs& in, const std::string& rule) {
  const Decision d = DecideOf(in);
  const Explanation e = Explain(in, Status());
  EXPECT_EQ(e.held, d.held);
  ASSERT_TRUE(ExplainedValueOf(e, "smart_cpu_target"));
  EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_target"), d.next.target_pct);
  if (d.next.has_served) {
    EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_predicted"), d.next.served.predicted_pct);
    EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_pressure"), d.next.served.pressure_ratio);
    EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_blended"), d.next.served.blended_pct);
  } else {
    EXPECT_FALSE(ExplainedValueOf(e, "smart_cpu_pressure"));
  }
  bool found = false;
  for (const ExplainedValue& v : e.values) {
    for (const ExplainStep& s : v.steps) found = found || s.rule == rule;
  }
  EXPECT_TRUE(found) << rule << " not in\n" << ExplanationText(e);
  ExpectPersistence(in, e, d.next.has_served && !d.held);
}

TEST(ExplainTest, FirstTargetFromTheSafeTable) {
  DecisionInputs in = Inputs();
  ExpectMatches(in, "first_target");
  ExpectMatches(in, "node_pressure");
  EXPECT_EQ(Explain(in, Status()).deciding_rule, "blend");
}

TEST(ExplainTest, CooldownHoldsTheTarget) {
  DecisionInputs in = Inputs();
  in.previous.has_target = true;
  in.previous.target_pct = 70;
  in.previous.last_target_change = kNow - absl::Minutes(2);
  ExpectMatches(in, "cooldown");
  in.previous.last_target_change = kNow - absl::Minutes(6);
  ExpectMatches(in, "cooldown_passed");
}

TEST(ExplainTest, CriticalPressureLowersTheTargetAtOnce) {
  DecisionInputs in = Inputs();
  in.reading.node_pressure = {PressureLevel::kCritical, 87.5, 0.05};  // 60 .. 50 over 80 .. 95
  in.previous.has_target = true;
  in.previous.target_pct = 70;
  in.previous.last_target_change = kNow - absl::Minutes(1);
  ExpectMatches(in, "critical_lowers");
  const Explanation e = Explain(in, Status());
  const ExplainedValue& t = e.values.front();
  EXPECT_NE(t.steps.back().text.find("critical pressure lowered the target 70 -> 55"),
            std::string::npos)
      << t.steps.back().text;
}

TEST(ExplainTest, UnknownPressureNeverLowers) {
  DecisionInputs in = Inputs();
  in.reading.node_pressure = {};
  in.previous.has_target = true;
  in.previous.target_pct = 85;
  in.previous.last_target_change = kNow - absl::Hours(1);
  ExpectMatches(in, "unknown_pressure_hold");
}

TEST(ExplainTest, LowRequestAndLearnedTarget) {
  DecisionInputs in = Inputs();
  in.reading.cpu_request_millicores = 40;
  ExpectMatches(in, "low_request");
  in = Inputs();
  in.forecast.learned_target_pct = 88;
  ExpectMatches(in, "learned_target");
}

TEST(ExplainTest, ForecastTrustedRaisesPredicted) {
  DecisionInputs in = Inputs();
  in.forecast.trusted = true;
  in.forecast.accuracy = 0.82;
  in.forecast.validated = 40;
  in.forecast.peak_lead_p90_cores = 1.8;  // 90 % of 2 cores
  ExpectMatches(in, "forecast_trusted");
  const Explanation e = Explain(in, Status());
  EXPECT_EQ(e.deciding_rule, "forecast_trusted");
  EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_predicted"), 90);
}

TEST(ExplainTest, ForecastNotTrustedSaysWhy) {
  DecisionInputs in = Inputs();
  in.forecast.accuracy = 0.45;
  in.forecast.peak_lead_p90_cores = 1.8;
  ExpectMatches(in, "forecast_not_trusted");
  const Explanation e = Explain(in, Status());
  const ExplainedValue* p = nullptr;
  for (const ExplainedValue& v : e.values) {
    if (v.metric == "smart_cpu_predicted") p = &v;
  }
  ASSERT_NE(p, nullptr);
  EXPECT_NE(p->steps[0].text.find("forecast not trusted: accuracy 45 % < 60 %"), std::string::npos)
      << p->steps[0].text;
}

TEST(ExplainTest, PersistenceIsComparedOverTheSameOrigins) {
  DecisionInputs in = Inputs();
  in.forecast.accuracy = 0.45;
  in.forecast.peak_lead_p90_cores = 1.8;
  const Explanation e = Explain(in, Status());
  EXPECT_NE(e.deciding_text.find("persistence 55 % over the same origins; MAE 0.12 vs 0.2 cores"),
            std::string::npos)
      << e.deciding_text;
  rapidjson::Document doc;
  doc.Parse(ExplanationJson(e).c_str());
  std::map<std::string, double> values;
  for (const auto& i : doc["inputs"].GetArray()) {
    if (i["value"].IsNumber()) values[i["name"].GetString()] = i["value"].GetDouble();
  }
  EXPECT_DOUBLE_EQ(values["persistence_accuracy_pct"], 55);
  EXPECT_DOUBLE_EQ(values["persistence_mae_cores"], 0.2);
  EXPECT_NE(ExplanationText(e).find("persistence_mae_cores = 0.2 cores"), std::string::npos);
}

TEST(ExplainTest, NothingValidatedMeansNoPersistenceFigure) {
  DecisionInputs in = Inputs();
  in.forecast = {};  // no forecast validated yet: missing, never 0
  const Explanation e = Explain(in, Status());
  ExpectPersistence(in, e, true);
  rapidjson::Document doc;
  doc.Parse(ExplanationJson(e).c_str());
  for (const auto& i : doc["inputs"].GetArray()) {
    if (std::string(i["name"].GetString()) == "persistence_mae_cores") {
      EXPECT_TRUE(i["value"].IsNull());
    }
  }
}

TEST(ExplainTest, RiseCarriedAndSaturated) {
  DecisionInputs in = Inputs();
  in.reading.windows.cores_1m = 1.6;  // rising: 1.6 + 0.2 x 2 = 2.0 cores
  ExpectMatches(in, "rise_carried");
  EXPECT_EQ(Explain(in, Status()).deciding_rule, "rise_carried");
  in.reading.saturated = true;  // 1.5 x 1.6 = 2.4 cores
  ExpectMatches(in, "saturated");
}

TEST(ExplainTest, HeldWithoutData) {
  DecisionInputs in = Inputs();
  in.reading.blended_pct.reset();
  ExpectMatches(in, "held");
  in.previous.has_served = true;
  in.previous.served.pressure_ratio = 0.9;
  in.previous.has_target = true;
  in.previous.target_pct = 70;
  const Explanation e = Explain(in, Status());
  EXPECT_TRUE(e.held);
  EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_pressure"), 0.9);
}

TEST(ExplainTest, BudgetCapIsShown) {
  DecisionInputs in = Inputs();
  in.forecast.trusted = true;
  in.forecast.accuracy = 0.9;
  in.forecast.peak_lead_p90_cores = 1.8;
  DeploymentStatus s = Status();
  s.budget_capped = true;
  s.monthly_budget = 50;
  s.served_predicted_pct = 70;
  s.guardrail_note = "capped";
  const Explanation e = Explain(in, s);
  EXPECT_EQ(e.deciding_rule, "budget_cap");
  EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_predicted"), 70);
  EXPECT_DOUBLE_EQ(*ExplainedValueOf(e, "smart_cpu_pressure"),
                   70 / *ExplainedValueOf(e, "smart_cpu_target"));
}

// A reader's recomputation from the JSON alone: the inputs and the documented formulas give
// the served smart_cpu_pressure.
double Recompute(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError());
  std::map<std::string, double> in;
  std::map<std::string, std::string> text;
  for (const auto& i : doc["inputs"].GetArray()) {
    if (i["value"].IsNumber()) in[i["name"].GetString()] = i["value"].GetDouble();
    text[i["name"].GetString()] = i["text"].GetString();
  }
  double target = 0;
  for (const auto& v : doc["values"].GetArray()) {
    if (std::string(v["metric"].GetString()) == "smart_cpu_target") target = v["value"].GetDouble();
  }
  const double c10 = in["cpu_10m_cores"], c5 = in["cpu_5m_cores"], c1 = in["cpu_1m_cores"];
  double demand = std::max({0.7 * c10 + 0.3 * c5, c1, 2 * c5 - c10});
  if (c1 > c5) demand = std::max(demand, c1 + (c1 - c5) / 2 * (0.5 + kRiseLeadMinutes));
  const double capacity = in["ready_pods"] * in["cpu_request_millicores"] / 1000;
  double predicted = 100 * demand / capacity;
  if (text["forecast_trusted"] == "true") {
    predicted = std::max(predicted, 100 * in["forecast_peak_p90_cores"] / capacity);
  }
  return predicted / target;
}

TEST(ExplainTest, TheServedValueCanBeRecomputedFromTheJson) {
  DecisionInputs in = Inputs();
  in.reading.windows = {1.1, 1.3, 1.5};
  in.forecast.trusted = true;
  in.forecast.accuracy = 0.8;
  in.forecast.peak_lead_p90_cores = 1.9;
  in.previous.has_target = true;
  in.previous.target_pct = 72;
  in.previous.last_target_change = kNow - absl::Minutes(1);
  const Decision d = DecideOf(in);
  EXPECT_NEAR(Recompute(ExplanationJson(Explain(in, Status()))), d.next.served.pressure_ratio,
              1e-9);
  in.forecast.trusted = false;
  in.reading.windows = {1.4, 1.2, 1.0};
  EXPECT_NEAR(Recompute(ExplanationJson(Explain(in, Status()))),
              DecideOf(in).next.served.pressure_ratio, 1e-9);
}

}  // namespace
}  // namespace reconciler
