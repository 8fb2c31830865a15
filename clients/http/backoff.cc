#include "clients/http/backoff.h"

#include <algorithm>

namespace clients::http {

absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry) {
  absl::Duration d = policy.initial_delay;
  for (int i = 0; i < retry && d < policy.max_delay; ++i) d = d * policy.multiplier;
  return std::min(d, policy.max_delay);
}

bool ShouldRetry(const absl::StatusOr<HttpResponse>& outcome) {
  if (!outcome.ok()) return IsRetryableError(outcome.status());
  return IsRetryableStatus(outcome->status);
}

absl::StatusOr<HttpResponse> RetryWithBackoff(
    const BackoffPolicy& policy, base::Sleeper& sleeper,
    const std::function<absl::StatusOr<HttpResponse>()>& attempt, int* retries_done) {
  int retries = 0;
  absl::StatusOr<HttpResponse> outcome = attempt();
  while (ShouldRetry(outcome) && retries < policy.max_retries) {
    sleeper.SleepFor(BackoffDelay(policy, retries));
    ++retries;
    outcome = attempt();
  }
  if (retries_done != nullptr) *retries_done = retries;
  return outcome;
}

}  // namespace clients::http
