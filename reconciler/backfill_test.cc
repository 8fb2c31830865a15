// Tests of the backfiller against a fake Prometheus client that answers grouped range queries
// from a table of pods (one series per pod, every step), and can block or fail on demand.
#include "reconciler/backfill.h"

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "base/clock.h"
#include "gtest/gtest.h"

namespace reconciler {
namespace {

namespace prom = clients::prometheus;
const absl::Time kNow = absl::FromUnixSeconds(1764000000);

class FakePrometheus : public prom::PrometheusClient {
 public:
  absl::StatusOr<std::vector<prom::Series>> Query(absl::string_view, absl::Time) override {
    return absl::UnimplementedError("instant queries are not the backfiller's");
  }
  absl::StatusOr<std::vector<prom::Series>> QueryRange(absl::string_view promql, absl::Time from,
                                                       absl::Time to,
                                                       absl::Duration step) override {
    if (block != nullptr) block->WaitForNotification();
    absl::MutexLock l(&mu);
    queries.push_back(std::string(promql));
    if (failures_left > 0) {
      --failures_left;
      return absl::UnavailableError("connection refused");
    }
    std::vector<prom::Series> out;
    for (const auto& [key, value] : pods) {
      if (!absl::StrContains(promql, "namespace=\"" + key.first + "\"")) continue;
      prom::Series s;
      s.labels = {{"namespace", key.first}, {"pod", key.second}};
      for (absl::Time t = from; t <= to; t += step) s.points.push_back({t, value});
      out.push_back(std::move(s));
    }
    int64_t n = 0;
    for (const auto& s : out) n += static_cast<int64_t>(s.points.size());
    largest_answer = std::max(largest_answer, n);
    total_points += n;
    return out;
  }
  absl::Mutex mu;
  std::map<std::pair<std::string, std::string>, double> pods;  // (namespace, pod) -> cores
  std::vector<std::string> queries;
  int failures_left = 0;
  int64_t largest_answer = 0, total_points = 0;
  absl::Notification* block = nullptr;
};

BackfillOptions Fast() {
  BackfillOptions o;
  o.queries_per_second = 1000;
  return o;
}

TEST(DeploymentOfPodTest, StripsReplicaSetAndPodHashes) {
  EXPECT_EQ(DeploymentOfPod("api-5d9f-x2b7q"), "api");
  EXPECT_EQ(DeploymentOfPod("web-front-7c8d9-abcde"), "web-front");
  EXPECT_EQ(DeploymentOfPod("standalone"), "");
  EXPECT_EQ(DeploymentOfPod("a-b"), "");
}

TEST(PlanBackfillTest, OneQueryPerNamespaceWhenTheWeekFits) {
  std::vector<BackfillTarget> t = {{"shop", "api", 3}, {"shop", "web", 2}, {"ops", "x", 1}};
  std::vector<BackfillQuery> plan = PlanBackfill(t, kNow, Fast());
  ASSERT_EQ(plan.size(), 2u);  // 5 pods x 2016 steps and 1 x 2016 are under 250,000
  EXPECT_EQ(plan[0].namespace_name, "ops");
  EXPECT_EQ(plan[1].namespace_name, "shop");
  EXPECT_TRUE(absl::StrContains(plan[1].promql, "sum by (namespace, pod)"));
  EXPECT_TRUE(absl::StrContains(plan[1].promql, "namespace=\"shop\""));
  EXPECT_EQ((plan[0].to - plan[0].from) / absl::Minutes(5) + 1, 2016);
  EXPECT_LT(plan[0].to, kNow);
}

TEST(PlanBackfillTest, ChunksTimeSoEachAnswerStaysUnderTheLimit) {
  BackfillOptions o = Fast();
  o.max_points_per_query = 1000;
  std::vector<BackfillTarget> t = {{"big", "api", 10}};  // 100 steps per chunk
  std::vector<BackfillQuery> plan = PlanBackfill(t, kNow, o);
  ASSERT_EQ(plan.size(), 21u);  // ceil(2016 / 100)
  int64_t steps = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    int64_t n = (plan[i].to - plan[i].from) / absl::Minutes(5) + 1;
    EXPECT_LE(n * 10, 1000);
    steps += n;
    if (i > 0) {
      EXPECT_EQ(plan[i].from, plan[i - 1].to + absl::Minutes(5));
    }
  }
  EXPECT_EQ(steps, 2016);  // no gap, no overlap
}

TEST(BackfillerTest, JoinsPodsToDeploymentsAndLoadsEveryOne) {
  FakePrometheus p;
  p.pods = {{{"shop", "api-aa-1"}, 0.5}, {{"shop", "api-aa-2"}, 0.25},
            {{"shop", "web-bb-1"}, 2.0}, {{"ops", "x-cc-1"}, 1.0}};
  BackfillOptions o = Fast();
  o.max_points_per_query = 1000;  // forces chunks: the join must sum across them
  Backfiller b(&p, &base::RealClock(), o);
  b.Start({{"shop", "api", 2}, {"shop", "web", 1}, {"ops", "x", 1}, {"ops", "gone", 1}}, kNow);
  ASSERT_TRUE(b.WaitDone(absl::Seconds(30)));
  std::map<std::string, LoadedHistory> got;
  for (auto& h : b.TakeLoaded()) got[h.namespace_name + "/" + h.name] = h;
  ASSERT_EQ(got.size(), 4u);
  ASSERT_EQ(got["shop/api"].points.size(), 2016u);
  for (const auto& [t, v] : got["shop/api"].points) EXPECT_DOUBLE_EQ(v, 0.75);
  EXPECT_DOUBLE_EQ(got["shop/web"].points.front().second, 2.0);
  EXPECT_TRUE(got["ops/gone"].points.empty());  // no samples: nothing, never zeros
  EXPECT_LE(p.largest_answer, 1000);
  BackfillProgress pr = b.progress();
  EXPECT_EQ(pr.loaded, 4);
  EXPECT_EQ(pr.pending, 0);
  EXPECT_EQ(pr.queries, static_cast<int64_t>(p.queries.size()));
  EXPECT_EQ(pr.planned, pr.queries);  // no retries were needed
  EXPECT_NE(pr.started, absl::InfinitePast());
  EXPECT_GE(pr.finished, pr.started);
  EXPECT_TRUE(b.TakeLoaded().empty());  // handed over once
}

TEST(BackfillerTest, KeepsToItsQueryBudget) {
  FakePrometheus p;
  BackfillOptions o;
  o.queries_per_second = 20;
  o.max_points_per_query = 2016 * 5;  // 11 namespaces of 5 pods: 11 queries
  std::vector<BackfillTarget> t;
  for (int i = 0; i < 11; ++i) t.push_back({"ns" + std::to_string(i), "d", 5});
  Backfiller b(&p, &base::RealClock(), o);
  absl::Time start = absl::Now();
  b.Start(t, kNow);
  ASSERT_TRUE(b.WaitDone(absl::Seconds(30)));
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(p.queries.size(), 11u);
  EXPECT_GE(took, absl::Milliseconds(450));  // burst 1, then 10 more at 20/s
  // 10 on an idle machine; fewer when a slow query lets a token refill in the meantime.
  EXPECT_GE(b.progress().throttled, 1);
  EXPECT_LE(b.progress().throttled, 10);
}

TEST(BackfillerTest, RetriesThenCountsANamespaceAsFailedNeverZero) {
  FakePrometheus p;
  p.pods = {{{"shop", "api-aa-1"}, 0.5}};
  p.failures_left = 3;  // every try of the first (only) chunk
  Backfiller b(&p, &base::RealClock(), Fast());
  b.Start({{"shop", "api", 1}}, kNow);
  ASSERT_TRUE(b.WaitDone(absl::Seconds(30)));
  EXPECT_TRUE(b.TakeLoaded().empty());
  BackfillProgress pr = b.progress();
  EXPECT_EQ(pr.failed, 1);
  EXPECT_EQ(pr.query_errors, 3);
}

TEST(BackfillerTest, RecoversFromOneFailedTry) {
  FakePrometheus p;
  p.pods = {{{"shop", "api-aa-1"}, 0.5}};
  p.failures_left = 1;
  Backfiller b(&p, &base::RealClock(), Fast());
  b.Start({{"shop", "api", 1}}, kNow);
  ASSERT_TRUE(b.WaitDone(absl::Seconds(30)));
  EXPECT_EQ(b.TakeLoaded().size(), 1u);
  EXPECT_EQ(b.progress().query_errors, 1);
}

TEST(BackfillerTest, TheCycleNeverWaitsForAQuery) {
  FakePrometheus p;
  p.pods = {{{"shop", "api-aa-1"}, 0.5}};
  absl::Notification release;
  p.block = &release;  // the query hangs until released
  Backfiller b(&p, &base::RealClock(), Fast());
  b.Start({{"shop", "api", 1}}, kNow);
  absl::Time before = absl::Now();
  EXPECT_TRUE(b.TakeLoaded().empty());
  BackfillProgress pr = b.progress();
  EXPECT_LT(absl::Now() - before, absl::Seconds(5));  // the query itself never returns before release
  EXPECT_EQ(pr.pending, 1);
  release.Notify();
  ASSERT_TRUE(b.WaitDone(absl::Seconds(30)));
  EXPECT_EQ(b.TakeLoaded().size(), 1u);
}

}  // namespace
}  // namespace reconciler
