#include "clients/kube/lease_client.h"

#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"
#include "tests/kube_api_server/fake_kube_api_server.h"

namespace clients::kube {
namespace {

class LeaseClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tests::FakeKubeApiServerOptions opts;
    opts.fixtures_file = tests::FixturesPath();
    auto server = tests::FakeKubeApiServer::Start(opts);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ClusterConfig cluster;
    cluster.server = server_->url();
    cluster.bearer_token = "sa-token";
    http_ = clients::http::MakeCurlHttpClient({});
    leases_ = std::make_unique<LeaseClient>(http_.get(), cluster);
  }

  std::unique_ptr<tests::FakeKubeApiServer> server_;
  std::unique_ptr<clients::http::HttpClient> http_;
  std::unique_ptr<LeaseClient> leases_;
};

TEST_F(LeaseClientTest, GetsTheRecordedLease) {
  absl::StatusOr<Lease> l = leases_->Get("smart-autoscaler", "smart-autoscaler-leader");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->holder_identity, "smart-autoscaler-reconciler-6c9d-abcde");
  EXPECT_EQ(l->lease_duration_seconds, 15);
  EXPECT_FALSE(l->metadata.resource_version.empty());
  auto reqs = server_->Requests();
  ASSERT_TRUE(reqs.ok());
  ASSERT_FALSE(reqs->empty());
  EXPECT_EQ(reqs->back().authorization, "Bearer sa-token");
}

TEST_F(LeaseClientTest, GetMissingIsNotFound) {
  EXPECT_EQ(leases_->Get("smart-autoscaler", "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LeaseClientTest, CreateUpdateAndConflict) {
  Lease want;
  want.metadata.namespace_name = "team-a";
  want.metadata.name = "leader";
  want.holder_identity = "replica-1";
  want.lease_duration_seconds = 15;
  absl::Time t0 = absl::FromUnixMicros(1800000000123456);
  want.acquire_time = t0;
  want.renew_time = t0;
  absl::StatusOr<Lease> created = leases_->Create(want);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->metadata.resource_version.empty());
  EXPECT_EQ(created->holder_identity, "replica-1");
  EXPECT_EQ(created->renew_time, t0);  // microseconds survive the round trip

  EXPECT_EQ(leases_->Create(want).status().code(), absl::StatusCode::kAlreadyExists);

  // Renew with the resourceVersion just read.
  Lease renew = *created;
  renew.renew_time = t0 + absl::Seconds(10);
  absl::StatusOr<Lease> renewed = leases_->Update(renew);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_NE(renewed->metadata.resource_version, created->metadata.resource_version);
  EXPECT_EQ(renewed->renew_time, t0 + absl::Seconds(10));

  // A second writer still holding the old resourceVersion loses.
  Lease stale = *created;
  stale.holder_identity = "replica-2";
  absl::StatusOr<Lease> lost = leases_->Update(stale);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted) << lost.status();
  absl::StatusOr<Lease> now = leases_->Get("team-a", "leader");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->holder_identity, "replica-1");

  // After re-reading it wins.
  stale.metadata.resource_version = now->metadata.resource_version;
  absl::StatusOr<Lease> taken = leases_->Update(stale);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->holder_identity, "replica-2");
}

TEST_F(LeaseClientTest, UpdateOfMissingLeaseIsNotFound) {
  Lease l;
  l.metadata.namespace_name = "team-a";
  l.metadata.name = "ghost";
  l.metadata.resource_version = "1";
  EXPECT_EQ(leases_->Update(l).status().code(), absl::StatusCode::kNotFound);
  l.metadata.name = "";
  EXPECT_EQ(leases_->Create(l).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LeaseClientTest, ServerErrorsAreUnavailable) {
  ASSERT_TRUE(server_->Configure(R"({"faults": {"leases": {"status": 500, "count": 1}}})").ok());
  EXPECT_EQ(leases_->Get("smart-autoscaler", "smart-autoscaler-leader").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(leases_->Get("smart-autoscaler", "smart-autoscaler-leader").ok());
  server_->Stop();
  EXPECT_EQ(leases_->Get("smart-autoscaler", "smart-autoscaler-leader").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace clients::kube
