#include "clients/kube/auth_api.h"

#include "gtest/gtest.h"
#include "tests/kube_api_server/fake_kube_api_server.h"

namespace clients::kube {
namespace {

TEST(AuthApiJsonTest, SubjectAccessReviewMatchesContractShape) {
  SubjectAccessReviewSpec spec;
  spec.resource = {"prod", "list", "external.metrics.k8s.io", "v1beta1", "queue_depth", "", ""};
  spec.user = "system:serviceaccount:kube-system:horizontal-pod-autoscaler";
  spec.groups = {"system:serviceaccounts", "system:authenticated"};
  EXPECT_EQ(SubjectAccessReviewJson(spec),
            R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",)"
            R"("spec":{"resourceAttributes":{"namespace":"prod","verb":"list",)"
            R"("group":"external.metrics.k8s.io","version":"v1beta1","resource":"queue_depth"},)"
            R"("user":"system:serviceaccount:kube-system:horizontal-pod-autoscaler",)"
            R"("groups":["system:serviceaccounts","system:authenticated"]}})");
  SubjectAccessReviewSpec nr;
  nr.is_resource = false;
  nr.non_resource = {"/apis/custom.metrics.k8s.io/v1beta2", "get"};
  nr.user = "bob";
  nr.uid = "u1";
  nr.extra = {{"scopes", {"a", "b"}}};
  EXPECT_EQ(SubjectAccessReviewJson(nr),
            R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",)"
            R"("spec":{"nonResourceAttributes":{"path":"/apis/custom.metrics.k8s.io/v1beta2",)"
            R"("verb":"get"},"user":"bob","uid":"u1","groups":[],"extra":{"scopes":["a","b"]}}})");
}

TEST(AuthApiJsonTest, TokenReviewRequestAndResponse) {
  EXPECT_EQ(TokenReviewJson("t\"1", {}),
            R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",)"
            R"("spec":{"token":"t\"1"}})");
  absl::StatusOr<TokenReviewStatus> s = ParseTokenReviewResponse(
      R"({"kind":"TokenReview","status":{"authenticated":true,"user":{"username":"alice",)"
      R"("uid":"42","groups":["devs"],"extra":{"k":["v1","v2"]}},"unknown":1}})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->authenticated);
  EXPECT_EQ(s->user.username, "alice");
  EXPECT_EQ(s->user.uid, "42");
  EXPECT_EQ(s->user.groups, std::vector<std::string>({"devs"}));
  EXPECT_EQ(s->user.extra.at("k"), std::vector<std::string>({"v1", "v2"}));
  EXPECT_FALSE(ParseTokenReviewResponse("{}")->authenticated);
  EXPECT_FALSE(ParseTokenReviewResponse("not json").ok());
  EXPECT_FALSE(ParseTokenReviewResponse(R"({"kind":"Status"})").ok());
}

class AuthApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kube = tests::FakeKubeApiServer::Start({});
    ASSERT_TRUE(kube.ok()) << kube.status();
    kube_ = std::move(*kube);
    cluster_.server = kube_->url();
    cluster_.bearer_token = "adapter-sa-token";
    http_ = MakeHttpClient(cluster_);
    api_ = std::make_unique<KubeAuthApiClient>(http_.get(), cluster_);
  }
  std::unique_ptr<tests::FakeKubeApiServer> kube_;
  ClusterConfig cluster_;
  std::unique_ptr<clients::http::HttpClient> http_;
  std::unique_ptr<KubeAuthApiClient> api_;
};

TEST_F(AuthApiServerTest, ReviewsTokensAndAccess) {
  ASSERT_TRUE(kube_
                  ->Configure(R"({"bearer_token": "adapter-sa-token",
      "tokens": {"good": {"username": "alice", "groups": ["devs"]}},
      "sar_rules": [{"user": "alice", "resource": "pods", "allowed": true},
                    {"user": "alice", "denied": true, "reason": "nope"}]})")
                  .ok());
  absl::StatusOr<TokenReviewStatus> t = api_->ReviewToken("good", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->authenticated);
  EXPECT_EQ(t->user.username, "alice");
  t = api_->ReviewToken("bad", {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->authenticated);
  EXPECT_FALSE(t->error.empty());

  SubjectAccessReviewSpec spec;
  spec.user = "alice";
  spec.resource = {"prod", "get", "custom.metrics.k8s.io", "v1beta2", "pods", "http_rps", "*"};
  absl::StatusOr<SubjectAccessReviewStatus> a = api_->ReviewAccess(spec);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->allowed);
  spec.resource.resource = "nodes";
  a = api_->ReviewAccess(spec);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->allowed);
  EXPECT_TRUE(a->denied);
  EXPECT_EQ(a->reason, "nope");

  auto recorded = kube_->Requests();
  ASSERT_TRUE(recorded.ok());
  ASSERT_EQ(recorded->size(), 4u);
  EXPECT_EQ((*recorded)[0].authorization, "Bearer adapter-sa-token");
  EXPECT_EQ((*recorded)[2].body, SubjectAccessReviewJson([&] {
              SubjectAccessReviewSpec s = spec;
              s.resource.resource = "pods";
              return s;
            }()));
}

TEST_F(AuthApiServerTest, ReadsConfigMapData) {
  ASSERT_TRUE(kube_
                  ->Configure(R"({"configmaps": {"kube-system/extension-apiserver-authentication":
      {"client-ca-file": "PEM", "requestheader-allowed-names": "[\"front-proxy-client\"]"}}})")
                  .ok());
  auto data = api_->GetConfigMapData("kube-system", "extension-apiserver-authentication");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->at("client-ca-file"), "PEM");
  EXPECT_EQ(data->at("requestheader-allowed-names"), "[\"front-proxy-client\"]");
  EXPECT_EQ(api_->GetConfigMapData("kube-system", "nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AuthApiServerTest, MapsFailuresToStatusCodes) {
  ASSERT_TRUE(kube_->Configure(R"({"faults": {"tokenreviews": {"status": 500}}})").ok());
  EXPECT_EQ(api_->ReviewToken("x", {}).status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(kube_->Configure(R"({"faults": {}, "bearer_token": "something-else"})").ok());
  EXPECT_EQ(api_->ReviewToken("x", {}).status().code(), absl::StatusCode::kUnauthenticated);
  kube_->Stop();
  EXPECT_EQ(api_->ReviewAccess({}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace clients::kube

namespace clients::kube {
namespace {

TEST_F(AuthApiServerTest, SlowOrDroppedAnswersAreUnavailable) {
  KubeAuthApiClient quick(http_.get(), cluster_, absl::Milliseconds(300));
  ASSERT_TRUE(kube_->Configure(R"({"faults": {"tokenreviews": {"delay": 1.5, "count": 1},
                                              "subjectaccessreviews": {"status": "close"}}})")
                  .ok());
  EXPECT_EQ(quick.ReviewToken("x", {}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(quick.ReviewAccess({}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace clients::kube
