// CircuitBreaker: stop calling a dependency that keeps failing, probe it again later.
//
//   clients::http::CircuitBreaker breaker(&clock);            // 5 failures, 60 s open
//   if (!breaker.Allow()) return absl::UnavailableError("prometheus: circuit open");
//   ok ? breaker.RecordSuccess() : breaker.RecordFailure();
//
// States: closed (calls pass; `failure_threshold` consecutive failures open it), open (calls
// are refused for `open_duration`), half-open (one trial call passes; its success closes the
// breaker, its failure opens it again for another `open_duration`). Thread-safe.
#pragma once

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace clients::http {

struct CircuitBreakerOptions {
  int failure_threshold = 5;
  absl::Duration open_duration = absl::Seconds(60);
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  // `clock` must outlive the breaker.
  explicit CircuitBreaker(const base::Clock* clock, CircuitBreakerOptions options = {});

  // True when a call may go ahead now. In half-open state only the first caller gets true
  // until that trial call is recorded.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();

  State state() const;
  // Times the breaker went from closed or half-open to open.
  int64_t opens() const;
  // Calls refused by Allow().
  int64_t rejections() const;

 private:
  State StateLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const base::Clock* const clock_;
  const CircuitBreakerOptions options_;
  mutable absl::Mutex mu_;
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time opened_at_ ABSL_GUARDED_BY(mu_);
  bool trial_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  int64_t opens_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rejections_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace clients::http
