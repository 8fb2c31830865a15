// OpenSSL client for the serving certificate and the aggregator-style verification.
#include "doctor/serving_cert.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "doctor/doctor.h"

namespace doctor {
namespace {

struct SslDeleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, SslDeleter>;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "no OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// A TCP connection to host:port, send/receive bounded by `timeout`; -1 with `*error` set.
int Connect(const std::string& host, int port, absl::Duration timeout, std::string* error) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) {
    *error = absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc));
    return -1;
  }
  timeval tv = absl::ToTimeval(timeout);
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));  // bounds connect() too
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      *error = absl::StrCat("connect to ", host, ":", port, ": ", strerror(errno));
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

std::string ToPem(X509* cert) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

class TlsCertFetcher : public CertFetcher {
 public:
  absl::StatusOr<std::vector<std::string>> FetchChain(const std::string& host, int port,
                                                      const std::string& sni,
                                                      absl::Duration timeout) override {
    std::string error;
    int fd = Connect(host, port, timeout, &error);
    if (fd < 0) {
      return errno == EAGAIN || errno == EINPROGRESS ? absl::DeadlineExceededError(error)
                                                     : absl::UnavailableError(error);
    }
    Ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // verified by the caller
    Ptr<SSL> ssl(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    if (!sni.empty()) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
    if (SSL_connect(ssl.get()) != 1) {
      std::string why = OpenSslError();
      close(fd);
      return absl::UnavailableError(
          absl::StrCat("TLS handshake with ", host, ":", port, " failed: ", why));
    }
    std::vector<std::string> out;
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());  // leaf first, not owned
    for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
      out.push_back(ToPem(sk_X509_value(chain, i)));
    }
    SSL_shutdown(ssl.get());
    close(fd);
    if (out.empty())
      return absl::UnavailableError(absl::StrCat(host, ":", port, " sent no certificate"));
    return out;
  }
};

}  // namespace

std::unique_ptr<CertFetcher> MakeTlsCertFetcher() { return std::make_unique<TlsCertFetcher>(); }

namespace internal {
namespace {

std::vector<Ptr<X509>> ReadCerts(const std::string& pem) {
  std::vector<Ptr<X509>> out;
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the end of the input reads as an error
  return out;
}

std::string SubjectAltNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type == GEN_DNS) {
      names.push_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      const unsigned char* ip = ASN1_STRING_get0_data(n->d.iPAddress);
      names.push_back(ASN1_STRING_length(n->d.iPAddress) == 4
                          ? absl::StrCat("IP:", ip[0], ".", ip[1], ".", ip[2], ".", ip[3])
                          : "IP:(v6)");  // an IP SAN never matches a DNS name
    }
  }
  GENERAL_NAMES_free(sans);
  return names.empty() ? "no DNS SANs" : absl::StrJoin(names, ", ");
}

}  // namespace

CertVerdict VerifyServingChain(const std::vector<std::string>& chain_pem,
                               const std::string& ca_bundle_pem, const std::string& dns_name,
                               absl::Time at) {
  CertVerdict v;
  std::vector<Ptr<X509>> cas = ReadCerts(ca_bundle_pem);
  if (cas.empty()) {
    v.detail = "the caBundle holds no PEM certificate";
    return v;
  }
  std::vector<Ptr<X509>> chain;
  for (const std::string& pem : chain_pem) {
    for (auto& c : ReadCerts(pem)) chain.push_back(std::move(c));
  }
  if (chain.empty()) {
    v.detail = "the server sent no readable certificate";
    return v;
  }
  Ptr<X509_STORE> store(X509_STORE_new());
  for (auto& ca : cas) X509_STORE_add_cert(store.get(), ca.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  Ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set1_host(param, dns_name.c_str(), dns_name.size());
  X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(at));
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  sk_X509_free(untrusted);
  const std::string sans = SubjectAltNames(chain[0].get());
  if (ok == 1) {
    v.kind = CertVerdict::kOk;
    v.detail = absl::StrCat("verified for ", dns_name, " (SANs: ", sans, ")");
    return v;
  }
  v.detail = X509_verify_cert_error_string(err);
  switch (err) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
      v.kind = CertVerdict::kNameMismatch;
      v.detail = absl::StrCat("the certificate names ", sans, ", not ", dns_name);
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      v.kind = CertVerdict::kExpired;
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      v.kind = CertVerdict::kNotYetValid;
      break;
    default:
      v.kind = CertVerdict::kUnknownAuthority;
  }
  return v;
}

}  // namespace internal
}  // namespace doctor
