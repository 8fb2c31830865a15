// Address parsing, target decoding, routing and per-route request metrics of base::HttpServer
// (private to base/).
//
//   internal::Routes routes(&registry);
//   routes.Add(internal::Routes::kExact, "/metrics", handler);
//   const internal::Routes::Route* r = routes.Find("/metrics", /*decoded=*/true);
//   r->metrics.Record(internal::MethodIndex("GET"), 200, elapsed);
//
// Add before the server starts; Find and Record are then thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/http_server.h"
#include "base/metric_children.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"

namespace base::internal {

// Host and port from "host:port", ":port" or "[v6]:port" ("localhost" is 127.0.0.1; an empty
// host means all interfaces). InvalidArgument when malformed.
absl::Status ParseAddress(const std::string& address, std::string* host, int* port);

// Decodes a request-target into request->path and ->query; false (both cleared) when it does
// not decode.
bool DecodeTarget(absl::string_view target, HttpRequest* request);

// Index of a method label ("GET" ... "CONNECT", else "OTHER").
size_t MethodIndex(absl::string_view method);

// http_server_requests_total{handler,method,code} and http_server_request_duration_seconds
// {handler} for one handler label; children are created on first use and kept.
class RouteMetrics {
 public:
  // Null families: Record does nothing.
  RouteMetrics(std::string handler, prometheus::Family<prometheus::Counter>* requests,
               prometheus::Family<prometheus::Histogram>* durations);
  void Record(size_t method, int status, std::chrono::steady_clock::duration elapsed) const;

 private:
  const std::string handler_;
  prometheus::Family<prometheus::Counter>* requests_;
  mutable std::optional<MetricChildren<prometheus::Counter>> counts_;  // method x common code
  mutable std::optional<MetricChildren<prometheus::Histogram>> duration_;
};

class Routes {
 public:
  enum Kind { kExact, kPrefix, kDefault };
  struct Route {
    std::string pattern;
    HttpHandler handler;
    RouteMetrics metrics;
  };

  explicit Routes(prometheus::Registry* registry);  // null: no metrics

  void Add(Kind kind, std::string pattern, HttpHandler handler);
  // The exact route for `path`, else the longest matching prefix, else the default route
  // (also for a target that did not decode); null when none applies.
  const Route* Find(const std::string& path, bool decoded) const;
  bool has_paths() const { return !exact_.empty() || !prefixes_.empty(); }
  const RouteMetrics* unmatched() const { return &unmatched_; }
  const RouteMetrics* invalid() const { return &invalid_; }

 private:
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Histogram>* durations_ = nullptr;
  std::map<std::string, std::unique_ptr<Route>> exact_, prefixes_;
  std::unique_ptr<Route> default_;
  RouteMetrics unmatched_, invalid_;
};

}  // namespace base::internal
