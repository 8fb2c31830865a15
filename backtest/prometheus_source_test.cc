#include "backtest/prometheus_source.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backtest/backtest.h"
#include "backtest/demand.h"
#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"
#include "tests/prometheus/prometheus_server.h"

namespace backtest {
namespace {

constexpr int kStep = 60;  // scrape interval, seconds
constexpr int kPods = 2;

// Demand (cores) of the whole deployment at t seconds after the start: a daily wave.
double Cores(int64_t t) { return 3 + 2 * std::sin(2 * M_PI * t / 86400.0); }

TEST(PrometheusSourceTest, ReadsTheDemandAndRequestOfADeploymentAndReplaysIt) {
  // Eight days of two pods' CPU counters (each half the demand) and their requests, scraped
  // every minute, plus a pod of another deployment that must not be counted.
  const absl::Time start = absl::FromUnixSeconds(1750000000 - 1750000000 % 3600);
  const int64_t n = 8 * 1440;
  std::string om = "# TYPE container_cpu_usage_seconds counter\n";
  std::vector<double> counter(kPods + 1, 100.0);
  for (int64_t i = 0; i <= n; ++i) {
    const int64_t ts = absl::ToUnixSeconds(start) + i * kStep;
    for (int p = 0; p <= kPods; ++p) {
      const std::string pod = p < kPods ? absl::StrCat("api-5d9f-p", p) : "api-admin-7c4-x1";
      absl::StrAppendFormat(&om,
                            "container_cpu_usage_seconds_total{namespace=\"shop\",pod=\"%s\","
                            "container=\"app\"} %.6f %d\n",
                            pod, counter[p], ts);
      counter[p] += (p < kPods ? Cores(i * kStep) / kPods : 5.0) * kStep;
    }
  }
  om += "# TYPE kube_pod_container_resource_requests gauge\n";
  for (int64_t i = n - 60; i <= n; ++i) {
    for (int p = 0; p < kPods; ++p) {
      absl::StrAppendFormat(&om,
                            "kube_pod_container_resource_requests{namespace=\"shop\",pod=\"api-"
                            "5d9f-p%d\",container=\"app\",resource=\"cpu\",unit=\"core\"} 0.5 %d\n",
                            p, absl::ToUnixSeconds(start) + i * kStep);
    }
  }
  om += "# EOF\n";
  auto server =
      testing_util::PrometheusServer::Start(om, absl::StrCat(std::getenv("TEST_TMPDIR"), "/prom"));
  if (server.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << server.status();
  }
  ASSERT_TRUE(server.ok()) << server.status();
  auto http = clients::http::MakeCurlHttpClient({});
  auto prom = clients::prometheus::MakePrometheusClient({.base_url = (*server)->url()}, http.get());
  const absl::Time end = start + absl::Seconds(n * kStep);
  absl::StatusOr<PrometheusWorkload> w =
      LoadFromPrometheus(prom.get(), "shop", "api", start + absl::Minutes(10), end);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->pod_cpu_request_millicores.has_value());
  EXPECT_EQ(*w->pod_cpu_request_millicores, 500);
  // One point a minute over the range (two requests: more than 10,000 steps), each the mean
  // demand of the 5 minutes before it (counters grow linearly between scrapes, so exactly).
  EXPECT_GE(w->demand.size(), static_cast<size_t>(n - 20));
  int checked = 0;
  for (size_t i = 0; i < w->demand.size(); i += 97) {
    const int64_t t = absl::ToUnixSeconds(w->demand[i].time) - absl::ToUnixSeconds(start);
    double mean = 0;
    for (int k = 1; k <= 5; ++k) mean += Cores(t - k * kStep) / 5;
    EXPECT_NEAR(w->demand[i].value, mean, 1e-6 * mean) << t;
    ++checked;
  }
  EXPECT_GT(checked, 100);
  // And it replays: 8 days = 7 of history + 1 day.
  absl::StatusOr<Demand> d = Demand::FromCores(w->demand);
  ASSERT_TRUE(d.ok()) << d.status();
  Options o;
  o.hpa.pod_cpu_millicores = *w->pod_cpu_request_millicores;
  absl::StatusOr<TraceResult> r = RunTrace("shop/api", *d, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policies.size(), 4u);
  EXPECT_GT(r->policies[0].figures.replica_hours, 0);
  // Missing deployment: NotFound, not zero demand.
  EXPECT_EQ(LoadFromPrometheus(prom.get(), "shop", "web", start, end).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace backtest
