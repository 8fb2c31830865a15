// Exponential backoff with a bounded number of retries, shared by every outbound client.
//
//   clients::http::BackoffPolicy policy;                 // 1 s, 2 s, 4 s: three retries
//   absl::StatusOr<HttpResponse> r = clients::http::RetryWithBackoff(
//       policy, base::RealSleeper(), [&] { return http->Do(req); });
//
// What is retried: transport errors before any response (kUnavailable: connect refused,
// reset, TLS failure) and HTTP 429 / 5xx. Everything else (2xx-4xx, timeouts, invalid
// arguments) is returned as is after the first attempt. Stateless and thread-compatible.
#pragma once

#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/http/http_client.h"

namespace clients::http {

struct BackoffPolicy {
  // Retries after the first attempt. The default schedule waits 1 s, 2 s, 4 s, as the original
  // operator's "retry x3 with backoff from 1 s" did.
  int max_retries = 3;
  absl::Duration initial_delay = absl::Seconds(1);
  double multiplier = 2.0;
  absl::Duration max_delay = absl::Seconds(30);
};

// The wait before retry number `retry` (0-based): initial * multiplier^retry, capped.
absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry);

// True when the outcome of one attempt should be retried (see the file comment).
bool ShouldRetry(const absl::StatusOr<HttpResponse>& outcome);

// Calls `attempt` until it gives a non-retryable outcome or the retries are spent; returns the
// last outcome (a 503 response stays a response). `retries_done`, if not null, receives the
// number of retries performed.
absl::StatusOr<HttpResponse> RetryWithBackoff(
    const BackoffPolicy& policy, base::Sleeper& sleeper,
    const std::function<absl::StatusOr<HttpResponse>()>& attempt, int* retries_done = nullptr);

}  // namespace clients::http
