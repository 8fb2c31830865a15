// Against the test API server (tests/kube_api_server, standing in for kube-apiserver), which
// applies RFC 6902 JSON Patches the way the real one does (a failed "test" op is a 422).
#include "clients/kube/hpa_client.h"

#include "clients/http/curl_http_client.h"
#include "clients/kube/objects.h"
#include "gtest/gtest.h"
#include "tests/kube_api_server/fake_kube_api_server.h"

namespace clients::kube {
namespace {

TEST(HpaClientTest, PatchesOnlyTheTestedField) {
  auto server = tests::FakeKubeApiServer::Start({});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->AddObject(R"({"kind":"HorizontalPodAutoscaler",
      "apiVersion":"autoscaling/v2","metadata":{"name":"api","namespace":"shop"},
      "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"api"},
        "minReplicas":2,"maxReplicas":10,"metrics":[{"type":"Resource","resource":{"name":"cpu",
        "target":{"type":"Utilization","averageUtilization":60}}}]}})").ok());
  ClusterConfig cluster;
  cluster.server = (*server)->url();
  auto http = clients::http::MakeCurlHttpClient({});
  HpaClient hpas(http.get(), cluster);
  ASSERT_TRUE(hpas.PatchCpuUtilization("shop", "api", 0, 60, 75).ok());
  // Somebody else changed it: the test op fails and nothing is written.
  absl::Status stale = hpas.PatchCpuUtilization("shop", "api", 0, 60, 80);
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  EXPECT_EQ(hpas.PatchCpuUtilization("shop", "nope", 0, 60, 80).code(),
            absl::StatusCode::kNotFound);
  auto reqs = (*server)->Requests();
  ASSERT_TRUE(reqs.ok());
  std::string last_ok;
  for (const auto& r : *reqs) {
    if (r.method == "PATCH") last_ok = r.body;
  }
  EXPECT_NE(last_ok.find("\"op\":\"test\""), std::string::npos) << last_ok;
  // Read it back through the list endpoint.
  auto resp = http->Do({"GET", (*server)->url() +
                                   "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/api",
                        {}, "", absl::Seconds(5)});
  ASSERT_TRUE(resp.ok());
  auto hpa = ParseHorizontalPodAutoscalerJson(resp->body);
  ASSERT_TRUE(hpa.ok());
  EXPECT_EQ(hpa->metrics[0].target.average_utilization, 75);
  EXPECT_EQ(hpa->min_replicas, 2);
}

}  // namespace
}  // namespace clients::kube
