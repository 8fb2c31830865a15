#include "clients/http/resilient_http_client.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace clients::http {

ResilientHttpClient::ResilientHttpClient(HttpClient* inner, const ResilienceOptions& options,
                                         const base::Clock* clock, base::Sleeper* sleeper,
                                         std::string name)
    : inner_(inner),
      options_(options),
      sleeper_(sleeper),
      name_(std::move(name)),
      breaker_(clock, options.breaker) {
  if (options.rate_per_second > 0) {
    bucket_ =
        std::make_unique<TokenBucket>(clock, options.rate_per_second,
                                      options.burst > 0 ? options.burst : options.rate_per_second);
  }
}

absl::StatusOr<HttpResponse> ResilientHttpClient::Attempt(const HttpRequest& request,
                                                          bool* refused) {
  *refused = false;
  if (bucket_ != nullptr) {
    absl::Duration wait = bucket_->Reserve();
    if (wait > options_.max_rate_limit_wait) {
      *refused = true;
      return absl::ResourceExhaustedError(absl::StrCat(
          name_, ": rate limit would delay the request by ", absl::FormatDuration(wait)));
    }
    sleeper_->SleepFor(wait);
  }
  if (!breaker_.Allow()) {
    *refused = true;
    return absl::UnavailableError(absl::StrCat(name_, ": circuit breaker open"));
  }
  attempts_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<HttpResponse> outcome = inner_->Do(request);
  bool failed = !outcome.ok() ? outcome.status().code() != absl::StatusCode::kInvalidArgument
                              : outcome->status >= 500;
  if (failed) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    breaker_.RecordFailure();
    if (breaker_.state() == CircuitBreaker::State::kOpen) {
      VLOG(1) << name_ << ": circuit breaker open";
    }
  } else {
    breaker_.RecordSuccess();
  }
  return outcome;
}

absl::StatusOr<HttpResponse> ResilientHttpClient::Do(const HttpRequest& request) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  // Not RetryWithBackoff: a call refused by the breaker or the limiter is not retried.
  bool refused = false;
  absl::StatusOr<HttpResponse> outcome = Attempt(request, &refused);
  for (int retry = 0; !refused && ShouldRetry(outcome) && retry < options_.backoff.max_retries;
       ++retry) {
    sleeper_->SleepFor(BackoffDelay(options_.backoff, retry));
    retries_.fetch_add(1, std::memory_order_relaxed);
    outcome = Attempt(request, &refused);
  }
  return outcome;
}

ResilienceStats ResilientHttpClient::stats() const {
  ResilienceStats s;
  s.requests = requests_.load();
  s.attempts = attempts_.load();
  s.retries = retries_.load();
  s.failures = failures_.load();
  s.breaker_rejections = breaker_.rejections();
  s.breaker_opens = breaker_.opens();
  s.rate_limited = bucket_ != nullptr ? bucket_->throttled() : 0;
  return s;
}

}  // namespace clients::http
