// The adapter's HTTPS server (adapter::Server with the real Handler and client-certificate
// authentication) under 5,000 hostile connections over loopback: silent TCP connects, stalled
// TLS handshakes, never-ending headers and idle unauthenticated probes. A legitimate request and
// /healthz must still be answered, and request smuggling through Transfer-Encoding refused.
// Hostile clients connect from other 127.x addresses than the legitimate one.
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapter/auth/flags.h"
#include "adapter/handler.h"
#include "adapter/metric_table.h"
#include "adapter/server.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "tests/adapter/hostile.h"
#include "tests/testing/test_certs.h"

namespace {

using tests::Hostile;
using tests::TlsClient;

constexpr char kMetric[] =
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure"
    "?labelSelector=deployment%3Dapi";
constexpr int kHostile = 5000;
constexpr Hostile kKinds[] = {Hostile::kSilent, Hostile::kSilent, Hostile::kPartialTls,
                              Hostile::kPartialHeader, Hostile::kIdleProbe};

class AbuseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);  // writes to connections the server closed
    ASSERT_GE(tests::RaiseFileLimit(), 3 * kHostile) << "needs file descriptors for both ends";
    auto ca = tests::MakeCa("abuse-ca");
    ASSERT_TRUE(ca.ok());
    tests::LeafSpec spec;
    spec.common_name = "hpa-controller";
    spec.organizations = {"system:masters"};
    auto leaf = tests::MakeLeaf(*ca, spec);
    ASSERT_TRUE(leaf.ok());
    leaf_ = *leaf;
    const std::string dir = tests::MakeTestDir("abuse");
    ASSERT_TRUE(tests::WriteTestFile(dir + "/ca.pem", ca->cert_pem).ok());
    adapter::auth::AuthFlags flags;
    flags.client_ca_file = dir + "/ca.pem";
    flags.skip_lookup = true;
    auto stack = adapter::auth::MakeAuthStack(flags, &base::RealClock());
    ASSERT_TRUE(stack.ok()) << stack.status();
    auth_ = *std::move(stack);
    table_.Replace({{"default", "smart_cpu_pressure", "api", {}, 0.85}}, absl::InfiniteFuture());
    adapter::HandlerOptions handler_options;
    handler_options.metrics = &registry_;
    handler_ = std::make_unique<adapter::Handler>(&table_, auth_->authenticator.get(),
                                                  auth_->authorizer.get(), &base::RealClock(),
                                                  handler_options);
  }

  void StartServer(adapter::ServerOptions options) {
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.metrics = &registry_;
    auto server = adapter::Server::Start(handler_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    port_ = server_->port();
  }

  // kHostile connections, kinds in turn, from `addresses` source addresses 127.0.1.1...
  std::vector<int> Flood(int addresses) {
    std::vector<int> fds;
    for (int i = 0; i < kHostile; ++i) {
      const std::string source = addresses == 1 ? "127.0.0.2" : absl::StrCat("127.0.1.", 1 + i % addresses);
      const int fd = tests::OpenHostile(kKinds[i % 5], port_, source.c_str());
      if (fd >= 0) fds.push_back(fd);
    }
    return fds;
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  // The value of the sample `series` (name{labels}) in Metrics(), or -1.
  double Sample(const std::string& series) {
    const std::string text = Metrics();
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }

  TlsClient::Response Legit(const std::string& target, bool with_cert = true) {
    TlsClient c;
    if (!c.Connect(port_, "127.0.0.1", with_cert ? leaf_.cert_pem : "",
                   with_cert ? leaf_.key_pem : "")) {
      return {};
    }
    return c.Get(target);
  }

  // Retries `target` on new connections every 100 ms for up to 60 s until it gets `status`.
  TlsClient::Response Eventually(const std::string& target, int status, bool with_cert = true) {
    TlsClient::Response r;
    for (int i = 0; i < 600; ++i) {
      r = Legit(target, with_cert);
      if (r.status == status) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return r;
  }

  tests::TestCert leaf_;
  prometheus::Registry registry_;
  std::unique_ptr<adapter::auth::AuthStack> auth_;
  adapter::MetricTable table_;
  std::unique_ptr<adapter::Handler> handler_;
  std::unique_ptr<adapter::Server> server_;
  int port_ = 0;
};

TEST_F(AbuseTest, OneHostileAddressCannotCrowdOutOthers) {
  StartServer({});  // the production defaults: 1,024 connections, 256 per client, 5 s deadline
  std::vector<int> fds = Flood(1);
  // Most are closed at accept (all but the 256 open at a time).
  EXPECT_GE(Sample("http_server_connections_rejected_total{reason=\"client\"}"), 0.7 * kHostile);

  TlsClient::Response r = Legit(kMetric);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(absl::StrContains(r.body, R"("value":"850m")")) << r.body;
  EXPECT_EQ(Legit("/healthz", /*with_cert=*/false).status, 200);
  EXPECT_EQ(Legit(kMetric, /*with_cert=*/false).status, 401);  // no credentials, no values
  for (int fd : fds) close(fd);
}

TEST_F(AbuseTest, DistributedFloodKeepsProbesAndTrustedConnections) {
  adapter::ServerOptions options;
  options.first_request_timeout = absl::Seconds(60);  // the flood holds its slots for the test
  StartServer(options);
  TlsClient trusted;  // e.g. the aggregator's kept-alive connection, open before the flood
  ASSERT_TRUE(trusted.Connect(port_, "127.0.0.1", leaf_.cert_pem, leaf_.key_pem));
  ASSERT_EQ(trusted.Get(kMetric).status, 200);

  std::vector<int> fds = Flood(25);  // 200 per address, under the per-client limit
  EXPECT_GE(Sample("http_server_connections_rejected_total{reason=\"limit\"}"), 1);
  EXPECT_GE(Sample("http_server_open_connections{slot=\"normal\"}"), 1024);

  TlsClient::Response r = trusted.Get(kMetric);
  EXPECT_EQ(r.status, 200) << "a trusted connection keeps working through the flood";
  // Reserve slots taken by hostile connections are freed after 1 s: a probe gets through.
  EXPECT_EQ(Eventually("/healthz", 200, /*with_cert=*/false).status, 200);
  // A new connection for anything else is refused while the limit holds (503, or closed).
  EXPECT_NE(Legit(kMetric).status, 200);

  // Hostile connections time out in 60 s, not 90 s, and a silent one sent nothing: close them
  // from this side (the flood ends) and new legitimate connections are served again.
  for (int fd : fds) close(fd);
  r = Eventually(kMetric, 200);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(absl::StrContains(r.body, R"("value":"850m")")) << r.body;
}

TEST_F(AbuseTest, SilentAndUnauthenticatedConnectionsGetTheShortDeadline) {
  adapter::ServerOptions options;
  options.first_request_timeout = absl::Milliseconds(500);
  StartServer(options);
  const int silent = tests::OpenHostile(Hostile::kSilent, port_, "127.0.0.3");
  const int stalled = tests::OpenHostile(Hostile::kPartialTls, port_, "127.0.0.3");
  const int header = tests::OpenHostile(Hostile::kPartialHeader, port_, "127.0.0.3");
  const int probe = tests::OpenHostile(Hostile::kIdleProbe, port_, "127.0.0.3");
  for (int fd : {silent, stalled, header, probe}) {
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(tests::PeerClosed(fd, 30000)) << "closed by the 500 ms deadline";
    close(fd);
  }
  TlsClient authenticated;
  ASSERT_TRUE(authenticated.Connect(port_, "127.0.0.1", leaf_.cert_pem, leaf_.key_pem));
  ASSERT_EQ(authenticated.Get(kMetric).status, 200);
  absl::SleepFor(absl::Seconds(2));  // four times the short deadline
  EXPECT_EQ(authenticated.Get(kMetric).status, 200) << "authenticated: the 90 s idle timeout";
}

}  // namespace
