#include "reconciler/forecast_tracker.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "reconciler/policy.h"

namespace reconciler {
namespace {

// Validated forecasts older than this leave the log (the summary's window is 24 h too).
constexpr absl::Duration kValidationKept = absl::Hours(24);
// The out-of-sample seeding after a load: the last two hours, with at least a day before them.
constexpr int kSeedReplayBuckets = 24;
constexpr int kSeedMinTrainBuckets = 12 * 24;
// Fits look at least an hour ahead.
constexpr int kMinFitHorizon = 12;

absl::Time Floor(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), ForecastTracker::kStep);
}

// ", persistence 65% (MAE 0.12 vs 0.15 cores)" over the same origins; "" when none.
std::string PersistenceNote(const predictor::ValidationSummary& forecast,
                            const predictor::ValidationSummary& persistence) {
  if (forecast.total == 0) return "";
  return absl::StrCat(", persistence ", static_cast<int>(100 * persistence.accuracy), "% (MAE ",
                      absl::StrFormat("%.3g", forecast.mae), " vs ",
                      absl::StrFormat("%.3g", persistence.mae), " cores)");
}

}  // namespace

void ForecastTracker::ObserveRecent(absl::Time now, double cores_1m) {
  if (!std::isfinite(cores_1m) || (!open_.empty() && now <= open_.back().at)) return;
  // Readings whose horizon closed before `now` become rises (those that saw no later reading
  // within it, across a gap, say nothing and are dropped).
  while (!open_.empty() && open_.front().at + kRiseHorizon < now) {
    const Open& o = open_.front();
    if (o.seen) rises_.emplace_back(o.at, std::max(0.0, o.max_ahead - o.cores));
    open_.pop_front();
  }
  for (Open& o : open_) {
    o.max_ahead = std::max(o.max_ahead, cores_1m);
    o.seen = true;
  }
  open_.push_back({now, cores_1m, cores_1m, false});
  while (!rises_.empty() && rises_.front().first < now - kRiseRecent) rises_.pop_front();
}

absl::optional<double> ForecastTracker::RiskHeadroom(absl::Time now) const {
  std::vector<double> samples;
  for (const auto& [at, rise] : rises_) {
    if (at >= now - kRiseRecent && at <= now) samples.push_back(rise);
  }
  return reconciler::RiseHeadroomCores(std::move(samples), kRiseQuantile, kMinRiseSamples);
}

ForecastTracker::ForecastTracker(std::string name) : name_(std::move(name)) {}
ForecastTracker::~ForecastTracker() = default;

int ForecastTracker::LeadSteps() const {
  return std::max<int64_t>(
      1, absl::ToInt64Seconds(lead_ + kStep - absl::Seconds(1)) / absl::ToInt64Seconds(kStep));
}

void ForecastTracker::Observe(absl::Time now, double demand_cores, double threshold_cores,
                              bool predictive, bool censored) {
  const absl::Time bucket = Floor(now);
  if (bucket_start_ == absl::InfinitePast()) bucket_start_ = bucket;
  if (bucket > bucket_start_ && bucket_n_ > 0) {
    PushBucket(bucket_start_, bucket_sum_ / bucket_n_, bucket_censored_, threshold_cores, now,
               predictive);
    bucket_sum_ = 0;
    bucket_n_ = 0;
    bucket_censored_ = false;
  }
  bucket_start_ = bucket;
  bucket_sum_ += demand_cores;
  ++bucket_n_;
  bucket_censored_ = bucket_censored_ || censored;
}

void ForecastTracker::PushBucket(absl::Time bucket, double value, bool censored, double threshold,
                                 absl::Time now, bool predictive) {
  if (history_.empty()) {
    history_start_ = bucket;
  } else {
    absl::Time next = history_start_ + static_cast<int64_t>(history_.size()) * kStep;
    if (bucket < next) return;  // already have it (loaded)
    // Hold the last value across missed buckets (a reconciler restart, a Prometheus outage).
    const double last = history_.back();
    const bool last_censored = censored_.back() != 0;
    for (; next < bucket; next += kStep) {
      history_.push_back(last);
      censored_.push_back(last_censored);
      if (model_) model_->Append(last, last_censored).IgnoreError();
    }
  }
  history_.push_back(value);
  censored_.push_back(censored);
  while (static_cast<int>(history_.size()) > kHistoryBuckets) {
    history_.pop_front();
    censored_.pop_front();
    history_start_ += kStep;
  }
  // Validate the forecasts whose target is this bucket.
  while (!pending_.empty() && pending_.front().target <= bucket) {
    const Pending& p = pending_.front();
    if (p.target == bucket) {
      validated_.push_back({{p.target, p.forecast, value, p.threshold},
                            {p.target, p.persistence, value, p.threshold}});
    }
    pending_.pop_front();
  }
  auto old = std::remove_if(validated_.begin(), validated_.end(), [&](const Scored& v) {
    return v.forecast.target_time < now - kValidationKept;
  });
  validated_.erase(old, validated_.end());
  if (!predictive) return;
  const bool due = !model_ || now - last_fit_ >= kRefitEvery;
  if (due && refits_paused_) ++refits_skipped_;
  if (due && !refits_paused_) {
    Refit(now);
  } else if (model_) {
    model_->Append(value, censored).IgnoreError();
  } else {
    return;  // no model yet and fits paused: no forecast rather than a made-up one
  }
  Forecast(bucket, threshold);
}

void ForecastTracker::Forecast(absl::Time bucket, double threshold) {
  const int lead = LeadSteps();
  predictor::Band band = model_->Forecast(lead);
  if (band.size() == 0) return;
  derived_ = predictor::Derive(band, lead);
  pending_.push_back({bucket + band.size() * kStep, band.p50.back(), threshold, history_.back()});
  ForecastRecord r;
  r.origin = bucket;
  r.step = kStep;
  r.lead = lead_;
  r.model = model_->Name();
  r.peak_lead_p50_cores = derived_->peak_lead;
  r.peak_lead_p90_cores = derived_->peak_lead_p90;
  r.band = std::move(band);
  records_.push_back(std::move(r));
}

predictor::Series ForecastTracker::HistorySeries(size_t drop_last) const {
  predictor::Series series;
  series.start = history_start_;
  series.step = kStep;
  series.values.assign(history_.begin(), history_.end() - drop_last);
  series.gap.assign(series.values.size(), 0);
  series.censored.assign(censored_.begin(), censored_.end() - drop_last);
  return series;
}

void ForecastTracker::Refit(absl::Time now) {
  const predictor::Series series = HistorySeries(0);
  auto model = predictor::NewEnsemble();
  absl::Status s = model->Fit(series, std::max(LeadSteps(), kMinFitHorizon));
  if (!s.ok()) {
    LOG(WARNING) << "forecast fit failed for " << name_ << ": " << s.message();
    return;
  }
  model_ = std::move(model);
  last_fit_ = now;
}

void ForecastTracker::LoadHistory(const std::vector<std::pair<absl::Time, double>>& points,
                                  absl::Time now, double threshold_cores,
                                  const std::vector<uint8_t>& censored) {
  if (points.empty()) return;
  for (size_t i = 0; i < points.size(); ++i) {
    const absl::Time b = Floor(points[i].first);
    const uint8_t c = i < censored.size() && censored[i] != 0;
    if (history_.empty()) {
      history_start_ = b;
      history_.push_back(points[i].second);
      censored_.push_back(c);
      continue;
    }
    absl::Time next = history_start_ + static_cast<int64_t>(history_.size()) * kStep;
    if (b < next) continue;
    const double last = history_.back();
    const uint8_t last_c = censored_.back();
    for (; next < b; next += kStep) {
      history_.push_back(last);
      censored_.push_back(last_c);
    }
    history_.push_back(points[i].second);
    censored_.push_back(c);
  }
  SeedValidation(threshold_cores);
  Refit(now);
  if (model_) {
    predictor::Band band = model_->Forecast(LeadSteps());
    if (band.size() > 0) derived_ = predictor::Derive(band, LeadSteps());
  }
}

void ForecastTracker::SeedValidation(double threshold) {
  const int n = static_cast<int>(history_.size());
  if (n <= kSeedMinTrainBuckets + kSeedReplayBuckets) return;
  const int lead = LeadSteps();
  const predictor::Series series = HistorySeries(kSeedReplayBuckets);
  auto model = predictor::NewEnsemble();
  if (!model->Fit(series, std::max(lead, kMinFitHorizon)).ok()) return;
  for (int i = n - kSeedReplayBuckets; i < n; ++i) {
    predictor::Band band = model->Forecast(lead);
    const int target = i - 1 + band.size();
    if (band.size() > 0 && target < n) {
      const absl::Time at = history_start_ + target * kStep;
      validated_.push_back({{at, band.p50.back(), history_[target], threshold},
                            {at, history_[i - 1], history_[target], threshold}});
    }
    model->Append(history_[i], censored_[i] != 0).IgnoreError();
  }
}

void ForecastTracker::RefreshLearnedTarget(absl::Time now, bool enabled) {
  if (!enabled) {
    learned_ = absl::nullopt;
    rise_headroom_ = absl::nullopt;
    return;
  }
  rise_headroom_ = RiskHeadroom(now);
  if (rise_headroom_) {
    learned_ = kRiskTargetPct;
    learned_at_ = absl::InfinitePast();  // the week's ratio is recomputed when the rises stop
    return;
  }
  // Until a week of history is held there is nothing to learn: no copy, no call.
  if (static_cast<int>(history_.size()) < kHistoryBuckets) return;
  if (learned_at_ != absl::InfinitePast() && now - learned_at_ < kRefitEvery) return;
  learned_ = reconciler::LearnedTargetPct(std::vector<double>(history_.begin(), history_.end()),
                                          std::vector<uint8_t>(censored_.begin(), censored_.end()),
                                          std::max(1, LeadSteps()));
  learned_at_ = now;
}

ForecastView ForecastTracker::View(absl::Time now, const ForecastViewOptions& options) const {
  predictor::ValidationOptions vo;
  vo.min_accuracy = options.min_accuracy;
  std::vector<predictor::Validated> forecasts, persistence;
  for (const Scored& s : validated_) {
    forecasts.push_back(s.forecast);
    persistence.push_back(s.persistence);
  }
  const predictor::ValidationSummary summary = predictor::Summarize(forecasts, now, vo);
  const predictor::ValidationSummary naive = predictor::Summarize(persistence, now, vo);
  ForecastView v;
  v.accuracy = summary.accuracy;
  v.validated = summary.total;
  v.false_positives = summary.false_positives;
  v.false_negatives = summary.false_negatives;
  if (summary.total > 0) {
    v.persistence_accuracy = naive.accuracy;
    v.mae_cores = summary.mae;
    v.persistence_mae_cores = naive.mae;
  }
  v.learned_target_pct = learned_;
  v.rise_headroom_cores = rise_headroom_;
  if (!options.predictive) {
    v.note = "ENABLE_PREDICTIVE=false";
  } else if (!model_ || !derived_) {
    v.note = "no forecast yet (needs a 5-minute bucket of demand)";
  } else {
    v.peak_lead_p90_cores = derived_->peak_lead_p90;
    if (!summary.trusted) {
      v.note = absl::StrCat("not trusted: ", summary.total, " validated, accuracy ",
                            static_cast<int>(100 * summary.accuracy), "%, false positives ",
                            static_cast<int>(100 * summary.false_positive_rate), "%",
                            PersistenceNote(summary, naive));
    } else if (!(summary.mae < naive.mae)) {
      // A forecast no closer than carrying the last bucket forward adds only its p90's spread.
      v.note = absl::StrCat("not trusted: no better than persistence over the same origins",
                            PersistenceNote(summary, naive));
    } else {
      v.trusted = true;
      v.note =
          absl::StrCat("trusted: accuracy ", static_cast<int>(100 * summary.accuracy), "% over ",
                       summary.total, " forecasts", PersistenceNote(summary, naive));
    }
  }
  return v;
}

std::vector<ForecastRecord> ForecastTracker::TakeForecastRecords() {
  std::vector<ForecastRecord> out;
  out.swap(records_);
  return out;
}

}  // namespace reconciler
