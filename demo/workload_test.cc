#include "demo/workload.h"

#include <sstream>

#include "absl/strings/match.h"
#include "clients/kube/objects.h"
#include "gtest/gtest.h"

namespace demo {
namespace {

Workload Make() {
  std::vector<Trace> traces;
  for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
           {"google2019_cpu_300s", "data/traces/cluster/google2019_cpu_300s.csv"},
           {"ec2_cpu_utilization_5f5533", "data/traces/nab/ec2_cpu_utilization_5f5533.csv"},
           {"rds_cpu_utilization_cc0c53", "data/traces/nab/rds_cpu_utilization_cc0c53.csv"}}) {
    auto t = LoadTrace(name, file);
    EXPECT_TRUE(t.ok()) << t.status();
    traces.push_back(*t);
  }
  auto w = Workload::Create(DefaultDeployments(), DefaultNodes(), traces,
                            absl::FromUnixSeconds(1764000000 / 86400 * 86400));
  EXPECT_TRUE(w.ok()) << w.status();
  return *w;
}

TEST(WorkloadTest, CountersAreExactIntegralsOfUsage) {
  Workload w = Make();
  absl::Time t = w.anchor() + absl::Hours(50) + absl::Seconds(17);
  for (int d = 0; d < 3; ++d) {
    double pods_sum = 0;
    for (int p = 0; p < w.deployments()[d].pods; ++p) {
      pods_sum += w.PodCores(d, p, t);
      // Within one 5-minute trace step usage is constant: the counter grows linearly.
      absl::Time step_start = absl::UnixEpoch() +
                              absl::Floor(t - absl::UnixEpoch(), absl::Minutes(5)) +
                              absl::Seconds(30);
      double rate = (w.PodCpuSeconds(d, p, step_start + absl::Seconds(200)) -
                     w.PodCpuSeconds(d, p, step_start)) / 200;
      EXPECT_NEAR(rate, w.PodCores(d, p, step_start), 1e-9);
    }
    EXPECT_NEAR(pods_sum, w.DemandCores(d, t), 1e-9);
    EXPECT_GT(w.DemandCores(d, t), 0);
  }
  EXPECT_DOUBLE_EQ(w.PodCpuSeconds(0, 0, w.anchor()), 0);
  // Busy node time counts its pods plus the system load.
  EXPECT_GT(w.NodeBusySeconds(0, t), 0.25 * absl::ToDoubleSeconds(t - w.anchor()));
}

TEST(WorkloadTest, ClusterJsonJoinsPodsToDeploymentsAndHpas) {
  Workload w = Make();
  auto list = clients::kube::ParseObjectListJson(w.ClusterJson());
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->deployments.size(), 3u);
  EXPECT_EQ(list->replica_sets.size(), 3u);
  EXPECT_EQ(list->pods.size(), 9u);
  EXPECT_EQ(list->nodes.size(), 3u);
  ASSERT_EQ(list->hpas.size(), 3u);
  EXPECT_EQ(list->hpas[0].metrics[0].name, "smart_cpu_pressure");
  for (const auto& pod : list->pods) {
    EXPECT_TRUE(pod.ready);
    EXPECT_EQ(pod.phase, "Running");
    bool owned = false;
    for (const auto& rs : list->replica_sets) {
      owned = owned || (rs.metadata.name == pod.OwnerReplicaSet() && !rs.OwnerDeployment().empty());
    }
    EXPECT_TRUE(owned) << pod.metadata.name;
    EXPECT_GT(pod.TotalCpuRequestMillicores(), 0);
  }
  EXPECT_EQ(list->nodes[0].allocatable.cpu_millicores, 4000);
}

TEST(WorkloadTest, OpenMetricsAndExpositionNameTheSameSeries) {
  Workload w = Make();
  std::ostringstream om;
  w.WriteOpenMetrics(om, w.anchor(), w.anchor() + absl::Minutes(2), absl::Minutes(1));
  std::string text = om.str();
  EXPECT_TRUE(absl::EndsWith(text, "# EOF\n"));
  std::string live = w.Exposition(w.anchor() + absl::Minutes(3));
  std::string pod = w.PodName(0, 0);
  std::string series = "container_cpu_usage_seconds_total{namespace=\"shop\",pod=\"" + pod + "\"";
  EXPECT_NE(text.find(series), std::string::npos);
  EXPECT_NE(live.find(series), std::string::npos);
  EXPECT_NE(live.find("node_cpu_seconds_total{cpu=\"total\",mode=\"idle\""), std::string::npos);
}

}  // namespace
}  // namespace demo
