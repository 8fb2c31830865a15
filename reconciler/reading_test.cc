#include "reconciler/reading.h"

#include "gtest/gtest.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

const absl::Time kNow = absl::FromUnixSeconds(1764000000);

kube::Deployment MakeDeployment(int64_t cpu_m, int64_t memory_bytes) {
  kube::Deployment d;
  d.metadata.namespace_name = "shop";
  d.metadata.name = "api";
  kube::ContainerResources c;
  c.requests.cpu_millicores = cpu_m;
  c.requests.memory_bytes = memory_bytes;
  d.containers.push_back(c);
  return d;
}

kube::Pod MakePod(const std::string& name, const kube::Deployment& d, absl::Time started) {
  kube::Pod p;
  p.metadata.namespace_name = "shop";
  p.metadata.name = name;
  p.phase = "Running";
  p.ready = true;
  p.start_time = started;
  p.containers = d.containers;
  return p;
}

kube::Node MakeNode(const std::string& name, const std::string& pool, int64_t alloc_m) {
  kube::Node n;
  n.metadata.name = name;
  n.metadata.labels["pool"] = pool;
  n.allocatable.cpu_millicores = alloc_m;
  n.ready = true;
  return n;
}

Signals AllAnswered() {
  Signals s;
  s.pod_cpu_10m_ok = s.pod_cpu_5m_ok = s.pod_memory_ok = true;
  s.node_cpu_10m_ok = s.node_cpu_5m_ok = true;
  return s;
}

TEST(ReadingTest, YoungPodsAreLeftOutOfTheBlendAndOfMemory) {
  kube::Deployment d = MakeDeployment(500, 1000);
  kube::Pod old1 = MakePod("api-1", d, kNow - absl::Hours(1));
  kube::Pod old2 = MakePod("api-2", d, kNow - absl::Hours(1));
  kube::Pod young = MakePod("api-3", d, kNow - absl::Seconds(30));
  Signals s = AllAnswered();
  for (const char* p : {"shop/api-1", "shop/api-2"}) {
    s.pod_cpu_10m[p] = 300;
    s.pod_cpu_5m[p] = 400;
    s.pod_memory[p] = 250;
  }
  s.pod_cpu_10m["shop/api-3"] = 500;  // the start-up spike
  s.pod_memory["shop/api-3"] = 1000;
  Reading r = ReadDeployment(d, {&old1, &old2, &young}, s, {}, kNow, absl::Minutes(2));
  EXPECT_EQ(r.pods, 3);
  EXPECT_EQ(r.ready_pods, 3);
  EXPECT_EQ(r.young_pods_excluded, 1);
  EXPECT_FALSE(r.all_pods_young);
  ASSERT_TRUE(r.blended_pct.has_value());
  EXPECT_NEAR(*r.blended_pct, 66, 1e-9);  // 0.7 x 300 + 0.3 x 400 = 330 of 500
  // The forecaster's demand is every pod's CPU, the young one's included:
  // 0.7 x (0.3 + 0.3 + 0.5) + 0.3 x (0.4 + 0.4) cores (the young pod has no 5-minute rate).
  EXPECT_NEAR(*r.demand_cores, 1.01, 1e-9);
  ASSERT_TRUE(r.memory_pct.has_value());
  EXPECT_NEAR(*r.memory_pct, 25, 1e-9);  // the young pod's 1000 bytes are not counted
  EXPECT_DOUBLE_EQ(r.confidence, 0.5) << "a pod started within 3 minutes";
  EXPECT_EQ(r.cpu_request_millicores, 500);
  EXPECT_EQ(r.memory_request_bytes, 1000);
}

TEST(ReadingTest, NoSignalIsUnknownNotZero) {
  kube::Deployment d = MakeDeployment(500, 1000);
  kube::Pod p = MakePod("api-1", d, kNow - absl::Hours(1));
  p.ready = false;
  kube::Pod done = MakePod("api-0", d, kNow - absl::Hours(2));
  done.phase = "Succeeded";
  Signals s;  // every query failed
  s.pod_cpu_10m["shop/api-1"] = 300;
  Reading r = ReadDeployment(d, {&p, &done}, s, {}, kNow, absl::Minutes(2));
  EXPECT_EQ(r.pods, 1) << "only running pods count";
  EXPECT_EQ(r.ready_pods, 0);
  EXPECT_FALSE(r.blended_pct.has_value());
  EXPECT_FALSE(r.demand_cores.has_value());
  EXPECT_FALSE(r.memory_pct.has_value());
  EXPECT_EQ(r.node_pressure.level, PressureLevel::kUnknown);
}

TEST(ReadingTest, NodePressureCountsOnlyReadySchedulableNodesMatchingTheSelector) {
  std::vector<kube::Node> nodes = {MakeNode("a1", "a", 4000), MakeNode("a2", "a", 4000),
                                   MakeNode("b1", "b", 4000), MakeNode("a3", "a", 4000)};
  nodes[3].unschedulable = true;
  Signals s = AllAnswered();
  s.node_cpu_10m = {{"a1", 1000}, {"a2", 1000}, {"b1", 3900}, {"a3", 4000}};
  s.node_cpu_5m = {{"a1", 1000}, {"a2", 1000}, {"b1", 3900}, {"a3", 4000}};
  NodeRequests requested = {{"a1", 1000}, {"b1", 3900}};

  NodePressureReading a = ReadNodePressure({{"pool", "a"}}, nodes, requested, s);
  EXPECT_EQ(a.nodes, 2);
  EXPECT_EQ(a.node_pressure.level, PressureLevel::kSafe);
  EXPECT_NEAR(a.node_pressure.utilization_pct, 25, 1e-9);
  EXPECT_NEAR(a.node_pressure.schedulable_fraction, 7000.0 / 8000, 1e-9);

  NodePressureReading b = ReadNodePressure({{"pool", "b"}}, nodes, requested, s);
  EXPECT_EQ(b.nodes, 1);
  EXPECT_EQ(b.node_pressure.level, PressureLevel::kCritical);

  NodePressureReading all = ReadNodePressure({}, nodes, requested, s);
  EXPECT_EQ(all.nodes, 3);

  NodePressureReading none = ReadNodePressure({{"pool", "c"}}, nodes, requested, s);
  EXPECT_EQ(none.nodes, 0);
  EXPECT_EQ(none.node_pressure.level, PressureLevel::kUnknown);

  s.node_cpu_10m.erase("a2");  // one matching node without data: unknown, not a guess
  EXPECT_EQ(ReadNodePressure({{"pool", "a"}}, nodes, requested, s).node_pressure.level,
            PressureLevel::kUnknown);
}

TEST(ReadingTest, TheReadingCarriesItsSelectorsNodePressure) {
  kube::Deployment d = MakeDeployment(500, 1000);
  NodePressureReading np;
  np.node_pressure.level = PressureLevel::kWarning;
  np.node_pressure.utilization_pct = 70;
  np.nodes = 5;
  Reading r = ReadDeployment(d, {}, AllAnswered(), np, kNow, absl::Minutes(2));
  EXPECT_EQ(r.node_pressure.level, PressureLevel::kWarning);
  EXPECT_EQ(r.node_pressure.utilization_pct, 70);
  EXPECT_EQ(r.nodes, 5);
}

TEST(ReadingTest, SelectorKeysAreEqualForEqualSelectors) {
  EXPECT_EQ(NodeSelectorKey({{"pool", "a"}, {"zone", "1"}}),
            NodeSelectorKey({{"zone", "1"}, {"pool", "a"}}));
  EXPECT_NE(NodeSelectorKey({{"pool", "a"}}), NodeSelectorKey({{"pool", "b"}}));
  EXPECT_EQ(NodeSelectorKey({}), "");
}

}  // namespace
}  // namespace reconciler
