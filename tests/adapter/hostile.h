// Hostile and legitimate clients of the adapter over loopback, for the abuse test and the flood
// measurement: raw TCP and OpenSSL, blocking, one connection per call.
//
//   tests::TlsClient ok;  ok.Connect(port, "127.0.0.1", cert_pem, key_pem);
//   tests::TlsClient::Response r = ok.Get("/healthz");        // r.status == 200
//   int fd = tests::OpenHostile(tests::Hostile::kSilent, port, "127.0.0.2");
//
// Test-only.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace tests {

enum class Hostile {
  kSilent,         // TCP connect, then nothing
  kPartialTls,     // the first bytes of a TLS record, then nothing (a stalled handshake)
  kPartialHeader,  // TLS, then ~60 KB of a request header that never ends
  kIdleProbe,      // TLS, one unauthenticated GET /healthz, then idle keep-alive
};
const char* HostileName(Hostile kind);

// Opens one hostile connection of `kind` from `source` (an IPv4 loopback address) to
// 127.0.0.1:`port` and leaves it open. Returns its fd, or -1 when the server closed or refused
// it before the hostile part was sent.
int OpenHostile(Hostile kind, int port, const char* source);

// True when the server has closed `fd` (EOF or reset), waiting up to `timeout_ms`.
bool PeerClosed(int fd, int timeout_ms);

// A TLS client with an optional client certificate, no server verification (the test's
// server certificate is self-signed), keep-alive.
class TlsClient {
 public:
  struct Response {
    int status = 0;  // 0: no response (connection refused, closed or timed out)
    std::string body;
    bool closed = false;  // "Connection: close" or the server closed after the response
  };
  TlsClient() = default;
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // False when TCP or the handshake fails (e.g. closed at accept). Receive timeout 20 s.
  bool Connect(int port, const char* source, const std::string& cert_pem = "",
               const std::string& key_pem = "");
  Response Get(const std::string& target);

 private:
  void Reset();
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string buf_;
};

// Sets RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
long RaiseFileLimit();

}  // namespace tests
