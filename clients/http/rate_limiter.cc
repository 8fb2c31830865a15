#include "clients/http/rate_limiter.h"

#include <algorithm>

namespace clients::http {

TokenBucket::TokenBucket(const base::Clock* clock, double rate_per_second, double burst)
    : clock_(clock),
      rate_(rate_per_second > 0 ? rate_per_second : 1.0),
      burst_(std::max(1.0, burst)),
      tokens_(burst_),
      last_(clock->Now()) {}

void TokenBucket::RefillLocked() {
  absl::Time now = clock_->Now();
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * rate_);
    last_ = now;
  }
}

bool TokenBucket::TryAcquire() {
  absl::MutexLock lock(&mu_);
  RefillLocked();
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  ++throttled_;
  return false;
}

absl::Duration TokenBucket::Reserve() {
  absl::MutexLock lock(&mu_);
  RefillLocked();
  tokens_ -= 1.0;
  if (tokens_ >= 0.0) return absl::ZeroDuration();
  ++throttled_;
  return absl::Seconds(-tokens_ / rate_);
}

int64_t TokenBucket::throttled() const {
  absl::MutexLock lock(&mu_);
  return throttled_;
}

}  // namespace clients::http
