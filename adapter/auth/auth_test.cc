// Unit tests of the delegating authenticator/authorizer with in-process certificates and a
// fake Kubernetes AuthApi (the same paths against a real test API server are exercised in
// tests/auth/).
#include "adapter/auth/auth.h"

#include <deque>
#include <thread>

#include "absl/strings/str_cat.h"

#include "base/clock.h"
#include "clients/kube/auth_api.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_certs.h"

namespace adapter::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeAuthApi : public clients::kube::AuthApi {
 public:
  absl::StatusOr<clients::kube::TokenReviewStatus> ReviewToken(
      const std::string& token, const std::vector<std::string>& audiences) override {
    ++token_calls;
    if (!token_error.ok()) return token_error;
    clients::kube::TokenReviewStatus s;
    auto it = tokens.find(token);
    if (it == tokens.end()) {
      s.error = "invalid token";
      return s;
    }
    s.authenticated = true;
    s.user = it->second;
    return s;
  }
  absl::StatusOr<clients::kube::SubjectAccessReviewStatus> ReviewAccess(
      const clients::kube::SubjectAccessReviewSpec& spec) override {
    ++sar_calls;
    last_sar = spec;
    if (!sar_error.ok()) return sar_error;
    return sar_status;
  }
  absl::StatusOr<std::map<std::string, std::string>> GetConfigMapData(const std::string&,
                                                                      const std::string&) override {
    return absl::NotFoundError("no");
  }

  std::map<std::string, clients::kube::ReviewedUser> tokens;
  absl::Status token_error;
  clients::kube::SubjectAccessReviewStatus sar_status;
  absl::Status sar_error;
  clients::kube::SubjectAccessReviewSpec last_sar;
  int token_calls = 0, sar_calls = 0;
};

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ca_ = *tests::MakeCa("front-proxy-ca");
    client_ca_ = *tests::MakeCa("kubernetes-ca");
    config_.requestheader_ca_pem = proxy_ca_.cert_pem;
    config_.requestheader_allowed_names = {"front-proxy-client"};
    config_.client_ca_pem = client_ca_.cert_pem;
  }

  std::string Leaf(const tests::TestCert& ca, const std::string& cn,
                   std::vector<std::string> orgs = {}) {
    tests::LeafSpec spec;
    spec.common_name = cn;
    spec.organizations = std::move(orgs);
    return tests::MakeLeaf(ca, spec)->cert_der;
  }

  std::unique_ptr<Authenticator> Authn() {
    auto a = MakeAuthenticator(config_, &api_, &clock_);
    EXPECT_TRUE(a.ok()) << a.status();
    return std::move(*a);
  }
  std::unique_ptr<Authorizer> Authz() {
    return std::move(*MakeAuthorizer(config_, &api_, &clock_));
  }

  static void AddHeader(Request* r, const std::string& name, const std::string& value) {
    r->headers.emplace(name, value);
    r->header_values.emplace(name, value);
  }

  base::FakeClock clock_{absl::Now()};
  tests::TestCert proxy_ca_, client_ca_;
  AuthConfig config_;
  FakeAuthApi api_;
};

TEST_F(AuthTest, FrontProxyCertWithAllowedCnTakesUserFromHeaders) {
  Request r;
  r.peer_cert_der = Leaf(proxy_ca_, "front-proxy-client");
  AddHeader(&r, "x-remote-user", "system:serviceaccount:kube-system:horizontal-pod-autoscaler");
  AddHeader(&r, "x-remote-group", "system:serviceaccounts");
  AddHeader(&r, "x-remote-group", "system:serviceaccounts:kube-system");
  AddHeader(&r, "x-remote-group", "");
  AddHeader(&r, "x-remote-extra-authentication.kubernetes.io%2fpod-name", "web-0");
  AddHeader(&r, "x-remote-extra-scopes", "a");
  AddHeader(&r, "x-remote-extra-key%41", "upper");
  AddHeader(&r, "x-remote-extra-bad%zz", "raw");
  AddHeader(&r, "x-remote-extra-scopes", "b");
  absl::StatusOr<UserInfo> u = Authn()->Authenticate(r);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->name, "system:serviceaccount:kube-system:horizontal-pod-autoscaler");
  EXPECT_THAT(u->groups, ElementsAre("system:serviceaccounts", "system:serviceaccounts:kube-system",
                                     "system:authenticated"));
  EXPECT_THAT(u->extra.at("authentication.kubernetes.io/pod-name"), ElementsAre("web-0"));
  EXPECT_THAT(u->extra.at("scopes"), ElementsAre("a", "b"));
  EXPECT_THAT(u->extra.at("keyA"), ElementsAre("upper"));
  EXPECT_THAT(u->extra.at("bad%zz"), ElementsAre("raw"));
}

TEST_F(AuthTest, FrontProxyCnNotAllowedIsUnauthenticated) {
  Request r;
  r.peer_cert_der = Leaf(proxy_ca_, "someone-else");
  AddHeader(&r, "x-remote-user", "admin");
  AddHeader(&r, "x-remote-group", "system:masters");
  EXPECT_EQ(Authn()->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, EmptyAllowedNamesAcceptsAnyCnFromTheProxyCa) {
  config_.requestheader_allowed_names.clear();
  Request r;
  r.peer_cert_der = Leaf(proxy_ca_, "anything");
  AddHeader(&r, "x-remote-user", "bob");
  EXPECT_EQ(Authn()->Authenticate(r)->name, "bob");
}

TEST_F(AuthTest, HeadersAreIgnoredWithoutAProxyCertificate) {
  Request r;
  AddHeader(&r, "x-remote-user", "admin");
  AddHeader(&r, "x-remote-group", "system:masters");
  EXPECT_EQ(Authn()->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
  // A valid *client-CA* cert does not make the headers count either.
  r.peer_cert_der = Leaf(client_ca_, "front-proxy-client");
  absl::StatusOr<UserInfo> u = Authn()->Authenticate(r);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "front-proxy-client");
  EXPECT_THAT(u->groups, ElementsAre("system:authenticated"));
}

TEST_F(AuthTest, ClientCaCertGivesUserFromCnAndGroupsFromO) {
  Request r;
  r.peer_cert_der = Leaf(client_ca_, "jane", {"devs", "ops"});
  absl::StatusOr<UserInfo> u = Authn()->Authenticate(r);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->name, "jane");
  EXPECT_THAT(u->groups, ElementsAre("devs", "ops", "system:authenticated"));
}

TEST_F(AuthTest, CertFromWrongCaIsUnauthenticated) {
  tests::TestCert other = *tests::MakeCa("evil-ca");
  Request r;
  r.peer_cert_der = Leaf(other, "front-proxy-client");
  AddHeader(&r, "x-remote-user", "admin");
  EXPECT_EQ(Authn()->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
  r.peer_cert_der = "not a certificate";
  EXPECT_EQ(Authn()->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, ExpiredCertIsUnauthenticatedByTheInjectedClock) {
  Request r;
  r.peer_cert_der = Leaf(client_ca_, "jane");
  EXPECT_TRUE(Authn()->Authenticate(r).ok());
  clock_.Advance(absl::Hours(24 * 400));  // past not_after (one year)
  EXPECT_EQ(Authn()->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, CertWithoutClientAuthUsageIsRejected) {
  tests::LeafSpec spec;
  spec.common_name = "server";
  spec.client_auth = false;
  spec.server_auth = true;
  Request r;
  r.peer_cert_der = tests::MakeLeaf(client_ca_, spec)->cert_der;
  EXPECT_EQ(Authn()->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, IntermediateSentByTheClientCompletesTheChain) {
  tests::LeafSpec ispec;
  ispec.common_name = "intermediate";
  ispec.is_ca = true;
  ispec.client_auth = false;
  tests::TestCert inter = *tests::MakeLeaf(client_ca_, ispec);
  Request r;
  r.peer_cert_der = Leaf(inter, "deep");
  EXPECT_FALSE(Authn()->Authenticate(r).ok());
  r.peer_chain_der = {inter.cert_der};
  EXPECT_EQ(Authn()->Authenticate(r)->name, "deep");
}

TEST_F(AuthTest, NoCredentialsIsUnauthenticated) {
  EXPECT_EQ(Authn()->Authenticate(Request{}).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, BearerTokenReviewedAndCachedTenSeconds) {
  api_.tokens["good"] = {"alice", "uid-1", {"devs"}, {}};
  auto authn = Authn();
  Request r;
  AddHeader(&r, "authorization", "Bearer good");
  absl::StatusOr<UserInfo> u = authn->Authenticate(r);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->uid, "uid-1");
  EXPECT_THAT(u->groups, ElementsAre("devs", "system:authenticated"));
  clock_.Advance(absl::Seconds(9));
  EXPECT_TRUE(authn->Authenticate(r).ok());
  EXPECT_EQ(api_.token_calls, 1);
  clock_.Advance(absl::Seconds(1));
  api_.tokens.clear();  // revoked
  EXPECT_EQ(authn->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(api_.token_calls, 2);
  // Negative results are cached too.
  EXPECT_FALSE(authn->Authenticate(r).ok());
  EXPECT_EQ(api_.token_calls, 2);
}

TEST_F(AuthTest, TokenReviewFailureFailsClosedAndIsNotCached) {
  api_.token_error = absl::UnavailableError("connection refused");
  auto authn = Authn();
  Request r;
  AddHeader(&r, "authorization", "Bearer x");
  EXPECT_EQ(authn->Authenticate(r).status().code(), absl::StatusCode::kUnavailable);
  api_.token_error = absl::OkStatus();
  api_.tokens["x"] = {"bob", "", {}, {}};
  EXPECT_EQ(authn->Authenticate(r)->name, "bob");
}

TEST_F(AuthTest, TokenWithoutApiIsUnauthenticated) {
  auto authn = *MakeAuthenticator(config_, nullptr, &clock_);
  Request r;
  AddHeader(&r, "authorization", "Bearer x");
  EXPECT_EQ(authn->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthTest, BadCaBundleIsInvalidArgument) {
  config_.client_ca_pem = "garbage";
  EXPECT_EQ(MakeAuthenticator(config_, &api_, &clock_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

Attributes ExternalList() {
  Attributes a;
  a.resource_request = true;
  a.verb = "list";
  a.group = "external.metrics.k8s.io";
  a.version = "v1beta1";
  a.resource = "queue_depth";
  a.namespace_name = "prod";
  return a;
}

TEST_F(AuthTest, AuthorizerSendsContractSarAndCachesBothAnswers) {
  auto authz = Authz();
  UserInfo hpa{"system:serviceaccount:kube-system:horizontal-pod-autoscaler",
               {"system:serviceaccounts", "system:authenticated"},
               {},
               "5c0e"};
  api_.sar_status.allowed = true;
  EXPECT_TRUE(authz->Authorize(hpa, ExternalList()).ok());
  EXPECT_TRUE(api_.last_sar.is_resource);
  EXPECT_EQ(api_.last_sar.resource.namespace_name, "prod");
  EXPECT_EQ(api_.last_sar.resource.verb, "list");
  EXPECT_EQ(api_.last_sar.resource.group, "external.metrics.k8s.io");
  EXPECT_EQ(api_.last_sar.resource.resource, "queue_depth");
  EXPECT_EQ(api_.last_sar.user, hpa.name);
  EXPECT_EQ(api_.last_sar.uid, "5c0e");
  EXPECT_EQ(api_.last_sar.groups, hpa.groups);
  clock_.Advance(absl::Seconds(9));
  EXPECT_TRUE(authz->Authorize(hpa, ExternalList()).ok());
  EXPECT_EQ(api_.sar_calls, 1);
  clock_.Advance(absl::Seconds(1));
  api_.sar_status = {false, false, "no RBAC rule", ""};
  absl::Status denied = authz->Authorize(hpa, ExternalList());
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "queue_depth.external.metrics.k8s.io is forbidden: User "
            "\"system:serviceaccount:kube-system:horizontal-pod-autoscaler\" cannot list resource "
            "\"queue_depth\" in API group \"external.metrics.k8s.io\" in the namespace \"prod\": "
            "no RBAC rule");
  EXPECT_EQ(api_.sar_calls, 2);
  EXPECT_FALSE(authz->Authorize(hpa, ExternalList()).ok());
  EXPECT_EQ(api_.sar_calls, 2);
}

TEST_F(AuthTest, MastersAndHealthPathsSkipTheReview) {
  auto authz = Authz();
  UserInfo aggregator{"system:kube-aggregator", {"system:masters", "system:authenticated"}, {}};
  EXPECT_TRUE(authz->Authorize(aggregator, ExternalList()).ok());
  UserInfo anon{"system:anonymous", {"system:unauthenticated"}, {}};
  Attributes health;
  health.path = "/healthz";
  EXPECT_TRUE(authz->Authorize(anon, health).ok());
  EXPECT_EQ(api_.sar_calls, 0);
  EXPECT_EQ(authz->Authorize(anon, ExternalList()).code(), absl::StatusCode::kPermissionDenied);
  Attributes discovery;
  discovery.path = "/apis/external.metrics.k8s.io/v1beta1";
  EXPECT_EQ(authz->Authorize(anon, discovery).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(api_.sar_calls, 0);
}

TEST_F(AuthTest, NonResourceSarAndPrefixAllowPaths) {
  config_.always_allow_paths = {"/metrics*"};
  auto authz = Authz();
  UserInfo u{"bob", {"system:authenticated"}, {}};
  Attributes m;
  m.path = "/metrics/extra";
  EXPECT_TRUE(authz->Authorize(u, m).ok());
  Attributes d;
  d.path = "/apis/custom.metrics.k8s.io/v1beta2";
  api_.sar_status.allowed = true;
  EXPECT_TRUE(authz->Authorize(u, d).ok());
  EXPECT_FALSE(api_.last_sar.is_resource);
  EXPECT_EQ(api_.last_sar.non_resource.path, "/apis/custom.metrics.k8s.io/v1beta2");
  EXPECT_EQ(api_.last_sar.non_resource.verb, "get");
}

TEST_F(AuthTest, SarFailureIsInternalAndNotCached) {
  auto authz = Authz();
  UserInfo u{"bob", {"system:authenticated"}, {}};
  api_.sar_error = absl::UnavailableError("down");
  EXPECT_EQ(authz->Authorize(u, ExternalList()).code(), absl::StatusCode::kInternal);
  api_.sar_error = absl::OkStatus();
  api_.sar_status.allowed = true;
  EXPECT_TRUE(authz->Authorize(u, ExternalList()).ok());
}

TEST_F(AuthTest, DeniedWinsOverAllowedAndNoApiForbids) {
  auto authz = Authz();
  UserInfo u{"bob", {"system:authenticated"}, {}};
  api_.sar_status = {true, true, "", ""};
  EXPECT_EQ(authz->Authorize(u, ExternalList()).code(), absl::StatusCode::kPermissionDenied);
  auto none = *MakeAuthorizer(config_, nullptr, &clock_);
  EXPECT_EQ(none->Authorize(u, ExternalList()).code(), absl::StatusCode::kPermissionDenied);
}

TEST(ForbiddenMessageTest, MatchesKubernetesWording) {
  UserInfo u{"bob", {}, {}};
  Attributes a;
  a.resource_request = true;
  a.verb = "get";
  a.group = "custom.metrics.k8s.io";
  a.resource = "nodes";
  a.name = "node-1";
  a.subresource = "node_load";
  EXPECT_EQ(ForbiddenMessage(u, a, ""),
            "nodes.custom.metrics.k8s.io \"node-1\" is forbidden: User \"bob\" cannot get "
            "resource \"nodes/node_load\" in API group \"custom.metrics.k8s.io\" at the cluster "
            "scope");
  Attributes p;
  p.path = "/openapi/v2";
  EXPECT_EQ(ForbiddenMessage(u, p, ""), "forbidden: User \"bob\" cannot get path \"/openapi/v2\"");
}

TEST(ConfigMapTest, ParsesListsAndKeepsDefaults) {
  absl::StatusOr<AuthConfig> c = LoadAuthConfigFromConfigMap({
      {"client-ca-file", "CLIENT PEM"},
      {"requestheader-client-ca-file", "PROXY PEM"},
      {"requestheader-allowed-names", "[\"front-proxy-client\"]"},
      {"requestheader-username-headers", "[\"X-Remote-User\",\"X-Other\"]"},
      {"requestheader-group-headers", ""},
  });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->client_ca_pem, "CLIENT PEM");
  EXPECT_EQ(c->requestheader_ca_pem, "PROXY PEM");
  EXPECT_THAT(c->requestheader_allowed_names, ElementsAre("front-proxy-client"));
  EXPECT_THAT(c->requestheader_username_headers, ElementsAre("X-Remote-User", "X-Other"));
  EXPECT_THAT(c->requestheader_group_headers, ElementsAre("X-Remote-Group"));
  EXPECT_THAT(c->requestheader_extra_headers_prefix, ElementsAre("X-Remote-Extra-"));
  EXPECT_THAT(c->always_allow_paths, ElementsAre("/healthz", "/readyz", "/livez"));
  EXPECT_EQ(c->token_cache_ttl, absl::Seconds(10));

  absl::StatusOr<AuthConfig> bad =
      LoadAuthConfigFromConfigMap({{"requestheader-allowed-names", "front-proxy-client"}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("requestheader-allowed-names"));

  absl::StatusOr<AuthConfig> j = LoadAuthConfigFromConfigMapJson(
      R"({"kind":"ConfigMap","data":{"requestheader-allowed-names":"[]","client-ca-file":"X"}})");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->client_ca_pem, "X");
  EXPECT_TRUE(j->requestheader_allowed_names.empty());
}

}  // namespace
}  // namespace adapter::auth

namespace adapter::auth {
namespace {

TEST_F(AuthTest, CountersTrackDecisionsAndFailures) {
  AuthCounters counters;
  api_.tokens["good"] = {"alice", "", {}, {}};
  auto authn = *MakeAuthenticator(config_, &api_, &clock_, &counters);
  auto authz = *MakeAuthorizer(config_, &api_, &clock_, &counters);
  Request good;
  AddHeader(&good, "authorization", "Bearer good");
  Request cert;
  cert.peer_cert_der = Leaf(client_ca_, "jane");
  UserInfo alice = *authn->Authenticate(good);
  EXPECT_TRUE(authn->Authenticate(good).ok());
  EXPECT_TRUE(authn->Authenticate(cert).ok());
  EXPECT_FALSE(authn->Authenticate(Request{}).ok());
  api_.sar_status.allowed = true;
  EXPECT_TRUE(authz->Authorize(alice, ExternalList()).ok());
  EXPECT_TRUE(authz->Authorize(alice, ExternalList()).ok());
  api_.sar_error = absl::UnavailableError("down");
  Attributes other = ExternalList();
  other.namespace_name = "other";
  EXPECT_FALSE(authz->Authorize(alice, other).ok());
  EXPECT_EQ(counters.token, 2);
  EXPECT_EQ(counters.token_reviews, 1);
  EXPECT_EQ(counters.token_cache_hits, 1);
  EXPECT_EQ(counters.client_cert, 1);
  EXPECT_EQ(counters.unauthenticated, 1);
  EXPECT_EQ(counters.allowed, 2);
  EXPECT_EQ(counters.access_reviews, 2);
  EXPECT_EQ(counters.access_cache_hits, 1);
  EXPECT_EQ(counters.authz_errors, 1);
}

}  // namespace
}  // namespace adapter::auth

namespace adapter::auth {
namespace {

// A thread-safe AuthApi: every token is valid, every review allowed.
class AllowAllApi : public clients::kube::AuthApi {
 public:
  absl::StatusOr<clients::kube::TokenReviewStatus> ReviewToken(
      const std::string& token, const std::vector<std::string>&) override {
    calls.fetch_add(1);
    clients::kube::TokenReviewStatus s;
    s.authenticated = true;
    s.user.username = token;
    return s;
  }
  absl::StatusOr<clients::kube::SubjectAccessReviewStatus> ReviewAccess(
      const clients::kube::SubjectAccessReviewSpec&) override {
    calls.fetch_add(1);
    clients::kube::SubjectAccessReviewStatus s;
    s.allowed = true;
    return s;
  }
  absl::StatusOr<std::map<std::string, std::string>> GetConfigMapData(const std::string&,
                                                                       const std::string&) override {
    return absl::NotFoundError("no");
  }
  std::atomic<int> calls{0};
};

TEST_F(AuthTest, ConcurrentRequestsAreSafe) {
  AllowAllApi api;
  AuthCounters counters;
  auto authn = *MakeAuthenticator(config_, &api, &clock_, &counters);
  auto authz = *MakeAuthorizer(config_, &api, &clock_, &counters);
  std::string proxy = Leaf(proxy_ca_, "front-proxy-client");
  std::string client = Leaf(client_ca_, "jane");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Request r;
        switch ((t + i) % 3) {
          case 0:
            r.peer_cert_der = proxy;
            AddHeader(&r, "x-remote-user", absl::StrCat("u", i % 7));
            break;
          case 1:
            r.peer_cert_der = client;
            break;
          default:
            AddHeader(&r, "authorization", absl::StrCat("Bearer t", i % 5));
        }
        absl::StatusOr<UserInfo> u = authn->Authenticate(r);
        ASSERT_TRUE(u.ok()) << u.status();
        Attributes a = ExternalList();
        a.namespace_name = absl::StrCat("ns", i % 3);
        ASSERT_TRUE(authz->Authorize(*u, a).ok());
        if (i % 50 == 0) clock_.Advance(absl::Seconds(3));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counters.allowed, 1600);
  EXPECT_EQ(counters.front_proxy + counters.client_cert + counters.token, 1600);
  EXPECT_LT(api.calls.load(), 1600);  // the caches absorb most reviews
}

}  // namespace
}  // namespace adapter::auth
