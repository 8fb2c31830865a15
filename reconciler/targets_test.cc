#include "reconciler/targets.h"

#include "gtest/gtest.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

kube::Deployment MakeDeployment(const std::string& ns, const std::string& name) {
  kube::Deployment d;
  d.metadata.namespace_name = ns;
  d.metadata.name = name;
  return d;
}

kube::HorizontalPodAutoscaler MakeHpa(const std::string& name, const std::string& scales,
                                      const std::string& metric_type,
                                      const std::string& metric_name) {
  kube::HorizontalPodAutoscaler h;
  h.metadata.namespace_name = "shop";
  h.metadata.name = name;
  h.scale_target_ref = {"apps/v1", "Deployment", scales};
  kube::HpaMetric m;
  m.type = metric_type;
  m.name = metric_name;
  h.metrics.push_back(m);
  return h;
}

TEST(TargetsTest, HpasThatReadSmartMetricsNameTheirDeployment) {
  ClusterState s;
  kube::HorizontalPodAutoscaler external =
      MakeHpa("h1", "ignored", "External", "smart_cpu_pressure");
  external.metrics[0].selector.match_labels["deployment"] = "api";
  kube::HorizontalPodAutoscaler object = MakeHpa("h2", "ignored", "Object", "smart_cpu_target");
  object.metrics[0].described_object = {"apps/v1", "Deployment", "web"};
  kube::HorizontalPodAutoscaler plain = MakeHpa("h3", "worker", "External", "smart_cpu_blended");
  kube::HorizontalPodAutoscaler cpu = MakeHpa("h4", "batch", "Resource", "cpu");
  s.hpas = {external, object, plain, cpu};
  Config c;
  c.lead_time = absl::Minutes(15);
  c.startup_filter = absl::Minutes(3);
  auto t = DiscoverTargets(s, c);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.at("shop/api").source, "hpa/h1");
  EXPECT_EQ(t.at("shop/web").source, "hpa/h2");
  EXPECT_EQ(t.at("shop/worker").source, "hpa/h3") << "no label: the scaleTargetRef";
  EXPECT_EQ(t.count("shop/batch"), 0u) << "a classic CPU HPA is not a smart target";
  EXPECT_EQ(t.at("shop/api").lead, absl::Minutes(15));
  EXPECT_EQ(t.at("shop/api").startup_filter, absl::Minutes(3));
  EXPECT_EQ(t.at("shop/api").hpa_name, "");

  c.enable_auto_discovery = false;
  EXPECT_TRUE(DiscoverTargets(s, c).empty());
}

TEST(TargetsTest, StaticTargetsAndAnnotationsAddDeploymentsTheFirstSourceWins) {
  ClusterState s;
  kube::HorizontalPodAutoscaler h = MakeHpa("h1", "api", "External", "smart_cpu_pressure");
  s.hpas = {h};
  kube::Deployment annotated = MakeDeployment("shop", "web");
  annotated.metadata.annotations[kAnnotationEnabled] = "true";
  kube::Deployment unannotated = MakeDeployment("shop", "other");
  s.deployments = {annotated, unannotated, MakeDeployment("shop", "api")};
  Config c;
  StaticTarget st;
  st.namespace_name = "shop";
  st.name = "api";  // also named by the HPA, which comes first
  st.hpa_name = "api-hpa";
  c.deployments.push_back(st);
  st.name = "cron";
  st.startup_filter = absl::Minutes(7);
  st.hpa_name = "cron-hpa";
  c.deployments.push_back(st);
  auto t = DiscoverTargets(s, c);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.at("shop/api").source, "hpa/h1");
  EXPECT_EQ(t.at("shop/api").hpa_name, "");
  EXPECT_EQ(t.at("shop/cron").source, "env/DEPLOYMENT_1");
  EXPECT_EQ(t.at("shop/cron").startup_filter, absl::Minutes(7));
  EXPECT_EQ(t.at("shop/cron").hpa_name, "cron-hpa");
  EXPECT_EQ(t.at("shop/web").source, "annotation");
  EXPECT_EQ(t.count("shop/other"), 0u);
}

TEST(TargetsTest, AnnotationsOptOutAndOverrideTheFilterAndTheLeadTime) {
  ClusterState s;
  s.hpas = {MakeHpa("h1", "api", "External", "smart_cpu_pressure"),
            MakeHpa("h2", "web", "External", "smart_cpu_pressure"),
            MakeHpa("h3", "job", "External", "smart_cpu_pressure"),
            MakeHpa("h4", "bad", "External", "smart_cpu_pressure")};
  kube::Deployment api = MakeDeployment("shop", "api");
  api.metadata.annotations[kAnnotationEnabled] = "false";
  kube::Deployment web = MakeDeployment("shop", "web");
  web.metadata.annotations[kAnnotationStartupFilter] = "5";
  web.metadata.annotations[kAnnotationLeadTime] = "30";
  kube::Deployment job = MakeDeployment("shop", "job");
  job.metadata.annotations[kAnnotationStartupFilter] = "90s";
  job.metadata.annotations[kAnnotationLeadTime] = "0";  // a lead time must be above 0
  kube::Deployment bad = MakeDeployment("shop", "bad");
  bad.metadata.annotations[kAnnotationStartupFilter] = "soon";
  bad.metadata.annotations[kAnnotationLeadTime] = "2000";  // over 24 h
  s.deployments = {api, web, job, bad};
  Config c;
  auto t = DiscoverTargets(s, c);
  EXPECT_EQ(t.count("shop/api"), 0u) << "opted out";
  EXPECT_EQ(t.at("shop/web").startup_filter, absl::Minutes(5));
  EXPECT_EQ(t.at("shop/web").lead, absl::Minutes(30));
  EXPECT_EQ(t.at("shop/job").startup_filter, absl::Seconds(90));
  EXPECT_EQ(t.at("shop/job").lead, c.lead_time);
  EXPECT_EQ(t.at("shop/bad").startup_filter, c.startup_filter);
  EXPECT_EQ(t.at("shop/bad").lead, c.lead_time);
}

TEST(TargetsTest, ATargetWithoutItsDeploymentIsKept) {
  ClusterState s;
  s.hpas = {MakeHpa("h1", "gone", "External", "smart_cpu_pressure")};
  auto t = DiscoverTargets(s, Config{});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.begin()->first, TargetKey("shop", "gone"));
}

}  // namespace
}  // namespace reconciler
