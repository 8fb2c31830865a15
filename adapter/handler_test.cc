#include "adapter/handler.h"

#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace adapter {
namespace {

// Test doubles for the auth seam: a user when the request carries "x-test-user", and an
// authorizer driven by a table of (resource -> decision).
class FakeAuthenticator : public auth::Authenticator {
 public:
  absl::StatusOr<auth::UserInfo> Authenticate(const auth::Request& r) override {
    auto it = r.headers.find("x-test-user");
    if (it == r.headers.end()) return absl::UnauthenticatedError("Unauthorized");
    return auth::UserInfo{it->second, {"system:authenticated"}, {}};
  }
};

class FakeAuthorizer : public auth::Authorizer {
 public:
  absl::Status Authorize(const auth::UserInfo& u, const auth::Attributes& a) override {
    last = a;
    if (u.name == "denied") return absl::PermissionDeniedError("forbidden: denied");
    if (u.name == "broken") return absl::UnavailableError("sar down");
    if (u.name == "system:anonymous" && a.resource_request)
      return absl::PermissionDeniedError("anon");
    return absl::OkStatus();
  }
  auth::Attributes last;
};

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest()
      : clock_(absl::FromUnixSeconds(1741083330)),  // 2025-03-04T10:15:30Z
        handler_(&table_, &authn_, &authz_, &clock_, {}) {}

  void Load() {
    std::vector<MetricPoint> points = {
        {"prod",
         "smart_cpu_pressure",
         "api",
         {{"node_pool", "general"}},
         0.85,
         clock_.Now(),
         absl::Seconds(60)},
        {"prod", "smart_cpu_pressure", "web", {}, 73.5, clock_.Now(), absl::ZeroDuration()},
        {"prod", "smart_cpu_blended", "api", {}, 2, absl::InfinitePast(), absl::ZeroDuration()},
    };
    table_.Replace(points, clock_.Now());
  }

  HttpResponse Get(const std::string& target, const std::string& user = "alice",
                   std::multimap<std::string, std::string> headers = {}) {
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    r.headers = std::move(headers);
    if (!user.empty()) r.headers.emplace("x-test-user", user);
    return handler_.Handle(r);
  }

  base::FakeClock clock_;
  MetricTable table_;
  FakeAuthenticator authn_;
  FakeAuthorizer authz_;
  Handler handler_;
};

constexpr char kExt[] = "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/";

TEST_F(HandlerTest, ExternalMetricValueList) {
  Load();
  HttpResponse r = Get(std::string(kExt) + "smart_cpu_pressure?labelSelector=deployment%3Dapi");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(
      r.body,
      R"({"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[)"
      R"({"metricName":"smart_cpu_pressure","metricLabels":{"deployment":"api","node_pool":"general"},)"
      R"("timestamp":"2025-03-04T10:15:30Z","window":60,"value":"850m"}]})");
  EXPECT_EQ(authz_.last.verb, "list");
  EXPECT_EQ(authz_.last.resource, "smart_cpu_pressure");
}

TEST_F(HandlerTest, ExternalMetricNamesAreCaseInsensitiveAndSelectorsScan) {
  Load();
  HttpResponse r =
      Get(std::string(kExt) + "SMART_CPU_PRESSURE?labelSelector=node_pool+notin+%28gpu%29");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("value":"850m")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("value":"73500m")"), std::string::npos);
  r = Get(std::string(kExt) + "smart_cpu_pressure?labelSelector=deployment%3Dnone");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("items":[]})"), std::string::npos);
}

TEST_F(HandlerTest, StaticValuesAreServedWithTheRequestTime) {
  Load();
  clock_.Advance(absl::Hours(1));
  HttpResponse r = Get(std::string(kExt) + "smart_cpu_blended");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("timestamp":"2025-03-04T11:15:30Z","value":"2")"), std::string::npos)
      << r.body;
}

TEST_F(HandlerTest, StaleValuesAre503) {
  Load();
  clock_.Advance(absl::Minutes(5) + absl::Seconds(1));
  HttpResponse r = Get(std::string(kExt) + "smart_cpu_pressure");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find(R"("reason":"ServiceUnavailable","code":503)"), std::string::npos);
  EXPECT_EQ(Get("/readyz").status, 500);
}

TEST_F(HandlerTest, NoSnapshotYetIs503AndNotReady) {
  EXPECT_EQ(Get(std::string(kExt) + "smart_cpu_pressure").status, 503);
  EXPECT_EQ(Get("/readyz", "").status, 500);
  Load();
  HttpResponse r = Get("/readyz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

TEST_F(HandlerTest, UnknownMetricIs404) {
  Load();
  HttpResponse r = Get(std::string(kExt) + "nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(
      r.body,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server could not find the metric nope for namespaces prod","reason":"NotFound","code":404})");
}

TEST_F(HandlerTest, BadSelectorIs400) {
  Load();
  HttpResponse r = Get(std::string(kExt) + "smart_cpu_pressure?labelSelector=%28x");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"(unable to parse requirement: found '(')"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("reason":"BadRequest","code":400)"), std::string::npos);
}

TEST_F(HandlerTest, AuthFailures) {
  Load();
  HttpResponse r = Get(std::string(kExt) + "smart_cpu_pressure", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find(R"("reason":"Unauthorized")"), std::string::npos);
  EXPECT_EQ(Get(std::string(kExt) + "smart_cpu_pressure", "denied").status, 403);
  EXPECT_EQ(Get(std::string(kExt) + "smart_cpu_pressure", "broken").status, 500);
  // Health probes come without credentials.
  EXPECT_EQ(Get("/healthz", "").status, 200);
  EXPECT_EQ(Get("/livez", "").body, "ok");
}

TEST_F(HandlerTest, Discovery) {
  Load();
  HttpResponse r = Get("/apis/external.metrics.k8s.io/v1beta1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[)"
      R"({"name":"smart_cpu_blended","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]},)"
      R"({"name":"smart_cpu_pressure","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]}]})");
  r = Get("/apis/custom.metrics.k8s.io/v1beta2");
  EXPECT_NE(
      r.body.find(
          R"({"name":"deployments.apps/smart_cpu_pressure","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]})"),
      std::string::npos);
  EXPECT_EQ(authz_.last.path, "/apis/custom.metrics.k8s.io/v1beta2");
  EXPECT_EQ(
      Get("/apis").body,
      R"({"kind":"APIGroupList","apiVersion":"v1","groups":[)"
      R"({"name":"custom.metrics.k8s.io","versions":[)"
      R"({"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},)"
      R"({"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
      R"("preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}},)"
      R"({"name":"external.metrics.k8s.io","versions":[)"
      R"({"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
      R"("preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}}]})");
  EXPECT_EQ(
      Get("/apis/custom.metrics.k8s.io").body,
      R"({"kind":"APIGroup","apiVersion":"v1","name":"custom.metrics.k8s.io","versions":[)"
      R"({"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},)"
      R"({"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
      R"("preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}})");
  EXPECT_EQ(
      Get("/apis/external.metrics.k8s.io").body,
      R"({"kind":"APIGroup","apiVersion":"v1","name":"external.metrics.k8s.io","versions":[)"
      R"({"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
      R"("preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}})");
  EXPECT_EQ(Get("/openapi/v2").status, 404);
  EXPECT_NE(Get("/version").body.find(R"("gitVersion":"v0.1.0")"), std::string::npos);
}

TEST_F(HandlerTest, AggregatedDiscoveryIs406) {
  HttpResponse r =
      Get("/apis", "alice",
          {{"accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"}});
  EXPECT_EQ(r.status, 406);
  EXPECT_NE(r.body.find(R"("reason":"NotAcceptable")"), std::string::npos);
  EXPECT_EQ(Get("/apis", "alice", {{"accept", "application/json"}}).status, 200);
  EXPECT_EQ(Get("/apis", "alice", {{"accept", "application/vnd.kubernetes.protobuf, */*"}}).status,
            200);
  EXPECT_EQ(Get("/apis/external.metrics.k8s.io/v1beta1", "alice",
                {{"accept", "application/vnd.kubernetes.protobuf"}})
                .status,
            406);
}

TEST_F(HandlerTest, CustomObjectMetricV1beta2AndV1beta1) {
  Load();
  HttpResponse r =
      Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/prod/deployments.apps/web/"
          "smart_cpu_pressure");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[)"
      R"({"describedObject":{"kind":"Deployment","namespace":"prod","name":"web","apiVersion":"apps/v1"},)"
      R"("metric":{"name":"smart_cpu_pressure","selector":null},"timestamp":"2025-03-04T10:15:30Z","value":"73500m"}]})");
  r = Get(
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/prod/deployments.apps/api/smart_cpu_pressure"
      "?metricLabelSelector=node_pool%3Dgeneral");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[)"
      R"({"describedObject":{"kind":"Deployment","namespace":"prod","name":"api","apiVersion":"apps/v1"},)"
      R"("metricName":"smart_cpu_pressure","timestamp":"2025-03-04T10:15:30Z","window":60,"value":"850m",)"
      R"("selector":{"matchLabels":{"node_pool":"general"}}}]})");
}

TEST_F(HandlerTest, CustomWildcardAndMisses) {
  Load();
  HttpResponse r = Get(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/prod/deployments.apps/*/smart_cpu_pressure");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("name":"api")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("name":"web")"), std::string::npos);
  EXPECT_EQ(Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/prod/deployments.apps/zzz/"
                "smart_cpu_pressure")
                .status,
            404);
  EXPECT_EQ(
      Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/prod/pods/*/smart_cpu_pressure").status,
      404);
  EXPECT_EQ(Get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/prod/deployments.apps/*/"
                "smart_cpu_pressure"
                "?labelSelector=a+in+%28")
                .status,
            400);
}

TEST_F(HandlerTest, MalformedRequestsAreCleanStatuses) {
  Load();
  EXPECT_EQ(Get("/apis/../../etc/passwd").status, 400);
  EXPECT_EQ(Get(std::string(kExt) + "%ff%fe").status, 404);
  EXPECT_EQ(Get(std::string(kExt) + "x?labelSelector=" + std::string(10000, 'a')).status, 400);
  HttpRequest post;
  post.method = "POST";
  post.target = "/apis";
  post.headers.emplace("x-test-user", "alice");
  EXPECT_EQ(handler_.Handle(post).status, 405);
  EXPECT_GT(handler_.requests_counted(), 3u);
}

// GET /metrics: authenticated and authorized like any non-resource path (no anonymous
// fallback), Prometheus' Accept header is fine, and the exposition carries the request,
// staleness and snapshot metrics.
TEST(HandlerMetricsTest, MetricsEndpointIsAuthorizedAndCountsRequests) {
  base::FakeClock clock(absl::FromUnixSeconds(1741083330));
  MetricTable table;
  FakeAuthenticator authn;
  FakeAuthorizer authz;
  prometheus::Registry registry;
  auth::AuthCounters auth_counters;
  auth_counters.token_cache_hits = 3;
  auth_counters.token_reviews = 1;
  HandlerOptions options;
  options.metrics = &registry;
  options.auth_counters = &auth_counters;
  Handler handler(&table, &authn, &authz, &clock, options);
  auto get = [&](const std::string& target, const std::string& user,
                 std::multimap<std::string, std::string> headers = {}) {
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    r.headers = std::move(headers);
    if (!user.empty()) r.headers.emplace("x-test-user", user);
    return handler.Handle(r);
  };

  EXPECT_EQ(get("/metrics", "").status, 401);
  EXPECT_EQ(get("/metrics", "denied").status, 403);
  EXPECT_FALSE(authz.last.resource_request);
  EXPECT_EQ(authz.last.path, "/metrics");
  EXPECT_EQ(authz.last.verb, "get");
  EXPECT_EQ(get(std::string(kExt) + "smart_cpu_pressure", "alice").status, 503);  // no data yet
  EXPECT_EQ(get("/no/such/thing", "alice").status, 404);

  const std::multimap<std::string, std::string> prometheus_accept = {
      {"accept",
       "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
       "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}};
  HttpResponse r = get("/metrics", "alice", prometheus_accept);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  for (const char* line : {
           "adapter_requests_total{code=\"401\",resource=\"/metrics\",verb=\"get\"} 1\n",
           "adapter_requests_total{code=\"403\",resource=\"/metrics\",verb=\"get\"} 1\n",
           "adapter_requests_total{code=\"503\",resource=\"externalmetrics\",verb=\"list\"} 1\n",
           "adapter_requests_total{code=\"404\",resource=\"unmatched\",verb=\"get\"} 1\n",
           "adapter_stale_responses_total 1\n",
           "adapter_snapshot_age_seconds +Inf\n",
           "adapter_served_series 0\n",
           "adapter_auth_cache_lookups_total{cache=\"token\",result=\"hit\"} 3\n",
           "adapter_auth_cache_lookups_total{cache=\"token\",result=\"miss\"} 1\n",
           "adapter_request_duration_seconds_count{resource=\"externalmetrics\"} 1\n",
       }) {
    EXPECT_NE(r.body.find(line), std::string::npos) << line << "\nin:\n" << r.body;
  }
  EXPECT_EQ(r.body.find("smart_cpu_pressure"), std::string::npos);  // no client-chosen labels

  table.Replace(
      {{"prod", "smart_cpu_pressure", "api", {}, 0.85, clock.Now(), absl::ZeroDuration()}},
      clock.Now());
  clock.Advance(absl::Seconds(30));
  EXPECT_EQ(get(std::string(kExt) + "smart_cpu_pressure", "alice").status, 200);
  auth_counters.token_cache_hits = 5;
  r = get("/metrics", "alice");
  for (const char* line : {
           "adapter_snapshot_age_seconds 30\n",
           "adapter_served_series 1\n",
           "adapter_requests_total{code=\"200\",resource=\"externalmetrics\",verb=\"list\"} 1\n",
           "adapter_requests_total{code=\"200\",resource=\"/metrics\",verb=\"get\"} 1\n",
           "adapter_auth_cache_lookups_total{cache=\"token\",result=\"hit\"} 5\n",
       }) {
    EXPECT_NE(r.body.find(line), std::string::npos) << line << "\nin:\n" << r.body;
  }
}

}  // namespace
}  // namespace adapter
