// Dumps, for every origin of the rolling-origin evaluation, what each ensemble member forecast
// at the horizon step over the fit's backtest window and from its end, as JSON lines, so that
// combination rules can be studied offline (predictor/tools/combine_sim.py) without refitting.
//
//   bazel-bin/predictor/tools/dump_members --input trace.csv [--step 5m] > members.jsonl
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/trace_csv.h"
#include "predictor/forecaster.h"
#include "predictor/internal/ensemble_trace.h"
#include "predictor/series.h"

ABSL_FLAG(std::string, input, "", "trace CSV");
ABSL_FLAG(absl::Duration, step, absl::ZeroDuration(), "resample step; 0: the series' own");
ABSL_FLAG(absl::Duration, horizon, absl::Minutes(60), "forecast horizon");
ABSL_FLAG(absl::Duration, origin_step, absl::Minutes(60), "time between evaluation origins");
ABSL_FLAG(absl::Duration, eval_span, absl::Hours(48), "span at the end holding the origins");
ABSL_FLAG(absl::Duration, train_span, absl::Hours(24 * 7), "history per fit");
// A few predictor::Options, to study them without editing the defaults.
ABSL_FLAG(absl::Duration, backtest_window, predictor::Options{}.backtest_window, "Options");
ABSL_FLAG(absl::Duration, recency_half_life, predictor::Options{}.recency_half_life, "Options");
ABSL_FLAG(double, min_gain_t, predictor::Options{}.min_gain_t, "Options");
ABSL_FLAG(double, consensus_clip, predictor::Options{}.consensus_clip, "Options");
ABSL_FLAG(absl::Duration, interval_volatility_window,
          predictor::Options{}.interval_volatility_window, "Options");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<std::vector<base::Point>> points = base::ReadTraceCsv(absl::GetFlag(FLAGS_input));
  if (!points.ok()) {
    std::cerr << points.status() << "\n";
    return 1;
  }
  std::vector<predictor::Sample> samples;
  for (const base::Point& p : *points) samples.push_back({p.time, p.value});
  predictor::RegularizeOptions reg;
  reg.step = absl::GetFlag(FLAGS_step);
  absl::StatusOr<predictor::Series> series = predictor::Regularize(samples, reg);
  if (!series.ok()) {
    std::cerr << series.status() << "\n";
    return 1;
  }
  const int64_t step_s = absl::ToInt64Seconds(series->step);
  auto steps = [&](absl::Duration d) {
    return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Seconds(d) / step_s));
  };
  const int h = steps(absl::GetFlag(FLAGS_horizon));
  const int n = series->size();
  const int train = steps(absl::GetFlag(FLAGS_train_span));
  const int day = series->StepsPerDay() > 0 ? series->StepsPerDay() : steps(absl::Hours(24));
  const int last_origin = n - 1 - h;
  const int first_origin = std::max(last_origin - steps(absl::GetFlag(FLAGS_eval_span)) + 1, day);
  std::vector<int> origins;
  for (int o = last_origin; o >= first_origin; o -= steps(absl::GetFlag(FLAGS_origin_step))) {
    origins.insert(origins.begin(), o);
  }
  std::cout << "{\"step_s\":" << step_s << ",\"start\":" << absl::ToUnixSeconds(series->start)
            << ",\"h\":" << h << ",\"train\":" << train
            << ",\"values\":[" << absl::StrJoin(series->values, ",") << "]}\n";
  for (int o : origins) {
    const int begin = std::max(0, o - train + 1);
    predictor::Series hist;
    hist.start = series->TimeAt(begin);
    hist.step = series->step;
    hist.values.assign(series->values.begin() + begin, series->values.begin() + o + 1);
    hist.gap.assign(hist.values.size(), 0);
    predictor::Options options;
    options.compact_after_fit = false;  // TraceEnsemble reads the backtest paths
    options.backtest_window = absl::GetFlag(FLAGS_backtest_window);
    options.recency_half_life = absl::GetFlag(FLAGS_recency_half_life);
    options.min_gain_t = absl::GetFlag(FLAGS_min_gain_t);
    options.consensus_clip = absl::GetFlag(FLAGS_consensus_clip);
    options.interval_volatility_window = absl::GetFlag(FLAGS_interval_volatility_window);
    std::unique_ptr<predictor::Forecaster> f = predictor::NewEnsemble(options);
    if (!f->Fit(hist, h).ok()) continue;
    const predictor::Band band = f->Forecast(h);
    const predictor::internal::EnsembleTrace t = predictor::internal::TraceEnsemble(*f);
    std::string line =
        absl::StrCat("{\"o\":", o, ",\"begin\":", begin, ",\"p50\":", band.p50.back(),
                     ",\"p10\":", band.p10.back(), ",\"p90\":", band.p90.back(), ",\"origins\":[",
                     absl::StrJoin(t.origins, ","), "],\"members\":[");
    for (size_t i = 0; i < t.members.size(); ++i) {
      const auto& m = t.members[i];
      absl::StrAppend(&line, i ? "," : "", "{\"name\":\"", m.name, "\",\"w\":", m.weight,
                      ",\"f\":", m.forecast, ",\"bt\":[", absl::StrJoin(m.backtest, ","), "]}");
    }
    std::cout << line << "]}\n";
  }
  return 0;
}
