// The adapter's authenticator and authorizer against tests/kube_api_server, a real HTTP(S)
// server standing in for kube-apiserver: allowed, denied (403), token rejected (401), API
// down or erroring (fail closed), 10 s caches (fake clock), front-proxy and client-CA
// certificates, and the flag path that reads kube-system/extension-apiserver-authentication.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adapter/auth/auth.h"
#include "adapter/auth/flags.h"
#include "base/clock.h"
#include "clients/kube/auth_api.h"
#include "clients/kube/cluster_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/kube_api_server/fake_kube_api_server.h"
#include "tests/testing/test_certs.h"

namespace adapter::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTokenReviews[] = "/apis/authentication.k8s.io/v1/tokenreviews";
constexpr char kSars[] = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
constexpr char kHpa[] = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";

Attributes ExternalList(const std::string& ns, const std::string& metric) {
  Attributes a;
  a.resource_request = true;
  a.verb = "list";
  a.group = "external.metrics.k8s.io";
  a.version = "v1beta1";
  a.resource = metric;
  a.namespace_name = ns;
  return a;
}

void AddHeader(Request* r, const std::string& name, const std::string& value) {
  r->headers.emplace(name, value);
  r->header_values.emplace(name, value);
}

Request WithToken(const std::string& token) {
  Request r;
  r.method = "GET";
  r.path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/queue_depth";
  AddHeader(&r, "authorization", absl::StrCat("Bearer ", token));
  return r;
}

class DelegatedAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kube = tests::FakeKubeApiServer::Start({});
    ASSERT_TRUE(kube.ok()) << kube.status();
    kube_ = std::move(*kube);
    cluster_.server = kube_->url();
    cluster_.bearer_token = "adapter-sa-token";
    http_ = clients::kube::MakeHttpClient(cluster_);
    api_ = std::make_unique<clients::kube::KubeAuthApiClient>(http_.get(), cluster_);
    proxy_ca_ = *tests::MakeCa("front-proxy-ca");
    client_ca_ = *tests::MakeCa("kubernetes-ca");
    config_.requestheader_ca_pem = proxy_ca_.cert_pem;
    config_.requestheader_allowed_names = {"front-proxy-client"};
    config_.client_ca_pem = client_ca_.cert_pem;
    ASSERT_TRUE(kube_
                    ->Configure(R"({
      "bearer_token": "adapter-sa-token",
      "tokens": {"hpa-token": {"username": "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
                               "uid": "5c0e", "groups": ["system:serviceaccounts",
                               "system:serviceaccounts:kube-system"]},
                 "intruder-token": {"username": "mallory", "groups": []}},
      "sar_rules": [
        {"user": "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
         "api_group": "external.metrics.k8s.io", "allowed": true},
        {"user": "jane", "allowed": true},
        {"user": "mallory", "denied": true, "reason": "mallory is banned"}]})")
                    .ok());
    Build();
  }

  void Build() {
    authn_ = *MakeAuthenticator(config_, api_.get(), &clock_);
    authz_ = *MakeAuthorizer(config_, api_.get(), &clock_);
  }

  std::string Leaf(const tests::TestCert& ca, const std::string& cn,
                   std::vector<std::string> orgs = {}) {
    tests::LeafSpec spec;
    spec.common_name = cn;
    spec.organizations = std::move(orgs);
    return tests::MakeLeaf(ca, spec)->cert_der;
  }

  int Count(const std::string& path) { return *kube_->CountRequests(path); }

  // The last SubjectAccessReview the server received, parsed.
  std::unique_ptr<rapidjson::Document> LastSar() {
    auto all = kube_->Requests();
    EXPECT_TRUE(all.ok());
    for (auto it = all->rbegin(); it != all->rend(); ++it) {
      if (it->path == kSars) {
        auto doc = std::make_unique<rapidjson::Document>();
        doc->Parse(it->body.c_str());
        return doc;
      }
    }
    return nullptr;
  }

  base::FakeClock clock_{absl::Now()};
  std::unique_ptr<tests::FakeKubeApiServer> kube_;
  clients::kube::ClusterConfig cluster_;
  std::unique_ptr<clients::http::HttpClient> http_;
  std::unique_ptr<clients::kube::KubeAuthApiClient> api_;
  tests::TestCert proxy_ca_, client_ca_;
  AuthConfig config_;
  std::unique_ptr<Authenticator> authn_;
  std::unique_ptr<Authorizer> authz_;
};

TEST_F(DelegatedAuthTest, TokenAuthenticatedAndAccessAllowedWithContractSar) {
  absl::StatusOr<UserInfo> u = authn_->Authenticate(WithToken("hpa-token"));
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->name, kHpa);
  EXPECT_EQ(u->uid, "5c0e");
  EXPECT_THAT(u->groups, ElementsAre("system:serviceaccounts", "system:serviceaccounts:kube-system",
                                     "system:authenticated"));
  EXPECT_TRUE(authz_->Authorize(*u, ExternalList("prod", "queue_depth")).ok());

  auto recorded = kube_->Requests();
  ASSERT_TRUE(recorded.ok());
  ASSERT_EQ(recorded->size(), 2u);
  EXPECT_EQ((*recorded)[0].path, kTokenReviews);
  EXPECT_EQ((*recorded)[0].authorization, "Bearer adapter-sa-token");
  EXPECT_EQ((*recorded)[0].body, R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",)"
                                 R"("spec":{"token":"hpa-token"}})");
  EXPECT_EQ((*recorded)[1].body,
            R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",)"
            R"("spec":{"resourceAttributes":{"namespace":"prod","verb":"list",)"
            R"("group":"external.metrics.k8s.io","version":"v1beta1","resource":"queue_depth"},)"
            R"("user":"system:serviceaccount:kube-system:horizontal-pod-autoscaler",)"
            R"("uid":"5c0e","groups":["system:serviceaccounts",)"
            R"("system:serviceaccounts:kube-system","system:authenticated"]}})");
}

TEST_F(DelegatedAuthTest, DeniedIsPermissionDeniedWithKubernetesMessage) {
  absl::StatusOr<UserInfo> u = authn_->Authenticate(WithToken("intruder-token"));
  ASSERT_TRUE(u.ok()) << u.status();
  absl::Status s = authz_->Authorize(*u, ExternalList("prod", "queue_depth"));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "queue_depth.external.metrics.k8s.io is forbidden: User \"mallory\" cannot list "
            "resource \"queue_depth\" in API group \"external.metrics.k8s.io\" in the namespace "
            "\"prod\": mallory is banned");
  // No opinion (no matching rule) is a 403 as well.
  UserInfo nobody{"nobody", {"system:authenticated"}, {}};
  EXPECT_EQ(authz_->Authorize(nobody, ExternalList("prod", "queue_depth")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(DelegatedAuthTest, RejectedTokenIsUnauthenticated) {
  absl::StatusOr<UserInfo> u = authn_->Authenticate(WithToken("forged"));
  EXPECT_EQ(u.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(u.status().message(), "Unauthorized");
  EXPECT_EQ(Count(kTokenReviews), 1);
}

TEST_F(DelegatedAuthTest, NoCredentialsIsUnauthenticatedWithoutCallingTheApi) {
  Request r;
  r.path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/queue_depth";
  EXPECT_EQ(authn_->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(kube_->Requests()->size(), 0u);
}

TEST_F(DelegatedAuthTest, ServerDownFailsClosed) {
  kube_->Stop();
  EXPECT_EQ(authn_->Authenticate(WithToken("hpa-token")).status().code(),
            absl::StatusCode::kUnavailable);
  UserInfo hpa{kHpa, {"system:authenticated"}, {}};
  EXPECT_EQ(authz_->Authorize(hpa, ExternalList("prod", "queue_depth")).code(),
            absl::StatusCode::kInternal);
  // Health probes and the aggregator (system:masters) still pass.
  Attributes health;
  health.path = "/readyz";
  EXPECT_TRUE(authz_->Authorize({"system:anonymous", {"system:unauthenticated"}, {}}, health).ok());
  EXPECT_TRUE(authz_
                  ->Authorize({"system:kube-aggregator", {"system:masters"}, {}},
                              ExternalList("prod", "queue_depth"))
                  .ok());
}

TEST_F(DelegatedAuthTest, ServerErrorsFailClosedAndAreNotCached) {
  ASSERT_TRUE(kube_
                  ->Configure(R"({"faults": {"tokenreviews": {"status": 500, "count": 1},
                                              "subjectaccessreviews": {"status": 503, "count": 1}}})")
                  .ok());
  EXPECT_EQ(authn_->Authenticate(WithToken("hpa-token")).status().code(),
            absl::StatusCode::kUnavailable);
  absl::StatusOr<UserInfo> u = authn_->Authenticate(WithToken("hpa-token"));
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(authz_->Authorize(*u, ExternalList("prod", "queue_depth")).code(),
            absl::StatusCode::kInternal);
  EXPECT_TRUE(authz_->Authorize(*u, ExternalList("prod", "queue_depth")).ok());
}

TEST_F(DelegatedAuthTest, DecisionsAreCachedTenSecondsThenRefreshed) {
  UserInfo u = *authn_->Authenticate(WithToken("hpa-token"));
  ASSERT_TRUE(authz_->Authorize(u, ExternalList("prod", "queue_depth")).ok());
  EXPECT_FALSE(authn_->Authenticate(WithToken("forged")).ok());
  UserInfo m = *authn_->Authenticate(WithToken("intruder-token"));
  EXPECT_FALSE(authz_->Authorize(m, ExternalList("prod", "queue_depth")).ok());
  EXPECT_EQ(Count(kTokenReviews), 3);
  EXPECT_EQ(Count(kSars), 2);

  clock_.Advance(absl::Seconds(9));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(authn_->Authenticate(WithToken("hpa-token")).ok());
    EXPECT_TRUE(authz_->Authorize(u, ExternalList("prod", "queue_depth")).ok());
    EXPECT_FALSE(authn_->Authenticate(WithToken("forged")).ok());
    EXPECT_FALSE(authz_->Authorize(m, ExternalList("prod", "queue_depth")).ok());
  }
  EXPECT_EQ(Count(kTokenReviews), 3);  // all cache hits
  EXPECT_EQ(Count(kSars), 2);
  // Another namespace is another SAR.
  EXPECT_TRUE(authz_->Authorize(u, ExternalList("staging", "queue_depth")).ok());
  EXPECT_EQ(Count(kSars), 3);

  // After 10 s the API decides again: revoke the HPA's access and token.
  ASSERT_TRUE(kube_->Configure(R"({"tokens": {}, "sar_rules": []})").ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(authn_->Authenticate(WithToken("hpa-token")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authz_->Authorize(u, ExternalList("prod", "queue_depth")).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Count(kTokenReviews), 4);
  EXPECT_EQ(Count(kSars), 4);
}

TEST_F(DelegatedAuthTest, FrontProxyCertWithAllowedCnAndHeaders) {
  Request r;
  r.peer_cert_der = Leaf(proxy_ca_, "front-proxy-client");
  AddHeader(&r, "x-remote-user", kHpa);
  AddHeader(&r, "x-remote-group", "system:serviceaccounts");
  AddHeader(&r, "x-remote-extra-authentication.kubernetes.io%2fpod-name", "kcm-0");
  absl::StatusOr<UserInfo> u = authn_->Authenticate(r);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->name, kHpa);
  EXPECT_EQ(Count(kTokenReviews), 0);  // no TokenReview for the front proxy
  ASSERT_TRUE(authz_->Authorize(*u, ExternalList("prod", "queue_depth")).ok());
  auto sar = LastSar();
  ASSERT_NE(sar, nullptr);
  const rapidjson::Value& spec = (*sar)["spec"];
  EXPECT_EQ(std::string(spec["user"].GetString()), kHpa);
  EXPECT_EQ(spec["groups"].Size(), 2u);
  EXPECT_EQ(std::string(spec["extra"]["authentication.kubernetes.io/pod-name"][0].GetString()),
            "kcm-0");
}

TEST_F(DelegatedAuthTest, FrontProxyCnNotAllowedIsUnauthenticated) {
  Request r;
  r.peer_cert_der = Leaf(proxy_ca_, "not-the-proxy");
  AddHeader(&r, "x-remote-user", "admin");
  AddHeader(&r, "x-remote-group", "system:masters");
  EXPECT_EQ(authn_->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(kube_->Requests()->size(), 0u);
}

TEST_F(DelegatedAuthTest, CertFromTheWrongCaIsUnauthenticated) {
  tests::TestCert evil = *tests::MakeCa("front-proxy-ca");  // same name, different key
  Request r;
  r.peer_cert_der = Leaf(evil, "front-proxy-client");
  AddHeader(&r, "x-remote-user", "admin");
  AddHeader(&r, "x-remote-group", "system:masters");
  EXPECT_EQ(authn_->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(DelegatedAuthTest, ClientCaCertUserFromCnAndO) {
  Request r;
  r.peer_cert_der = Leaf(client_ca_, "jane", {"devs"});
  absl::StatusOr<UserInfo> u = authn_->Authenticate(r);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->name, "jane");
  EXPECT_THAT(u->groups, ElementsAre("devs", "system:authenticated"));
  EXPECT_TRUE(authz_->Authorize(*u, ExternalList("prod", "queue_depth")).ok());
  auto sar = LastSar();
  ASSERT_NE(sar, nullptr);
  EXPECT_EQ(std::string((*sar)["spec"]["user"].GetString()), "jane");
}

// The flag path: kubeconfig -> HTTPS API server with a CA and a token -> the ConfigMap ->
// front-proxy authentication with the CA and names it holds.
class AuthStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tests::MakeTestDir("authstack");
    tests::TestCert server_ca = *tests::MakeCa("apiserver-ca");
    tests::LeafSpec spec;
    spec.common_name = "kube-apiserver";
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    tests::TestCert serving = *tests::MakeLeaf(server_ca, spec);
    ASSERT_TRUE(tests::WriteTestFile(dir_ + "/ca.crt", server_ca.cert_pem).ok());
    ASSERT_TRUE(tests::WriteTestFile(dir_ + "/tls.crt", serving.cert_pem).ok());
    ASSERT_TRUE(tests::WriteTestFile(dir_ + "/tls.key", serving.key_pem).ok());
    tests::FakeKubeApiServerOptions o;
    o.tls_cert_file = dir_ + "/tls.crt";
    o.tls_key_file = dir_ + "/tls.key";
    o.ca_file = dir_ + "/ca.crt";
    auto kube = tests::FakeKubeApiServer::Start(o);
    ASSERT_TRUE(kube.ok()) << kube.status();
    kube_ = std::move(*kube);
    ASSERT_TRUE(tests::WriteTestFile(dir_ + "/kubeconfig", absl::StrCat(R"(apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: )",
                                                                        kube_->url(), R"(
    certificate-authority: ca.crt
users:
- name: adapter
  user:
    token: adapter-sa-token
contexts:
- name: test
  context: {cluster: test, user: adapter}
current-context: test
)"))
                    .ok());
    proxy_ca_ = *tests::MakeCa("front-proxy-ca");
    std::string cm = absl::StrCat(
        R"({"configmaps": {"kube-system/extension-apiserver-authentication": {)",
        R"("requestheader-client-ca-file": )", Quote(proxy_ca_.cert_pem), ",",
        R"("requestheader-allowed-names": "[\"front-proxy-client\"]",)",
        R"("requestheader-username-headers": "[\"X-Remote-User\"]",)",
        R"("requestheader-group-headers": "[\"X-Remote-Group\"]",)",
        R"("requestheader-extra-headers-prefix": "[\"X-Remote-Extra-\"]"}},)",
        R"("bearer_token": "adapter-sa-token",)",
        R"("sar_rules": [{"user": "system:kube-controller-manager", "allowed": true}]})");
    ASSERT_TRUE(kube_->Configure(cm).ok());
    flags_.authentication_kubeconfig = dir_ + "/kubeconfig";
    flags_.authorization_kubeconfig = dir_ + "/kubeconfig";
    flags_.in_cluster.host = "";
    flags_.in_cluster.token_file = "/nonexistent";
  }

  static std::string Quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    return out + "\"";
  }

  std::string dir_;
  base::FakeClock clock_{absl::Now()};
  std::unique_ptr<tests::FakeKubeApiServer> kube_;
  tests::TestCert proxy_ca_;
  AuthFlags flags_;
};

TEST_F(AuthStackTest, ReadsTheConfigMapAndAuthenticatesTheFrontProxy) {
  absl::StatusOr<std::unique_ptr<AuthStack>> stack = MakeAuthStack(flags_, &clock_);
  ASSERT_TRUE(stack.ok()) << stack.status();
  EXPECT_EQ((*stack)->config().requestheader_ca_pem, proxy_ca_.cert_pem);
  EXPECT_THAT((*stack)->config().requestheader_allowed_names, ElementsAre("front-proxy-client"));
  EXPECT_EQ((*stack)->client_ca_pems().size(), 1u);

  tests::LeafSpec spec;
  spec.common_name = "front-proxy-client";
  Request r;
  r.peer_cert_der = tests::MakeLeaf(proxy_ca_, spec)->cert_der;
  AddHeader(&r, "x-remote-user", "system:kube-controller-manager");
  absl::StatusOr<UserInfo> u = (*stack)->authenticator->Authenticate(r);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE((*stack)->authorizer->Authorize(*u, ExternalList("prod", "queue_depth")).ok());
  auto recorded = kube_->Requests();
  ASSERT_TRUE(recorded.ok());
  ASSERT_EQ(recorded->size(), 2u);
  EXPECT_EQ((*recorded)[0].path,
            "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
  EXPECT_EQ((*recorded)[1].path, kSars);
  EXPECT_EQ((*recorded)[1].authorization, "Bearer adapter-sa-token");
}

TEST_F(AuthStackTest, RefreshPicksUpARotatedFrontProxyCa) {
  absl::StatusOr<std::unique_ptr<AuthStack>> stack = MakeAuthStack(flags_, &clock_);
  ASSERT_TRUE(stack.ok()) << stack.status();
  tests::TestCert rotated = *tests::MakeCa("front-proxy-ca-2");
  tests::LeafSpec spec;
  spec.common_name = "front-proxy-client";
  Request r;
  r.peer_cert_der = tests::MakeLeaf(rotated, spec)->cert_der;
  AddHeader(&r, "x-remote-user", "system:kube-controller-manager");
  EXPECT_EQ((*stack)->authenticator->Authenticate(r).status().code(),
            absl::StatusCode::kUnauthenticated);

  ASSERT_TRUE(
      kube_
          ->Configure(absl::StrCat(
              R"({"configmaps": {"kube-system/extension-apiserver-authentication": {)",
              R"("requestheader-client-ca-file": )", Quote(rotated.cert_pem + proxy_ca_.cert_pem),
              ",", R"("requestheader-allowed-names": "[\"front-proxy-client\"]"}}})"))
          .ok());
  ASSERT_TRUE((*stack)->Refresh().ok());
  EXPECT_TRUE((*stack)->authenticator->Authenticate(r).ok());
  EXPECT_EQ((*stack)->client_ca_pems().size(), 1u);

  // A failed refresh keeps the configuration that works.
  ASSERT_TRUE(kube_->Configure(R"({"faults": {"configmaps": {"status": 500}}})").ok());
  EXPECT_EQ((*stack)->Refresh().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE((*stack)->authenticator->Authenticate(r).ok());
  (*stack)->StartRefresh(absl::Milliseconds(10));  // the thread stops with the stack
}

TEST_F(AuthStackTest, LookupFailureStopsStartUnlessTolerated) {
  ASSERT_TRUE(kube_->Configure(R"({"faults": {"configmaps": {"status": 403}}})").ok());
  absl::StatusOr<std::unique_ptr<AuthStack>> stack = MakeAuthStack(flags_, &clock_);
  EXPECT_EQ(stack.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(stack.status().message(), HasSubstr("extension-apiserver-authentication"));
  flags_.tolerate_lookup_failure = true;
  EXPECT_TRUE(MakeAuthStack(flags_, &clock_).ok());
  flags_.tolerate_lookup_failure = false;
  flags_.skip_lookup = true;
  EXPECT_TRUE(MakeAuthStack(flags_, &clock_).ok());
}

TEST_F(AuthStackTest, FlagsWinOverTheConfigMapAndBadFilesAreErrors) {
  tests::TestCert local = *tests::MakeCa("local-proxy-ca");
  ASSERT_TRUE(tests::WriteTestFile(dir_ + "/proxy.crt", local.cert_pem).ok());
  flags_.requestheader_client_ca_file = dir_ + "/proxy.crt";
  flags_.requestheader_allowed_names = {"aggregator"};
  absl::StatusOr<std::unique_ptr<AuthStack>> stack = MakeAuthStack(flags_, &clock_);
  ASSERT_TRUE(stack.ok()) << stack.status();
  EXPECT_EQ((*stack)->config().requestheader_ca_pem, local.cert_pem);
  EXPECT_THAT((*stack)->config().requestheader_allowed_names, ElementsAre("aggregator"));

  flags_.client_ca_file = dir_ + "/missing.crt";
  EXPECT_EQ(MakeAuthStack(flags_, &clock_).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(tests::WriteTestFile(dir_ + "/garbage.crt", "not pem").ok());
  flags_.client_ca_file = dir_ + "/garbage.crt";
  EXPECT_EQ(MakeAuthStack(flags_, &clock_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthStackTest, WithoutAnyKubernetesApiOnlyAlwaysAllowedPassesAndTokensFail) {
  AuthFlags f;
  f.in_cluster.token_file = "/nonexistent";
  unsetenv("KUBERNETES_SERVICE_HOST");
  f.skip_lookup = true;
  absl::StatusOr<std::unique_ptr<AuthStack>> stack = MakeAuthStack(f, &clock_);
  ASSERT_TRUE(stack.ok()) << stack.status();
  Request r = WithToken("anything");
  EXPECT_EQ((*stack)->authenticator->Authenticate(r).status().code(),
            absl::StatusCode::kUnauthenticated);
  UserInfo bob{"bob", {"system:authenticated"}, {}};
  EXPECT_EQ((*stack)->authorizer->Authorize(bob, ExternalList("prod", "m")).code(),
            absl::StatusCode::kPermissionDenied);
  Attributes live;
  live.path = "/livez";
  EXPECT_TRUE((*stack)->authorizer->Authorize(bob, live).ok());
}

}  // namespace
}  // namespace adapter::auth
