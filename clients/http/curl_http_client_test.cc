// Exercises the libcurl client against a real local server (tests/kube_api_server) over HTTP
// and HTTPS, with server verification, client certificates and bearer tokens.
#include "clients/http/curl_http_client.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/kube_api_server/fake_kube_api_server.h"
#include "tests/testing/test_certs.h"

namespace clients::http {
namespace {

TEST(CurlHttpClientTest, GetAndPostOverHttp) {
  auto kube = tests::FakeKubeApiServer::Start({});
  ASSERT_TRUE(kube.ok()) << kube.status();
  CurlOptions opts;
  opts.bearer_token = "sa-token";
  auto http = MakeCurlHttpClient(opts);

  HttpRequest get;
  get.url = (*kube)->url() + "/version";
  absl::StatusOr<HttpResponse> r = http->Do(get);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type"), "application/json");
  EXPECT_NE(r->body.find("v1.30.0-fake"), std::string::npos);

  HttpRequest post;
  post.method = "POST";
  post.url = (*kube)->url() + "/apis/authentication.k8s.io/v1/tokenreviews";
  post.headers.push_back({"Content-Type", "application/json"});
  post.body =
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"x"}})";
  r = http->Do(post);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 201);
  EXPECT_NE(r->body.find("\"authenticated\": false"), std::string::npos) << r->body;

  auto recorded = (*kube)->Requests();
  ASSERT_TRUE(recorded.ok());
  ASSERT_EQ(recorded->size(), 2u);
  EXPECT_EQ((*recorded)[1].method, "POST");
  EXPECT_EQ((*recorded)[1].authorization, "Bearer sa-token");
  EXPECT_NE((*recorded)[1].body.find("\"token\":\"x\""), std::string::npos);
}

TEST(CurlHttpClientTest, DoStreamDeliversAChunkedWatchAsItArrives) {
  tests::FakeKubeApiServerOptions o;
  o.fixtures_file = tests::FixturesPath();
  auto kube = tests::FakeKubeApiServer::Start(o);
  ASSERT_TRUE(kube.ok()) << kube.status();
  auto http = MakeCurlStreamingHttpClient({});
  HttpRequest req;
  // resourceVersion=0: synthetic ADDED of both nodes, then the stream ends after 1 s.
  req.url = (*kube)->url() + "/api/v1/nodes?watch=1&resourceVersion=0&timeoutSeconds=1";
  std::string body;
  int pieces = 0;
  absl::StatusOr<HttpResponse> r = http->DoStream(
      req,
      [&](absl::string_view data) {
        body.append(data.data(), data.size());
        ++pieces;
        return true;
      },
      nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->Header("transfer-encoding"), "chunked");
  EXPECT_GE(pieces, 1);
  EXPECT_NE(body.find("\"node-a\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"node-b\""), std::string::npos) << body;
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 2) << body;
}

TEST(CurlHttpClientTest, DoStreamCollectsErrorBodiesAndCanBeStopped) {
  auto kube = tests::FakeKubeApiServer::Start({});
  ASSERT_TRUE(kube.ok()) << kube.status();
  auto http = MakeCurlStreamingHttpClient({});
  HttpRequest req;
  req.url = (*kube)->url() + "/api/v1/namespaces/x/configmaps/missing";
  bool called = false;
  absl::StatusOr<HttpResponse> r = http->DoStream(
      req, [&](absl::string_view) { return called = true; }, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(called);
  EXPECT_NE(r->body.find("NotFound"), std::string::npos);

  // An idle watch (no events for an hour) ends promptly when cancelled.
  req.url = (*kube)->url() + "/api/v1/pods?watch=1&resourceVersion=1&timeoutSeconds=3600";
  req.timeout = absl::Hours(2);
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(300));
    cancel = true;
  });
  absl::Time start = absl::Now();
  r = http->DoStream(
      req, [](absl::string_view) { return true; }, &cancel);
  canceller.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(CurlHttpClientTest, HttpErrorStatusIsAResponseNotAnError) {
  auto kube = tests::FakeKubeApiServer::Start({});
  ASSERT_TRUE(kube.ok()) << kube.status();
  auto http = MakeCurlHttpClient({});
  HttpRequest get;
  get.url = (*kube)->url() + "/api/v1/namespaces/x/configmaps/missing";
  absl::StatusOr<HttpResponse> r = http->Do(get);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
}

TEST(CurlHttpClientTest, ConnectionRefusedIsUnavailable) {
  auto kube = tests::FakeKubeApiServer::Start({});
  ASSERT_TRUE(kube.ok()) << kube.status();
  std::string url = (*kube)->url() + "/version";
  (*kube)->Stop();
  auto http = MakeCurlHttpClient({});
  HttpRequest get;
  get.url = url;
  EXPECT_EQ(http->Do(get).status().code(), absl::StatusCode::kUnavailable);
}

class CurlTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tests::MakeTestDir("curltls");
    auto ca = tests::MakeCa("test-ca");
    ASSERT_TRUE(ca.ok());
    ca_ = *ca;
    tests::LeafSpec server;
    server.common_name = "localhost";
    server.ip_addresses = {"127.0.0.1"};
    server.dns_names = {"localhost"};
    server.server_auth = true;
    server.client_auth = false;
    auto leaf = tests::MakeLeaf(ca_, server);
    ASSERT_TRUE(leaf.ok());
    ASSERT_TRUE(tests::WriteTestFile(dir_ + "/ca.crt", ca_.cert_pem).ok());
    ASSERT_TRUE(tests::WriteTestFile(dir_ + "/tls.crt", leaf->cert_pem).ok());
    ASSERT_TRUE(tests::WriteTestFile(dir_ + "/tls.key", leaf->key_pem).ok());
    tests::FakeKubeApiServerOptions o;
    o.tls_cert_file = dir_ + "/tls.crt";
    o.tls_key_file = dir_ + "/tls.key";
    o.client_ca_file = dir_ + "/ca.crt";
    o.ca_file = dir_ + "/ca.crt";
    auto kube = tests::FakeKubeApiServer::Start(o);
    ASSERT_TRUE(kube.ok()) << kube.status();
    kube_ = std::move(*kube);
  }

  std::string dir_;
  tests::TestCert ca_;
  std::unique_ptr<tests::FakeKubeApiServer> kube_;
};

TEST_F(CurlTlsTest, VerifiesServerWithCaPemAndPresentsClientCert) {
  tests::LeafSpec client;
  client.common_name = "smart-autoscaler";
  auto cert = tests::MakeLeaf(ca_, client);
  ASSERT_TRUE(cert.ok());
  CurlOptions opts;
  opts.tls.ca_pem = ca_.cert_pem;
  opts.tls.client_cert_pem = cert->cert_pem;
  opts.tls.client_key_pem = cert->key_pem;
  auto http = MakeCurlHttpClient(opts);
  HttpRequest get;
  get.url = kube_->url() + "/version";
  absl::StatusOr<HttpResponse> r = http->Do(get);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  auto recorded = kube_->Requests();
  ASSERT_TRUE(recorded.ok());
  ASSERT_EQ(recorded->size(), 1u);
  EXPECT_EQ((*recorded)[0].client_cn, "smart-autoscaler");
}

TEST_F(CurlTlsTest, CaFileWorksToo) {
  CurlOptions opts;
  opts.tls.ca_file = dir_ + "/ca.crt";
  auto http = MakeCurlHttpClient(opts);
  HttpRequest get;
  get.url = kube_->url() + "/version";
  absl::StatusOr<HttpResponse> r = http->Do(get);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(CurlTlsTest, RejectsServerFromAnotherCa) {
  auto other = tests::MakeCa("other-ca");
  ASSERT_TRUE(other.ok());
  CurlOptions opts;
  opts.tls.ca_pem = other->cert_pem;
  auto http = MakeCurlHttpClient(opts);
  HttpRequest get;
  get.url = kube_->url() + "/version";
  absl::StatusOr<HttpResponse> r = http->Do(get);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace clients::http
