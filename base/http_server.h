// The one HTTP/1.1 server of the project (Boost.Beast underneath, not exposed), plain or TLS:
// exact-path and longest-prefix routing to synchronous handlers (or one default handler that
// sees every request), keep-alive, a fixed pool of I/O threads, bounded request lines, headers
// and bodies, an idle timeout, a connection limit and a graceful Stop(). The reconciler's JSON
// API, web page and /metrics use it plain; the adapter uses it with TLS (adapter/server.h).
//
//   prometheus::Registry registry;
//   base::HttpServer server({.metrics = &registry});
//   server.Handle("/metrics", base::MetricsHandler(&registry));
//   absl::Status s = server.Start(":8000");  // ... server.Stop();
//
// Behaviour: unknown paths get 404 (or go to the default handler); a malformed request 400, a
// body over `max_body_bytes` 413, request line + headers over `max_header_bytes` 431, a
// Transfer-Encoding other than a final "chunked" 501 (unknown coding) or 400 (chunked not last,
// repeated, or with Content-Length), a request without exactly one Host header 400 (HTTP/1.0 may
// omit it) (each followed by closing the connection; the body comes from `error_response`). HEAD
// requests are routed like GET and reach the handler with method "GET" unless `head_as_get` is
// false; the response carries the headers (Content-Length of the would-be body) without the
// body. "Expect: 100-continue" is answered. Handlers run on the I/O threads, so a slow handler
// holds one of `threads`; a handler that throws gets 500.
//
// Connections (against floods): nothing is allocated for a connection's TLS or HTTP state until
// its first bytes arrive. A new connection has `first_request_timeout` for the TLS handshake and
// its whole first request; it earns the longer `idle_timeout` only with a response under 400 whose
// `trusts_connection` is set (until then each request gets `first_request_timeout` again).
// `max_connections` caps open connections; past it `probe_reserve` more are accepted that may
// only ask for `probe_paths` (anything else gets 503; one request each, within `probe_timeout`),
// and then new
// connections are closed at accept. `max_connections_per_client` caps the connections of one
// client address (reserve included). After `trim_after_closes` connections have closed, freed
// heap is handed back to the system (malloc_trim) at most once a second.
//
// With `metrics` set, every request is counted there as
// http_server_requests_total{handler,method,code} and
// http_server_request_duration_seconds{handler}, where `handler` is the registered path or
// prefix ("unmatched" for 404s and the default handler, "invalid" for requests that could not
// be parsed).
//
// TLS (`tls` set): TLS 1.2+, ALPN "http/1.1" only, a client certificate requested but not
// required and accepted at the TLS layer whatever it is (the handler gets it as DER and decides);
// certificate files are re-read when they change (checked every `reload_interval`; a bad new pair
// is logged, counted in stats().tls_reload_failures and the old one kept).
//
// Thread-safety: Handle/HandlePrefix/SetDefault before Start(); Start, port, stats and Stop from
// any thread. HttpServer owns its threads; Stop() (or the destructor) joins them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace prometheus {
class Registry;
}

namespace base {

// One request as a server hands it to a handler.
struct HttpRequest {
  std::string method;  // "GET" (also for HEAD unless HttpServerOptions::head_as_get is false)
  std::string target;  // the request-target as sent: path[?query][#fragment]
  // "/api/v1/deployments": percent-decoded, no query; and the decoded query parameters (last
  // wins). Both empty when the target does not decode or the server has only a default handler.
  std::string path;
  std::map<std::string, std::string> query;
  std::multimap<std::string, std::string> headers;  // lower-cased names, in order
  std::string body;
  // TLS only: the client's certificate (DER; empty without one) and its intermediates.
  std::string peer_cert_der;
  std::vector<std::string> peer_chain_der;
};

// One response. The server owns framing (Content-Length, Transfer-Encoding, Connection).
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // False: this answer does not earn the connection the long idle timeout (for example an
  // unauthenticated health probe); see HttpServerOptions::first_request_timeout.
  bool trusts_connection = true;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct TlsServerOptions {
  // PEM files (both or neither), re-read when they change; without files, the PEM text below.
  std::string cert_file, key_file;
  std::string cert_pem, key_pem;
  absl::Duration reload_interval = absl::Seconds(10);
  // PEM files whose CA subjects are sent as the acceptable client-CA list (empty: no list, so
  // clients send whatever certificate they have).
  std::vector<std::string> client_ca_files;
  absl::Duration handshake_timeout = absl::Seconds(10);
};

struct HttpServerOptions {
  int threads = 1;
  // Keep-alive and header/body deadline of a connection that has earned trust (see above).
  absl::Duration idle_timeout = absl::Seconds(60);
  // Deadline of a new connection's TLS handshake plus first request, and of each request of a
  // connection not yet trusted.
  absl::Duration first_request_timeout = absl::Seconds(10);
  size_t max_header_bytes = 64 * 1024;  // request line + headers; larger -> 431
  size_t max_body_bytes = 1 << 20;      // larger -> 413
  // Connections beyond this many open ones (plus `probe_reserve`) are closed right after accept
  // (0: no limit and no reserve).
  int max_connections = 0;
  int probe_reserve = 0;
  // Deadline of a reserve connection (TLS handshake and its one request), so that connections
  // that never send a probe cannot hold the reserve for long.
  absl::Duration probe_timeout = absl::Seconds(1);
  std::vector<std::string> probe_paths = {"/healthz", "/livez", "/readyz"};  // exact, no query
  int max_connections_per_client = 0;  // 0: no limit
  int trim_after_closes = 256;         // 0: never malloc_trim
  bool head_as_get = true;
  // Added to every response (before the handler's own headers).
  std::vector<std::pair<std::string, std::string>> response_headers;
  // The answer to a request that could not be read (status 400, 413 or 431; `message` says
  // why). Null: a text/plain body of `message`.
  std::function<HttpResponse(int status, const std::string& message)> error_response;
  // After such an answer, input is discarded for this long before the connection is closed.
  absl::Duration linger = absl::Seconds(1);
  // Where request metrics go (see above); null: not counted. Must outlive the server.
  prometheus::Registry* metrics = nullptr;
  // Where the connection metrics go: http_server_connections_rejected_total{reason="limit"|
  // "client"}, http_server_connections_timed_out_total (no trusted request before the short
  // deadline), http_server_open_connections{slot="normal"|"reserve"}. Null: `metrics`.
  prometheus::Registry* connection_metrics = nullptr;
  std::optional<TlsServerOptions> tls;
};

struct HttpServerStats {
  uint64_t rejected_connections = 0;  // closed at accept: max_connections + reserve reached
  uint64_t rejected_per_client = 0;   // closed at accept: max_connections_per_client reached
  uint64_t reserve_connections = 0;   // accepted into the probe reserve
  uint64_t first_request_timeouts = 0;  // closed by first_request_timeout before trust
  uint64_t trims = 0;                 // malloc_trim calls
  uint64_t handshake_failures = 0;    // TLS handshakes that failed or timed out
  uint64_t tls_reload_failures = 0;   // changed certificate files that could not be used
  int open_connections = 0;           // now, reserve included
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
  // Receives every request no route takes, including those whose target does not decode (then
  // `path` is empty and `target` is what was sent). Without one those get 404 or 400.
  void SetDefault(HttpHandler handler);

  // "127.0.0.1:0", "0.0.0.0:5000", ":8000" (all interfaces), "[::1]:0". InvalidArgument on a bad
  // address or unusable TLS certificate, Unavailable if it cannot listen, FailedPrecondition if
  // already started.
  absl::Status Start(const std::string& address);
  int port() const;  // the bound port (useful with :0); 0 before Start()
  HttpServerStats stats() const;
  // Stops accepting, closes idle connections, lets requests in flight finish (up to ~1 s), then
  // closes the rest and joins the threads. Idempotent.
  void Stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

// A handler for GET /metrics serving `registry` in the Prometheus text format (version 0.0.4).
// Other methods get 405 with "Allow: GET, HEAD". `registry` must outlive the handler.
HttpHandler MetricsHandler(const prometheus::Registry* registry);

}  // namespace base
