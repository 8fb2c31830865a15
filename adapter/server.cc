// Boost.Beast over Boost.Asio's OpenSSL stream. Why Beast and not civetweb (which prometheus-cpp
// uses): Debian 12's libcivetweb 1.15 loads OpenSSL with dlopen("libssl.so") and looks up
// SSL_get_peer_certificate, which OpenSSL 3 no longer exports, so every HTTPS request
// crashes it (see adapter/README.md). Beast gives us the SSL* (peer certificate and chain),
// ALPN, per-connection contexts for certificate reload and a bounded, well-tested HTTP parser.
#include "adapter/server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"

namespace adapter {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Modification time + size of a file, to notice replacements (Kubernetes secret volumes swap
// a symlink, which stat follows).
std::string FileStamp(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_size, ":", st.st_ino);
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  // Only HTTP/1.1: the aggregator offers h2 too, but we do not speak HTTP/2 (contract 7.2).
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// Accept any client certificate at the TLS layer; the authenticator verifies the chain
// against the right CA pool (client-ca vs. requestheader-client-ca).
int AcceptAnyClientCert(int, X509_STORE_CTX*) { return 1; }

absl::StatusOr<std::shared_ptr<ssl::context>> MakeContext(const std::string& cert_pem,
                                                          const std::string& key_pem,
                                                          const ServerOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS");
  boost::system::error_code ec;
  ctx->use_certificate_chain(net::buffer(cert_pem), ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("serving certificate: ", ec.message()));
  ctx->use_private_key(net::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("serving key: ", ec.message()));
  if (SSL_CTX_check_private_key(native) != 1) {
    return absl::InvalidArgumentError("serving key does not match the certificate");
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, AcceptAnyClientCert);
  static const unsigned char kSessionId[] = "smart-autoscaler-adapter";
  SSL_CTX_set_session_id_context(native, kSessionId, sizeof(kSessionId) - 1);
  if (!options.client_ca_files.empty()) {
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const std::string& f : options.client_ca_files) {
      if (SSL_add_file_cert_subjects_to_stack(names, f.c_str()) != 1) {
        LOG(WARNING) << "cannot read client CA names from " << f << ": " << OpenSslError();
      }
    }
    SSL_CTX_set_client_CA_list(native, names);
  }
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  return ctx;
}

class ServerImpl;

// One TLS connection: handshake, then request/response until close.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ssl::context> ctx, const Handler* handler,
          const ServerOptions* options, std::shared_ptr<std::atomic<int>> open)
      : ctx_(std::move(ctx)),
        stream_(std::move(socket), *ctx_),
        handler_(handler),
        options_(options),
        open_(std::move(open)) {
    ++*open_;
  }
  ~Session() { --*open_; }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Handshake(); });
  }

 private:
  void Handshake() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                VLOG(1) << "TLS handshake failed: " << ec.message();
                                return;
                              }
                              self->CapturePeer();
                              self->Read();
                            });
  }

  void CapturePeer() {
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

  void Read() {
    parser_.emplace();
    parser_->header_limit(options_->header_limit);
    parser_->body_limit(options_->body_limit);
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::milliseconds(absl::ToInt64Milliseconds(options_->idle_timeout)));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::ssl::error::stream_truncated || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset) {
      return Close();
    }
    if (ec) {
      // The request could not be parsed: answer with a Status and close.
      HttpResponse r;
      if (ec == http::error::header_limit) {
        r = Handler::Status(
            431, "RequestHeaderFieldsTooLarge",
            absl::StrCat("request line and headers exceed ", options_->header_limit, " bytes"));
      } else if (ec == http::error::body_limit) {
        r = Handler::Status(413, "RequestEntityTooLarge", "request body too large");
      } else {
        r = Handler::Status(400, "BadRequest",
                            absl::StrCat("malformed HTTP request: ", ec.message()));
      }
      linger_ = true;
      return Write(std::move(r), /*keep_alive=*/false, /*head=*/false, 11);
    }
    const auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req) {
      request.headers.emplace(absl::AsciiStrToLower(std::string(field.name_string())),
                              std::string(field.value()));
    }
    request.peer_cert_der = peer_cert_der_;
    request.peer_chain_der = peer_chain_der_;
    HttpResponse response = handler_->Handle(request);
    Write(std::move(response), req.keep_alive(), req.method() == http::verb::head, req.version());
  }

  void Write(HttpResponse r, bool keep_alive, bool head, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version == 10 ? 10 : 11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-cache, private");
    res->set("X-Content-Type-Options", "nosniff");
    res->keep_alive(keep_alive);
    if (head) {
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    res_ = res;
    http::async_write(stream_, *res,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        self->res_.reset();
                        if (!ec && self->linger_) return self->LingeringClose();
                        if (ec || !keep_alive) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  // After an error answer to a request we did not read in full (e.g. 200 KB of headers),
  // closing at once would reset the connection with unread data and the client could lose
  // the answer. Stop sending, discard what still arrives (raw TCP) for up to 2 s, then close.
  void LingeringClose() {
    beast::error_code ignored;
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest.expires_after(std::chrono::seconds(2));
    Drain();
  }

  void Drain() {
    auto buf = std::make_shared<std::array<char, 16384>>();
    beast::get_lowest_layer(stream_).async_read_some(
        net::buffer(*buf), [self = shared_from_this(), buf](beast::error_code ec, size_t) {
          if (!ec) return self->Drain();
          beast::error_code ignored;
          beast::get_lowest_layer(self->stream_).socket().close(ignored);
        });
  }

  bool linger_ = false;
  std::shared_ptr<std::atomic<int>> open_;  // live sessions, shared with the server
  std::shared_ptr<ssl::context> ctx_;       // keeps the context alive across a certificate reload
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> res_;
  const Handler* handler_;
  const ServerOptions* options_;
  std::string peer_cert_der_;
  std::vector<std::string> peer_chain_der_;
};

class ServerImpl : public Server {
 public:
  ServerImpl(const Handler* handler, ServerOptions options)
      : handler_(handler),
        options_(std::move(options)),
        ioc_(options_.threads),
        acceptor_(net::make_strand(ioc_)),
        reload_timer_(ioc_) {}

  ~ServerImpl() override { Stop(); }

  absl::Status Init() {
    if (absl::Status s = LoadCertificate(/*initial=*/true); !s.ok()) return s;
    boost::system::error_code ec;
    auto address = net::ip::make_address(options_.bind_address, ec);
    if (ec)
      return absl::InvalidArgumentError(absl::StrCat("bad --bind-address ", options_.bind_address));
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.bind_address, ":",
                                                 options_.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    ScheduleReload();
    for (int i = 0; i < std::max(1, options_.threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    LOG(INFO) << "adapter serving HTTPS on " << options_.bind_address << ":" << port_;
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  absl::Status LoadCertificate(bool initial) {
    std::string cert_pem, key_pem;
    if (options_.cert_file.empty() != options_.key_file.empty()) {
      return absl::InvalidArgumentError("--tls-cert-file and --tls-private-key-file go together");
    }
    if (options_.cert_file.empty()) {
      if (!initial) return absl::OkStatus();
      absl::StatusOr<std::pair<std::string, std::string>> pair =
          GenerateSelfSignedCert(options_.self_signed_names);
      if (!pair.ok()) return pair.status();
      cert_pem = pair->first;
      key_pem = pair->second;
      LOG(INFO) << "serving a generated self-signed certificate for "
                << options_.self_signed_names[0];
    } else {
      std::string stamp = FileStamp(options_.cert_file) + "|" + FileStamp(options_.key_file);
      if (!initial && stamp == stamp_) return absl::OkStatus();
      if (!ReadFile(options_.cert_file, &cert_pem) || !ReadFile(options_.key_file, &key_pem)) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot read ", options_.cert_file, " or ", options_.key_file));
      }
      stamp_ = stamp;
    }
    absl::StatusOr<std::shared_ptr<ssl::context>> ctx = MakeContext(cert_pem, key_pem, options_);
    if (!ctx.ok()) return ctx.status();
    absl::MutexLock lock(&mu_);
    ctx_ = *std::move(ctx);
    if (!initial) LOG(INFO) << "reloaded serving certificate from " << options_.cert_file;
    return absl::OkStatus();
  }

  void ScheduleReload() {
    if (options_.cert_file.empty()) return;
    reload_timer_.expires_after(
        std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.reload_interval)));
    reload_timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      if (absl::Status s = LoadCertificate(false); !s.ok()) {
        LOG(ERROR) << "keeping the previous serving certificate: " << s;
        ++reload_failures_;
      }
      ScheduleReload();
    });
  }

  void Accept() {
    acceptor_.async_accept(
        net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == net::error::operation_aborted) return;
            VLOG(1) << "accept: " << ec.message();
          } else {
            if (open_->load() >= options_.max_connections) {
              ++rejected_connections_;
              LOG_EVERY_N(WARNING, 100) << "connection limit " << options_.max_connections
                                        << " reached; closing new connections";
              socket.close(ec);
              return Accept();
            }
            socket.set_option(tcp::no_delay(true), ec);
            std::shared_ptr<ssl::context> ctx;
            {
              absl::MutexLock lock(&mu_);
              ctx = ctx_;
            }
            std::make_shared<Session>(std::move(socket), std::move(ctx), handler_, &options_, open_)
                ->Run();
          }
          Accept();
        });
  }

  const Handler* handler_;
  const ServerOptions options_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer reload_timer_;
  absl::Mutex mu_;
  std::shared_ptr<ssl::context> ctx_ ABSL_GUARDED_BY(mu_);
  std::string stamp_;
  std::atomic<int> reload_failures_{0};
  std::atomic<uint64_t> rejected_connections_{0};
  std::shared_ptr<std::atomic<int>> open_ = std::make_shared<std::atomic<int>>(0);
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Handler* handler,
                                                      ServerOptions options) {
  auto server = std::make_unique<ServerImpl>(handler, std::move(options));
  if (absl::Status s = server->Init(); !s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

absl::StatusOr<std::pair<std::string, std::string>> GenerateSelfSignedCert(
    const std::vector<std::string>& names) {
  if (names.empty()) return absl::InvalidArgumentError("no names for the self-signed certificate");
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return absl::InternalError(absl::StrCat("EC key: ", OpenSslError()));
  X509* cert = X509_new();
  std::string error;
  auto fail = [&](const char* what) {
    error = absl::StrCat(what, ": ", OpenSslError());
    return false;
  };
  auto build = [&]() -> bool {
    X509_set_version(cert, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(names[0].c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    std::string san;
    for (const std::string& n : names) {
      boost::system::error_code ec;
      net::ip::make_address(n, ec);
      absl::StrAppend(&san, san.empty() ? "" : ",", ec ? "DNS:" : "IP:", n);
    }
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
    const std::pair<int, std::string> exts[] = {
        {NID_subject_alt_name, san},
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
        {NID_ext_key_usage, "serverAuth"},
    };
    for (const auto& [nid, value] : exts) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
      if (ext == nullptr) return fail("certificate extension");
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    if (X509_sign(cert, key, EVP_sha256()) == 0) return fail("sign");
    return true;
  };
  std::pair<std::string, std::string> out;
  if (build()) {
    BIO* cb = BIO_new(BIO_s_mem());
    BIO* kb = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cb, cert);
    PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data;
    long len = BIO_get_mem_data(cb, &data);
    out.first.assign(data, len);
    len = BIO_get_mem_data(kb, &data);
    out.second.assign(data, len);
    BIO_free(cb);
    BIO_free(kb);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!error.empty()) return absl::InternalError(error);
  return out;
}

}  // namespace adapter
