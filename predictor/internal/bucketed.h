// A forecaster for any sampling step: a series finer than Options::max_fit_step is fitted on
// buckets of that size ending at its last sample (the mean of each bucket for the level; a bucket is censored when any
// of its samples is), so the cost of a fit does not grow with the sampling rate, and the
// bucket forecast is read back at the series' own step (interpolated between the bucket
// centres, widened by the spread of the samples around their bucket means over the last
// day). Coarser series go straight to the inner forecaster.
//
//   auto f = internal::NewBucketed(std::move(ensemble), absl::Minutes(5));
//   f->Fit(ten_second_series, /*horizon=*/360);   // fits on 5-minute buckets
//   Band b = f->Forecast(360);                     // 360 ten-second steps
//
// Not part of the public contract. Thread-compatible.
#pragma once

#include <memory>

#include "absl/time/time.h"
#include "predictor/forecaster.h"

namespace predictor {
namespace internal {

class Bucketed : public Forecaster {
 public:
  Bucketed(std::unique_ptr<Forecaster> inner, absl::Duration max_step);

  std::string Name() const override { return inner_->Name(); }
  absl::Status Fit(const Series& history, int horizon) override;
  using Forecaster::Append;
  absl::Status Append(double value, bool censored) override;
  Band Forecast(int horizon) const override;
  double Confidence() const override { return inner_->Confidence(); }

  const Forecaster& inner() const { return *inner_; }
  // Samples per bucket (1: the series is fitted as it is).
  int ratio() const { return ratio_; }
  // Values the inner forecaster was fitted on, and samples aggregated into buckets, by the
  // last Fit: the work of a fit, for tests comparing steps without timing them.
  int fitted_points() const { return fitted_points_; }
  int aggregated_points() const { return aggregated_points_; }

 private:
  int InnerHorizon() const { return (horizon_ + ratio_ - 1) / ratio_; }

  std::unique_ptr<Forecaster> inner_;
  absl::Duration max_step_;
  bool fitted_ = false;
  int ratio_ = 1;
  int horizon_ = 1;
  int fitted_points_ = 0, aggregated_points_ = 0;
  // The bucket in progress: samples so far, their sum, whether any was censored.
  int partial_n_ = 0;
  double partial_sum_ = 0;
  bool partial_censored_ = false;
  bool saturated_ = false;  // the last sample is censored
  double last_ = 0;
  double last_bucket_ = 0;  // the mean of the last complete bucket
  double dev10_ = 0, dev90_ = 0;  // quantiles of sample - bucket mean over the last day
};

std::unique_ptr<Forecaster> NewBucketed(std::unique_ptr<Forecaster> inner,
                                        absl::Duration max_step);

}  // namespace internal
}  // namespace predictor
