// Hostile clients: plain sockets with SO_RCVTIMEO/SO_SNDTIMEO, OpenSSL for the TLS kinds.
#include "tests/adapter/hostile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace tests {
namespace {

int ConnectFrom(int port, const char* source, int timeout_s) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

SSL_CTX* ClientContext() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn) - 1);
  return ctx;
}

// One shared context for the hostile TLS kinds (SSL_CTX is thread-safe once set up).
SSL_CTX* HostileContext() {
  static SSL_CTX* ctx = ClientContext();
  return ctx;
}

bool SendAll(SSL* ssl, const std::string& data) {
  return SSL_write(ssl, data.data(), static_cast<int>(data.size())) ==
         static_cast<int>(data.size());
}

}  // namespace

const char* HostileName(Hostile kind) {
  switch (kind) {
    case Hostile::kSilent:
      return "silent";
    case Hostile::kPartialTls:
      return "partial-tls";
    case Hostile::kPartialHeader:
      return "partial-header";
    case Hostile::kIdleProbe:
      return "idle-probe";
  }
  return "?";
}

int OpenHostile(Hostile kind, int port, const char* source) {
  int fd = ConnectFrom(port, source, 10);
  if (fd < 0 || kind == Hostile::kSilent) return fd;
  if (kind == Hostile::kPartialTls) {
    const unsigned char record[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};  // ClientHello, cut
    if (send(fd, record, sizeof(record), MSG_NOSIGNAL) != sizeof(record)) {
      close(fd);
      return -1;
    }
    return fd;
  }
  SSL* ssl = SSL_new(HostileContext());
  SSL_set_fd(ssl, fd);
  bool ok = SSL_connect(ssl) == 1;
  if (ok && kind == Hostile::kPartialHeader) {
    ok = SendAll(ssl, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(60000, 'a'));
  } else if (ok) {
    char tmp[1024];
    ok = SendAll(ssl, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") &&
         SSL_read(ssl, tmp, sizeof(tmp)) > 0;
  }
  SSL_free(ssl);  // no close_notify: the socket stays open, the server keeps its session
  ERR_clear_error();
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

bool PeerClosed(int fd, int timeout_ms) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  char tmp[4096];
  for (;;) {
    const int left = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) return false;
    // Data first (a TLS alert or close_notify) is read and skipped; then EOF or a reset.
    ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      return true;
    }
  }
}

TlsClient::~TlsClient() {
  Reset();
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

void TlsClient::Reset() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) close(fd_);
  ssl_ = nullptr;
  fd_ = -1;
  buf_.clear();
}

bool TlsClient::Connect(int port, const char* source, const std::string& cert_pem,
                        const std::string& key_pem) {
  Reset();
  if (ctx_ == nullptr) {
    ctx_ = ClientContext();
    if (!cert_pem.empty()) {
      BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
      BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
      X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      SSL_CTX_use_certificate(ctx_, cert);
      SSL_CTX_use_PrivateKey(ctx_, key);
      X509_free(cert);
      EVP_PKEY_free(key);
      BIO_free(cb);
      BIO_free(kb);
    }
  }
  fd_ = ConnectFrom(port, source, 20);
  if (fd_ < 0) return false;
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) {
    ERR_clear_error();
    Reset();
    return false;
  }
  return true;
}

TlsClient::Response TlsClient::Get(const std::string& target) {
  Response r;
  if (ssl_ == nullptr) return r;
  if (!SendAll(ssl_, absl::StrCat("GET ", target,
                                  " HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n"))) {
    return r;
  }
  auto fill = [&] {
    char tmp[16384];
    int n = SSL_read(ssl_, tmp, sizeof(tmp));
    if (n <= 0) return false;
    buf_.append(tmp, n);
    return true;
  };
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return r;
  }
  const std::string head = absl::AsciiStrToLower(buf_.substr(0, end));
  buf_.erase(0, end + 4);
  size_t length = 0;
  if (size_t cl = head.find("content-length:"); cl != std::string::npos) {
    const size_t eol = head.find("\r\n", cl);
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(head.substr(cl + 15, eol - cl - 15)),
                           &length);
  }
  while (buf_.size() < length) {
    if (!fill()) return r;
  }
  if (head.size() < 12 || !absl::SimpleAtoi(head.substr(9, 3), &r.status)) r.status = 0;
  r.body = buf_.substr(0, length);
  buf_.erase(0, length);
  r.closed = absl::StrContains(head, "connection: close");
  return r;
}

long RaiseFileLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<long>(limit.rlim_cur);
}

}  // namespace tests
