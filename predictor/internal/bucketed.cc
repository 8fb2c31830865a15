#include "predictor/internal/bucketed.h"

#include <algorithm>
#include <cmath>

namespace predictor {
namespace internal {
namespace {

// The q-quantile of v by order statistic (reorders v); 0 when empty.
double OrderQuantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0.0;
  const size_t at = static_cast<size_t>(q * (v.size() - 1));
  std::nth_element(v.begin(), v.begin() + at, v.end());
  return v[at];
}

}  // namespace

Bucketed::Bucketed(std::unique_ptr<Forecaster> inner, absl::Duration max_step)
    : inner_(std::move(inner)), max_step_(max_step) {}

absl::Status Bucketed::Fit(const Series& history, int horizon) {
  if (history.values.empty()) return absl::InvalidArgumentError("empty history");
  if (horizon < 1) return absl::InvalidArgumentError("horizon must be at least 1 step");
  fitted_ = false;
  ratio_ = 1;
  horizon_ = horizon;
  partial_n_ = 0;
  partial_sum_ = 0;
  partial_censored_ = false;
  dev10_ = dev90_ = 0;
  aggregated_points_ = 0;
  const int n = history.size();
  const bool has_censored = history.censored.size() == history.values.size();
  saturated_ = has_censored && history.censored.back() != 0;
  last_ = history.values.back();
  const int64_t step_s = std::max<int64_t>(1, absl::ToInt64Seconds(history.step));
  const int64_t r = absl::ToInt64Seconds(max_step_) / step_s;
  // Buckets end at the last sample (the newest minutes are not left in a partial bucket);
  // i0: the first bucket's start, the oldest n % r samples are dropped.
  const int64_t bucket_s = r * step_s;
  const int i0 = r >= 2 ? static_cast<int>(n % r) : 0;
  const int buckets = r >= 2 ? (n - i0) / static_cast<int>(r) : 0;
  if (r < 2 || buckets < 2) {
    fitted_points_ = n;
    absl::Status st = inner_->Fit(history, horizon);
    fitted_ = st.ok();
    return st;
  }
  ratio_ = static_cast<int>(r);
  Series b;
  b.start = history.TimeAt(i0);
  b.step = absl::Seconds(bucket_s);
  b.values.resize(buckets);
  b.gap.assign(buckets, 0);
  if (has_censored) b.censored.assign(buckets, 0);
  const bool has_gap = history.gap.size() == history.values.size();
  for (int j = 0; j < buckets; ++j) {
    double sum = 0;
    int gaps = 0;
    for (int i = i0 + j * ratio_, e = i + ratio_; i < e; ++i) {
      sum += history.values[i];
      if (has_gap) gaps += history.gap[i] != 0;
      if (has_censored && history.censored[i]) b.censored[j] = 1;
    }
    b.values[j] = sum / ratio_;
    b.gap[j] = gaps == ratio_;
  }
  aggregated_points_ = buckets * ratio_;
  last_bucket_ = b.values.back();
  // Spread of the samples around their bucket means over the last day of buckets.
  const int day = std::max(1, static_cast<int>(86400 / bucket_s));
  std::vector<double> dev;
  for (int j = std::max(0, buckets - day); j < buckets; ++j) {
    for (int i = i0 + j * ratio_, e = i + ratio_; i < e; ++i)
      dev.push_back(history.values[i] - b.values[j]);
  }
  dev10_ = OrderQuantile(dev, 0.1);
  dev90_ = OrderQuantile(dev, 0.9);
  for (int i = i0 + buckets * ratio_; i < n; ++i) {
    partial_sum_ += history.values[i];
    ++partial_n_;
    partial_censored_ = partial_censored_ || (has_censored && history.censored[i]);
  }
  fitted_points_ = buckets;
  // The buckets the horizon reaches into; steps past the last bucket's centre keep its value.
  absl::Status st = inner_->Fit(b, InnerHorizon());
  fitted_ = st.ok();
  return st;
}

absl::Status Bucketed::Append(double value, bool censored) {
  if (ratio_ == 1) return inner_->Append(value, censored);
  if (!fitted_) return absl::FailedPreconditionError("Append before Fit");
  if (!std::isfinite(value)) return absl::InvalidArgumentError("non-finite value");
  last_ = value;
  saturated_ = censored;
  partial_sum_ += value;
  partial_censored_ = partial_censored_ || censored;
  if (++partial_n_ < ratio_) return absl::OkStatus();
  const double mean = partial_sum_ / ratio_;
  const bool any = partial_censored_;
  last_bucket_ = mean;
  partial_n_ = 0;
  partial_sum_ = 0;
  partial_censored_ = false;
  return inner_->Append(mean, any);
}

Band Bucketed::Forecast(int horizon) const {
  if (ratio_ == 1) return inner_->Forecast(horizon);
  Band out;
  if (!fitted_) return out;
  const int h = std::clamp(horizon, 1, horizon_);
  const Band b = inner_->Forecast(InnerHorizon());
  if (b.size() == 0) return out;
  out.p10.resize(h);
  out.p50.resize(h);
  out.p90.resize(h);
  // Bucket m after the last complete one (m = 0: that one) is centred at this offset from
  // the last sample; the level at step k is interpolated between the centres around it.
  const double centre0 = -partial_n_ - (ratio_ - 1) / 2.0;
  for (int k = 1; k <= h; ++k) {
    // Step k lies in the bucket (partial_n_ + k - 1) / ratio_ after the last complete one.
    const int j = std::min((partial_n_ + k - 1) / ratio_, b.size() - 1);
    const double pos = (k - centre0) / ratio_;  // in buckets after the last complete one
    const int m = std::min(static_cast<int>(pos), b.size());
    const double lo = m == 0 ? last_bucket_ : b.p50[m - 1];
    const double hi = m < b.size() ? b.p50[m] : b.p50.back();
    const double level = lo + (pos - m) * (hi - lo);
    // The bucket's band (around the interpolated level) and the spread within a bucket,
    // combined as independent errors.
    double p50 = level;
    double p90 = p50 + std::hypot(b.p90[j] - b.p50[j], std::max(0.0, dev90_));
    if (saturated_) {
      p50 = std::max(p50, last_);
      p90 = std::max(p90, last_);
    }
    out.p50[k - 1] = p50;
    out.p10[k - 1] =
        std::min(p50, level - std::hypot(b.p50[j] - b.p10[j], std::min(0.0, dev10_)));
    out.p90[k - 1] = p90;
  }
  return out;
}

std::unique_ptr<Forecaster> NewBucketed(std::unique_ptr<Forecaster> inner,
                                        absl::Duration max_step) {
  return std::make_unique<Bucketed>(std::move(inner), max_step);
}

}  // namespace internal
}  // namespace predictor
