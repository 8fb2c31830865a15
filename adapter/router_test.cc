#include "adapter/router.h"

#include "gtest/gtest.h"

namespace adapter {
namespace {

Route Ok(absl::string_view method, absl::string_view path, absl::string_view query = "") {
  Route r;
  RouteError e;
  EXPECT_TRUE(RouteRequest(method, path, query, &r, &e)) << path << ": " << e.message;
  return r;
}

RouteError Fails(absl::string_view method, absl::string_view path, absl::string_view query = "") {
  Route r;
  RouteError e{0, "", ""};
  EXPECT_FALSE(RouteRequest(method, path, query, &r, &e)) << path;
  return e;
}

TEST(RouterTest, PercentDecoding) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%3Db+c", true, &out));
  EXPECT_EQ(out, "a=b c");
  EXPECT_TRUE(PercentDecode("a%3db+c", false, &out));
  EXPECT_EQ(out, "a=b+c");
  EXPECT_FALSE(PercentDecode("%", true, &out));
  EXPECT_FALSE(PercentDecode("%4", true, &out));
  EXPECT_FALSE(PercentDecode("%zz", true, &out));
  EXPECT_FALSE(PercentDecode("a%00b", true, &out));
}

TEST(RouterTest, QueryFirstValueWinsAndPlusIsSpace) {
  std::map<std::string, std::string> q;
  ASSERT_TRUE(ParseQuery(
      "labelSelector=env+in+%28prod%2Cstage%29%2Cqueue%3Dorders&labelSelector=x&timeout=32s", &q));
  EXPECT_EQ(q["labelSelector"], "env in (prod,stage),queue=orders");
  EXPECT_EQ(q["timeout"], "32s");
}

TEST(RouterTest, ExternalMetric) {
  Route r = Ok("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/queue_depth",
               "labelSelector=queue%3Dorders");
  EXPECT_EQ(r.kind, Route::Kind::kExternalMetric);
  EXPECT_EQ(r.namespace_name, "prod");
  EXPECT_EQ(r.metric, "queue_depth");
  EXPECT_EQ(r.label_selector, "queue=orders");
  EXPECT_TRUE(r.attributes.resource_request);
  EXPECT_EQ(r.attributes.verb, "list");
  EXPECT_EQ(r.attributes.resource, "queue_depth");
  EXPECT_EQ(r.attributes.namespace_name, "prod");
  EXPECT_EQ(r.attributes.group, "external.metrics.k8s.io");
  EXPECT_EQ(r.attributes.version, "v1beta1");
}

TEST(RouterTest, CustomMetricShapes) {
  Route r = Ok(
      "GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/prod/deployments.apps/web/queue_lag");
  EXPECT_EQ(r.kind, Route::Kind::kCustomMetric);
  EXPECT_EQ(r.resource, "deployments.apps");
  EXPECT_EQ(r.name, "web");
  EXPECT_EQ(r.metric, "queue_lag");
  EXPECT_EQ(r.attributes.verb, "get");
  EXPECT_EQ(r.attributes.resource, "deployments.apps");
  EXPECT_EQ(r.attributes.subresource, "queue_lag");

  r = Ok("GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/prod/pods/*/http_rps",
         "labelSelector=app%3Dweb");
  EXPECT_EQ(r.name, "*");
  EXPECT_EQ(r.attributes.name, "*");
  EXPECT_EQ(r.label_selector, "app=web");

  r = Ok("GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/prod/metrics/http_rps");
  EXPECT_EQ(r.resource, "namespaces");
  EXPECT_EQ(r.name, "prod");
  EXPECT_EQ(r.attributes.resource, "metrics");
  EXPECT_EQ(r.attributes.name, "http_rps");

  r = Ok("GET", "/apis/custom.metrics.k8s.io/v1beta2/nodes/node-1/node_load");
  EXPECT_EQ(r.resource, "nodes");
  EXPECT_EQ(r.attributes.namespace_name, "");
  EXPECT_EQ(r.attributes.subresource, "node_load");
}

TEST(RouterTest, DiscoveryAndHealth) {
  EXPECT_EQ(Ok("GET", "/apis").kind, Route::Kind::kApis);
  EXPECT_EQ(Ok("GET", "/apis/").kind, Route::Kind::kApis);
  EXPECT_EQ(Ok("GET", "/apis/custom.metrics.k8s.io").kind, Route::Kind::kApiGroup);
  Route r = Ok("GET", "/apis/external.metrics.k8s.io/v1beta1");
  EXPECT_EQ(r.kind, Route::Kind::kApiResourceList);
  EXPECT_FALSE(r.attributes.resource_request);
  EXPECT_EQ(r.attributes.path, "/apis/external.metrics.k8s.io/v1beta1");
  EXPECT_EQ(Ok("HEAD", "/healthz").kind, Route::Kind::kHealthz);
  EXPECT_EQ(Ok("GET", "/readyz").kind, Route::Kind::kReadyz);
  EXPECT_EQ(Ok("GET", "/version").kind, Route::Kind::kVersion);
  Route m = Ok("GET", "/metrics");
  EXPECT_EQ(m.kind, Route::Kind::kMetrics);
  EXPECT_FALSE(m.attributes.resource_request);
  EXPECT_EQ(m.attributes.path, "/metrics");
  EXPECT_EQ(Ok("GET", "/openapi/v2").kind, Route::Kind::kOpenApiV2);
  EXPECT_EQ(Ok("GET", "/openapi/v3/apis/custom.metrics.k8s.io/v1beta2").kind,
            Route::Kind::kOpenApiV3);
}

TEST(RouterTest, Errors) {
  EXPECT_EQ(Fails("GET", "/nope").code, 404);
  EXPECT_EQ(Fails("GET", "/apis/apps/v1").code, 404);
  EXPECT_EQ(Fails("GET", "/apis/external.metrics.k8s.io/v2").code, 404);
  EXPECT_EQ(Fails("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod").code, 404);
  EXPECT_EQ(Fails("POST", "/apis").code, 405);
  EXPECT_EQ(Fails("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/p/m", "watch=true").code,
            405);
  EXPECT_EQ(Fails("GET", "/apis/../etc/passwd").code, 400);
  EXPECT_EQ(Fails("GET", "/apis/%2e%2e/x").code, 400);
  EXPECT_EQ(Fails("GET", "/apis//x").code, 400);
  EXPECT_EQ(Fails("GET", "/apis/a%2Fb").code, 400);
  EXPECT_EQ(Fails("GET", "/apis/%zz").code, 400);
  EXPECT_EQ(Fails("GET", "/apis", "a=%").code, 400);
  EXPECT_EQ(Fails("GET", "").code, 400);
  EXPECT_EQ(Fails("GET", "*").code, 400);
}

TEST(RouterTest, PercentEncodedSegmentsAreDecoded) {
  Route r = Ok("GET", "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/queue%7Cdepth");
  EXPECT_EQ(r.metric, "queue|depth");
}

}  // namespace
}  // namespace adapter
