// A small plain-HTTP/1.1 server (Boost.Beast underneath, not exposed): exact-path and
// longest-prefix routing to synchronous handlers, keep-alive, a fixed pool of I/O threads,
// bounded request bodies, an idle timeout and a graceful Stop(). For the reconciler's JSON
// API and web page and for /metrics endpoints; not for TLS (see adapter/server.h).
//
//   base::HttpServer server;
//   server.Handle("/metrics", base::MetricsHandler(&base::metrics::DefaultRegistry()));
//   absl::Status s = server.Start(":8000");  // ... server.Stop();
//
// Behaviour: unknown paths get 404; a malformed request 400 (connection closed); a body over
// `max_body_bytes` 413; request line + headers over 64 KiB 431. HEAD requests are routed like
// GET and reach the handler with method "GET"; the response then carries the headers
// (Content-Length of the would-be body) without the body. "Expect: 100-continue" is answered.
// Handlers run on the I/O threads, so a slow handler holds one of `threads`. Every request is
// counted in metrics::DefaultRegistry() as http_server_requests_total{handler,method,code} and
// http_server_request_duration_seconds{handler}, where `handler` is the registered path or
// prefix ("unmatched" for 404s, "invalid" for requests that could not be parsed).
//
// Thread-safety: Handle/HandlePrefix before Start(); Start, port and Stop from any thread.
// HttpServer owns its threads; Stop() (or the destructor) joins them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/metrics.h"

namespace base {

struct HttpRequest {
  std::string method;                          // "GET"
  std::string path;                            // "/api/v1/deployments" (percent-decoded, no query)
  std::map<std::string, std::string> query;    // decoded query parameters (last wins)
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  int threads = 1;
  absl::Duration idle_timeout = absl::Seconds(60);
  size_t max_body_bytes = 1 << 20;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes requests whose decoded path equals `path` to `handler`. Before Start().
  void Handle(std::string path, HttpHandler handler);
  // Routes requests whose decoded path starts with `prefix` (when no exact path matches);
  // longest prefix wins. Before Start().
  void HandlePrefix(std::string prefix, HttpHandler handler);

  // "127.0.0.1:0", "0.0.0.0:5000", ":8000" (all interfaces), "[::1]:0". InvalidArgument on a bad
  // address, Unavailable if it cannot listen, FailedPrecondition if already started.
  absl::Status Start(const std::string& address);
  int port() const;  // the bound port (useful with :0); 0 before Start()
  // Stops accepting, closes idle connections, lets requests in flight finish (up to ~1 s), then
  // closes the rest and joins the threads. Idempotent.
  void Stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

// A handler for GET /metrics serving registry.ExpositionText() as text/plain; version=0.0.4.
// Other methods get 405 with "Allow: GET, HEAD". `registry` must outlive the handler.
HttpHandler MetricsHandler(const metrics::Registry* registry);

}  // namespace base
