#include "base/metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace base::metrics {
namespace {

TEST(MetricsTest, ExpositionTextIsByteExact) {
  Registry r;
  r.GetCounter("http_requests_total", "Requests.\nSecond line \\ backslash.",
               {{"path", "/a"}, {"code", "200"}})
      ->Increment(3);
  r.GetCounter("http_requests_total", "ignored", {{"path", "/a"}, {"code", "404"}})->Increment();
  r.GetCounter("http_requests_total", "", {{"code", "200"}, {"path", "q\"uo\\te\nnl"}});
  r.GetGauge("a_gauge", "A gauge.")->Set(-2.5);
  r.GetGauge("z_special", "Special values.", {{"v", "nan"}})
      ->Set(std::numeric_limits<double>::quiet_NaN());
  r.GetGauge("z_special", "", {{"v", "inf"}})->Set(std::numeric_limits<double>::infinity());
  r.GetGauge("z_special", "", {{"v", "big"}})->Set(1234567);
  r.GetGauge("z_special", "", {{"v", "small"}})->Set(0.00005);
  Histogram* h = r.GetHistogram("latency_seconds", "Latency.", {0.1, 1, 1e6}, {{"op", "get"}});
  h->Observe(0.05);
  h->Observe(0.1);  // a value equal to a bound counts in that bucket
  h->Observe(3);
  h->Observe(2e6);

  EXPECT_EQ(r.ExpositionText(),
            "# HELP a_gauge A gauge.\n"
            "# TYPE a_gauge gauge\n"
            "a_gauge -2.5\n"
            "# HELP http_requests_total Requests.\\nSecond line \\\\ backslash.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{code=\"200\",path=\"/a\"} 3\n"
            "http_requests_total{code=\"200\",path=\"q\\\"uo\\\\te\\nnl\"} 0\n"
            "http_requests_total{code=\"404\",path=\"/a\"} 1\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"1\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"1e+06\"} 3\n"
            "latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{op=\"get\"} 2.00000315e+06\n"
            "latency_seconds_count{op=\"get\"} 4\n"
            "# HELP z_special Special values.\n"
            "# TYPE z_special gauge\n"
            "z_special{v=\"big\"} 1.234567e+06\n"
            "z_special{v=\"inf\"} +Inf\n"
            "z_special{v=\"nan\"} NaN\n"
            "z_special{v=\"small\"} 5e-05\n");
}

TEST(MetricsTest, SameNameAndLabelsReturnSameObject) {
  Registry r;
  Counter* a = r.GetCounter("c_total", "h", {{"k", "v"}});
  EXPECT_EQ(a, r.GetCounter("c_total", "h", {{"k", "v"}}));
  EXPECT_NE(a, r.GetCounter("c_total", "h", {{"k", "w"}}));
  Histogram* h = r.GetHistogram("h_seconds", "h", LatencyBuckets());
  EXPECT_EQ(h, r.GetHistogram("h_seconds", "h", LatencyBuckets()));
  a->Increment(2);
  a->Increment(-1);  // ignored
  EXPECT_EQ(a->value(), 2);
  Gauge* g = r.GetGauge("g", "h");
  g->Set(5);
  g->Add(-7);
  EXPECT_EQ(g->value(), -2);
}

TEST(MetricsTest, HistogramWithoutLabelsAndInfBound) {
  Registry r;
  Histogram* h = r.GetHistogram("d", "D.", {0.5, std::numeric_limits<double>::infinity()});
  h->Observe(1);
  EXPECT_EQ(h->count(), 1u);
  EXPECT_EQ(h->sum(), 1);
  EXPECT_EQ(r.ExpositionText(),
            "# HELP d D.\n# TYPE d histogram\nd_bucket{le=\"0.5\"} 0\nd_bucket{le=\"+Inf\"} 1\n"
            "d_sum 1\nd_count 1\n");
}

TEST(MetricsTest, FormatValueMatchesGo) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(-1), "-1");
  EXPECT_EQ(FormatValue(100000), "100000");
  EXPECT_EQ(FormatValue(1e6), "1e+06");
  EXPECT_EQ(FormatValue(0.0005), "0.0005");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(123.456), "123.456");
  EXPECT_EQ(FormatValue(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatValue(1e100), "1e+100");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(MetricsTest, LatencyBucketsAreIncreasing) {
  std::vector<double> b = LatencyBuckets();
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(b.front(), 0.0005);
  EXPECT_EQ(b.back(), 10);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  constexpr int kThreads = 8, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Looked up every time on purpose: registration races with updates and scrapes.
        r.GetCounter("c_total", "c", {{"shared", "yes"}})->Increment();
        r.GetGauge("g", "g")->Add(1);
        r.GetHistogram("h", "h", {1, 2})->Observe(i % 3);
        if (i % 5000 == 0) r.GetCounter("per_thread_total", "p", {{"t", std::to_string(t)}});
        if (i % 1000 == 0) r.ExpositionText();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(r.GetCounter("c_total", "c", {{"shared", "yes"}})->value(), kThreads * kPerThread);
  EXPECT_EQ(r.GetGauge("g", "g")->value(), kThreads * kPerThread);
  EXPECT_EQ(r.GetHistogram("h", "h", {1, 2})->count(), uint64_t{kThreads * kPerThread});
}

TEST(MetricsDeathTest, ProgrammingErrorsCheckFail) {
  Registry r;
  r.GetCounter("x_total", "x");
  EXPECT_DEATH(r.GetGauge("x_total", "x"), "registered as counter");
  EXPECT_DEATH(r.GetCounter("bad-name", "x"), "invalid metric name");
  EXPECT_DEATH(r.GetCounter("ok", "x", {{"__reserved", "v"}}), "invalid label name");
  EXPECT_DEATH(r.GetHistogram("h", "x", {1}, {{"le", "1"}}), "label 'le'");
  EXPECT_DEATH(r.GetHistogram("h2", "x", {2, 1}), "strictly increasing");
}

TEST(MetricsTest, DefaultRegistryIsOneObject) { EXPECT_EQ(&DefaultRegistry(), &DefaultRegistry()); }

// Runs Prometheus' own linter over our output (Debian's prometheus package ships promtool).
TEST(MetricsTest, PromtoolAcceptsOutput) {
  const char* promtool = "/usr/bin/promtool";
  if (access(promtool, X_OK) != 0) {
    GTEST_SKIP() << "promtool not installed (apt-get install prometheus); lint not run";
  }
  Registry r;
  r.GetCounter("app_requests_total", "Requests served.", {{"code", "200"}, {"path", "/x\"y"}})
      ->Increment(5);
  r.GetGauge("app_temperature_celsius", "A gauge.\nWith newline.")->Set(-3.25);
  r.GetGauge("app_nan_ratio", "NaN gauge.")->Set(std::nan(""));
  Histogram* h =
      r.GetHistogram("app_request_duration_seconds", "Latency.", LatencyBuckets(), {{"op", "a"}});
  for (int i = 0; i < 100; ++i) h->Observe(i * 0.01);
  r.GetHistogram("app_request_duration_seconds", "Latency.", LatencyBuckets(), {{"op", "b"}});

  const char* tmpdir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmpdir ? tmpdir : "/tmp") + "/metrics.txt";
  {
    std::ofstream out(path);
    out << r.ExpositionText();
  }
  const std::string cmd = std::string(promtool) + " check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string output;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) output.append(buf, n);
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "") << output;
}

}  // namespace
}  // namespace base::metrics

namespace base::metrics {
namespace {

TEST(GaugeFamilyTextTest, KeepsLabelOrderAndEscapes) {
  EXPECT_EQ(GaugeFamilyText("g", "Help \\ text.",
                            {{{{"namespace", "a\"b"}, {"deployment", "x\ny"}}, 0.5},
                             {{}, 1e6}}),
            "# HELP g Help \\\\ text.\n# TYPE g gauge\n"
            "g{namespace=\"a\\\"b\",deployment=\"x\\ny\"} 0.5\ng 1e+06\n");
}

}  // namespace
}  // namespace base::metrics
