// Internal to base::HttpServer: the state its connections share (ServerState) and what Stop()
// needs of a connection (SessionBase). The connections themselves are in http_session.cc:
//
//   base::internal::StartSession(std::move(socket), state, "10.0.0.7", slot);
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/connection_limiter.h"
#include "base/http_routes.h"
#include "base/http_server.h"
#include "base/tls_context.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"

namespace base {
namespace internal {

class SessionBase;

// Connection counters on prometheus-cpp (null members when the server has no registry).
struct ConnectionMetrics {
  explicit ConnectionMetrics(prometheus::Registry* registry);
  prometheus::Counter* rejected_limit = nullptr;
  prometheus::Counter* rejected_client = nullptr;
  prometheus::Counter* timed_out = nullptr;
  prometheus::Gauge* open_normal = nullptr;
  prometheus::Gauge* open_reserve = nullptr;
};

// Everything the sessions share; HttpServer::Impl is this under the name the header declares.
class ServerState {
 public:
  explicit ServerState(HttpServerOptions o);

  // The answer to a request that cannot be served (400, 413, 431, 501, 503).
  HttpResponse ErrorResponse(int status, const std::string& message) const;
  // Runs the handler for `request`; *metrics receives where the request is counted.
  HttpResponse Dispatch(const HttpRequest& request, bool decoded, const RouteMetrics** metrics);
  // True when `target` (before any '?') is one of options.probe_paths.
  bool IsProbe(const std::string& target) const;

  void Register(SessionBase* s, std::weak_ptr<SessionBase> w);
  void Unregister(SessionBase* s);
  std::vector<std::shared_ptr<SessionBase>> LiveSessions();
  // Gives the connection's slot back and counts the close toward the next malloc_trim.
  void Closed(const std::string& client, ConnectionLimiter::Slot slot);

  void Accept();
  void ScheduleReload();
  void ScheduleTrim();

  const HttpServerOptions options;
  Routes routes;
  ConnectionLimiter limiter;
  ConnectionMetrics connection_metrics;
  std::unique_ptr<TlsContextSource> tls;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> rejected{0}, rejected_client{0}, reserve_accepted{0}, first_timeouts{0},
      trims{0}, handshake_failures{0}, reload_failures{0};
  std::atomic<int> closes_since_trim{0};
  int port = 0;
  absl::Mutex mu;
  std::map<SessionBase*, std::weak_ptr<SessionBase>> sessions ABSL_GUARDED_BY(mu);
  // Declared after everything a Session touches: destroying the io_context destroys the
  // sessions still queued in it, and they unregister themselves under `mu`.
  boost::asio::io_context ioc;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::optional<boost::asio::steady_timer> retry_timer, reload_timer, trim_timer;
  std::vector<std::thread> threads;
};

// What Stop() needs of a session, whatever its stream.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(ServerState* state, std::string client, ConnectionLimiter::Slot slot)
      : state_(state), client_(std::move(client)), slot_(slot) {}
  virtual ~SessionBase() {
    state_->Closed(client_, slot_);
    state_->Unregister(this);
  }
  // On the session's strand when the server stops: an idle connection is closed now, a busy
  // one after its response.
  virtual void OnStop() = 0;
  // From Stop() once no I/O thread runs.
  virtual void ForceClose() = 0;
  virtual boost::asio::any_io_executor GetExecutor() = 0;

 protected:
  ServerState* state_;
  const std::string client_;
  const ConnectionLimiter::Slot slot_;
};

// Creates the session for an accepted `socket` (TLS when state->tls is set) and starts it.
void StartSession(boost::asio::ip::tcp::socket socket, ServerState* state, std::string client,
                  ConnectionLimiter::Slot slot);

}  // namespace internal
}  // namespace base
