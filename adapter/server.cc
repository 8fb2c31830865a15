// The adapter's HTTPS listener: base::HttpServer with TLS, every request to the Handler, parse
// errors as metav1.Status bodies, and the headers kube-apiserver sends on every response.
#include "adapter/server.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/openssl_error.h"
#include "base/http_server.h"
#include "glog/logging.h"

namespace adapter {
namespace {

using base::OpenSslError;

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool IsHealthTarget(const std::string& target) {
  const std::string path = target.substr(0, target.find_first_of("?#"));
  return path == "/healthz" || path == "/livez" || path == "/readyz" ||
         absl::StartsWith(path, "/healthz/") || absl::StartsWith(path, "/livez/") ||
         absl::StartsWith(path, "/readyz/");
}

HttpResponse ReadError(int status, const std::string& message) {
  switch (status) {
    case 413:
      return Handler::Status(413, "RequestEntityTooLarge", message);
    case 431:
      return Handler::Status(431, "RequestHeaderFieldsTooLarge", message);
    case 501:
      return Handler::Status(501, "NotImplemented", message);
    case 503:
      return Handler::Status(503, "ServiceUnavailable", message);
    default:
      return Handler::Status(status, "BadRequest", message);
  }
}

class ServerImpl : public Server {
 public:
  explicit ServerImpl(base::HttpServerOptions options) : http_(std::move(options)) {}
  ~ServerImpl() override { Stop(); }

  absl::Status Init(const Handler* handler, const ServerOptions& options) {
    http_.SetDefault([handler](const HttpRequest& r) {
      HttpResponse response = handler->Handle(r);
      // Health probes are answered without credentials: they do not earn the long keep-alive.
      response.trusts_connection = !IsHealthTarget(r.target);
      return response;
    });
    const std::string& host = options.bind_address;
    const std::string address = host.find(':') != std::string::npos
                                    ? absl::StrCat("[", host, "]:", options.port)
                                    : absl::StrCat(host, ":", options.port);
    if (absl::Status s = http_.Start(address); !s.ok()) return s;
    LOG(INFO) << "adapter serving HTTPS on " << host << ":" << http_.port();
    return absl::OkStatus();
  }

  int port() const override { return http_.port(); }
  void Stop() override { http_.Stop(); }

 private:
  base::HttpServer http_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const Handler* handler,
                                                      ServerOptions options) {
  base::TlsServerOptions tls;
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert-file and --tls-private-key-file go together");
  }
  if (options.cert_file.empty()) {
    absl::StatusOr<std::pair<std::string, std::string>> pair =
        GenerateSelfSignedCert(options.self_signed_names);
    if (!pair.ok()) return pair.status();
    tls.cert_pem = pair->first;
    tls.key_pem = pair->second;
    LOG(INFO) << "serving a generated self-signed certificate for " << options.self_signed_names[0];
  }
  tls.cert_file = options.cert_file;
  tls.key_file = options.key_file;
  tls.reload_interval = options.reload_interval;
  tls.client_ca_files = options.client_ca_files;
  tls.handshake_timeout = options.first_request_timeout;

  base::HttpServerOptions http;
  http.threads = options.threads;
  http.idle_timeout = options.idle_timeout;
  http.max_header_bytes = options.header_limit;
  http.max_body_bytes = options.body_limit;
  http.max_connections = options.max_connections;
  http.probe_reserve = options.probe_reserve;
  http.max_connections_per_client = options.max_connections_per_client;
  http.first_request_timeout = options.first_request_timeout;
  http.connection_metrics = options.metrics;
  http.head_as_get = false;  // the Handler answers HEAD itself (verb "get", metric verb "head")
  http.response_headers = {{"Cache-Control", "no-cache, private"},
                           {"X-Content-Type-Options", "nosniff"}};
  http.error_response = ReadError;
  http.linger = absl::Seconds(2);
  http.tls = std::move(tls);
  auto server = std::make_unique<ServerImpl>(std::move(http));
  if (absl::Status s = server->Init(handler, options); !s.ok()) return s;
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
      absl::StrAppend(&san, san.empty() ? "" : ",", IsIpLiteral(n) ? "IP:" : "DNS:", n);
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
