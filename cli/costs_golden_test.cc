// `smart-autoscaler costs` over a fixture store, output compared byte for byte with
// cli/testdata/costs_golden.txt: pins that a change to how the store is read (the cost
// benchmark's speed-ups) leaves every printed figure as it was. The golden file was written by
// the code at commit 20f9100, before those changes (BENCHMARKS.md, "Costs from the store in
// under a second").
//
// The fixture is laid out relative to the last UTC midnight (within retention of the real
// clock the command opens the store with) and the figures do not depend on which day that is;
// the window's printed dates are blanked. To rewrite the golden file after an intended change
// of the figures:
//   bazel test //cli:costs_test --test_env=COSTS_GOLDEN_OUT=/tmp/costs_golden.txt
//   cp /tmp/costs_golden.txt cli/testdata/costs_golden.txt
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "gtest/gtest.h"
#include "reconciler/costs/costs.h"
#include "storage/store.h"

ABSL_DECLARE_FLAG(std::string, db);
ABSL_DECLARE_FLAG(double, hours);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(bool, rightsizing);
ABSL_DECLARE_FLAG(std::string, until);

namespace cli {
namespace {

using costs::PodLifetime;

class CostsGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/costs-golden-", getpid());
    std::filesystem::remove_all(dir_);
    end_ = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) / 86400 * 86400);
    auto store = storage::OpenRocksStore({.path = dir_});
    ASSERT_TRUE(store.ok()) << store.status();
    Fill(store->get());
    ASSERT_TRUE((*store)->CompactAll().ok());
    prices_ = absl::StrCat(dir_, "-prices.txt");
    std::ofstream(prices_) << "label pool\nbig 0.05 0.006\nsmall 0.03 0.004\n";
    setenv("PRICING_FILE", prices_.c_str(), 1);
    absl::SetFlag(&FLAGS_db, dir_);
  }
  void TearDown() override {
    unsetenv("PRICING_FILE");
    std::filesystem::remove(prices_);
    std::filesystem::remove_all(dir_);
  }

  void Put(storage::Store* s, absl::Time at, const std::string& ns, const std::string& name,
           const PodLifetime& p) {
    ASSERT_TRUE(s->AppendEvent(storage::EventLog::kPodLifetimes, at,
                               costs::EncodePodLifetime(ns, name, p), {})
                    .ok());
  }
  // An open record at the pod's start and, when it ended, an ended one at its end.
  void Life(storage::Store* s, const std::string& ns, const std::string& name, PodLifetime p) {
    const absl::Time end = p.end;
    p.end = absl::InfiniteFuture();
    Put(s, p.start, ns, name, p);
    if (end == absl::InfiniteFuture()) return;
    p.end = end;
    Put(s, end, ns, name, p);
  }
  // Every `step` over [from, to], skipping [gap_from, gap_to); memory and censoring optional.
  void Usage(storage::Store* s, const std::string& ns, const std::string& name, absl::Time from,
             absl::Time to, absl::Duration step, bool memory, bool censored, double base,
             absl::Time gap_from = absl::InfinitePast(), absl::Time gap_to = absl::InfinitePast()) {
    auto cpu = s->RegisterSeries({ns, name, costs::kCpuDemandMetric, {}});
    ASSERT_TRUE(cpu.ok());
    storage::SeriesId mem = 0, cen = 0;
    if (memory) mem = *s->RegisterSeries({ns, name, costs::kMemoryWorkingSetMetric, {}});
    if (censored) cen = *s->RegisterSeries({ns, name, costs::kCpuCensoredMetric, {}});
    std::vector<storage::SeriesSample> batch;
    int k = 0;
    for (absl::Time t = from; t <= to; t += step, ++k) {
      if (t >= gap_from && t < gap_to) continue;
      batch.push_back({*cpu, {t, base + 0.4 * std::sin(k / 97.0) + 0.1 * std::sin(k / 7.0)}});
      if (memory) batch.push_back({mem, {t, 6e8 + 2e8 * std::cos(k / 61.0)}});
      if (censored) batch.push_back({cen, {t, std::sin(k / 13.0) > 0.8 ? 1.0 : 0.0}});
    }
    ASSERT_TRUE(s->Append(batch, {}).ok());
  }

  void Fill(storage::Store* s) {
    const absl::Time e = end_;
    const absl::Duration h = absl::Hours(1), m = absl::Minutes(1);
    // shop/api, pool "big": pods replaced every 7h13m, each living 11h27m, requests growing;
    // two still open; usage every 60 s with a 70-minute hole, memory and censoring.
    for (int i = 0; i < 10; ++i) {
      const absl::Time start = e - 72 * h + i * (7 * h + 13 * m);
      Life(s, "shop", "api",
           {absl::StrCat("api-", i), start, start + 11 * h + 27 * m, 250 + 50 * i,
            int64_t{512000000} + 1000000 * i, "n1", "big"});
    }
    Life(s, "shop", "api", {"api-x", e - 5 * h - 17 * m, absl::InfiniteFuture(), 400, 700000000,
                            "n2", "big"});
    Life(s, "shop", "api", {"api-y", e - 63 * m, absl::InfiniteFuture(), 600, 800000000, "n2",
                            "big"});
    Usage(s, "shop", "api", e - 72 * h, e, absl::Seconds(60), true, true, 0.9, e - 30 * h,
          e - 28 * h - 50 * m);
    // shop/web, pool "small": no memory series; measured until 2h30m before the end, an open
    // pod that then ends at the last measurement.
    Life(s, "shop", "web", {"web-a", e - 50 * h - 5 * m, e - 20 * h, 1000, 2000000000, "n3",
                            "small"});
    Life(s, "shop", "web", {"web-b", e - 20 * h - 1 * m, absl::InfiniteFuture(), 1000,
                            2000000000, "n3", "small"});
    Usage(s, "shop", "web", e - 60 * h, e - 150 * m, absl::Seconds(30), false, false, 0.6);
    // ops/batch: pods only, flat prices, no usage series.
    Life(s, "ops", "batch", {"batch-a", e - 30 * h - 30 * m, e - 6 * h - 6 * m, 2000, 4000000000,
                             "n4", ""});
    // ops/cron: every pod ended 40 h before the end; usage goes on every 5 minutes.
    Life(s, "ops", "cron", {"cron-a", e - 70 * h, e - 40 * h, 100, 100000000, "n4", "small"});
    Usage(s, "ops", "cron", e - 70 * h, e, absl::Minutes(5), true, false, 0.45);
    ASSERT_TRUE(
        s->AppendEvent(storage::EventLog::kPodLifetimes, e - 3 * h, "not a record", {}).ok());
  }

  // One run of the command; the first line of text output and "from"/"to" of JSON (the dates)
  // are blanked.
  std::string Run(double hours, bool json, bool rightsizing, bool until) {
    absl::SetFlag(&FLAGS_hours, hours);
    absl::SetFlag(&FLAGS_json, json);
    absl::SetFlag(&FLAGS_rightsizing, rightsizing);
    absl::SetFlag(&FLAGS_until,
                  until ? absl::FormatTime(absl::RFC3339_full, end_ - absl::Minutes(7),
                                           absl::UTCTimeZone())
                        : "");
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int rc = CostsMain({});
    // Without glog's lines (their time and the store's path vary).
    std::string err;
    for (absl::string_view line :
         absl::StrSplit(::testing::internal::GetCapturedStderr(), '\n', absl::SkipEmpty())) {
      if (line.size() > 9 && absl::ascii_isupper(line[0]) && absl::ascii_isdigit(line[1]) &&
          absl::ascii_isdigit(line[8])) {
        continue;
      }
      absl::StrAppend(&err, line, "\n");
    }
    std::string out = ::testing::internal::GetCapturedStdout();
    if (json) {
      const size_t hours_at = out.find("\"hours\":");
      if (out.rfind("{\"from\":", 0) == 0 && hours_at != std::string::npos) {
        out = "{\"from\":-,\"to\":-," + out.substr(hours_at);
      }
    } else if (size_t nl = out.find('\n'); nl != std::string::npos) {
      out = "costs from - to -" + out.substr(out.find(" ("));
    }
    return absl::StrCat("== hours=", hours, " json=", json, " rightsizing=", rightsizing,
                        " until=", until, " rc=", rc, "\n", err, out);
  }

  std::string dir_, prices_;
  absl::Time end_;
};

TEST_F(CostsGoldenTest, OutputIsTheGoldenFile) {
  std::string got;
  for (double hours : {720.0, 72.0, 49.0, 24.0, 2.5}) {
    for (bool until : {false, true}) got += Run(hours, /*json=*/true, hours <= 72, until);
  }
  got += Run(72, /*json=*/false, true, false);
  got += Run(24, /*json=*/false, true, true);
  if (const char* out = getenv("COSTS_GOLDEN_OUT"); out != nullptr && *out != '\0') {
    std::ofstream(out) << got;
  }
  std::ifstream in("cli/testdata/costs_golden.txt");
  ASSERT_TRUE(in) << "cli/testdata/costs_golden.txt is missing";
  std::stringstream want;
  want << in.rdbuf();
  // Line by line, so a difference names its place.
  std::vector<std::string> a = absl::StrSplit(got, '\n'), b = absl::StrSplit(want.str(), '\n');
  ASSERT_EQ(a.size(), b.size()) << got;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "line " << i + 1;
}

}  // namespace
}  // namespace cli
