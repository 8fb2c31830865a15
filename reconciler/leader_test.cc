// Two electors against the test Kubernetes API server (tests/kube_api_server, standing in for
// kube-apiserver: real Lease JSON, resourceVersion conflicts), each with its own fake clock.
#include "reconciler/leader.h"

#include <thread>

#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"
#include "tests/kube_api_server/fake_kube_api_server.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

class LeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = tests::FakeKubeApiServer::Start({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    kube::ClusterConfig cluster;
    cluster.server = server_->url();
    http_ = clients::http::MakeCurlHttpClient({});
    leases_ = std::make_unique<kube::LeaseClient>(http_.get(), cluster);
  }
  LeaderElectionOptions Options(const std::string& id) {
    LeaderElectionOptions o;
    o.namespace_name = "autoscaler-system";
    o.identity = id;
    return o;
  }

  std::unique_ptr<tests::FakeKubeApiServer> server_;
  std::unique_ptr<clients::http::HttpClient> http_;
  std::unique_ptr<kube::LeaseClient> leases_;
  base::FakeClock clock_a_{absl::FromUnixSeconds(1764000000)};
  base::FakeClock clock_b_{absl::FromUnixSeconds(1764000000) + absl::Hours(3)};  // skewed
};

TEST_F(LeaderTest, OneLeaderAtATimeAndTakeoverAfterTheLeaseExpires) {
  LeaderElector a(leases_.get(), &clock_a_, Options("pod-a"));
  LeaderElector b(leases_.get(), &clock_b_, Options("pod-b"));
  EXPECT_TRUE(a.TryAcquireOrRenew());  // creates the Lease
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_EQ(b.ObservedHolder(), "pod-a");
  // A renews every 2 s: B never takes over, whatever B's clock says about A's renewTime.
  for (int i = 0; i < 10; ++i) {
    clock_a_.Advance(absl::Seconds(2));
    clock_b_.Advance(absl::Seconds(2));
    EXPECT_TRUE(a.TryAcquireOrRenew());
    EXPECT_FALSE(b.TryAcquireOrRenew());
  }
  // A stops renewing (hung); after 15 s of an unchanged record, B takes the Lease.
  clock_b_.Advance(absl::Seconds(14));
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock_b_.Advance(absl::Seconds(2));
  EXPECT_TRUE(b.TryAcquireOrRenew());
  auto lease = leases_->Get("autoscaler-system", "smart-autoscaler-reconciler");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->holder_identity, "pod-b");
  EXPECT_EQ(lease->lease_transitions, 1);
  // A comes back: sees B's fresh record and does not lead.
  clock_a_.Advance(absl::Seconds(1));
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_FALSE(a.IsLeader());
}

TEST_F(LeaderTest, LeaderStepsDownWhenItCannotRenewWithinTheDeadline) {
  LeaderElector a(leases_.get(), &clock_a_, Options("pod-a"));
  ASSERT_TRUE(a.TryAcquireOrRenew());
  ASSERT_TRUE(server_->Configure(R"({"faults": {"leases": {"status": 500}}})").ok());
  clock_a_.Advance(absl::Seconds(4));
  EXPECT_TRUE(a.TryAcquireOrRenew()) << "short API trouble: still leading";
  clock_a_.Advance(absl::Seconds(6));
  EXPECT_FALSE(a.TryAcquireOrRenew()) << "10 s without a renewal: step down";
  ASSERT_TRUE(server_->Configure(R"({"faults": {"leases": null}})").ok());
  clock_a_.Advance(absl::Seconds(2));
  EXPECT_TRUE(a.TryAcquireOrRenew()) << "its own Lease: renewed again";
}

TEST_F(LeaderTest, RunReleasesTheLeaseOnStop) {
  LeaderElectionOptions o = Options("pod-a");
  o.retry_period = absl::Milliseconds(100);
  LeaderElector a(leases_.get(), &base::RealEnv(), o);
  std::atomic<bool> stop{false};
  std::vector<bool> changes;
  std::thread t([&] { a.Run(&stop, [&](bool l) { changes.push_back(l); }); });
  absl::SleepFor(absl::Milliseconds(400));
  stop = true;
  t.join();
  EXPECT_EQ(changes, (std::vector<bool>{true, false}));
  auto lease = leases_->Get("autoscaler-system", "smart-autoscaler-reconciler");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->holder_identity, "");
  // A standby takes the released Lease at once.
  LeaderElector b(leases_.get(), &clock_b_, Options("pod-b"));
  EXPECT_TRUE(b.TryAcquireOrRenew());
}

}  // namespace
}  // namespace reconciler
