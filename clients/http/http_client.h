// HttpClient: the one seam for outbound HTTP(S) (Kubernetes API, Prometheus, webhooks).
//
//   std::unique_ptr<clients::http::HttpClient> http = clients::http::MakeCurlHttpClient({});
//   clients::http::HttpRequest req; req.url = "https://prometheus:9090/api/v1/query?query=up";
//   absl::StatusOr<clients::http::HttpResponse> r = http->Do(req);
//   if (r.ok() && r->status == 200) Use(r->body);
//
// Callers depend on this interface, never on libcurl, so tests can hand them a fake or point
// them at a real local server. Decorators (retry, circuit breaker, rate limit) are HttpClients
// too, see resilience.h. Every implementation must be safe for concurrent use.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace clients::http {

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute, http:// or https://
  // Header lines in order; names as written. A "Content-Type" is the caller's job.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  absl::Duration timeout = absl::Seconds(10);  // whole request, connect included
};

struct HttpResponse {
  int status = 0;
  // Lower-cased header names -> values, in the order received.
  std::multimap<std::string, std::string> headers;
  std::string body;

  // First value of the header `name` (any case), or "" when absent.
  std::string Header(absl::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Performs one request. On any HTTP response (including 4xx/5xx) returns it with OK; the
  // status code is the caller's to judge. Transport failures are errors:
  //   kUnavailable       connect refused, DNS failure, TLS handshake failure, reset,
  //                      circuit breaker open
  //   kDeadlineExceeded  the request did not finish within request.timeout
  //   kInvalidArgument   malformed URL or unsupported method
  //   kResourceExhausted a rate limiter refused to wait that long
  virtual absl::StatusOr<HttpResponse> Do(const HttpRequest& request) = 0;
};

// True for errors worth retrying: transport failures that happened before a response
// (kUnavailable). Timeouts are not retried: the server may have acted on the request.
bool IsRetryableError(const absl::Status& status);

// True for HTTP status codes worth retrying: 429 and 5xx.
bool IsRetryableStatus(int http_status);

}  // namespace clients::http
