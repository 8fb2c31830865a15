#include "clients/http/circuit_breaker.h"

namespace clients::http {

CircuitBreaker::CircuitBreaker(const base::Clock* clock, CircuitBreakerOptions options)
    : clock_(clock), options_(options) {}

CircuitBreaker::State CircuitBreaker::StateLocked() const {
  if (!open_) return State::kClosed;
  if (clock_->Now() - opened_at_ >= options_.open_duration) return State::kHalfOpen;
  return State::kOpen;
}

bool CircuitBreaker::Allow() {
  absl::MutexLock lock(&mu_);
  switch (StateLocked()) {
    case State::kClosed:
      return true;
    case State::kOpen:
      ++rejections_;
      return false;
    case State::kHalfOpen:
      if (trial_in_flight_) {
        ++rejections_;
        return false;
      }
      trial_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  absl::MutexLock lock(&mu_);
  consecutive_failures_ = 0;
  open_ = false;
  trial_in_flight_ = false;
}

void CircuitBreaker::RecordFailure() {
  absl::MutexLock lock(&mu_);
  State s = StateLocked();
  trial_in_flight_ = false;
  if (s == State::kHalfOpen) {
    // The trial failed: another full open period.
    opened_at_ = clock_->Now();
    ++opens_;
    return;
  }
  if (s == State::kOpen) return;  // a call that started before the breaker opened
  if (++consecutive_failures_ >= options_.failure_threshold) {
    open_ = true;
    opened_at_ = clock_->Now();
    consecutive_failures_ = 0;
    ++opens_;
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  absl::MutexLock lock(&mu_);
  return StateLocked();
}

int64_t CircuitBreaker::opens() const {
  absl::MutexLock lock(&mu_);
  return opens_;
}

int64_t CircuitBreaker::rejections() const {
  absl::MutexLock lock(&mu_);
  return rejections_;
}

}  // namespace clients::http
