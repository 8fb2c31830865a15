// PrometheusClient: PromQL instant and range queries over Prometheus' HTTP API (also Thanos,
// Mimir, VictoriaMetrics: anything serving /api/v1/query and /api/v1/query_range).
//
//   auto http = clients::http::MakeCurlHttpClient({});
//   auto prom = clients::prometheus::MakePrometheusClient({.base_url = "http://prom:9090"},
//                                                         http.get());
//   auto series = prom->Query("sum by (namespace, pod) (rate(x[10m]))", absl::Now());
//
// Results are typed (labels + points); JSON never leaves this package. NaN and infinite
// sample values are returned as they came (Prometheus writes them as "NaN", "+Inf"): the
// caller decides what they mean. Thread-safe when the HttpClient is.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/http/http_client.h"

namespace clients::prometheus {

struct Point {
  absl::Time time;
  double value = 0;
};

// One series of a result. An instant query gives one point per series; a scalar result is
// one series with no labels.
struct Series {
  std::map<std::string, std::string> labels;
  std::vector<Point> points;
};

struct ClientOptions {
  // Base URL without the /api/v1 suffix, e.g. "http://prometheus-server.monitoring:9090" or
  // "https://mimir.example/prometheus".
  std::string base_url;
  // Sent as "Authorization: Bearer ..." when set.
  std::string bearer_token;
  // Extra headers on every request (e.g. {"X-Scope-OrgID", "tenant"} for Mimir).
  std::vector<std::pair<std::string, std::string>> headers;
  absl::Duration timeout = absl::Seconds(10);
};

class PrometheusClient {
 public:
  virtual ~PrometheusClient() = default;

  // Evaluates `promql` at `at`. Errors: the HttpClient's transport errors; the API's own
  // errors mapped by ParseQueryResponse.
  virtual absl::StatusOr<std::vector<Series>> Query(absl::string_view promql, absl::Time at) = 0;

  // Evaluates `promql` over [from, to] every `step`. InvalidArgument when to < from or
  // step <= 0 (checked before any request).
  virtual absl::StatusOr<std::vector<Series>> QueryRange(absl::string_view promql,
                                                         absl::Time from, absl::Time to,
                                                         absl::Duration step) = 0;
};

// `http` is not owned and must outlive the client.
std::unique_ptr<PrometheusClient> MakePrometheusClient(ClientOptions options,
                                                       http::HttpClient* http);

// Parses an /api/v1/query or /api/v1/query_range response body (vector, matrix or scalar).
// Errors, by Prometheus' errorType: bad_data -> InvalidArgument, timeout -> DeadlineExceeded,
// canceled -> Cancelled, unavailable -> Unavailable, not_found -> NotFound, anything else ->
// Internal; a body that is not the API's JSON -> Unavailable for HTTP 5xx (a proxy in the way),
// else DataLoss. Messages carry Prometheus' own error text.
absl::StatusOr<std::vector<Series>> ParseQueryResponse(absl::string_view body, int http_status);

}  // namespace clients::prometheus
