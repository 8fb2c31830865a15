#include "clients/kube/informer.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"
#include "tests/kube_api_server/fake_kube_api_server.h"

namespace clients::kube {
namespace {

// Polls `pred` (real time) until true or 15 s pass: the informer runs on its own thread against
// a real server process.
bool Eventually(const std::function<bool()>& pred) {
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return pred();
}

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tests::FakeKubeApiServerOptions opts;
    opts.fixtures_file = tests::FixturesPath();
    auto server = tests::FakeKubeApiServer::Start(opts);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    cluster_.server = server_->url();
    http_ = clients::http::MakeCurlStreamingHttpClient({});
  }

  template <typename T>
  std::unique_ptr<Informer<T>> Make(InformerOptions options = {}) {
    options.watch_timeout = absl::Seconds(30);
    return std::make_unique<Informer<T>>(http_.get(), cluster_, options, &clock_, &sleeper_);
  }

  bool WatchOpen() {
    return Eventually([&] {
      absl::StatusOr<int> n = server_->OpenWatches();
      return n.ok() && *n >= 1;
    });
  }

  std::unique_ptr<tests::FakeKubeApiServer> server_;
  ClusterConfig cluster_;
  std::unique_ptr<clients::http::StreamingHttpClient> http_;
  base::FakeClock clock_{absl::FromUnixSeconds(1800000000)};
  base::FakeSleeper sleeper_{&clock_};
};

std::string PodJson(const std::string& name, const std::string& cpu = "100m") {
  return R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": ")" + name +
         R"(", "namespace": "shop", "labels": {"app": "api-service"}}, "spec": {"nodeName":
         "node-a", "containers": [{"name": "app", "resources": {"requests": {"cpu": ")" +
         cpu + R"("}}}]}, "status": {"phase": "Running"}})";
}

std::string DeploymentJson(const std::string& ns, const std::string& name, int replicas) {
  return R"({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": ")" + name +
         R"(", "namespace": ")" + ns + R"("}, "spec": {"replicas": )" + std::to_string(replicas) +
         R"(, "selector": {"matchLabels": {"app": ")" + name + R"("}}}})";
}

TEST_F(InformerTest, InitialListPaginatesAndFillsTheCache) {
  InformerOptions o;
  o.page_size = 1;
  auto pods = Make<Pod>(o);
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  std::vector<Pod> all = pods->List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].metadata.name, "api-service-7d9f8b6c5-q8kzt");
  EXPECT_EQ(all[1].metadata.name, "api-service-7d9f8b6c5-x2x9p");
  EXPECT_TRUE(all[1].ready);
  EXPECT_EQ(pods->stats().list_pages, 2);
  EXPECT_EQ(pods->stats().lists, 1);
  std::optional<Pod> p = pods->Get("shop", "api-service-7d9f8b6c5-x2x9p");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->TotalCpuRequestMillicores(), 300);
  EXPECT_FALSE(pods->ResourceVersion().empty());

  auto requests = server_->Requests();
  ASSERT_TRUE(requests.ok());
  int continued = 0;
  for (const auto& r : *requests) {
    if (r.path == "/api/v1/pods" && absl::StrContains(r.query, "continue=")) ++continued;
  }
  EXPECT_EQ(continued, 1);
}

TEST_F(InformerTest, LabelSelectorNamespaceAndClusterScopedKinds) {
  InformerOptions o;
  o.label_selector = "tier=backend";
  auto deployments = Make<Deployment>(o);
  auto nodes = Make<Node>();
  deployments->Start();
  nodes->Start();
  ASSERT_TRUE(deployments->WaitForSync(absl::Seconds(15)));
  ASSERT_TRUE(nodes->WaitForSync(absl::Seconds(15)));
  std::vector<Deployment> ds = deployments->List();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].metadata.name, "worker");
  EXPECT_EQ(ds[0].TotalCpuRequestMillicores(), 1500);
  EXPECT_EQ(nodes->List().size(), 2u);
  std::optional<Node> a = nodes->Get("", "node-a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->allocatable.cpu_millicores, 3920);
}

TEST_F(InformerTest, WatchReflectsAddModifyDelete) {
  InformerOptions o;
  o.namespace_name = "shop";
  auto deployments = Make<Deployment>(o);
  absl::Mutex mu;
  std::vector<std::pair<WatchEventType, std::string>> seen;
  deployments->SetHandler([&](WatchEventType t, const Deployment& d) {
    absl::MutexLock lock(&mu);
    seen.push_back({t, d.metadata.name});
  });
  deployments->Start();
  ASSERT_TRUE(deployments->WaitForSync(absl::Seconds(15)));
  EXPECT_EQ(deployments->List().size(), 1u);  // worker is in "batch"
  ASSERT_TRUE(WatchOpen());

  ASSERT_TRUE(server_->AddObject(DeploymentJson("shop", "cart", 2)).ok());
  ASSERT_TRUE(server_->AddObject(DeploymentJson("batch", "elsewhere", 1)).ok());
  ASSERT_TRUE(Eventually([&] { return deployments->Get("shop", "cart").has_value(); }));
  EXPECT_EQ(deployments->Get("shop", "cart")->replicas, 2);

  ASSERT_TRUE(server_->ModifyObject(DeploymentJson("shop", "cart", 5)).ok());
  ASSERT_TRUE(Eventually([&] {
    auto d = deployments->Get("shop", "cart");
    return d.has_value() && d->replicas == 5;
  }));

  absl::StatusOr<std::string> rv = server_->DeleteObject(DeploymentJson("shop", "cart", 5));
  ASSERT_TRUE(rv.ok());
  ASSERT_TRUE(Eventually([&] { return !deployments->Get("shop", "cart").has_value(); }));
  EXPECT_EQ(deployments->ResourceVersion(), *rv);
  EXPECT_FALSE(deployments->Get("batch", "elsewhere").has_value());
  EXPECT_EQ(deployments->List().size(), 1u);
  EXPECT_EQ(deployments->stats().events, 3);

  absl::MutexLock lock(&mu);
  // The initial list (1 ADDED), then the watch.
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].first, WatchEventType::kAdded);
  EXPECT_EQ(seen[0].second, "api-service");
  EXPECT_EQ(seen[1].first, WatchEventType::kAdded);
  EXPECT_EQ(seen[2].first, WatchEventType::kModified);
  EXPECT_EQ(seen[3].first, WatchEventType::kDeleted);
  EXPECT_EQ(seen[3].second, "cart");
}

TEST_F(InformerTest, BookmarkAdvancesResourceVersion) {
  auto pods = Make<Pod>();
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  ASSERT_TRUE(WatchOpen());
  std::string before = pods->ResourceVersion();
  // A change the pod watch does not see, then a bookmark.
  absl::StatusOr<std::string> rv =
      server_->AddObject(R"({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-c"}})");
  ASSERT_TRUE(rv.ok());
  ASSERT_NE(*rv, before);
  ASSERT_TRUE(server_->Bookmark().ok());
  ASSERT_TRUE(Eventually([&] { return pods->ResourceVersion() == *rv; }))
      << pods->ResourceVersion() << " vs " << *rv;
  EXPECT_GE(pods->stats().bookmarks, 1);
  EXPECT_EQ(pods->stats().events, 0);
  EXPECT_EQ(pods->List().size(), 2u);
}

TEST_F(InformerTest, GoneEventRelistsAndTheCacheIsCorrect) {
  auto pods = Make<Pod>();
  absl::Mutex mu;
  std::vector<std::string> deleted;
  pods->SetHandler([&](WatchEventType t, const Pod& p) {
    absl::MutexLock lock(&mu);
    if (t == WatchEventType::kDeleted) deleted.push_back(p.metadata.name);
  });
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  ASSERT_TRUE(WatchOpen());
  // Changes the watch never delivers: the history is compacted at once, the watch ends with an
  // ERROR 410 event, and only a relist can see them.
  ASSERT_TRUE(server_
                  ->ApplyObjects(R"({"ops": [
      {"op": "delete", "object": {"kind": "Pod", "metadata": {"namespace": "shop",
                                  "name": "api-service-7d9f8b6c5-x2x9p"}}},
      {"op": "add", "object": )" +
                                 PodJson("fresh") + R"(}], "compact": true})")
                  .ok());
  ASSERT_TRUE(Eventually([&] { return pods->Get("shop", "fresh").has_value(); }));
  EXPECT_FALSE(pods->Get("shop", "api-service-7d9f8b6c5-x2x9p").has_value());
  EXPECT_EQ(pods->List().size(), 2u);
  EXPECT_EQ(pods->stats().relists, 1);
  EXPECT_EQ(pods->stats().lists, 2);
  EXPECT_EQ(pods->stats().events, 0);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(deleted, std::vector<std::string>{"api-service-7d9f8b6c5-x2x9p"});
  }

  // An HTTP 410 on the watch request relists too, and the informer keeps watching after.
  ASSERT_TRUE(
      server_->Configure(R"({"faults": {"watch:pods": {"status": 410, "count": 1}}})").ok());
  ASSERT_TRUE(server_->Compact().ok());  // ends the open watch; the next one gets the fault
  ASSERT_TRUE(Eventually([&] { return pods->stats().relists == 3; })) << pods->stats().relists;
  ASSERT_TRUE(WatchOpen());
  ASSERT_TRUE(server_->AddObject(PodJson("later")).ok());
  ASSERT_TRUE(Eventually([&] { return pods->Get("shop", "later").has_value(); }));
}

TEST_F(InformerTest, ServerErrorsBackOffThenRecover) {
  ASSERT_TRUE(server_
                  ->Configure(R"({"faults": {
      "pods": {"status": 500, "count": 2},
      "watch:pods": {"status": 429, "count": 1}}})")
                  .ok());
  auto pods = Make<Pod>();
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  // Two failed lists (waits 1 s, 2 s), a good list, a 429 watch (1 s: the count restarted).
  ASSERT_TRUE(Eventually([&] { return pods->stats().backoffs == 3; })) << pods->stats().backoffs;
  EXPECT_EQ(pods->stats().backoff_total, absl::Seconds(4));
  EXPECT_EQ(pods->stats().errors, 3);
  EXPECT_EQ(pods->List().size(), 2u);
  ASSERT_TRUE(WatchOpen());
  ASSERT_TRUE(server_->AddObject(PodJson("after-recovery")).ok());
  ASSERT_TRUE(Eventually([&] { return pods->Get("shop", "after-recovery").has_value(); }));
  EXPECT_EQ(pods->stats().backoffs, 3);
}

TEST_F(InformerTest, ConnectionDropsBackOffAndRewatch) {
  ASSERT_TRUE(
      server_->Configure(R"({"faults": {"watch:pods": {"status": "close", "count": 2}}})").ok());
  auto pods = Make<Pod>();
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  // libcurl itself retries a request once when a reused keep-alive connection dies at once,
  // so one or two of the drops reach the informer.
  ASSERT_TRUE(Eventually([&] { return pods->stats().backoffs >= 1; }));
  ASSERT_TRUE(WatchOpen());
  EXPECT_GE(pods->stats().errors, 1);
  ASSERT_TRUE(server_->AddObject(PodJson("p")).ok());
  ASSERT_TRUE(Eventually([&] { return pods->Get("shop", "p").has_value(); }));
  EXPECT_EQ(pods->stats().lists, 1);  // no relist needed: the resourceVersion was still good
}

TEST_F(InformerTest, EmptyWatchesBackOffInsteadOfSpinning) {
  // timeoutSeconds=0: the server ends every watch at once without a line.
  InformerOptions zero;
  zero.watch_timeout = absl::ZeroDuration();
  auto pods = std::make_unique<Informer<Pod>>(http_.get(), cluster_, zero, &clock_, &sleeper_);
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  ASSERT_TRUE(Eventually([&] { return pods->stats().backoffs >= 3; }));
  pods->Stop();
  InformerStats st = pods->stats();
  EXPECT_GE(st.backoff_total, absl::Seconds(1 + 2 + 4));
  EXPECT_EQ(st.errors, 0);
  EXPECT_EQ(st.lists, 1);
}

TEST_F(InformerTest, BadObjectsAreSkippedAndCounted) {
  ASSERT_TRUE(server_->AddObject(PodJson("bad-list", "lots")).ok());
  auto pods = Make<Pod>();
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  EXPECT_EQ(pods->List().size(), 2u);
  EXPECT_EQ(pods->stats().parse_errors, 1);
  ASSERT_TRUE(WatchOpen());
  ASSERT_TRUE(server_->AddObject(PodJson("bad-watch", "1x")).ok());
  ASSERT_TRUE(server_->AddObject(PodJson("good")).ok());
  ASSERT_TRUE(Eventually([&] { return pods->Get("shop", "good").has_value(); }));
  EXPECT_FALSE(pods->Get("shop", "bad-watch").has_value());
  EXPECT_EQ(pods->stats().parse_errors, 2);
}

TEST_F(InformerTest, StopEndsAnOpenWatchPromptly) {
  auto pods = Make<Pod>();
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  ASSERT_TRUE(WatchOpen());
  absl::Time start = absl::Now();
  pods->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(pods->List().size(), 2u);  // the cache stays readable
}

TEST_F(InformerTest, ApiServerDownKeepsTheCacheAndRetries) {
  auto pods = Make<Pod>();
  pods->Start();
  ASSERT_TRUE(pods->WaitForSync(absl::Seconds(15)));
  ASSERT_TRUE(WatchOpen());
  server_->Stop();
  ASSERT_TRUE(Eventually([&] { return pods->stats().backoffs >= 3; }));
  pods->Stop();  // the fake sleeper does not wait, so the retries spin until stopped
  EXPECT_EQ(pods->List().size(), 2u);
  EXPECT_TRUE(pods->HasSynced());
  EXPECT_EQ(pods->stats().lists, 1);  // watches are retried from the last resourceVersion
}

}  // namespace
}  // namespace clients::kube
