// base::HttpServer over Boost.Asio: the acceptor (admission by base::ConnectionLimiter), the
// certificate reload and malloc_trim timers, Start/Stop, and the state the connections share.
// The connections are in http_session.cc.
#include "base/http_server.h"

#include <malloc.h>

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"
#include "base/http_server_state.h"
#include "glog/logging.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace base {
namespace internal {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

constexpr absl::Duration kStopGrace = absl::Milliseconds(900);
constexpr auto kTrimCheck = std::chrono::seconds(1);

std::chrono::milliseconds Millis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

HttpResponse TextResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

ConnectionMetrics::ConnectionMetrics(prometheus::Registry* registry) {
  if (registry == nullptr) return;
  auto& rejected = prometheus::BuildCounter()
                       .Name("http_server_connections_rejected_total")
                       .Help("Connections closed at accept: limit = max connections and probe "
                             "reserve in use, client = the per-client-address limit")
                       .Register(*registry);
  rejected_limit = &rejected.Add({{"reason", "limit"}});
  rejected_client = &rejected.Add({{"reason", "client"}});
  timed_out = &prometheus::BuildCounter()
                   .Name("http_server_connections_timed_out_total")
                   .Help("Connections closed by the short first-request deadline before a "
                         "trusted request")
                   .Register(*registry)
                   .Add({});
  auto& open = prometheus::BuildGauge()
                   .Name("http_server_open_connections")
                   .Help("Open connections by slot: normal, or the probe-only reserve")
                   .Register(*registry);
  open_normal = &open.Add({{"slot", "normal"}});
  open_reserve = &open.Add({{"slot", "reserve"}});
}

ServerState::ServerState(HttpServerOptions o)
    : options(std::move(o)),
      routes(options.metrics),
      limiter({options.max_connections, options.max_connections > 0 ? options.probe_reserve : 0,
               options.max_connections_per_client}),
      connection_metrics(options.connection_metrics != nullptr ? options.connection_metrics
                                                               : options.metrics),
      ioc(std::max(1, options.threads)) {}

HttpResponse ServerState::ErrorResponse(int status, const std::string& message) const {
  if (options.error_response) return options.error_response(status, message);
  return TextResponse(status, message + "\n");
}

HttpResponse ServerState::Dispatch(const HttpRequest& request, bool decoded,
                                   const RouteMetrics** metrics) {
  const Routes::Route* route = routes.Find(request.path, decoded);
  *metrics = route != nullptr ? &route->metrics : decoded ? routes.unmatched() : routes.invalid();
  if (route == nullptr) {
    return decoded ? TextResponse(404, "404 page not found\n")
                   : TextResponse(400, "malformed request target\n");
  }
  try {
    return route->handler(request);
  } catch (const std::exception& e) {
    LOG(ERROR) << "handler for " << route->pattern << " threw: " << e.what();
  } catch (...) {
    LOG(ERROR) << "handler for " << route->pattern << " threw";
  }
  return TextResponse(500, "internal error\n");
}

bool ServerState::IsProbe(const std::string& target) const {
  const absl::string_view path = absl::string_view(target).substr(0, target.find('?'));
  return std::find(options.probe_paths.begin(), options.probe_paths.end(), path) !=
         options.probe_paths.end();
}

void ServerState::Register(SessionBase* s, std::weak_ptr<SessionBase> w) {
  absl::MutexLock lock(&mu);
  sessions.emplace(s, std::move(w));
}

void ServerState::Unregister(SessionBase* s) {
  absl::MutexLock lock(&mu);
  sessions.erase(s);
}

std::vector<std::shared_ptr<SessionBase>> ServerState::LiveSessions() {
  std::vector<std::shared_ptr<SessionBase>> out;
  absl::MutexLock lock(&mu);
  for (const auto& [raw, weak] : sessions) {
    if (std::shared_ptr<SessionBase> s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}

void ServerState::Closed(const std::string& client, ConnectionLimiter::Slot slot) {
  limiter.Release(client, slot);
  prometheus::Gauge* open = slot == ConnectionLimiter::Slot::kReserve
                                ? connection_metrics.open_reserve
                                : connection_metrics.open_normal;
  if (open != nullptr) open->Decrement();
  ++closes_since_trim;
}

void ServerState::Accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping) return;
    if (ec) {
      // E.g. EMFILE: wait a little instead of spinning on the error.
      LOG_EVERY_N(WARNING, 100) << "accept: " << ec.message();
      retry_timer->expires_after(std::chrono::milliseconds(50));
      retry_timer->async_wait([this](beast::error_code ec) {
        if (!ec && !stopping) Accept();
      });
      return;
    }
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    std::string client = ec ? std::string() : remote.address().to_string();
    const ConnectionLimiter::Slot slot = limiter.Acquire(client);
    if (slot == ConnectionLimiter::Slot::kRejectedGlobal) {
      ++rejected;
      if (connection_metrics.rejected_limit) connection_metrics.rejected_limit->Increment();
      LOG_EVERY_N(WARNING, 1000) << "connection limit " << options.max_connections << " + "
                                 << options.probe_reserve << " reached; closing new connections";
    } else if (slot == ConnectionLimiter::Slot::kRejectedClient) {
      ++rejected_client;
      if (connection_metrics.rejected_client) connection_metrics.rejected_client->Increment();
      LOG_EVERY_N(WARNING, 1000) << "client " << client << " has "
                                 << options.max_connections_per_client
                                 << " connections open; closing its new ones";
    }
    if (slot == ConnectionLimiter::Slot::kRejectedGlobal ||
        slot == ConnectionLimiter::Slot::kRejectedClient) {
      socket.close(ec);
      return Accept();
    }
    const bool reserve = slot == ConnectionLimiter::Slot::kReserve;
    if (reserve) ++reserve_accepted;
    prometheus::Gauge* open = reserve ? connection_metrics.open_reserve
                                      : connection_metrics.open_normal;
    if (open != nullptr) open->Increment();
    socket.set_option(tcp::no_delay(true), ec);
    StartSession(std::move(socket), this, std::move(client), slot);
    Accept();
  });
}

void ServerState::ScheduleTrim() {
  if (options.trim_after_closes <= 0) return;
  trim_timer->expires_after(kTrimCheck);
  trim_timer->async_wait([this](beast::error_code ec) {
    if (ec || stopping) return;
    if (closes_since_trim.load() >= options.trim_after_closes) {
      closes_since_trim = 0;
      // Freed connection buffers sit in malloc's arenas; give them back to the system.
      malloc_trim(0);
      ++trims;
    }
    ScheduleTrim();
  });
}

void ServerState::ScheduleReload() {
  if (tls == nullptr || tls->options().cert_file.empty()) return;
  reload_timer->expires_after(Millis(tls->options().reload_interval));
  reload_timer->async_wait([this](beast::error_code ec) {
    if (ec || stopping) return;
    if (absl::Status s = tls->ReloadIfChanged(); !s.ok()) {
      LOG(ERROR) << "keeping the previous serving certificate: " << s;
      ++reload_failures;
    }
    ScheduleReload();
  });
}

// Opens, binds and listens on the first of `candidates` that works.
absl::Status Listen(const std::string& address, int port,
                    const std::vector<net::ip::address>& candidates, ServerState* state) {
  std::string error;
  for (const net::ip::address& a : candidates) {
    beast::error_code ec;
    tcp::endpoint endpoint(a, static_cast<unsigned short>(port));
    tcp::acceptor acceptor(net::make_strand(state->ioc));
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec && a.is_v6() && a.is_unspecified()) acceptor.set_option(net::ip::v6_only(false), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = absl::StrCat("cannot listen on ", address, ": ", ec.message());
      continue;
    }
    state->port = acceptor.local_endpoint().port();
    state->acceptor.emplace(std::move(acceptor));
    return absl::OkStatus();
  }
  return absl::UnavailableError(error);
}

}  // namespace internal

namespace net = boost::asio;
namespace beast = boost::beast;
using internal::SessionBase;

class HttpServer::Impl : public internal::ServerState {
 public:
  using ServerState::ServerState;
};

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string path, HttpHandler handler) {
  CHECK(!impl_->started) << "HttpServer::Handle after Start";
  impl_->routes.Add(internal::Routes::kExact, std::move(path), std::move(handler));
}

void HttpServer::HandlePrefix(std::string prefix, HttpHandler handler) {
  CHECK(!impl_->started) << "HttpServer::HandlePrefix after Start";
  impl_->routes.Add(internal::Routes::kPrefix, std::move(prefix), std::move(handler));
}

void HttpServer::SetDefault(HttpHandler handler) {
  CHECK(!impl_->started) << "HttpServer::SetDefault after Start";
  impl_->routes.Add(internal::Routes::kDefault, "", std::move(handler));
}

absl::Status HttpServer::Start(const std::string& address) {
  Impl* impl = impl_.get();
  if (impl->started.exchange(true)) return absl::FailedPreconditionError("already started");
  std::string host;
  int port = 0;
  absl::Status status = internal::ParseAddress(address, &host, &port);
  std::vector<net::ip::address> candidates;
  if (status.ok() && host.empty()) {
    // All interfaces: dual-stack IPv6 when the machine has it, else IPv4.
    candidates = {net::ip::address_v6::any(), net::ip::address_v4::any()};
  } else if (status.ok()) {
    beast::error_code ec;
    candidates = {net::ip::make_address(host, ec)};
    if (ec) {
      status = absl::InvalidArgumentError(
          absl::StrCat("address '", address, "': '", host, "' is not an IP address"));
    }
  }
  if (status.ok() && impl->options.tls) {
    absl::StatusOr<std::unique_ptr<internal::TlsContextSource>> tls =
        internal::TlsContextSource::Create(*impl->options.tls);
    if (tls.ok()) impl->tls = *std::move(tls);
    status = tls.status();
  }
  if (status.ok()) status = internal::Listen(address, port, candidates, impl);
  if (!status.ok()) {
    impl->started = false;
    return status;
  }
  impl->retry_timer.emplace(impl->acceptor->get_executor());
  impl->reload_timer.emplace(impl->ioc);
  impl->trim_timer.emplace(impl->ioc);
  impl->Accept();
  impl->ScheduleReload();
  impl->ScheduleTrim();
  for (int i = 0; i < std::max(1, impl->options.threads); ++i) {
    impl->threads.emplace_back([impl] { impl->ioc.run(); });
  }
  LOG(INFO) << (impl->tls ? "HTTPS" : "HTTP") << " server listening on " << address << " (port "
            << impl->port << ")";
  return absl::OkStatus();
}

int HttpServer::port() const { return impl_->port; }

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  s.rejected_connections = impl_->rejected.load();
  s.rejected_per_client = impl_->rejected_client.load();
  s.reserve_connections = impl_->reserve_accepted.load();
  s.first_request_timeouts = impl_->first_timeouts.load();
  s.trims = impl_->trims.load();
  s.open_connections = impl_->limiter.open();
  s.handshake_failures = impl_->handshake_failures.load();
  s.tls_reload_failures = impl_->reload_failures.load();
  return s;
}

void HttpServer::Stop() {
  Impl* impl = impl_.get();
  if (!impl->started || impl->stopped.exchange(true)) return;
  impl->stopping = true;
  net::post(impl->acceptor->get_executor(), [impl] {
    beast::error_code ignored;
    impl->acceptor->close(ignored);
    impl->retry_timer->cancel();
    impl->reload_timer->cancel();
    impl->trim_timer->cancel();
  });
  // Sessions are collected under the lock but released outside it: the last reference runs
  // ~SessionBase, which takes the lock.
  for (std::shared_ptr<SessionBase>& s : impl->LiveSessions()) {
    net::post(s->GetExecutor(), [s] { s->OnStop(); });
  }
  {
    absl::MutexLock lock(&impl->mu);
    impl->mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::map<SessionBase*, std::weak_ptr<SessionBase>>* m) { return m->empty(); },
            &impl->sessions),
        internal::kStopGrace);
  }
  impl->ioc.stop();
  for (std::thread& t : impl->threads) t.join();
  impl->threads.clear();
  // Requests still running after the grace period lose their connection now.
  for (std::shared_ptr<SessionBase>& s : impl->LiveSessions()) s->ForceClose();
  LOG(INFO) << "HTTP server on port " << impl->port << " stopped";
}

HttpHandler MetricsHandler(const prometheus::Registry* registry) {
  return [registry](const HttpRequest& request) {
    HttpResponse r;
    if (request.method != "GET") {
      r.status = 405;
      r.body = "method not allowed\n";
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = prometheus::TextSerializer().Serialize(registry->Collect());
    return r;
  };
}

}  // namespace base
