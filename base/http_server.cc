// Boost.Beast over plain TCP or Boost.Asio's OpenSSL stream. Each connection is a Session on its
// own strand: (TLS handshake,) read the header, answer "100-continue" if asked, read the body,
// run the handler, write, repeat. Stop() closes the acceptor, closes idle connections at once and
// lets busy ones finish their response. Why Beast: it hands us the SSL* (peer certificate and
// chain), lets us install our own ALPN callback and per-connection contexts for certificate
// reload, and has a bounded, fuzzed HTTP parser (see adapter/README.md for the alternatives).
#include "base/http_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <exception>
#include <thread>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "base/http_routes.h"
#include "base/tls_context.h"
#include "base/url.h"
#include "glog/logging.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace base {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using internal::DecodeTarget;
using internal::ParseAddress;
using internal::RouteMetrics;
using internal::Routes;

constexpr absl::Duration kStopGrace = absl::Milliseconds(900);
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);

std::chrono::milliseconds Millis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

HttpResponse TextResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class SessionBase;

// Everything the sessions share; HttpServer::Impl is this under the name the header declares.
class ServerState {
 public:
  explicit ServerState(HttpServerOptions o)
      : options(std::move(o)), routes(options.metrics), ioc(std::max(1, options.threads)) {}

  HttpResponse ErrorResponse(int status, const std::string& message) const {
    if (options.error_response) return options.error_response(status, message);
    return TextResponse(status, message + "\n");
  }

  // Runs the handler for `request`; *metrics receives where the request is counted.
  HttpResponse Dispatch(const HttpRequest& request, bool decoded, const RouteMetrics** metrics) {
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

  void Register(SessionBase* s, std::weak_ptr<SessionBase> w) {
    absl::MutexLock lock(&mu);
    sessions.emplace(s, std::move(w));
  }
  void Unregister(SessionBase* s) {
    absl::MutexLock lock(&mu);
    sessions.erase(s);
  }
  std::vector<std::shared_ptr<SessionBase>> LiveSessions() {
    std::vector<std::shared_ptr<SessionBase>> out;
    absl::MutexLock lock(&mu);
    for (const auto& [raw, weak] : sessions) {
      if (std::shared_ptr<SessionBase> s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  void Accept();
  void ScheduleReload();

  const HttpServerOptions options;
  Routes routes;
  std::unique_ptr<internal::TlsContextSource> tls;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::atomic<int> open{0};  // live sessions
  std::atomic<uint64_t> rejected{0}, handshake_failures{0}, reload_failures{0};
  int port = 0;
  absl::Mutex mu;
  std::map<SessionBase*, std::weak_ptr<SessionBase>> sessions ABSL_GUARDED_BY(mu);
  // Declared after everything a Session touches: destroying the io_context destroys the
  // sessions still queued in it, and they unregister themselves under `mu`.
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> retry_timer, reload_timer;
  std::vector<std::thread> threads;
};

// What Stop() needs of a session, whatever its stream.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  explicit SessionBase(ServerState* state) : state_(state) { ++state_->open; }
  virtual ~SessionBase() {
    --state_->open;
    state_->Unregister(this);
  }
  // On the session's strand when the server stops: an idle connection is closed now, a busy
  // one after its response.
  virtual void OnStop() = 0;
  // From Stop() once no I/O thread runs.
  virtual void ForceClose() = 0;
  virtual net::any_io_executor GetExecutor() = 0;

 protected:
  ServerState* state_;
};

template <bool kTls>
class Session : public SessionBase {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  Session(tcp::socket socket, ServerState* state, std::shared_ptr<ssl::context> ctx)
      : SessionBase(state), ctx_(std::move(ctx)), stream_(MakeStream(std::move(socket))) {}

  void Run() {
    state_->Register(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = Self()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadHeader();
      }
    });
  }

  void OnStop() override {
    if (!busy_) Close();
  }
  void ForceClose() override {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().socket().close(ignored);
  }
  net::any_io_executor GetExecutor() override { return stream_.get_executor(); }

 private:
  Stream MakeStream(tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *ctx_);
    } else {
      return Stream(std::move(socket));
    }
  }
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Handshake() {
    if constexpr (kTls) {
      Lowest().expires_after(Millis(state_->options.tls->handshake_timeout));
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (ec) {
          ++self->state_->handshake_failures;
          VLOG(1) << "TLS handshake failed: " << ec.message();
          return;
        }
        self->CapturePeer();
        self->ReadHeader();
      });
    }
  }

  void CapturePeer() {
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      if (X509* cert = SSL_get0_peer_certificate(ssl)) {
        unsigned char* der = nullptr;
        int len = i2d_X509(cert, &der);
        if (len > 0) peer_cert_der_.assign(reinterpret_cast<char*>(der), len);
        OPENSSL_free(der);
      }
      // On the server side the chain excludes the leaf: these are the intermediates.
      if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
        for (int i = 0; i < sk_X509_num(chain); ++i) {
          unsigned char* der = nullptr;
          int len = i2d_X509(sk_X509_value(chain, i), &der);
          if (len > 0) peer_chain_der_.emplace_back(reinterpret_cast<char*>(der), len);
          OPENSSL_free(der);
        }
      }
    }
  }

  void ReadHeader() {
    if (state_->stopping) return Close();
    parser_.emplace();
    parser_->header_limit(state_->options.max_header_bytes);
    parser_->body_limit(state_->options.max_body_bytes);
    Lowest().expires_after(Millis(state_->options.idle_timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    start_ = std::chrono::steady_clock::now();
    if (ec) return OnReadError(ec);
    busy_ = true;
    const auto& req = parser_->get();
    const auto expect = req[http::field::expect];
    if (req.version() >= 11 &&
        absl::EqualsIgnoreCase(absl::string_view(expect.data(), expect.size()), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *cont, [self = Self(), cont](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    Lowest().expires_after(Millis(state_->options.idle_timeout));
    http::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->OnRequest();
    });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == http::error::partial_message || ec == net::error::bad_descriptor ||
        ec == ssl::error::stream_truncated) {
      return Close();
    }
    busy_ = true;
    HttpResponse r;
    if (ec == http::error::body_limit) {
      r = state_->ErrorResponse(
          413, absl::StrCat("request body larger than ", state_->options.max_body_bytes, " bytes"));
    } else if (ec == http::error::header_limit) {
      r = state_->ErrorResponse(431, absl::StrCat("request line and headers exceed ",
                                                  state_->options.max_header_bytes, " bytes"));
    } else {
      VLOG(1) << "malformed HTTP request: " << ec.message();
      r = state_->ErrorResponse(400, absl::StrCat("malformed HTTP request: ", ec.message()));
    }
    Write(std::move(r), /*keep_alive=*/false, /*head=*/false, 11, state_->routes.invalid(),
          internal::MethodIndex("OTHER"), /*linger=*/true);
  }

  void OnRequest() {
    auto& req = parser_->get();
    HttpRequest request;
    const bool head = req.method() == http::verb::head;
    const absl::string_view method(req.method_string().data(), req.method_string().size());
    request.method = head && state_->options.head_as_get ? "GET" : std::string(method);
    request.target.assign(req.target().data(), req.target().size());
    // A server with only a default handler leaves decoding to it (the adapter's router).
    const bool decoded =
        !state_->routes.has_paths() || DecodeTarget(request.target, &request);
    for (const auto& field : req) {
      request.headers.emplace(absl::AsciiStrToLower(absl::string_view(field.name_string().data(),
                                                                      field.name_string().size())),
                              std::string(field.value().data(), field.value().size()));
    }
    request.body = std::move(req.body());
    if constexpr (kTls) {
      request.peer_cert_der = peer_cert_der_;
      request.peer_chain_der = peer_chain_der_;
    }
    const RouteMetrics* metrics = nullptr;
    HttpResponse response = state_->Dispatch(request, decoded, &metrics);
    Write(std::move(response), req.keep_alive(), head, req.version(), metrics,
          internal::MethodIndex(method), /*linger=*/false);
  }

  void Write(HttpResponse r, bool keep_alive, bool head, unsigned version,
             const RouteMetrics* metrics, size_t method, bool linger) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version == 10 ? 10 : 11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : state_->options.response_headers) res->insert(name, value);
    for (const auto& [name, value] : r.headers) {
      // The server owns framing.
      if (absl::EqualsIgnoreCase(name, "content-length") ||
          absl::EqualsIgnoreCase(name, "transfer-encoding") ||
          absl::EqualsIgnoreCase(name, "connection")) {
        continue;
      }
      res->insert(name, value);
    }
    keep_alive = keep_alive && !state_->stopping;
    res->keep_alive(keep_alive);
    const bool bodiless = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
    if (head) {
      if (!bodiless) res->content_length(r.body.size());
    } else if (!bodiless) {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    const int status = r.status;
    http::async_write(stream_, *res,
                      [self = Self(), res, keep_alive, linger, status, metrics, method](
                          beast::error_code ec, size_t) {
                        if (metrics != nullptr) {
                          metrics->Record(method, status,
                                          std::chrono::steady_clock::now() - self->start_);
                        }
                        self->busy_ = false;
                        if (!ec && linger) return self->LingeringClose();
                        if (ec || !keep_alive || self->state_->stopping) return self->Close();
                        self->ReadHeader();
                      });
  }

  void Close() {
    if constexpr (kTls) {
      Lowest().expires_after(kTlsShutdownTimeout);
      stream_.async_shutdown([self = Self()](beast::error_code) { self->ForceClose(); });
    } else {
      ForceClose();
    }
  }

  // After an error answer to a request we did not read in full, closing at once could reset
  // the connection before the client read the answer: stop sending, discard input (raw TCP)
  // for up to `linger`, then close.
  void LingeringClose() {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(Millis(state_->options.linger));
    Drain();
  }

  void Drain() {
    if (state_->stopping) return ForceClose();
    auto buf = std::make_shared<std::array<char, 16384>>();
    Lowest().async_read_some(net::buffer(*buf), [self = Self(), buf](beast::error_code ec, size_t) {
      if (!ec) return self->Drain();
      self->ForceClose();
    });
  }

  std::shared_ptr<ssl::context> ctx_;  // TLS: kept alive across a certificate reload
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool busy_ = false;
  std::chrono::steady_clock::time_point start_;
  std::string peer_cert_der_;
  std::vector<std::string> peer_chain_der_;
};

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
    if (options.max_connections > 0 && open.load() >= options.max_connections) {
      ++rejected;
      LOG_EVERY_N(WARNING, 100) << "connection limit " << options.max_connections
                                << " reached; closing new connections";
      socket.close(ec);
      return Accept();
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (tls != nullptr) {
      std::make_shared<Session<true>>(std::move(socket), this, tls->Current())->Run();
    } else {
      std::make_shared<Session<false>>(std::move(socket), this, nullptr)->Run();
    }
    Accept();
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

}  // namespace

class HttpServer::Impl : public ServerState {
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
  absl::Status status = ParseAddress(address, &host, &port);
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
  if (status.ok()) status = Listen(address, port, candidates, impl);
  if (!status.ok()) {
    impl->started = false;
    return status;
  }
  impl->retry_timer.emplace(impl->acceptor->get_executor());
  impl->reload_timer.emplace(impl->ioc);
  impl->Accept();
  impl->ScheduleReload();
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
        kStopGrace);
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
