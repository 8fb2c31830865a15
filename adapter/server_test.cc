// Tests the HTTPS layer with a raw OpenSSL client: TLS versions, ALPN, peer certificate
// hand-off to the authenticator, self-signed certificates and certificate reload.
#include "adapter/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace adapter {
namespace {

class RecordingAuthenticator : public auth::Authenticator {
 public:
  absl::StatusOr<auth::UserInfo> Authenticate(const auth::Request& r) override {
    absl::MutexLock lock(&mu);
    last_cert = r.peer_cert_der;
    return auth::UserInfo{"tester", {"system:authenticated"}, {}};
  }
  absl::Mutex mu;
  std::string last_cert;
};

class AllowAll : public auth::Authorizer {
 public:
  absl::Status Authorize(const auth::UserInfo&, const auth::Attributes&) override {
    return absl::OkStatus();
  }
};

struct Result {
  bool handshake = false;
  std::string alpn;
  std::string server_cn;
  std::string response;
};

X509* PemCert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  return x;
}

std::string CommonName(X509* cert) {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
  return buf;
}

// One TLS connection, one request.
Result Fetch(int port, const std::string& request, int max_version = 0,
             const std::pair<std::string, std::string>* client_cert = nullptr) {
  Result r;
  signal(SIGPIPE, SIG_IGN);  // the raw client may write to a connection the server closed
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (max_version != 0) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_security_level(ctx, 0);
  }
  static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn) - 1);
  if (client_cert != nullptr) {
    X509* c = PemCert(client_cert->first);
    BIO* b =
        BIO_new_mem_buf(client_cert->second.data(), static_cast<int>(client_cert->second.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    SSL_CTX_use_certificate(ctx, c);
    SSL_CTX_use_PrivateKey(ctx, k);
    X509_free(c);
    EVP_PKEY_free(k);
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      r.handshake = true;
      const unsigned char* proto;
      unsigned int len;
      SSL_get0_alpn_selected(ssl, &proto, &len);
      r.alpn.assign(reinterpret_cast<const char*>(proto), len);
      if (X509* peer = SSL_get1_peer_certificate(ssl)) {
        r.server_cn = CommonName(peer);
        X509_free(peer);
      }
      SSL_write(ssl, request.data(), static_cast<int>(request.size()));
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
        r.response.append(buf, n);
        if (r.response.find("\r\n\r\n") != std::string::npos &&
            r.response.find("Connection: close") == std::string::npos &&
            r.response.size() > r.response.find("\r\n\r\n") + 4) {
          break;  // keep-alive: one full small response is enough
        }
      }
    }
    SSL_free(ssl);
  }
  close(fd);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return r;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path + ".tmp") << text;
  std::rename((path + ".tmp").c_str(), path.c_str());
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : handler_(&table_, &authn_, &authz_, &base::RealClock(), {}) {}
  MetricTable table_;
  RecordingAuthenticator authn_;
  AllowAll authz_;
  Handler handler_;
};

constexpr char kGet[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

TEST_F(ServerTest, ServesHealthzOverTls12And13WithHttp11Alpn) {
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  auto server = Server::Start(&handler_, o);
  ASSERT_TRUE(server.ok()) << server.status();
  Result r = Fetch((*server)->port(), kGet);
  ASSERT_TRUE(r.handshake);
  EXPECT_EQ(r.alpn, "http/1.1");
  EXPECT_EQ(r.server_cn, "localhost");
  EXPECT_NE(r.response.find("HTTP/1.1 200 OK"), std::string::npos) << r.response;
  EXPECT_NE(r.response.find("\r\n\r\nok"), std::string::npos);
  Result tls12 = Fetch((*server)->port(), kGet, TLS1_2_VERSION);
  EXPECT_TRUE(tls12.handshake);
  EXPECT_FALSE(Fetch((*server)->port(), kGet, TLS1_1_VERSION).handshake);
}

TEST_F(ServerTest, HandsThePeerCertificateToTheAuthenticator) {
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  auto server = Server::Start(&handler_, o);
  ASSERT_TRUE(server.ok());
  auto client = GenerateSelfSignedCert({"client"});
  ASSERT_TRUE(client.ok());
  Result r = Fetch((*server)->port(), kGet, 0, &*client);
  ASSERT_TRUE(r.handshake);
  absl::MutexLock lock(&authn_.mu);
  ASSERT_FALSE(authn_.last_cert.empty());
  const unsigned char* p = reinterpret_cast<const unsigned char*>(authn_.last_cert.data());
  X509* seen = d2i_X509(nullptr, &p, static_cast<long>(authn_.last_cert.size()));
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(CommonName(seen), "client");
  X509_free(seen);
}

TEST_F(ServerTest, MalformedRequestsGetAStatus) {
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.header_limit = 1024;
  auto server = Server::Start(&handler_, o);
  ASSERT_TRUE(server.ok());
  Result r = Fetch((*server)->port(), "NOT HTTP\r\n\r\n");
  EXPECT_NE(r.response.find("400 Bad Request"), std::string::npos) << r.response;
  EXPECT_NE(r.response.find(R"("kind":"Status")"), std::string::npos);
  r = Fetch((*server)->port(), "GET / HTTP/1.1\r\nX: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_NE(r.response.find("431"), std::string::npos) << r.response;
}

TEST_F(ServerTest, ClosesConnectionsBeyondTheLimit) {
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.max_connections = 1;
  o.probe_reserve = 0;  // no probe-only slots past the limit
  auto server = Server::Start(&handler_, o);
  ASSERT_TRUE(server.ok());
  // Hold one connection open (TCP only), then a second one must be refused a handshake.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((*server)->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  absl::SleepFor(absl::Milliseconds(100));  // let the server accept it
  EXPECT_FALSE(Fetch((*server)->port(), kGet).handshake);
  close(fd);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  bool served = false;
  while (!served && absl::Now() < deadline) {
    served = Fetch((*server)->port(), kGet).handshake;
    if (!served) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST(SelfSignedCertTest, CarriesTheNamesAsSans) {
  auto pair = GenerateSelfSignedCert({"svc.ns.svc", "localhost", "127.0.0.1"});
  ASSERT_TRUE(pair.ok());
  X509* cert = PemCert(pair->first);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(CommonName(cert), "svc.ns.svc");
  EXPECT_EQ(X509_check_host(cert, "svc.ns.svc", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(cert, "other.example", 0, 0, nullptr), 1);
  X509_free(cert);
}

TEST_F(ServerTest, ReloadsCertificateFilesWhenTheyChange) {
  const std::string dir = getenv("TEST_TMPDIR");
  auto first = GenerateSelfSignedCert({"first.example"});
  ASSERT_TRUE(first.ok());
  WriteFile(dir + "/tls.crt", first->first);
  WriteFile(dir + "/tls.key", first->second);
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.cert_file = dir + "/tls.crt";
  o.key_file = dir + "/tls.key";
  o.reload_interval = absl::Milliseconds(20);
  auto server = Server::Start(&handler_, o);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(Fetch((*server)->port(), kGet).server_cn, "first.example");

  // A broken replacement is ignored; the old certificate stays.
  WriteFile(dir + "/tls.crt", "garbage");
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(Fetch((*server)->port(), kGet).server_cn, "first.example");

  auto second = GenerateSelfSignedCert({"second.example"});
  ASSERT_TRUE(second.ok());
  WriteFile(dir + "/tls.key", second->second);
  WriteFile(dir + "/tls.crt", second->first);
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string cn;
  while (absl::Now() < deadline &&
         (cn = Fetch((*server)->port(), kGet).server_cn) != "second.example") {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(cn, "second.example");
}

TEST(ServerStartTest, RejectsUnusableCertificateFiles) {
  MetricTable table;
  RecordingAuthenticator authn;
  AllowAll authz;
  Handler handler(&table, &authn, &authz, &base::RealClock(), {});
  ServerOptions o;
  o.port = 0;
  o.cert_file = "/nonexistent.crt";
  o.key_file = "/nonexistent.key";
  EXPECT_EQ(Server::Start(&handler, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.key_file = "";
  EXPECT_EQ(Server::Start(&handler, o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace adapter
