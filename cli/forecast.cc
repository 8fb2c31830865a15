// `smart-autoscaler forecast`: forecasts a CSV trace from its end, or (--evaluate) runs a
// rolling-origin evaluation of every model and the ensemble and prints one JSON object.
//
//   smart-autoscaler forecast --input trace.csv --horizon 60m --lead 10m --output out.csv
//   smart-autoscaler forecast --input trace.csv --evaluate --origin-step 60m --eval-days 2
//
// The input is regularised to the series' own step (or --step), short gaps interpolated.
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "base/trace_csv.h"
#include "cli/commands.h"
#include "predictor/evaluate.h"
#include "predictor/forecaster.h"
#include "predictor/series.h"

// --input is shared with `ingest` (Abseil flags are process-wide).
ABSL_DECLARE_FLAG(std::string, input);
ABSL_FLAG(absl::Duration, horizon, absl::Minutes(60), "forecast horizon, e.g. 60m");
ABSL_FLAG(absl::Duration, lead, absl::Minutes(10), "lead window for the peak, e.g. 10m");
ABSL_FLAG(std::string, output, "",
          "CSV to write: the forecast path, or with --evaluate one row per origin (ensemble)");
ABSL_FLAG(bool, evaluate, false, "run a rolling-origin evaluation instead of one forecast");
ABSL_FLAG(absl::Duration, origin_step, absl::Minutes(60), "--evaluate: time between origins");
ABSL_FLAG(double, eval_days, 2, "--evaluate: days at the end of the series holding the origins");
ABSL_FLAG(double, train_days, 7, "days of history each fit uses (--evaluate)");
ABSL_FLAG(absl::Duration, step, absl::ZeroDuration(),
          "resample to this step; 0 means the series' own step");
ABSL_FLAG(std::string, censor_at, "auto",
          "values at or above this ceiling are censored (a lower bound on demand, never "
          "forecast below while the series sits there); 'auto': 100 when every value lies in "
          "0-100, else none; 'none': no censoring");
ABSL_FLAG(std::string, models, "",
          "--evaluate: comma-separated model names (default: all and the ensemble)");

namespace cli {
namespace {

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.6g", v);
}

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone());
}

bool Positive(absl::Duration d, const char* name) {
  if (d > absl::ZeroDuration()) return true;
  std::cerr << "forecast: --" << name << " must be positive\n";
  return false;
}

}  // namespace

int ForecastMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "forecast: unexpected argument '" << args[0] << "'\n";
    return 2;
  }
  const std::string input = absl::GetFlag(FLAGS_input);
  if (input.empty()) {
    std::cerr << "forecast: --input is required\n";
    return 2;
  }
  const absl::Duration horizon = absl::GetFlag(FLAGS_horizon);
  const absl::Duration lead = absl::GetFlag(FLAGS_lead);
  if (!Positive(horizon, "horizon") || !Positive(lead, "lead") ||
      !Positive(absl::GetFlag(FLAGS_origin_step), "origin_step")) {
    return 2;
  }
  if (!(absl::GetFlag(FLAGS_eval_days) > 0) || !(absl::GetFlag(FLAGS_train_days) > 0)) {
    std::cerr << "forecast: --eval_days and --train_days must be positive\n";
    return 2;
  }
  absl::StatusOr<std::vector<base::Point>> points = base::ReadTraceCsv(input);
  if (!points.ok()) {
    PrintError(std::cerr, "forecast", points.status().message());
    return 1;
  }
  std::vector<predictor::Sample> samples;
  samples.reserve(points->size());
  for (const base::Point& p : *points) samples.push_back({p.time, p.value});
  predictor::RegularizeOptions reg;
  reg.step = absl::GetFlag(FLAGS_step);
  absl::StatusOr<predictor::Series> series = predictor::Regularize(samples, reg);
  if (!series.ok()) {
    std::cerr << "forecast: " << input << ": " << series.status().message() << "\n";
    return 1;
  }
  const std::string censor = absl::GetFlag(FLAGS_censor_at);
  double ceiling = 0;
  if (censor == "auto") {
    ceiling = predictor::DefaultCeiling(*series);
  } else if (censor != "none" && (!absl::SimpleAtod(censor, &ceiling) || !(ceiling > 0))) {
    std::cerr << "forecast: --censor_at must be a positive number, 'auto' or 'none'\n";
    return 2;
  }
  predictor::MarkCensored(*series, ceiling);
  const int64_t step_s = absl::ToInt64Seconds(series->step);
  const std::string output = absl::GetFlag(FLAGS_output);

  if (absl::GetFlag(FLAGS_evaluate)) {
    predictor::EvalOptions opt;
    opt.horizon = horizon;
    opt.lead = lead;
    opt.origin_step = absl::GetFlag(FLAGS_origin_step);
    opt.eval_span = absl::Seconds(absl::GetFlag(FLAGS_eval_days) * 86400);
    opt.train_span = absl::Seconds(absl::GetFlag(FLAGS_train_days) * 86400);
    const std::string models = absl::GetFlag(FLAGS_models);
    if (!models.empty()) {
      opt.models.clear();
      std::vector<predictor::ModelKind> all = predictor::AllModels();
      all.push_back(predictor::ModelKind::kEnsemble);
      for (absl::string_view name : absl::StrSplit(models, ',')) {
        bool found = false;
        for (predictor::ModelKind k : all) {
          if (name == predictor::ModelName(k)) {
            opt.models.push_back(k);
            found = true;
          }
        }
        if (!found) {
          std::cerr << "forecast: unknown model '" << name << "'\n";
          return 2;
        }
      }
    }
    absl::StatusOr<predictor::EvalReport> report = predictor::Evaluate(*series, opt);
    if (!report.ok()) {
      std::cerr << "forecast: " << input << ": " << report.status().message() << "\n";
      return 1;
    }
    std::string json = absl::StrCat(
        "{\"input\":\"", input, "\",\"points\":", series->size(), ",\"step_s\":", step_s,
        ",\"horizon_steps\":", report->horizon_steps, ",\"lead_steps\":", report->lead_steps,
        ",\"mase_scale\":", Num(report->mase_scale), ",\"models\":{");
    for (size_t i = 0; i < report->models.size(); ++i) {
      const predictor::ModelScore& m = report->models[i];
      absl::StrAppend(&json, i ? "," : "", "\"", m.name, "\":{\"origins\":", m.origins,
                      ",\"mae\":", Num(m.mae), ",\"rmse\":", Num(m.rmse),
                      ",\"smape\":", Num(m.smape), ",\"mase\":", Num(m.mase),
                      ",\"peak_mae\":", Num(m.peak_mae), ",\"peak_rmse\":", Num(m.peak_rmse),
                      ",\"peak_smape\":", Num(m.peak_smape), ",\"peak_mase\":", Num(m.peak_mase),
                      ",\"peak_p90_mase\":", Num(m.peak_p90_mase),
                      ",\"coverage\":", Num(m.coverage), ",\"mean_ms\":", Num(m.mean_ms), "}");
    }
    absl::StrAppend(&json, "}}");
    std::cout << json << "\n";
    if (!output.empty()) {
      const predictor::ModelScore* rows = &report->models.back();
      for (const predictor::ModelScore& m : report->models) {
        if (m.name == "ensemble") rows = &m;
      }
      std::ofstream out(output);
      out << "origin,target,actual,forecast,p10,p90,peak_lead,peak_lead_p90\n";
      for (const predictor::EvalRow& r : rows->rows) {
        out << Time(r.origin) << "," << Time(r.target) << "," << Num(r.actual) << ","
            << Num(r.forecast) << "," << Num(r.p10) << "," << Num(r.p90) << ","
            << Num(r.peak_lead) << "," << Num(r.peak_lead_p90) << "\n";
      }
      if (!out) {
        std::cerr << "forecast: cannot write " << output << "\n";
        return 1;
      }
    }
    return 0;
  }

  // One forecast from the end of the series, fitted on the last --train_days.
  const int horizon_steps =
      static_cast<int>(std::max<int64_t>(1, absl::ToInt64Seconds(horizon) / step_s));
  const int lead_steps = static_cast<int>(
      std::min<int64_t>(horizon_steps, std::max<int64_t>(1, absl::ToInt64Seconds(lead) / step_s)));
  const int train = static_cast<int>(absl::GetFlag(FLAGS_train_days) * 86400 / step_s);
  if (series->size() > train) {
    const int drop = series->size() - train;
    series->start = series->TimeAt(drop);
    series->values.erase(series->values.begin(), series->values.begin() + drop);
    series->gap.erase(series->gap.begin(), series->gap.begin() + drop);
    if (!series->censored.empty()) {
      series->censored.erase(series->censored.begin(), series->censored.begin() + drop);
    }
  }
  std::unique_ptr<predictor::Forecaster> f = predictor::NewEnsemble();
  absl::Status st = f->Fit(*series, horizon_steps);
  if (!st.ok()) {
    std::cerr << "forecast: " << st.message() << "\n";
    return 1;
  }
  const predictor::Band band = f->Forecast(horizon_steps);
  const predictor::Derived d = predictor::Derive(band, lead_steps);
  const absl::Time last = series->TimeAt(series->size() - 1);
  std::string json = absl::StrCat(
      "{\"input\":\"", input, "\",\"last_time\":\"", Time(last),
      "\",\"last_value\":", Num(series->values.back()), ",\"step_s\":", step_s,
      ",\"horizon_steps\":", horizon_steps, ",\"at_horizon\":", Num(d.at_horizon),
      ",\"at_horizon_p90\":", Num(d.at_horizon_p90), ",\"peak_lead\":", Num(d.peak_lead),
      ",\"peak_lead_p90\":", Num(d.peak_lead_p90), ",\"confidence\":", Num(f->Confidence()),
      ",\"weights\":{");
  bool first = true;
  for (const auto& [name, w] : predictor::EnsembleWeights(*f)) {
    absl::StrAppend(&json, first ? "" : ",", "\"", name, "\":", Num(w));
    first = false;
  }
  absl::StrAppend(&json, "}}");
  std::cout << json << "\n";
  if (!output.empty()) {
    std::ofstream out(output);
    out << "time,p10,p50,p90\n";
    for (int k = 0; k < band.size(); ++k) {
      out << Time(last + (k + 1) * series->step) << "," << Num(band.p10[k]) << ","
          << Num(band.p50[k]) << "," << Num(band.p90[k]) << "\n";
    }
    if (!out) {
      std::cerr << "forecast: cannot write " << output << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace cli
