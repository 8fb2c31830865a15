// ResilientHttpClient: an HttpClient decorator that adds the shared resilience policy to any
// transport: token-bucket rate limit, circuit breaker, exponential backoff retry.
//
//   auto curl = clients::http::MakeCurlHttpClient(opts);
//   clients::http::ResilienceOptions r; r.rate_per_second = 10;   // PROMETHEUS_RATE_LIMIT
//   clients::http::ResilientHttpClient prom(curl.get(), r, &base::RealClock(),
//                                           &base::RealSleeper(), "prometheus");
//
// Per call: wait for a rate-limit token (refused with kResourceExhausted when the wait would
// exceed max_rate_limit_wait), refuse at once with kUnavailable while the breaker is open,
// send, record the outcome in the breaker (transport errors and 5xx are failures), retry
// retryable outcomes (backoff.h) with each retry passing the limiter and breaker again. A call
// refused by the breaker or the limiter is returned without retrying.
// Thread-safe when the wrapped client is.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.h"
#include "clients/http/backoff.h"
#include "clients/http/circuit_breaker.h"
#include "clients/http/http_client.h"
#include "clients/http/rate_limiter.h"

namespace clients::http {

struct ResilienceOptions {
  BackoffPolicy backoff;
  CircuitBreakerOptions breaker;
  double rate_per_second = 0;  // <= 0: no rate limit
  double burst = 0;            // <= 0: same as rate_per_second
  absl::Duration max_rate_limit_wait = absl::Seconds(30);
};

// Counters for export as Prometheus metrics by the owner of the client.
struct ResilienceStats {
  int64_t requests = 0;  // Do() calls
  int64_t attempts = 0;  // calls handed to the wrapped client
  int64_t retries = 0;
  int64_t failures = 0;  // attempts counted as breaker failures
  int64_t breaker_rejections = 0;
  int64_t breaker_opens = 0;
  int64_t rate_limited = 0;  // calls that had to wait for a token
};

class ResilientHttpClient : public HttpClient {
 public:
  // `inner`, `clock` and `sleeper` must outlive this client. `name` labels log lines.
  ResilientHttpClient(HttpClient* inner, const ResilienceOptions& options, const base::Clock* clock,
                      base::Sleeper* sleeper, std::string name);

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) override;

  ResilienceStats stats() const;
  CircuitBreaker::State breaker_state() const { return breaker_.state(); }

 private:
  absl::StatusOr<HttpResponse> Attempt(const HttpRequest& request, bool* refused);

  HttpClient* const inner_;
  const ResilienceOptions options_;
  base::Sleeper* const sleeper_;
  const std::string name_;
  CircuitBreaker breaker_;
  std::unique_ptr<TokenBucket> bucket_;
  std::atomic<int64_t> requests_{0}, attempts_{0}, retries_{0}, failures_{0};
};

}  // namespace clients::http
