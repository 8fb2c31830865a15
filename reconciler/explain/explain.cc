#include "reconciler/explain/explain.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_writer.h"
#include "base/time_format.h"
#include "reconciler/policy.h"

namespace reconciler {
namespace {

std::string N(double v) { return absl::StrFormat("%.4g", v); }
std::string N(absl::optional<double> v) { return v ? N(*v) : "no data"; }

ExplainInput Num(std::string name, absl::optional<double> v, std::string unit, absl::Time at) {
  ExplainInput i;
  i.name = std::move(name);
  if (v && std::isfinite(*v)) i.value = v;
  i.unit = std::move(unit);
  i.at = at;
  return i;
}

ExplainInput Text(std::string name, std::string text, absl::Time at) {
  ExplainInput i;
  i.name = std::move(name);
  i.text = std::move(text);
  i.at = at;
  return i;
}

void Step(ExplainedValue* v, std::string rule, std::string text, double before, double after) {
  v->steps.push_back({std::move(rule), std::move(text), before, after});
}

std::vector<ExplainInput> Inputs(const DecisionInputs& in, const DeploymentStatus& s) {
  const Reading& r = in.reading;
  const ForecastView& f = in.forecast;
  const absl::Time t = in.at;
  std::vector<ExplainInput> v = {
      Num("cpu_10m_cores", r.windows.cores_10m, "cores", t),
      Num("cpu_5m_cores", r.windows.cores_5m, "cores", t),
      Num("cpu_1m_cores", r.windows.cores_1m, "cores", t),
      Num("blended_cpu_pct", r.blended_pct, "%", t),
      Num("pods", r.pods, "pods", t),
      Num("ready_pods", r.ready_pods, "pods", t),
      Num("young_pods_excluded", r.young_pods_excluded, "pods", t),
      Text("all_pods_young", r.all_pods_young ? "true" : "false", t),
      Num("confidence", r.confidence, "0-1", t),
      Num("cpu_request_millicores", static_cast<double>(r.cpu_request_millicores), "millicores", t),
      Num("cpu_limit_millicores", static_cast<double>(r.cpu_limit_millicores), "millicores", t),
      Text("saturated", r.saturated ? "true" : "false", t),
      Text("node_pressure_level", PressureLevelName(r.node_pressure.level), t),
      Num("node_utilization_pct",
          r.node_pressure.level == PressureLevel::kUnknown ? absl::optional<double>()
                                                           : r.node_pressure.utilization_pct,
          "%", t),
      Num("node_schedulable_pct",
          r.node_pressure.level == PressureLevel::kUnknown
              ? absl::optional<double>()
              : 100 * r.node_pressure.schedulable_fraction,
          "%", t),
      Num("nodes", r.nodes, "nodes", t),
      Num("forecast_peak_p90_cores", f.peak_lead_p90_cores, "cores", t),
      Text("forecast_trusted", f.trusted ? "true" : "false", t),
      Num("forecast_accuracy_pct", 100 * f.accuracy, "%", t),
      Num("forecast_validated", f.validated, "forecasts", t),
      Num("forecast_min_accuracy_pct", 100 * in.min_accuracy, "%", t),
      Text("forecast_note", f.note, t),
      Num("persistence_accuracy_pct",
          f.persistence_accuracy ? absl::optional<double>(100 * *f.persistence_accuracy)
                                 : absl::nullopt,
          "%", t),
      Num("forecast_mae_cores", f.mae_cores, "cores", t),
      Num("persistence_mae_cores", f.persistence_mae_cores, "cores", t),
      Num("learned_target_pct", f.learned_target_pct, "%", t),
      Num("target_node_utilization_pct", in.target_node_utilization, "%", t),
      Num("previous_target_pct",
          in.previous.has_target ? in.previous.target_pct : absl::optional<double>(), "%",
          in.previous.last_target_change),
      Num("cooldown_minutes", absl::ToDoubleMinutes(in.cooldown), "minutes", t),
      Num("monthly_budget_usd", s.monthly_budget, "USD/month", t),
      Num("forecast_monthly_cost_change_usd", s.forecast_monthly_cost_change, "USD/month", t),
      Text("guardrail_note", s.guardrail_note, t),
  };
  return v;
}

// The target's steps, in DecideTarget's order; the value is DecideTarget's.
ExplainedValue ExplainTarget(const DecisionInputs& in) {
  const Reading& r = in.reading;
  const TargetPolicy policy = TargetPolicyForBase(in.target_node_utilization);
  const absl::optional<double> learned = in.forecast.learned_target_pct;
  ExplainedValue v{"smart_cpu_target", {}, "%", {}, ""};
  const double table = TargetForPressure(r.node_pressure, policy);
  Step(&v, "node_pressure",
       absl::StrCat(PressureLevelName(r.node_pressure.level), " node pressure (utilization ",
                    N(r.node_pressure.utilization_pct), " %, schedulable ",
                    N(100 * r.node_pressure.schedulable_fraction), " %) gives the table's ",
                    N(table), " % (base ", N(policy.base_pct), " %)"),
       policy.base_pct, table);
  double t = table;
  if (learned && std::isfinite(*learned)) {
    const bool critical = r.node_pressure.level == PressureLevel::kCritical;
    const double next = critical ? std::min(table, *learned) : *learned;
    Step(&v, "learned_target",
         critical ? absl::StrCat("critical pressure: the learned target ", N(*learned),
                                 " % never raises it: min(", N(table), ", ", N(*learned),
                                 ") = ", N(next), " %")
                  : absl::StrCat("auto-tuning's learned target ", N(*learned),
                                 " % replaces the table's ", N(table), " %"),
         t, next);
    t = next;
  }
  const double lr = ApplyLowRequestRule(t, r.cpu_request_millicores);
  if (lr != t) {
    Step(&v, "low_request",
         absl::StrCat("CPU request ", r.cpu_request_millicores, "m is small: target held within ",
                      r.cpu_request_millicores < 50 ? "[85, 90]" : "[75, 85]", ": ", N(t), " -> ",
                      N(lr), " %"),
         t, lr);
  }
  const double recommended =
      RecommendTarget(r.node_pressure, r.cpu_request_millicores, policy, learned);
  const DecisionMemory& p = in.previous;
  Config cfg;
  cfg.target_node_utilization = in.target_node_utilization;
  cfg.cooldown = in.cooldown;
  const TargetDecision d = DecideTarget(r, learned, p, cfg, in.at);
  if (!p.has_target) {
    Step(&v, "first_target", absl::StrCat("first target: set at once to ", N(recommended), " %"),
         recommended, d.target_pct);
  } else if (r.node_pressure.level == PressureLevel::kUnknown && recommended < p.target_pct) {
    Step(&v, "unknown_pressure_hold",
         absl::StrCat("node pressure unknown: the target is not lowered ", N(p.target_pct), " -> ",
                      N(recommended), " %; it stays ", N(d.target_pct), " %"),
         recommended, d.target_pct);
  } else if (recommended == p.target_pct) {
    Step(&v, "unchanged", absl::StrCat("recommended ", N(recommended), " % = the target in force"),
         p.target_pct, d.target_pct);
  } else if (r.node_pressure.level == PressureLevel::kCritical && recommended < p.target_pct) {
    Step(&v, "critical_lowers",
         absl::StrCat("critical pressure lowered the target ", N(p.target_pct), " -> ",
                      N(recommended), " % (no cooldown)"),
         p.target_pct, d.target_pct);
  } else {
    const double ago = absl::ToDoubleMinutes(in.at - p.last_target_change);
    const bool waiting = in.at - p.last_target_change < in.cooldown;
    Step(&v, waiting ? "cooldown" : "cooldown_passed",
         absl::StrCat(waiting ? "cooldown: " : "", "last change ", N(ago), " min ago ",
                      waiting ? "< " : ">= ", N(absl::ToDoubleMinutes(in.cooldown)), " min: ",
                      waiting
                          ? absl::StrCat("target stays ", N(p.target_pct), " % (recommended ",
                                         N(recommended), " %)")
                          : absl::StrCat("target ", N(p.target_pct), " -> ", N(recommended), " %")),
         p.target_pct, d.target_pct);
  }
  v.value = d.target_pct;
  v.arithmetic =
      absl::StrCat("table(", PressureLevelName(r.node_pressure.level), ") = ", N(table),
                   " -> recommended ", N(recommended), " -> served ", N(d.target_pct), " %");
  return v;
}

struct DemandPart {
  const char* rule;
  double cores;
  std::string formula;
};

// ServedDemandCores, part by part: the largest part is the demand (nullopt without 10 m).
absl::optional<DemandPart> ExplainDemand(const DemandWindows& w, std::vector<DemandPart>* parts) {
  if (!w.cores_10m) return absl::nullopt;
  const double c10 = *w.cores_10m;
  const double blend = BlendCpuRates(w.cores_10m, w.cores_5m).value_or(c10);
  parts->push_back(
      {"blend", blend,
       absl::StrCat("0.7 x ", N(c10), " + 0.3 x ", N(w.cores_5m.value_or(c10)), " = ", N(blend))});
  if (w.cores_1m) parts->push_back({"window_1m", *w.cores_1m, N(*w.cores_1m)});
  if (w.cores_5m) {
    const double c5 = *w.cores_5m;
    parts->push_back({"trend", 2 * c5 - c10,
                      absl::StrCat("2 x ", N(c5), " - ", N(c10), " = ", N(2 * c5 - c10))});
    if (w.cores_1m && *w.cores_1m > c5) {
      const double slope = (*w.cores_1m - c5) / 2.0;
      const double rise = *w.cores_1m + slope * (0.5 + kRiseLeadMinutes);
      parts->push_back({"rise_carried", rise,
                        absl::StrCat(N(*w.cores_1m), " + (", N(*w.cores_1m), " - ", N(c5),
                                     ") / 2 x (0.5 + ", N(kRiseLeadMinutes), ") = ", N(rise))});
    }
  }
  DemandPart best = parts->front();
  for (const DemandPart& p : *parts) {
    if (p.cores > best.cores) best = p;
  }
  return best;
}

// Held: the previous values (or none) stand.
void ExplainHeld(const DecisionInputs& in, const std::string& why, Explanation* e) {
  e->held = true;
  e->note = why;
  const DecisionMemory& p = in.previous;
  const std::string since = absl::StrCat(why, "; served since ", base::FormatRfc3339(p.served_at));
  auto add = [&](const char* metric, absl::optional<double> v, const char* unit) {
    ExplainedValue x{metric, v, unit, {}, ""};
    Step(&x, "held", p.has_served ? since : why, v.value_or(0), v.value_or(0));
    x.arithmetic = v ? absl::StrCat("last-known-good ", N(*v)) : "nothing served yet";
    e->values.push_back(std::move(x));
  };
  auto served = [&](double v) { return p.has_served ? absl::optional<double>(v) : absl::nullopt; };
  add("smart_cpu_blended", served(p.served.blended_pct), "%");
  add("smart_cpu_predicted", served(p.served.predicted_pct), "%");
  add("smart_cpu_pressure", served(p.served.pressure_ratio), "ratio");
  add("smart_memory_blended", p.has_served ? p.served.memory_pct : absl::nullopt, "%");
  e->deciding_rule = "held";
  e->deciding_text = why;
}

// " (persistence 65 % over the same origins; MAE 0.12 vs 0.15 cores)", "" when nothing was
// validated: the forecast's accuracy next to the naive forecast's.
std::string VersusPersistence(const ForecastView& f) {
  if (!f.persistence_accuracy) return "";
  return absl::StrCat(" (persistence ", N(100 * *f.persistence_accuracy),
                      " % over the same origins; MAE ", N(f.mae_cores), " vs ",
                      N(f.persistence_mae_cores), " cores)");
}

// smart_cpu_predicted's steps from the current % (demand per ready capacity).
ExplainedValue ExplainPredicted(const DecisionInputs& in, const DeploymentStatus& s,
                                double current_pct) {
  const Reading& r = in.reading;
  const ForecastView& f = in.forecast;
  ExplainedValue v{"smart_cpu_predicted", {}, "%", {}, ""};
  const double predicted = PredictedCpuPct(current_pct, f.peak_lead_p90_cores, r.ready_pods,
                                           r.cpu_request_millicores, f.trusted);
  const double capacity = r.ready_pods * r.cpu_request_millicores / 1000.0;
  if (f.trusted && f.peak_lead_p90_cores && capacity > 0) {
    const double fpct = *f.peak_lead_p90_cores / capacity * 100.0;
    Step(&v, "forecast_trusted",
         absl::StrCat("forecast trusted: accuracy ", N(100 * f.accuracy),
                      " % >= ", N(100 * in.min_accuracy), " % over ", f.validated, " validated",
                      VersusPersistence(f), "; peak p90 ", N(*f.peak_lead_p90_cores),
                      " cores = ", N(fpct), " % of ", N(capacity), " ready cores; max(",
                      N(current_pct), ", ", N(fpct), ") = ", N(predicted), " %"),
         current_pct, predicted);
    v.arithmetic = absl::StrCat("max(", N(current_pct), ", 100 x ", N(*f.peak_lead_p90_cores),
                                " / ", N(capacity), ") = ", N(predicted));
  } else {
    std::string why = !f.peak_lead_p90_cores ? "no forecast"
                      : f.accuracy < in.min_accuracy
                          ? absl::StrCat("accuracy ", N(100 * f.accuracy), " % < ",
                                         N(100 * in.min_accuracy), " %")
                          : f.note;
    Step(&v, "forecast_not_trusted",
         absl::StrCat("forecast not trusted: ", why, VersusPersistence(f), " (", f.note, ")"),
         current_pct, predicted);
    v.arithmetic = absl::StrCat("current ", N(predicted));
  }
  v.value = predicted;
  if (s.budget_capped && s.served_predicted_pct) {
    Step(&v, "budget_cap",
         absl::StrCat("monthly budget ", N(s.monthly_budget),
                      " USD: the forecast headroom "
                      "would cost ",
                      N(s.forecast_monthly_cost_change), " USD/month more; ", s.guardrail_note),
         predicted, *s.served_predicted_pct);
    v.arithmetic = absl::StrCat(v.arithmetic, "; capped to ", N(*s.served_predicted_pct));
    v.value = *s.served_predicted_pct;
  }
  return v;
}

// The served values when fresh ones are computed (Decide's second half).
void ExplainServed(const DecisionInputs& in, const DeploymentStatus& s, double target_pct,
                   Explanation* e) {
  const Reading& r = in.reading;
  ExplainedValue blended{"smart_cpu_blended", r.blended_pct, "%", {}, ""};
  blended.arithmetic =
      absl::StrCat("0.7 x 10 m + 0.3 x 5 m over the counted pods (", r.young_pods_excluded,
                   " young left out) = ", N(r.blended_pct), " % of request");
  ExplainedValue current{"current_cpu_pct", *r.blended_pct, "%", {}, ""};
  std::vector<DemandPart> parts;
  absl::optional<DemandPart> demand = ExplainDemand(r.windows, &parts);
  const double capacity = r.ready_pods * r.cpu_request_millicores / 1000.0;
  if (demand && r.ready_pods > 0 && r.cpu_request_millicores > 0) {
    double cores = demand->cores;
    for (const DemandPart& p : parts) {
      Step(&current, p.rule, absl::StrCat(p.rule, ": ", p.formula, " cores"), p.cores, p.cores);
    }
    std::string what = absl::StrCat(demand->rule, " ", N(cores), " cores");
    if (r.saturated) {
      const double capped =
          kSaturatedGrowth * r.windows.cores_1m.value_or(r.windows.cores_5m.value_or(0));
      Step(&current, "saturated",
           absl::StrCat("pods at their CPU limit: at least ", N(kSaturatedGrowth), " x ",
                        N(capped / kSaturatedGrowth), " = ", N(capped), " cores"),
           cores, std::max(cores, capped));
      if (capped > cores) what = absl::StrCat("saturated ", N(capped), " cores");
      cores = std::max(cores, capped);
    }
    current.value = 100.0 * cores / capacity;
    current.arithmetic = absl::StrCat("100 x ", what, " / (", r.ready_pods, " ready x ",
                                      r.cpu_request_millicores, "m) = ", N(*current.value));
  } else {
    current.arithmetic =
        absl::StrCat("the blend ", N(r.blended_pct), " % (no rate sums or no ready capacity)");
  }
  ExplainedValue predicted = ExplainPredicted(in, s, *current.value);
  ExplainedValue pressure{
      "smart_cpu_pressure", PressureRatio(*predicted.value, target_pct), "ratio", {}, ""};
  pressure.arithmetic =
      absl::StrCat(N(*predicted.value), " / ", N(target_pct), " = ", N(*pressure.value));
  ExplainedValue memory{
      "smart_memory_blended",
      r.memory_pct ? r.memory_pct
                   : (in.previous.has_served ? in.previous.served.memory_pct : absl::nullopt),
      "%",
      {},
      ""};
  memory.arithmetic = r.memory_pct ? "working set / memory requests of the mature pods"
                                   : "no memory data this cycle: the previous value stands";
  const std::vector<ExplainStep>& ps = predicted.steps;
  auto decisive = std::find_if(ps.rbegin(), ps.rend(),
                               [](const ExplainStep& x) { return x.after != x.before; });
  if (decisive != ps.rend()) {
    e->deciding_rule = decisive->rule;
    e->deciding_text = decisive->text;
  } else if (demand) {
    e->deciding_rule = demand->rule;
    e->deciding_text = absl::StrCat("demand from ", demand->rule, ": ", demand->formula, " cores; ",
                                    ps.empty() ? "" : ps.back().text);
  } else {
    e->deciding_rule = "blend";
    e->deciding_text = current.arithmetic;
  }
  for (ExplainedValue* x : {&blended, &current, &predicted, &pressure, &memory}) {
    e->values.push_back(std::move(*x));
  }
}

}  // namespace

Explanation Explain(const DecisionInputs& in, const DeploymentStatus& status) {
  Explanation e;
  e.namespace_name = status.namespace_name;
  e.name = status.name;
  e.at = in.at;
  e.inputs = Inputs(in, status);
  ExplainedValue target = ExplainTarget(in);
  const double target_pct = *target.value;
  e.values.push_back(std::move(target));
  const Reading& r = in.reading;
  if (!r.blended_pct) {
    ExplainHeld(in,
                in.previous.has_served ? "no CPU data this cycle: last-known-good values stand"
                                       : "no CPU data yet",
                &e);
  } else if (r.confidence < kMinConfidence && in.previous.has_served && r.all_pods_young) {
    ExplainHeld(in,
                absl::StrCat("confidence ", r.confidence, " < ", kMinConfidence,
                             " with every pod young: previous values stand"),
                &e);
  } else {
    ExplainServed(in, status, target_pct, &e);
  }
  return e;
}

absl::optional<double> ExplainedValueOf(const Explanation& e, const std::string& metric) {
  for (const ExplainedValue& v : e.values) {
    if (v.metric == metric) return v.value;
  }
  return absl::nullopt;
}

std::string ExplanationJson(const Explanation& e) {
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "namespace", e.namespace_name);
  base::JsonField(w, "name", e.name);
  base::JsonTimeField(w, "at", e.at);
  w.Key("held");
  w.Bool(e.held);
  base::JsonField(w, "note", e.note);
  base::JsonField(w, "decidingRule", e.deciding_rule);
  base::JsonField(w, "decidingText", e.deciding_text);
  w.Key("inputs");
  w.StartArray();
  for (const ExplainInput& i : e.inputs) {
    w.StartObject();
    base::JsonField(w, "name", i.name);
    base::JsonNumberField(w, "value", i.value);
    base::JsonField(w, "unit", i.unit);
    base::JsonField(w, "text", i.text);
    base::JsonTimeField(w, "at", i.at);
    w.EndObject();
  }
  w.EndArray();
  w.Key("values");
  w.StartArray();
  for (const ExplainedValue& v : e.values) {
    w.StartObject();
    base::JsonField(w, "metric", v.metric);
    base::JsonNumberField(w, "value", v.value);
    base::JsonField(w, "unit", v.unit);
    base::JsonField(w, "arithmetic", v.arithmetic);
    w.Key("steps");
    w.StartArray();
    for (const ExplainStep& s : v.steps) {
      w.StartObject();
      base::JsonField(w, "rule", s.rule);
      base::JsonField(w, "text", s.text);
      base::JsonNumberField(w, "before", s.before);
      base::JsonNumberField(w, "after", s.after);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return base::JsonText(buf);
}

std::string ExplanationText(const Explanation& e) {
  std::string out = absl::StrCat(e.namespace_name, "/", e.name, " at ", base::FormatRfc3339(e.at),
                                 e.held ? " (held: " + e.note + ")" : "", "\n");
  absl::StrAppend(&out, "deciding rule: ", e.deciding_rule, ": ", e.deciding_text, "\n\n");
  for (const ExplainedValue& v : e.values) {
    absl::StrAppend(&out, v.metric, " = ", N(v.value), " ", v.unit, "\n");
    for (const ExplainStep& s : v.steps) absl::StrAppend(&out, "  [", s.rule, "] ", s.text, "\n");
    absl::StrAppend(&out, "  = ", v.arithmetic, "\n");
  }
  absl::StrAppend(&out, "\ninputs:\n");
  for (const ExplainInput& i : e.inputs) {
    absl::StrAppend(&out, "  ", i.name, " = ",
                    i.value ? N(*i.value) : (i.text.empty() ? "no data" : i.text),
                    i.value ? " " + i.unit : "", "  (", base::FormatRfc3339(i.at), ")\n");
  }
  return out;
}

}  // namespace reconciler
