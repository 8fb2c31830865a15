#include "clients/kube/objects.h"

#include <fstream>
#include <sstream>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/kube_api_server/fake_kube_api_server.h"

namespace clients::kube {
namespace {

// The fixture item of `kind` named `name`, as JSON text.
std::string Fixture(const std::string& kind, const std::string& name) {
  std::ifstream f(tests::RunfilePath("tests/kube_api_server/fixtures/cluster.json"));
  std::stringstream ss;
  ss << f.rdbuf();
  rapidjson::Document doc;
  doc.Parse(ss.str().c_str());
  EXPECT_FALSE(doc.HasParseError());
  for (const auto& item : doc["items"].GetArray()) {
    if (item["kind"].GetString() == kind && item["metadata"]["name"].GetString() == name) {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      item.Accept(w);
      return buf.GetString();
    }
  }
  ADD_FAILURE() << "no fixture " << kind << " " << name;
  return "{}";
}

absl::Time T(const char* s) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, s, &t, &err)) << err;
  return t;
}

TEST(ObjectsTest, ParsesRecordedDeployment) {
  absl::StatusOr<Deployment> d = ParseDeploymentJson(Fixture("Deployment", "api-service"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->metadata.namespace_name, "shop");
  EXPECT_EQ(d->metadata.name, "api-service");
  EXPECT_EQ(d->metadata.uid, "0b7c5f3e-8a61-4d1e-9a55-2a0f4b1c9d11");
  EXPECT_EQ(d->metadata.resource_version, "48211");
  EXPECT_EQ(d->metadata.labels.at("tier"), "frontend");
  EXPECT_EQ(d->metadata.annotations.at("smart-autoscaler.io/startup-filter-minutes"), "3");
  EXPECT_EQ(d->replicas, 3);
  EXPECT_EQ(d->selector.match_labels.at("app"), "api-service");
  ASSERT_EQ(d->selector.match_expressions.size(), 1u);
  EXPECT_EQ(d->selector.match_expressions[0].op, "NotIn");
  EXPECT_EQ(d->node_selector.at("node-pool"), "general");
  ASSERT_EQ(d->containers.size(), 2u);
  EXPECT_EQ(d->containers[0].name, "api");
  EXPECT_EQ(d->containers[0].requests.cpu_millicores, 250);
  EXPECT_EQ(d->containers[0].requests.memory_bytes, 512 << 20);
  EXPECT_EQ(d->containers[0].limits.cpu_millicores, 1000);
  EXPECT_EQ(d->containers[0].limits.memory_bytes, int64_t{1} << 30);
  EXPECT_EQ(d->containers[1].limits.cpu_millicores, std::nullopt);
  EXPECT_EQ(d->TotalCpuRequestMillicores(), 300);
  EXPECT_EQ(d->ready_replicas, 3);
  EXPECT_EQ(d->metadata.creation_timestamp, T("2026-11-20T08:15:02Z"));
}

TEST(ObjectsTest, ParsesRecordedReplicaSetAndPods) {
  absl::StatusOr<ReplicaSet> rs =
      ParseReplicaSetJson(Fixture("ReplicaSet", "api-service-7d9f8b6c5"));
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ(rs->OwnerDeployment(), "api-service");
  EXPECT_EQ(rs->replicas, 3);

  absl::StatusOr<Pod> p = ParsePodJson(Fixture("Pod", "api-service-7d9f8b6c5-x2x9p"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->OwnerReplicaSet(), "api-service-7d9f8b6c5");
  EXPECT_EQ(p->node_name, "node-a");
  EXPECT_EQ(p->phase, "Running");
  EXPECT_TRUE(p->ready);
  EXPECT_EQ(p->start_time, T("2026-11-25T14:02:11Z"));
  EXPECT_EQ(p->TotalCpuRequestMillicores(), 300);

  absl::StatusOr<Pod> pending = ParsePodJson(Fixture("Pod", "api-service-7d9f8b6c5-q8kzt"));
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(pending->phase, "Pending");
  EXPECT_FALSE(pending->ready);
  EXPECT_EQ(pending->start_time, std::nullopt);
  EXPECT_EQ(pending->node_name, "");
}

TEST(ObjectsTest, ParsesRecordedNodes) {
  absl::StatusOr<Node> a = ParseNodeJson(Fixture("Node", "node-a"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->metadata.namespace_name, "");
  EXPECT_EQ(a->allocatable.cpu_millicores, 3920);
  EXPECT_EQ(a->allocatable.memory_bytes, int64_t{15634168} * 1024);
  EXPECT_EQ(a->capacity.cpu_millicores, 4000);
  EXPECT_TRUE(a->ready);
  EXPECT_FALSE(a->unschedulable);
  EXPECT_EQ(a->metadata.labels.at("node-pool"), "general");

  absl::StatusOr<Node> b = ParseNodeJson(Fixture("Node", "node-b"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(b->ready);
  EXPECT_TRUE(b->unschedulable);
  EXPECT_EQ(b->allocatable.memory_bytes, int64_t{31} << 30);
}

TEST(ObjectsTest, ParsesRecordedHpa) {
  absl::StatusOr<HorizontalPodAutoscaler> h =
      ParseHorizontalPodAutoscalerJson(Fixture("HorizontalPodAutoscaler", "api-service"));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->scale_target_ref.kind, "Deployment");
  EXPECT_EQ(h->scale_target_ref.name, "api-service");
  EXPECT_EQ(h->min_replicas, 2);
  EXPECT_EQ(h->max_replicas, 20);
  ASSERT_EQ(h->metrics.size(), 3u);
  EXPECT_EQ(h->metrics[0].type, "External");
  EXPECT_EQ(h->metrics[0].name, "smart_cpu_pressure");
  EXPECT_EQ(h->metrics[0].selector.match_labels.at("deployment"), "api-service");
  EXPECT_EQ(h->metrics[0].target.type, "Value");
  EXPECT_EQ(h->metrics[0].target.value_milli, 1000);
  EXPECT_EQ(h->metrics[1].type, "Resource");
  EXPECT_EQ(h->metrics[1].name, "cpu");
  EXPECT_EQ(h->metrics[1].target.average_utilization, 70);
  EXPECT_EQ(h->metrics[2].type, "Object");
  EXPECT_EQ(h->metrics[2].name, "smart_cpu_predicted");
  EXPECT_EQ(h->metrics[2].described_object.name, "api-service");
  EXPECT_EQ(h->metrics[2].target.value_milli, 70000);
  EXPECT_EQ(h->current_replicas, 3);
}

TEST(ObjectsTest, ParsesRecordedLeaseAndRoundTrips) {
  absl::StatusOr<Lease> l = ParseLeaseJson(Fixture("Lease", "smart-autoscaler-leader"));
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->holder_identity, "smart-autoscaler-reconciler-6c9d-abcde");
  EXPECT_EQ(l->lease_duration_seconds, 15);
  EXPECT_EQ(l->lease_transitions, 4);
  EXPECT_EQ(l->renew_time, T("2026-11-27T19:52:31.654321Z"));
  EXPECT_EQ(l->acquire_time, T("2026-11-27T19:40:01.123456Z"));
  EXPECT_EQ(l->metadata.resource_version, "48300");

  absl::StatusOr<Lease> back = ParseLeaseJson(LeaseToJson(*l));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->holder_identity, l->holder_identity);
  EXPECT_EQ(back->renew_time, l->renew_time);
  EXPECT_EQ(back->acquire_time, l->acquire_time);
  EXPECT_EQ(back->lease_duration_seconds, 15);
  EXPECT_EQ(back->metadata.resource_version, "48300");
  EXPECT_EQ(back->metadata.namespace_name, "smart-autoscaler");
}

TEST(ObjectsTest, MissingFieldsTakeDefaults) {
  absl::StatusOr<Deployment> d = ParseDeploymentJson(R"({"metadata": {"name": "bare"}})");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->replicas, 1);
  EXPECT_TRUE(d->selector.empty());
  EXPECT_TRUE(d->containers.empty());
  EXPECT_EQ(d->ready_replicas, 0);
  EXPECT_EQ(d->metadata.namespace_name, "");

  absl::StatusOr<Pod> p = ParsePodJson(
      R"({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}, "status": null})");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->containers.size(), 1u);
  EXPECT_EQ(p->containers[0].requests.cpu_millicores, std::nullopt);
  EXPECT_FALSE(p->ready);

  absl::StatusOr<HorizontalPodAutoscaler> h = ParseHorizontalPodAutoscalerJson(
      R"({"metadata": {"name": "h"}, "spec": {"metrics": [{"type": "Pods"}, {}]}})");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->min_replicas, 1);
  EXPECT_EQ(h->metrics.size(), 2u);

  absl::StatusOr<Lease> l = ParseLeaseJson(R"({"metadata": {"name": "l"}})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->lease_duration_seconds, std::nullopt);
  EXPECT_EQ(l->renew_time, std::nullopt);
}

TEST(ObjectsTest, IgnoresUnknownAndMistypedFields) {
  absl::StatusOr<Deployment> d = ParseDeploymentJson(R"({
      "kind": "Deployment", "futureField": {"x": [1, 2]},
      "metadata": {"name": "d", "namespace": "n", "labels": {"a": "b", "n": 5}, "generation": "x"},
      "spec": {"replicas": "three", "selector": {"matchLabels": {"a": "b"}, "somethingNew": 1},
               "template": {"spec": {"nodeSelector": [], "containers": [
                 {"name": "c", "resources": {"requests": {"cpu": "100m", "nvidia.com/gpu": "1"}}}]}}},
      "status": {"readyReplicas": 2, "newStatus": true}})");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->replicas, 1);
  EXPECT_EQ(d->metadata.labels.size(), 1u);
  EXPECT_EQ(d->selector.match_labels.at("a"), "b");
  EXPECT_TRUE(d->node_selector.empty());
  EXPECT_EQ(d->containers[0].requests.cpu_millicores, 100);
  EXPECT_EQ(d->ready_replicas, 2);
}

TEST(ObjectsTest, BadQuantityIsAnErrorNamingTheField) {
  absl::StatusOr<Pod> p = ParsePodJson(R"({"metadata": {"name": "p", "namespace": "ns"},
      "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "12 GB"}}}]}})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("ns/p"), std::string::npos) << p.status();
  EXPECT_NE(p.status().message().find("limits.memory"), std::string::npos) << p.status();

  EXPECT_FALSE(ParseNodeJson(R"({"metadata": {"name": "n"},
      "status": {"allocatable": {"cpu": "lots"}}})")
                   .ok());
  EXPECT_FALSE(ParseHorizontalPodAutoscalerJson(R"({"metadata": {"name": "h"}, "spec": {"metrics":
      [{"type": "External", "external": {"metric": {"name": "m"}, "target": {"type": "Value", "value": "1q"}}}]}})")
                   .ok());
}

TEST(ObjectsTest, RejectsNonObjectsAndNamelessObjects) {
  EXPECT_FALSE(ParseDeploymentJson("not json").ok());
  EXPECT_FALSE(ParseDeploymentJson("[]").ok());
  EXPECT_FALSE(ParseDeploymentJson(R"({"metadata": {}})").ok());
  EXPECT_FALSE(ParseNodeJson(R"({"spec": {}})").ok());
}

TEST(ObjectsTest, LabelSelectorMatches) {
  LabelSelector s;
  EXPECT_TRUE(s.Matches({}));
  s.match_labels = {{"app", "api"}};
  s.match_expressions = {{"track", "NotIn", {"canary"}}, {"tier", "Exists", {}}};
  EXPECT_TRUE(s.Matches({{"app", "api"}, {"tier", "web"}}));
  EXPECT_FALSE(s.Matches({{"app", "api"}, {"tier", "web"}, {"track", "canary"}}));
  EXPECT_FALSE(s.Matches({{"app", "api"}}));
  EXPECT_FALSE(s.Matches({{"app", "other"}, {"tier", "web"}}));
  s.match_expressions = {{"env", "In", {"prod", "staging"}}, {"legacy", "DoesNotExist", {}}};
  EXPECT_TRUE(s.Matches({{"app", "api"}, {"env", "prod"}}));
  EXPECT_FALSE(s.Matches({{"app", "api"}, {"env", "dev"}}));
  EXPECT_FALSE(s.Matches({{"app", "api"}, {"env", "prod"}, {"legacy", "1"}}));
  s.match_expressions = {{"env", "Gt", {"1"}}};
  EXPECT_FALSE(s.Matches({{"app", "api"}, {"env", "2"}}));
}


TEST(ObjectListTest, SortsItemsByKindAndSkipsOthers) {
  auto list = ParseObjectListJson(R"({"apiVersion":"v1","kind":"List","items":[
    {"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"api","namespace":"shop"}},
    {"kind":"Pod","apiVersion":"v1","metadata":{"name":"api-1","namespace":"shop"}},
    {"kind":"Node","apiVersion":"v1","metadata":{"name":"n1"}},
    {"kind":"Service","apiVersion":"v1","metadata":{"name":"api"}},
    {"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{"name":"h"}},
    {"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":"api-5d9"}}]})");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->deployments.size(), 1u);
  EXPECT_EQ(list->pods.size(), 1u);
  EXPECT_EQ(list->nodes.size(), 1u);
  EXPECT_EQ(list->hpas.size(), 1u);
  EXPECT_EQ(list->replica_sets.size(), 1u);
  EXPECT_EQ(list->skipped, 1);
}

TEST(ObjectListTest, BadItemsNameTheirIndex) {
  EXPECT_FALSE(ParseObjectListJson("[]").ok());
  EXPECT_FALSE(ParseObjectListJson(R"({"items":{}})").ok());
  auto bad = ParseObjectListJson(R"({"items":[{"kind":"Pod","metadata":{"name":"a"}},
      {"kind":"Pod","metadata":{}}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("items[1]"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace clients::kube
