// The adapter's HTTPS listener: base::HttpServer with TLS 1.2+, HTTP/1.1 keep-alive, ALPN
// "http/1.1" only, optional client certificates handed to the Handler for authentication,
// request-parse errors answered as metav1.Status, and "Cache-Control: no-cache, private" and
// "X-Content-Type-Options: nosniff" on every response.
//
//   adapter::ServerOptions options;  options.port = 0;  // any free port
//   absl::StatusOr<std::unique_ptr<adapter::Server>> server =
//       adapter::Server::Start(&handler, options);
//   int port = (*server)->port();  ...  (*server)->Stop();
//
// The serving certificate comes from files (re-read when their modification time changes,
// checked every `reload_interval`; a bad new pair is logged and the old one kept) or, when no
// files are given, from a self-signed certificate generated at start. The TLS layer requests
// but does not require a client certificate and accepts any: the authenticator decides which
// CA it must chain to. Against floods (see base/http_server.h): a per-client-address limit, a
// short deadline until a connection has authenticated, and a probe-only reserve past the
// connection limit. Server owns its threads; Stop() (or destruction) joins them. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adapter/handler.h"

namespace prometheus {
class Registry;
}

namespace adapter {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 6443;  // 0 picks a free port; see Server::port()
  int threads = 2;
  std::string cert_file, key_file;  // PEM; both or neither
  // Names for the self-signed certificate (the first is the CN). IP literals become IP SANs.
  std::vector<std::string> self_signed_names = {"localhost", "127.0.0.1"};
  absl::Duration reload_interval = absl::Seconds(10);
  // PEM files whose CA subjects are sent as the acceptable client-CA list (empty: no list, so
  // clients send whatever certificate they have).
  std::vector<std::string> client_ca_files;
  size_t header_limit = 64 * 1024;  // request line + headers; larger -> 431
  size_t body_limit = 64 * 1024;    // request bodies are ignored; larger -> 413
  // Keep-alive deadline of a connection after its first authenticated request under 400.
  absl::Duration idle_timeout = absl::Seconds(90);
  // A new connection's deadline for the TLS handshake and its first request, and each request's
  // while it has not authenticated (health probes do not count).
  absl::Duration first_request_timeout = absl::Seconds(5);
  // Open connections; past this, `probe_reserve` more serve only /healthz, /livez and /readyz
  // (503 otherwise), then new connections are closed at accept. Each TLS connection in a
  // handshake or a request holds up to ~80 KB, so 1,024 stays within a 128 MiB Pod limit.
  int max_connections = 1024;
  int probe_reserve = 32;
  int max_connections_per_client = 256;  // per client address (0: no limit)
  // Where the connection metrics go (http_server_connections_*); null: not counted.
  prometheus::Registry* metrics = nullptr;
};

class Server {
 public:
  // Binds, loads or generates the certificate and starts serving.
  // kInvalidArgument for unusable certificate files, kUnavailable when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const Handler* handler,
                                                       ServerOptions options);

  virtual ~Server() = default;
  virtual int port() const = 0;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

// A self-signed ECDSA P-256 certificate for `names` (first = CN; DNS or IP SANs), valid one
// year. Returns {certificate PEM, private key PEM}.
absl::StatusOr<std::pair<std::string, std::string>> GenerateSelfSignedCert(
    const std::vector<std::string>& names);

}  // namespace adapter
