// The adapter's HTTP semantics, independent of the network: one parsed request in, one
// response out. Authentication, authorization, routing, discovery, the two metric APIs and
// metav1.Status errors all happen here; adapter/server.h only moves bytes over TLS.
//
//   adapter::Handler handler(&table, &authenticator, &authorizer, &base::RealClock(), {});
//   adapter::HttpResponse r = handler.Handle({.method = "GET",
//       .target = "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/smart_cpu_pressure"});
//
// GET /metrics (authenticated and authorized like any non-resource path, as prometheus-adapter
// does) serves the metrics registry in the Prometheus text format: requests by resource, verb
// and code, request latency, stale (503) answers, snapshot age, served series, and whatever
// else shares the registry (the snapshot client's stream state). See adapter/handler_metrics.h.
//
// Thread-safe: Handle may be called from many threads at once (the table, authenticator and
// authorizer must be thread-safe too). Does not own its dependencies.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/auth/auth.h"
#include "adapter/handler_metrics.h"
#include "adapter/metric_table.h"
#include "base/clock.h"
#include "base/http_server.h"

namespace adapter {

struct Route;  // adapter/router.h

// The server vocabulary of base/http_server.h. The Handler reads `method` (HEAD as sent),
// `target`, `headers` and the peer certificate; it sets `content_type` on every response.
using HttpRequest = base::HttpRequest;
using HttpResponse = base::HttpResponse;

struct HandlerOptions {
  // Values older than this are not served: requests get 503 so the HPA holds still.
  absl::Duration max_staleness = absl::Minutes(5);
  std::string version = "0.1.0";  // for /version
  // Where request metrics go and what GET /metrics serves (in the adapter binary it also holds
  // the snapshot client's metrics); null: a registry of the handler's own. Must outlive it.
  prometheus::Registry* metrics = nullptr;
  // When set, exported at each scrape as adapter_auth_cache_lookups_total{cache,result}.
  const auth::AuthCounters* auth_counters = nullptr;
};

class Handler {
 public:
  Handler(const MetricTable* table, auth::Authenticator* authenticator,
          auth::Authorizer* authorizer, const base::Clock* clock, HandlerOptions options);

  HttpResponse Handle(const HttpRequest& request) const;

  // Requests answered so far (the sum of adapter_requests_total).
  uint64_t requests_counted() const { return metrics_.requests(); }

  // A metav1.Status failure body with HTTP status `code`.
  static HttpResponse Status(int code, absl::string_view reason, absl::string_view message);

 private:
  // What Handle does; *resource and *verb receive the bounded metric labels of the request.
  HttpResponse Serve(const HttpRequest& request, std::string* resource, std::string* verb) const;
  HttpResponse Metrics() const;
  HttpResponse Readyz() const;
  HttpResponse ResourceList(const std::string& group, const std::string& version) const;
  HttpResponse External(const Route& route) const;
  HttpResponse Custom(const Route& route) const;

  const MetricTable* table_;
  auth::Authenticator* authenticator_;
  auth::Authorizer* authorizer_;
  const base::Clock* clock_;
  HandlerOptions options_;
  std::unique_ptr<prometheus::Registry> own_registry_;  // when options.metrics is null
  mutable HandlerMetrics metrics_;
};

}  // namespace adapter
