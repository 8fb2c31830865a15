// Boost.Beast over plain TCP. Each connection is a Session on its own strand: read the header,
// answer "100-continue" if asked, read the body, run the handler, write, repeat. Stop() closes
// the acceptor, closes idle connections at once and lets busy ones finish their response.
#include "base/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "base/url.h"
#include "glog/logging.h"

namespace base {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

constexpr size_t kHeaderLimit = 64 * 1024;
constexpr absl::Duration kStopGrace = absl::Milliseconds(900);
constexpr char kUnmatched[] = "unmatched";
constexpr char kInvalid[] = "invalid";

std::string MethodLabel(absl::string_view method) {
  static const char* const kKnown[] = {"GET",    "HEAD",    "POST",  "PUT",
                                       "DELETE", "OPTIONS", "PATCH", "CONNECT"};
  for (const char* m : kKnown) {
    if (method == m) return m;
  }
  return "OTHER";
}

HttpResponse TextResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Host and port from "host:port", ":port" or "[v6]:port".
absl::Status ParseAddress(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address '", address, "' has no :port"));
  }
  absl::string_view h = absl::string_view(address).substr(0, colon);
  absl::string_view p = absl::string_view(address).substr(colon + 1);
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(p, port) || *port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("address '", address, "' has a bad port"));
  }
  if (!h.empty() && h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') {
      return absl::InvalidArgumentError(absl::StrCat("address '", address, "': bad [IPv6]"));
    }
    h = h.substr(1, h.size() - 2);
    if (h.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("address '", address, "': bad [IPv6]"));
    }
  } else if (h.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "': write IPv6 addresses as [addr]:port"));
  }
  *host = std::string(h == "localhost" ? "127.0.0.1" : h);
  return absl::OkStatus();
}

class Session;

// Everything the sessions share; HttpServer::Impl is this under the name the header declares.
class ServerState {
 public:
  explicit ServerState(HttpServerOptions o)
      : options(std::move(o)), ioc(std::max(1, options.threads)) {}

  // Finds the handler for a decoded path; sets *pattern to the registered path or prefix.
  const HttpHandler* Find(const std::string& path, std::string* pattern) const {
    auto it = exact.find(path);
    if (it != exact.end()) {
      *pattern = it->first;
      return &it->second;
    }
    const HttpHandler* best = nullptr;
    size_t best_len = 0;
    for (const auto& [prefix, handler] : prefixes) {
      if ((best == nullptr || prefix.size() > best_len) && absl::StartsWith(path, prefix)) {
        best = &handler;
        best_len = prefix.size();
        *pattern = prefix;
      }
    }
    return best;
  }

  void Record(const std::string& pattern, const std::string& method, int code,
              absl::Duration elapsed) {
    metrics::Registry& r = metrics::DefaultRegistry();
    r.GetCounter(
         "http_server_requests_total", "HTTP requests answered by base::HttpServer.",
         {{"handler", pattern}, {"method", MethodLabel(method)}, {"code", absl::StrCat(code)}})
        ->Increment();
    r.GetHistogram("http_server_request_duration_seconds",
                   "Time from a request's headers to the end of its response, in seconds.",
                   metrics::LatencyBuckets(), {{"handler", pattern}})
        ->Observe(absl::ToDoubleSeconds(elapsed));
  }

  void Register(Session* s, std::weak_ptr<Session> w) {
    absl::MutexLock lock(&mu);
    sessions.emplace(s, std::move(w));
  }
  void Unregister(Session* s) {
    absl::MutexLock lock(&mu);
    sessions.erase(s);
  }

  void Accept();

  const HttpServerOptions options;
  std::map<std::string, HttpHandler> exact;
  std::map<std::string, HttpHandler> prefixes;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  int port = 0;
  absl::Mutex mu;
  std::map<Session*, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);
  // Declared after everything a Session touches: destroying the io_context destroys the
  // sessions still queued in it, and they unregister themselves under `mu`.
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> retry_timer;
  std::vector<std::thread> threads;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerState* impl) : stream_(std::move(socket)), impl_(impl) {}
  ~Session() { impl_->Unregister(this); }

  void Run() {
    impl_->Register(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Called on the session's strand when the server stops: an idle connection is closed now, a
  // busy one after its response.
  void OnStop() {
    if (!busy_) Close();
  }

  net::any_io_executor GetExecutor() { return stream_.get_executor(); }

  // On the session's strand, or from Stop() once no I/O thread runs.
  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void ReadHeader() {
    if (impl_->stopping) return Close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(impl_->options.max_body_bytes);
    stream_.expires_after(
        std::chrono::milliseconds(absl::ToInt64Milliseconds(impl_->options.idle_timeout)));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    start_ = absl::Now();
    if (ec) return OnReadError(ec);
    busy_ = true;
    const auto& req = parser_->get();
    if (req.version() >= 11 &&
        absl::EqualsIgnoreCase(
            absl::string_view(req[http::field::expect].data(), req[http::field::expect].size()),
            "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *cont,
                        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    stream_.expires_after(
        std::chrono::milliseconds(absl::ToInt64Milliseconds(impl_->options.idle_timeout)));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->OnRequest();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == http::error::partial_message || ec == net::error::bad_descriptor) {
      return Close();
    }
    busy_ = true;
    HttpResponse r;
    if (ec == http::error::body_limit) {
      r = TextResponse(413, absl::StrCat("request body larger than ", impl_->options.max_body_bytes,
                                         " bytes\n"));
    } else if (ec == http::error::header_limit) {
      r = TextResponse(431, "request line and headers too large\n");
    } else {
      VLOG(1) << "malformed HTTP request: " << ec.message();
      r = TextResponse(400, absl::StrCat("malformed HTTP request: ", ec.message(), "\n"));
    }
    Write(std::move(r), /*keep_alive=*/false, /*head=*/false, 11, kInvalid, "OTHER",
          /*linger=*/true);
  }

  void OnRequest() {
    auto& req = parser_->get();
    HttpRequest request;
    const bool head = req.method() == http::verb::head;
    request.method = head ? "GET" : std::string(req.method_string());
    const std::string method_label = std::string(req.method_string());
    const absl::string_view target(req.target().data(), req.target().size());
    const size_t q = target.find('?');
    const absl::string_view raw_path = target.substr(0, q);
    bool ok = !raw_path.empty() && raw_path[0] == '/' &&
              base::PercentDecode(raw_path, false, &request.path);
    if (ok && q != absl::string_view::npos) {
      absl::string_view raw_query = target.substr(q + 1);
      raw_query = raw_query.substr(0, raw_query.find('#'));
      for (absl::string_view pair : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
        const size_t eq = pair.find('=');
        std::string key, value;
        if (!base::PercentDecode(pair.substr(0, eq), true, &key) ||
            (eq != absl::string_view::npos &&
             !base::PercentDecode(pair.substr(eq + 1), true, &value))) {
          ok = false;
          break;
        }
        request.query[std::move(key)] = std::move(value);
      }
    }
    if (!ok) {
      return Write(TextResponse(400, "malformed request target\n"), false, head, req.version(),
                   kInvalid, method_label, /*linger=*/true);
    }
    for (const auto& field : req) {
      std::string name = absl::AsciiStrToLower(
          absl::string_view(field.name_string().data(), field.name_string().size()));
      const absl::string_view value(field.value().data(), field.value().size());
      auto [it, inserted] = request.headers.emplace(std::move(name), std::string(value));
      if (!inserted) absl::StrAppend(&it->second, ", ", value);  // RFC 9110 5.3
    }
    request.body = std::move(req.body());

    std::string pattern = kUnmatched;
    const HttpHandler* handler = impl_->Find(request.path, &pattern);
    HttpResponse response;
    if (handler == nullptr) {
      response = TextResponse(404, "404 page not found\n");
    } else {
      try {
        response = (*handler)(request);
      } catch (const std::exception& e) {
        LOG(ERROR) << "handler for " << pattern << " threw: " << e.what();
        response = TextResponse(500, "internal error\n");
      } catch (...) {
        LOG(ERROR) << "handler for " << pattern << " threw";
        response = TextResponse(500, "internal error\n");
      }
    }
    Write(std::move(response), req.keep_alive(), head, req.version(), pattern, method_label,
          /*linger=*/false);
  }

  void Write(HttpResponse r, bool keep_alive, bool head, unsigned version, std::string pattern,
             std::string method, bool linger) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version == 10 ? 10 : 11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) {
      // The server owns framing.
      if (absl::EqualsIgnoreCase(name, "content-length") ||
          absl::EqualsIgnoreCase(name, "transfer-encoding") ||
          absl::EqualsIgnoreCase(name, "connection")) {
        continue;
      }
      res->insert(name, value);
    }
    keep_alive = keep_alive && !impl_->stopping;
    res->keep_alive(keep_alive);
    const bool bodiless = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
    if (head) {
      if (!bodiless) res->content_length(r.body.size());
    } else if (!bodiless) {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    const int status = r.status;
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive, linger, status, pattern = std::move(pattern),
         method = std::move(method)](beast::error_code ec, size_t) {
          self->impl_->Record(pattern, method, status, absl::Now() - self->start_);
          self->busy_ = false;
          if (!ec && linger) return self->LingeringClose();
          if (ec || !keep_alive || self->impl_->stopping) return self->Close();
          self->ReadHeader();
        });
  }

  // After an error answer to a request we did not read in full, closing at once could reset
  // the connection before the client read the answer: stop sending, discard input for up to
  // 1 s, then close.
  void LingeringClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    Drain();
  }

  void Drain() {
    if (impl_->stopping) return Close();
    auto buf = std::make_shared<std::array<char, 8192>>();
    stream_.async_read_some(net::buffer(*buf),
                            [self = shared_from_this(), buf](beast::error_code ec, size_t) {
                              if (!ec) return self->Drain();
                              self->Close();
                            });
  }

  beast::tcp_stream stream_;
  ServerState* impl_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool busy_ = false;
  absl::Time start_;
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
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), this)->Run();
    Accept();
  });
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
  impl_->exact[std::move(path)] = std::move(handler);
}

void HttpServer::HandlePrefix(std::string prefix, HttpHandler handler) {
  CHECK(!impl_->started) << "HttpServer::HandlePrefix after Start";
  impl_->prefixes[std::move(prefix)] = std::move(handler);
}

absl::Status HttpServer::Start(const std::string& address) {
  if (impl_->started.exchange(true)) return absl::FailedPreconditionError("already started");
  std::string host;
  int port = 0;
  if (absl::Status s = ParseAddress(address, &host, &port); !s.ok()) {
    impl_->started = false;
    return s;
  }
  beast::error_code ec;
  std::vector<net::ip::address> candidates;
  if (host.empty()) {
    // All interfaces: dual-stack IPv6 when the machine has it, else IPv4.
    candidates = {net::ip::address_v6::any(), net::ip::address_v4::any()};
  } else {
    net::ip::address a = net::ip::make_address(host, ec);
    if (ec) {
      impl_->started = false;
      return absl::InvalidArgumentError(
          absl::StrCat("address '", address, "': '", host, "' is not an IP address"));
    }
    candidates = {a};
  }
  std::string error;
  for (const net::ip::address& a : candidates) {
    tcp::endpoint endpoint(a, static_cast<unsigned short>(port));
    tcp::acceptor acceptor(net::make_strand(impl_->ioc));
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec && a.is_v6() && a.is_unspecified()) acceptor.set_option(net::ip::v6_only(false), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = absl::StrCat("cannot listen on ", address, ": ", ec.message());
      continue;
    }
    impl_->port = acceptor.local_endpoint().port();
    impl_->acceptor.emplace(std::move(acceptor));
    break;
  }
  if (!impl_->acceptor) {
    impl_->stopped = true;  // nothing to stop
    return absl::UnavailableError(error);
  }
  impl_->retry_timer.emplace(impl_->acceptor->get_executor());
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->ioc.run(); });
  }
  LOG(INFO) << "HTTP server listening on " << address << " (port " << impl_->port << ")";
  return absl::OkStatus();
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  Impl* impl = impl_.get();
  if (!impl->started || impl->stopped.exchange(true)) return;
  impl->stopping = true;
  net::post(impl->acceptor->get_executor(), [impl] {
    beast::error_code ignored;
    impl->acceptor->close(ignored);
    impl->retry_timer->cancel();
  });
  // Sessions are collected under the lock but released outside it: the last reference runs
  // ~Session, which takes the lock.
  auto live = [impl] {
    std::vector<std::shared_ptr<Session>> out;
    absl::MutexLock lock(&impl->mu);
    for (const auto& [raw, weak] : impl->sessions) {
      if (std::shared_ptr<Session> s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  };
  for (std::shared_ptr<Session>& s : live()) {
    net::post(s->GetExecutor(), [s] { s->OnStop(); });
  }
  {
    absl::MutexLock lock(&impl->mu);
    impl->mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::map<Session*, std::weak_ptr<Session>>* m) { return m->empty(); },
            &impl->sessions),
        kStopGrace);
  }
  impl->ioc.stop();
  for (std::thread& t : impl->threads) t.join();
  impl->threads.clear();
  // Requests still running after the grace period lose their connection now.
  for (std::shared_ptr<Session>& s : live()) s->Close();
  LOG(INFO) << "HTTP server on port " << impl->port << " stopped";
}

HttpHandler MetricsHandler(const metrics::Registry* registry) {
  return [registry](const HttpRequest& request) {
    HttpResponse r;
    if (request.method != "GET") {
      r.status = 405;
      r.body = "method not allowed\n";
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = registry->ExpositionText();
    return r;
  };
}

}  // namespace base
