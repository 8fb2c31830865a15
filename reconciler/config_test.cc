#include "reconciler/config.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace reconciler {
namespace {

TEST(ConfigTest, DefaultsWhenNothingIsSet) {
  ConfigResult r = LoadConfig({});
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(r.config.check_interval, absl::Seconds(60));
  EXPECT_EQ(r.config.target_node_utilization, 70);
  EXPECT_EQ(r.config.prometheus_rate_limit, 10);
  EXPECT_EQ(r.config.k8s_api_rate_limit, 20);
  EXPECT_FALSE(r.config.hpa_patch_mode);
  EXPECT_TRUE(r.config.enable_auto_discovery);
}

TEST(ConfigTest, ReadsTheOriginalsVariables) {
  ConfigResult r = LoadConfig({{"PROMETHEUS_URL", "http://prom:9090/"},
                               {"CHECK_INTERVAL", "30"},
                               {"TARGET_NODE_UTILIZATION", "65.5"},
                               {"DRY_RUN", "True"},
                               {"PROMETHEUS_HEADERS", "X-Scope-OrgID: team-a; X-Other: 1"},
                               {"log_level", "warn"},
                               {"DEPLOYMENT_0_NAMESPACE", "shop"},
                               {"DEPLOYMENT_0_NAME", "api"},
                               {"DEPLOYMENT_0_STARTUP_FILTER", "5"},
                               {"DEPLOYMENT_1_NAME", "web"},
                               {"DEPLOYMENT_1_HPA_NAME", "web-hpa"},
                               {"PATH", "/usr/bin"}});
  ASSERT_TRUE(r.problems.empty()) << r.problems[0];
  EXPECT_EQ(r.config.prometheus_url, "http://prom:9090");
  EXPECT_EQ(r.config.check_interval, absl::Seconds(30));
  EXPECT_EQ(r.config.target_node_utilization, 65.5);
  EXPECT_TRUE(r.config.dry_run);
  ASSERT_EQ(r.config.prometheus_headers.size(), 2u);
  EXPECT_EQ(r.config.prometheus_headers[0].first, "X-Scope-OrgID");
  EXPECT_EQ(r.config.prometheus_headers[0].second, "team-a");
  EXPECT_EQ(r.config.log_level, "WARNING");
  ASSERT_EQ(r.config.deployments.size(), 2u);
  EXPECT_EQ(r.config.deployments[0].namespace_name, "shop");
  EXPECT_EQ(r.config.deployments[0].hpa_name, "api");
  EXPECT_EQ(r.config.deployments[0].startup_filter, absl::Minutes(5));
  EXPECT_EQ(r.config.deployments[1].namespace_name, "default");
  EXPECT_EQ(r.config.deployments[1].hpa_name, "web-hpa");
}

TEST(ConfigTest, BackfillQueriesPerSecond) {
  EXPECT_EQ(LoadConfig({}).config.backfill_queries_per_second, 2);
  ConfigResult r = LoadConfig({{"BACKFILL_QUERIES_PER_SECOND", "0.5"}});
  ASSERT_TRUE(r.problems.empty());
  EXPECT_EQ(r.config.backfill_queries_per_second, 0.5);
  EXPECT_TRUE(absl::StrContains(DescribeConfig(r.config), "BACKFILL_QUERIES_PER_SECOND=0.5"));
  EXPECT_EQ(LoadConfig({{"BACKFILL_QUERIES_PER_SECOND", "0"}}).config.backfill_queries_per_second,
            0);
  for (const char* bad : {"-1", "101", "fast"}) {
    ConfigResult b = LoadConfig({{"BACKFILL_QUERIES_PER_SECOND", bad}});
    ASSERT_EQ(b.problems.size(), 1u) << bad;
    EXPECT_TRUE(absl::StrContains(b.problems[0], "BACKFILL_QUERIES_PER_SECOND")) << b.problems[0];
  }
}

TEST(ConfigTest, DurationsAcceptUnits) {
  ConfigResult r = LoadConfig({{"CHECK_INTERVAL", "2m"}, {"LEAD_TIME_MINUTES", "15"}});
  ASSERT_TRUE(r.problems.empty());
  EXPECT_EQ(r.config.check_interval, absl::Minutes(2));
  EXPECT_EQ(r.config.lead_time, absl::Minutes(15));
}

TEST(ConfigTest, EveryProblemIsOneLineNamingTheVariable) {
  ConfigResult r = LoadConfig({{"CHECK_INTERVAL", "5"},
                               {"TARGET_NODE_UTILIZATION", "abc"},
                               {"DRY_RUN", "maybe"},
                               {"PROMETHEUS_URL", "prom:9090"},
                               {"SLACK_WEBHOOK", "hooks.slack.com/x"},
                               {"MEMORY_WARNING_THRESHOLD", "0.95"},
                               {"DEPLOYMENT_0_NAMESPACE", "shop"},
                               {"DEPLOYMENT_X_NAME", "api"},
                               {"DEPLOYMENT_1_NAME", "web"},
                               {"DEPLOYMENT_1_REPLICAS", "3"}});
  std::vector<std::string> want = {"CHECK_INTERVAL=5",         "TARGET_NODE_UTILIZATION=abc",
                                   "DRY_RUN=maybe",            "PROMETHEUS_URL=prom:9090",
                                   "SLACK_WEBHOOK=",           "MEMORY_WARNING_THRESHOLD",
                                   "DEPLOYMENT_0_NAME",        "DEPLOYMENT_X_NAME",
                                   "DEPLOYMENT_1_REPLICAS"};
  ASSERT_EQ(r.problems.size(), want.size()) << absl::StrJoin(r.problems, "\n");
  for (const std::string& w : want) {
    bool found = false;
    for (const std::string& p : r.problems) {
      found = found || absl::StartsWith(p, w);
      EXPECT_EQ(p.find('\n'), std::string::npos);
    }
    EXPECT_TRUE(found) << w;
  }
}

TEST(ConfigTest, UpperCaseWinsOverConfigMapLowerCase) {
  ConfigResult r = LoadConfig({{"check_interval", "20"}, {"CHECK_INTERVAL", "40"}});
  EXPECT_EQ(r.config.check_interval, absl::Seconds(40));
  r = LoadConfig({{"check_interval", "20"}});
  EXPECT_EQ(r.config.check_interval, absl::Seconds(20));
}

TEST(ConfigTest, ReadsAConfigMapDirectory) {
  std::string dir = std::string(getenv("TEST_TMPDIR")) + "/cm";
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/CHECK_INTERVAL") << "45\n";
  std::ofstream(dir + "/..data_hidden") << "x";
  auto vars = ReadConfigDir(dir);
  ASSERT_TRUE(vars.ok());
  EXPECT_EQ(vars->size(), 1u);
  EXPECT_EQ(LoadConfig(*vars).config.check_interval, absl::Seconds(45));
  EXPECT_EQ(ReadConfigDir(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(ConfigTest, DescribeRedactsSecrets) {
  ConfigResult r = LoadConfig({{"SLACK_WEBHOOK", "https://hooks.slack.com/secret"},
                               {"PROMETHEUS_BEARER_TOKEN", "tok"}});
  std::string d = DescribeConfig(r.config);
  EXPECT_EQ(d.find("secret"), std::string::npos);
  EXPECT_EQ(d.find("tok\n"), std::string::npos);
  EXPECT_NE(d.find("SLACK_WEBHOOK=<set>"), std::string::npos);
}

TEST(ConfigTest, ReadsPricingFileAndMonthlyBudgets) {
  ConfigResult r = LoadConfig({{"PRICING_FILE", "/etc/prices.txt"},
                               {"DEPLOYMENT_0_NAME", "api"},
                               {"DEPLOYMENT_0_MONTHLY_BUDGET", "$500"},
                               {"DEPLOYMENT_1_NAME", "web"}});
  ASSERT_TRUE(r.problems.empty()) << r.problems[0];
  EXPECT_EQ(r.config.pricing_file, "/etc/prices.txt");
  EXPECT_EQ(r.config.deployments[0].monthly_budget, 500);
  EXPECT_EQ(r.config.deployments[1].monthly_budget, 0);
  ConfigResult bad = LoadConfig({{"DEPLOYMENT_0_NAME", "api"},
                                 {"DEPLOYMENT_0_MONTHLY_BUDGET", "-3"}});
  ASSERT_EQ(bad.problems.size(), 1u);
  EXPECT_EQ(bad.problems[0], "DEPLOYMENT_0_MONTHLY_BUDGET=-3: must be USD per month > 0 (e.g. 500)");
}

TEST(ConfigTest, EveryVariableIsDocumented) {
  for (const VariableDoc& d : ConfigVariables()) {
    EXPECT_GT(std::string(d.meaning).size(), 5u) << d.name;
  }
  EXPECT_GT(ConfigVariables().size(), 30u);
}

}  // namespace
}  // namespace reconciler
