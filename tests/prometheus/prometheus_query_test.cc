// Integration: the Prometheus client against a real Prometheus (Debian's) serving a TSDB
// backfilled by promtool from a real trace. Pod CPU counters are generated from the bundled
// NAB CPU trace; the test computes the expected rates itself from the same counters and
// compares them with what `rate()` returns through the client.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/trace_csv.h"
#include "clients/http/curl_http_client.h"
#include "clients/prometheus/prometheus.h"
#include "gtest/gtest.h"
#include "tests/prometheus/prometheus_server.h"

namespace {

constexpr int kStepSeconds = 30;
constexpr int kPods = 3;

struct Fixture {
  std::string openmetrics;
  // counter[pod][i] = value at start + i * kStepSeconds
  std::vector<std::vector<double>> counter;
  absl::Time start;
};

// Pod p uses (trace% / 100) x (0.5 + 0.25 p) cores, constant within each 5-minute trace step.
Fixture BuildFixture(const std::vector<base::Point>& trace, absl::Time start) {
  Fixture f;
  f.start = start;
  f.counter.assign(kPods, {});
  const int steps_per_point = 300 / kStepSeconds;
  for (int p = 0; p < kPods; ++p) {
    double c = 100.0 * (p + 1);  // counters do not start at zero in real clusters
    f.counter[p].push_back(c);
    for (const base::Point& pt : trace) {
      const double cores = pt.value / 100.0 * (0.5 + 0.25 * p);
      for (int s = 0; s < steps_per_point; ++s) {
        c += cores * kStepSeconds;
        f.counter[p].push_back(c);
      }
    }
  }
  f.openmetrics = "# TYPE container_cpu_usage_seconds counter\n";
  for (int p = 0; p < kPods; ++p) {
    for (size_t i = 0; i < f.counter[p].size(); ++i) {
      absl::StrAppendFormat(
          &f.openmetrics,
          "container_cpu_usage_seconds_total{namespace=\"demo\",pod=\"api-%d\",container=\"app\"}"
          " %.6f %d\n",
          p, f.counter[p][i], absl::ToUnixSeconds(start) + i * kStepSeconds);
    }
  }
  f.openmetrics += "# EOF\n";
  return f;
}

TEST(PrometheusQueryTest, RatesMatchIndependentComputation) {
  auto trace = base::ReadTraceCsv("data/traces/nab/ec2_cpu_utilization_5f5533.csv");
  ASSERT_TRUE(trace.ok()) << trace.status();
  trace->resize(288);  // one day
  // Recent enough for retention, older than two hours so the blocks backfill cleanly.
  const absl::Time start =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(30)) / 3600 * 3600);
  Fixture f = BuildFixture(*trace, start);

  auto server = testing_util::PrometheusServer::Start(
      f.openmetrics, absl::StrCat(std::getenv("TEST_TMPDIR"), "/prom"));
  ASSERT_TRUE(server.ok()) << server.status();

  auto http = clients::http::MakeCurlHttpClient({});
  auto prom = clients::prometheus::MakePrometheusClient({.base_url = (*server)->url()}, http.get());

  // One grouped query answers for every pod: the constant-queries-per-cycle shape.
  for (int step_index : {40, 200, 1000, 2500}) {
    const absl::Time at = start + absl::Seconds(step_index * kStepSeconds);
    for (int window_min : {10, 5}) {
      auto got = prom->Query(absl::StrCat("sum by (namespace, pod) (rate(container_cpu_usage_"
                                          "seconds_total{namespace=\"demo\"}[",
                                          window_min, "m]))"),
                             at);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->size(), static_cast<size_t>(kPods));
      const int back = window_min * 60 / kStepSeconds;
      for (const auto& series : *got) {
        const int p = series.labels.at("pod").back() - '0';
        // Samples lie exactly on the window's edges, so rate() is the plain difference
        // quotient with no extrapolation.
        const double want =
            (f.counter[p][step_index] - f.counter[p][step_index - back]) / (window_min * 60.0);
        ASSERT_EQ(series.points.size(), 1u);
        EXPECT_NEAR(series.points[0].value, want, 1e-6 * std::max(1.0, want))
            << "pod " << p << " step " << step_index << " window " << window_min;
      }
    }
  }

  // A range query returns one point per step.
  auto range = prom->QueryRange(
      "sum(rate(container_cpu_usage_seconds_total[5m]))", start + absl::Hours(1),
      start + absl::Hours(2), absl::Minutes(5));
  ASSERT_TRUE(range.ok()) << range.status();
  ASSERT_EQ(range->size(), 1u);
  EXPECT_EQ((*range)[0].points.size(), 13u);

  // A PromQL syntax error comes back as InvalidArgument with Prometheus' message.
  auto bad = prom->Query("sum by (pod (", start);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();

  // Outage: the client reports Unavailable rather than an empty (zero-looking) result.
  (*server)->Kill();
  auto down = prom->Query("up", start);
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
  ASSERT_TRUE((*server)->Restart().ok());
  EXPECT_TRUE(prom->Query("up", start).ok());
}

}  // namespace
