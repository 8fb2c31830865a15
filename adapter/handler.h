// The adapter's HTTP semantics, independent of the network: one parsed request in, one
// response out. Authentication, authorization, routing, discovery, the two metric APIs and
// metav1.Status errors all happen here; adapter/server.h only moves bytes over TLS.
//
//   adapter::Handler handler(&table, &authenticator, &authorizer, &base::RealClock(), {});
//   adapter::HttpResponse r = handler.Handle({.method = "GET",
//       .target = "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/smart_cpu_pressure"});
//
// Thread-safe: Handle may be called from many threads at once (the table, authenticator and
// authorizer must be thread-safe too). Does not own its dependencies.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/auth/auth.h"
#include "adapter/metric_table.h"
#include "base/clock.h"

namespace adapter {

struct Route;  // adapter/router.h

struct HttpRequest {
  std::string method;
  std::string target;                               // request-target as sent: path[?query]
  std::multimap<std::string, std::string> headers;  // lower-cased names, in order
  std::string peer_cert_der;
  std::vector<std::string> peer_chain_der;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct HandlerOptions {
  // Values older than this are not served: requests get 503 so the HPA holds still.
  absl::Duration max_staleness = absl::Minutes(5);
  std::string version = "0.1.0";  // for /version
};

// Counters for every handled outcome (exported by whoever embeds the handler).
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
  HttpResponse Count(HttpResponse r) const;
  HttpResponse Readyz() const;
  HttpResponse ResourceList(const std::string& group, const std::string& version) const;
  HttpResponse External(const Route& route) const;
  HttpResponse Custom(const Route& route) const;

  const MetricTable* table_;
  auth::Authenticator* authenticator_;
  auth::Authorizer* authorizer_;
  const base::Clock* clock_;
  HandlerOptions options_;
  mutable HandlerCounters counters_;
};

}  // namespace adapter
