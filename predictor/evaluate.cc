#include "predictor/evaluate.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace predictor {
namespace {

struct Acc {
  double abs = 0, sq = 0, smape = 0;
  int n = 0;
  void Add(double f, double a) {
    abs += std::abs(f - a);
    sq += (f - a) * (f - a);
    const double den = std::abs(f) + std::abs(a);
    smape += den > 0 ? 2 * std::abs(f - a) / den : 0.0;
    ++n;
  }
};

}  // namespace

absl::StatusOr<EvalReport> Evaluate(const Series& series, const EvalOptions& opt) {
  const int64_t step_s = std::max<int64_t>(1, absl::ToInt64Seconds(series.step));
  auto steps = [&](absl::Duration d) {
    return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Seconds(d) / step_s));
  };
  EvalReport report;
  report.step = series.step;
  report.horizon_steps = steps(opt.horizon);
  report.lead_steps = std::min(steps(opt.lead), report.horizon_steps);
  const int h = report.horizon_steps, lead = report.lead_steps;
  const int n = series.size();
  const int train = steps(opt.train_span);
  const int day = series.StepsPerDay() > 0 ? series.StepsPerDay() : steps(absl::Hours(24));
  // Origins: every origin_step over the last eval_span whose horizon is observed.
  const int last_origin = n - 1 - h;
  const int first_origin = std::max(last_origin - steps(opt.eval_span) + 1, day);
  if (last_origin < first_origin) {
    return absl::InvalidArgumentError(absl::StrCat(
        "series too short: ", n, " points; need more than a day plus the horizon"));
  }
  std::vector<int> origins;
  for (int o = last_origin; o >= first_origin; o -= steps(opt.origin_step)) origins.push_back(o);
  std::reverse(origins.begin(), origins.end());

  // MASE scale: daily seasonal-naive one-step MAE over the training window of the first
  // origin (lag-1 naive when there is not a full day before it).
  {
    const int o = origins.front();
    const int begin = std::max(0, o - train + 1);
    const int lag = (o - begin + 1 > day) ? day : 1;
    double s = 0;
    int c = 0;
    for (int t = begin + lag; t <= o; ++t, ++c) s += std::abs(series.values[t] - series.values[t - lag]);
    report.mase_scale = c > 0 ? s / c : 0.0;
    if (!(report.mase_scale > 0)) report.mase_scale = 1.0;
  }
  std::function<absl::Time()> now = opt.now ? opt.now : [] { return absl::Now(); };
  // A series built by hand may leave `gap` empty: then nothing is marked.
  const bool has_gap = series.gap.size() == series.values.size();

  for (ModelKind kind : opt.models) {
    ModelScore score;
    score.name = ModelName(kind);
    Acc point, peak, peak90;
    int covered = 0;
    double ms = 0;
    for (int o : origins) {
      if (has_gap && series.gap[o + h]) continue;  // never score an interpolated long gap
      const int begin = std::max(0, o - train + 1);
      Series hist;
      hist.start = series.TimeAt(begin);
      hist.step = series.step;
      hist.values.assign(series.values.begin() + begin, series.values.begin() + o + 1);
      hist.gap.assign(o + 1 - begin, 0);
      if (has_gap) std::copy(series.gap.begin() + begin, series.gap.begin() + o + 1, hist.gap.begin());
      if (series.censored.size() == series.values.size()) {
        hist.censored.assign(series.censored.begin() + begin, series.censored.begin() + o + 1);
      }
      std::unique_ptr<Forecaster> f = NewForecaster(kind, opt.forecaster);
      const absl::Time t0 = now();
      absl::Status st = f->Fit(hist, h);
      if (!st.ok()) return st;
      Band band = f->Forecast(h);
      ms += absl::ToDoubleMilliseconds(now() - t0);
      const Derived d = Derive(band, lead);
      EvalRow row;
      row.origin = series.TimeAt(o);
      row.target = series.TimeAt(o + h);
      row.actual = series.values[o + h];
      row.forecast = d.at_horizon;
      row.p10 = band.p10.back();
      row.p90 = band.p90.back();
      row.actual_peak_lead = *std::max_element(series.values.begin() + o + 1,
                                               series.values.begin() + o + 1 + lead);
      row.peak_lead = d.peak_lead;
      row.peak_lead_p90 = d.peak_lead_p90;
      point.Add(row.forecast, row.actual);
      peak.Add(row.peak_lead, row.actual_peak_lead);
      peak90.Add(row.peak_lead_p90, row.actual_peak_lead);
      if (row.actual >= row.p10 && row.actual <= row.p90) ++covered;
      score.rows.push_back(row);
    }
    score.origins = point.n;
    if (point.n > 0) {
      score.mae = point.abs / point.n;
      score.rmse = std::sqrt(point.sq / point.n);
      score.smape = point.smape / point.n;
      score.mase = score.mae / report.mase_scale;
      score.peak_mae = peak.abs / peak.n;
      score.peak_rmse = std::sqrt(peak.sq / peak.n);
      score.peak_smape = peak.smape / peak.n;
      score.peak_mase = score.peak_mae / report.mase_scale;
      score.peak_p90_mase = peak90.abs / peak90.n / report.mase_scale;
      score.coverage = static_cast<double>(covered) / point.n;
      score.mean_ms = ms / point.n;
    }
    report.models.push_back(std::move(score));
  }
  return report;
}

}  // namespace predictor
