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
// else shares the registry (the snapshot client's stream state).
//
// Thread-safe: Handle may be called from many threads at once (the table, authenticator and
// authorizer must be thread-safe too). Does not own its dependencies.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapter/auth/auth.h"
#include "adapter/metric_table.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "base/metrics.h"

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
  // Where request metrics go and what GET /metrics serves; null = base::metrics::DefaultRegistry()
  // (which also holds the snapshot client's and any base::HttpServer's metrics).
  base::metrics::Registry* metrics = nullptr;
  // When set, exported at each scrape as adapter_auth_cache_lookups_total{cache,result}.
  const auth::AuthCounters* auth_counters = nullptr;
};

// Counters for every handled outcome. The same outcomes are exported on GET /metrics as
// adapter_requests_total{resource,verb,code} (see handler.cc for the label values).
struct HandlerCounters {
  std::atomic<uint64_t> requests{0}, ok{0}, bad_request{0}, unauthorized{0}, forbidden{0},
      not_found{0}, not_acceptable{0}, method_not_allowed{0}, stale{0}, internal{0};
};

class Handler {
 public:
  Handler(const MetricTable* table, auth::Authenticator* authenticator,
          auth::Authorizer* authorizer, const base::Clock* clock, HandlerOptions options);

  HttpResponse Handle(const HttpRequest& request) const;

  const HandlerCounters& counters() const { return counters_; }

  // A metav1.Status failure body with HTTP status `code`.
  static HttpResponse Status(int code, absl::string_view reason, absl::string_view message);

 private:
  // What Handle does; *resource and *verb receive the bounded metric labels of the request.
  HttpResponse Serve(const HttpRequest& request, std::string* resource, std::string* verb) const;
  HttpResponse Count(HttpResponse r) const;
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
  base::metrics::Registry* registry_;
  base::metrics::Counter* stale_;
  mutable absl::Mutex scrape_mu_;  // one scrape at a time updates the scrape-time values
  mutable HandlerCounters counters_;
};

}  // namespace adapter
