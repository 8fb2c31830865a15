// TokenBucket: a rate limit of `rate` calls per second with bursts of up to `burst`.
//
//   clients::http::TokenBucket bucket(&clock, /*rate_per_second=*/10, /*burst=*/10);
//   if (!bucket.TryAcquire()) ...;                 // non-blocking
//   sleeper.SleepFor(bucket.Reserve());               // blocking: wait the returned time
//
// Used with PROMETHEUS_RATE_LIMIT (10/s) and K8S_API_RATE_LIMIT (20/s). Thread-safe.
#pragma once

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace clients::http {

class TokenBucket {
 public:
  // rate_per_second > 0; burst >= 1 (the bucket starts full). `clock` must outlive the bucket.
  TokenBucket(const base::Clock* clock, double rate_per_second, double burst);

  // Takes one token if one is available now; false otherwise (nothing taken).
  bool TryAcquire();

  // Takes one token, going into debt if needed, and returns how long the caller must wait
  // before acting (zero when a token was available). Callers that reserve queue up fairly:
  // the n-th caller in debt waits n/rate.
  absl::Duration Reserve();

  // Calls that had to wait (Reserve returned > 0) or were refused (TryAcquire false).
  int64_t throttled() const;

 private:
  void RefillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const base::Clock* const clock_;
  const double rate_;
  const double burst_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
  int64_t throttled_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace clients::http
