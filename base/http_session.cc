// One connection of base::HttpServer, plain or TLS, on its own strand: wait for the first bytes
// (nothing but the socket is held until then), (TLS handshake,) read the header, check its
// framing, answer "100-continue" if asked, read the body, run the handler, write, repeat. Why
// Beast: it hands us the SSL* (peer certificate and chain), lets us install our own ALPN callback
// and per-connection contexts for certificate reload, and has a bounded, fuzzed HTTP parser (see
// adapter/README.md for the alternatives).
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/http_framing.h"
#include "base/http_server_state.h"
#include "base/url.h"
#include "glog/logging.h"

namespace base {
namespace internal {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);
constexpr size_t kKeptBufferBytes = 4096;  // larger read buffers are freed between requests

std::chrono::milliseconds Millis(absl::Duration d) {
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

absl::string_view View(beast::string_view s) { return absl::string_view(s.data(), s.size()); }

template <bool kTls>
class Session : public SessionBase {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  Session(tcp::socket socket, ServerState* state, std::shared_ptr<ssl::context> ctx,
          std::string client, ConnectionLimiter::Slot slot)
      : SessionBase(state, std::move(client), slot),
        ctx_(std::move(ctx)),
        executor_(socket.get_executor()),
        socket_(std::move(socket)),
        wait_timer_(executor_),
        deadline_(Clock::now() + Millis(slot == ConnectionLimiter::Slot::kReserve
                                            ? std::min(state->options.first_request_timeout,
                                                       state->options.probe_timeout)
                                            : state->options.first_request_timeout)) {}

  void Run() {
    state_->Register(this, weak_from_this());
    net::dispatch(executor_, [self = Self()] { self->WaitForData(); });
  }

  void OnStop() override {
    if (!stream_) {
      wait_timer_.cancel();
      return ForceClose();
    }
    if (!busy_) Close();
  }
  void ForceClose() override {
    beast::error_code ignored;
    tcp::socket& s = stream_ ? Lowest().socket() : socket_;
    s.shutdown(tcp::socket::shutdown_both, ignored);
    s.close(ignored);
  }
  net::any_io_executor GetExecutor() override { return executor_; }

 private:
  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(*stream_); }

  void TimedOut() {
    ++state_->first_timeouts;
    if (state_->connection_metrics.timed_out) state_->connection_metrics.timed_out->Increment();
  }

  // Holds only the socket until the client sends something (or the first deadline passes).
  void WaitForData() {
    if (state_->stopping) return ForceClose();
    wait_timer_.expires_at(deadline_);
    wait_timer_.async_wait([self = Self()](beast::error_code ec) {
      if (ec) return;  // cancelled: data arrived or the server stops
      self->TimedOut();
      self->ForceClose();
    });
    socket_.async_wait(tcp::socket::wait_read, [self = Self()](beast::error_code ec) {
      self->wait_timer_.cancel();
      if (ec || !self->socket_.is_open() || self->state_->stopping) return self->ForceClose();
      if constexpr (kTls) {
        self->stream_.emplace(std::move(self->socket_), *self->ctx_);
        self->Handshake();
      } else {
        self->stream_.emplace(std::move(self->socket_));
        self->ReadHeader();
      }
    });
  }

  void Handshake() {
    if constexpr (kTls) {
      Lowest().expires_at(
          std::min(deadline_, Clock::now() + Millis(state_->options.tls->handshake_timeout)));
      stream_->async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (ec) {
          ++self->state_->handshake_failures;
          if (ec == beast::error::timeout) self->TimedOut();
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
      SSL* ssl = stream_->native_handle();
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

  // A trusted connection waits idle_timeout; one not yet trusted keeps its short deadline.
  Clock::time_point ReadDeadline() const {
    return trusted_ ? Clock::now() + Millis(state_->options.idle_timeout) : deadline_;
  }

  void ReadHeader() {
    if (state_->stopping) return Close();
    parser_.emplace();
    parser_->header_limit(state_->options.max_header_bytes);
    parser_->body_limit(state_->options.max_body_bytes);
    Lowest().expires_at(ReadDeadline());
    http::async_read_header(*stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    start_ = Clock::now();
    if (ec) return OnReadError(ec);
    busy_ = true;
    const auto& req = parser_->get();
    std::vector<absl::string_view> transfer_encodings;
    int hosts = 0;
    for (const auto& field : req) {
      if (field.name() == http::field::transfer_encoding) {
        transfer_encodings.push_back(View(field.value()));
      } else if (field.name() == http::field::host) {
        ++hosts;
      }
    }
    std::string why;
    const int status = CheckFraming(transfer_encodings, hosts,
                                    req.find(http::field::content_length) != req.end(),
                                    req.version(), &why);
    if (status != 0) {
      VLOG(1) << "refused request framing (" << status << "): " << why;
      return Fail(status, why);
    }
    if (req.version() >= 11 &&
        absl::EqualsIgnoreCase(View(req[http::field::expect]), "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(*stream_, *cont, [self = Self(), cont](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    Lowest().expires_at(ReadDeadline());
    http::async_read(*stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->OnRequest();
    });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == beast::error::timeout && !trusted_) TimedOut();
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == http::error::partial_message || ec == net::error::bad_descriptor ||
        ec == ssl::error::stream_truncated) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Fail(413,
                  absl::StrCat("request body larger than ", state_->options.max_body_bytes, " bytes"));
    }
    if (ec == http::error::header_limit) {
      return Fail(431, absl::StrCat("request line and headers exceed ",
                                    state_->options.max_header_bytes, " bytes"));
    }
    VLOG(1) << "malformed HTTP request: " << ec.message();
    Fail(400, absl::StrCat("malformed HTTP request: ", ec.message()));
  }

  // Answers a request that cannot be read or framed, then closes the connection.
  void Fail(int status, const std::string& message) {
    busy_ = true;
    Write(state_->ErrorResponse(status, message), /*keep_alive=*/false, /*head=*/false, 11,
          state_->routes.invalid(), MethodIndex("OTHER"), /*linger=*/true);
  }

  void OnRequest() {
    auto& req = parser_->get();
    HttpRequest request;
    const bool head = req.method() == http::verb::head;
    const absl::string_view method = View(req.method_string());
    request.method = head && state_->options.head_as_get ? "GET" : std::string(method);
    request.target.assign(req.target().data(), req.target().size());
    const RouteMetrics* metrics = nullptr;
    HttpResponse response;
    bool keep_alive = req.keep_alive();
    if (slot_ == ConnectionLimiter::Slot::kReserve) {
      // Past the connection limit: health probes only, one request each.
      keep_alive = false;
      if (!state_->IsProbe(request.target)) {
        metrics = state_->routes.unmatched();
        response = state_->ErrorResponse(503, "connection limit reached; try again later");
        return Write(std::move(response), false, head, req.version(), metrics,
                     MethodIndex(method), /*linger=*/false);
      }
    }
    // A server with only a default handler leaves decoding to it (the adapter's router).
    const bool decoded = !state_->routes.has_paths() || DecodeTarget(request.target, &request);
    for (const auto& field : req) {
      request.headers.emplace(absl::AsciiStrToLower(View(field.name_string())),
                              std::string(View(field.value())));
    }
    request.body = std::move(req.body());
    if constexpr (kTls) {
      request.peer_cert_der = peer_cert_der_;
      request.peer_chain_der = peer_chain_der_;
    }
    response = state_->Dispatch(request, decoded, &metrics);
    if (response.status < 400 && response.trusts_connection) trusted_ = true;
    Write(std::move(response), keep_alive, head, req.version(), metrics, MethodIndex(method),
          /*linger=*/false);
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
    http::async_write(*stream_, *res,
                      [self = Self(), res, keep_alive, linger, status, metrics, method](
                          beast::error_code ec, size_t) {
                        if (metrics != nullptr) {
                          metrics->Record(method, status, Clock::now() - self->start_);
                        }
                        self->AfterWrite(ec, keep_alive, linger);
                      });
  }

  void AfterWrite(beast::error_code ec, bool keep_alive, bool linger) {
    busy_ = false;
    parser_.reset();  // the request's fields and body
    if (buffer_.size() == 0 && buffer_.capacity() > kKeptBufferBytes) buffer_.shrink_to_fit();
    if (!ec && linger) return LingeringClose();
    if (ec || !keep_alive || state_->stopping) return Close();
    if (!trusted_) deadline_ = Clock::now() + Millis(state_->options.first_request_timeout);
    ReadHeader();
  }

  void Close() {
    if (!stream_) return ForceClose();
    if constexpr (kTls) {
      Lowest().expires_after(kTlsShutdownTimeout);
      stream_->async_shutdown([self = Self()](beast::error_code) { self->ForceClose(); });
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
  net::any_io_executor executor_;      // the connection's strand
  tcp::socket socket_;                 // until the first bytes arrive; then in stream_
  net::steady_timer wait_timer_;
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool busy_ = false;
  bool trusted_ = false;
  Clock::time_point deadline_;  // of the first request, then of each while not trusted
  Clock::time_point start_;
  std::string peer_cert_der_;
  std::vector<std::string> peer_chain_der_;
};

}  // namespace

void StartSession(tcp::socket socket, ServerState* state, std::string client,
                  ConnectionLimiter::Slot slot) {
  if (state->tls != nullptr) {
    std::make_shared<Session<true>>(std::move(socket), state, state->tls->Current(),
                                    std::move(client), slot)
        ->Run();
  } else {
    std::make_shared<Session<false>>(std::move(socket), state, nullptr, std::move(client), slot)
        ->Run();
  }
}

}  // namespace internal
}  // namespace base
