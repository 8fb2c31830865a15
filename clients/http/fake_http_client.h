// FakeHttpClient: an HttpClient that answers from a script and records every request, for
// unit tests of code that sits on top of HttpClient.
//
//   clients::http::FakeHttpClient fake;
//   fake.Push(clients::http::HttpResponse{503});
//   fake.Push(absl::UnavailableError("connection refused"));
//   fake.set_default(clients::http::HttpResponse{200, {}, "{}"});
//
// Thread-safe.
#pragma once

#include <deque>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "clients/http/http_client.h"

namespace clients::http {

class FakeHttpClient : public HttpClient {
 public:
  // Queues the outcome of the next unanswered call.
  void Push(absl::StatusOr<HttpResponse> outcome) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(outcome));
  }
  // The outcome once the script is used up (default: 200 with an empty body).
  void set_default(absl::StatusOr<HttpResponse> outcome) {
    absl::MutexLock lock(&mu_);
    default_ = std::move(outcome);
  }

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (script_.empty()) return default_;
    absl::StatusOr<HttpResponse> out = std::move(script_.front());
    script_.pop_front();
    return out;
  }

  std::vector<HttpRequest> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::StatusOr<HttpResponse>> script_;
  absl::StatusOr<HttpResponse> default_ = HttpResponse{200, {}, ""};
  std::vector<HttpRequest> requests_;
};

}  // namespace clients::http
