// Tests the subscriber against a real in-process gRPC server that plays scripted streams:
// full snapshot, deltas, disconnects and sequence gaps.
#include "snapshot/subscriber.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cmath>
#include <deque>
#include <vector>

#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "proto/snapshot.grpc.pb.h"
#include "snapshot/recording_sink.h"

namespace snapshot {
namespace {

// The value of one counter or gauge series in `registry`; NaN when it is not there.
double MetricValue(const prometheus::Registry& registry, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      std::map<std::string, std::string> have;
      for (const prometheus::ClientMetric::Label& l : m.label) have[l.name] = l.value;
      if (have != labels) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return std::nan("");
}

namespace pb = smartautoscaler::v1;

pb::MetricValue Value(const std::string& deployment, double v) {
  pb::MetricValue m;
  m.mutable_id()->set_namespace_("prod");
  m.mutable_id()->set_metric("smart_cpu_pressure");
  m.mutable_id()->set_deployment(deployment);
  m.set_value(v);
  m.set_timestamp_ms(1741083330000);
  m.set_window_ms(60000);
  return m;
}

pb::SnapshotUpdate Update(pb::SnapshotUpdate::Kind kind, uint64_t seq,
                          std::vector<pb::MetricValue> upserts,
                          std::vector<std::string> removals = {}) {
  pb::SnapshotUpdate u;
  u.set_kind(kind);
  u.set_sequence(seq);
  for (auto& v : upserts) *u.add_upserts() = v;
  for (auto& d : removals) *u.add_removals() = Value(d, 0).id();
  return u;
}

// Each Watch call takes the next script; the stream then ends (or, with hold=true, stays open
// until the test releases it).
class ScriptedService final : public pb::MetricSnapshots::Service {
 public:
  struct Script {
    std::vector<pb::SnapshotUpdate> updates;
    bool hold = false;
  };
  void Add(Script s) {
    absl::MutexLock lock(&mu_);
    scripts_.push_back(std::move(s));
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  grpc::Status Watch(grpc::ServerContext* ctx, const pb::WatchRequest*,
                     grpc::ServerWriter<pb::SnapshotUpdate>* writer) override {
    Script script;
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      if (scripts_.empty()) {
        mu_.Await(absl::Condition(
            +[](ScriptedService* s) { return !s->scripts_.empty() || s->shutdown_; }, this));
        if (scripts_.empty()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutdown");
      }
      script = std::move(scripts_.front());
      scripts_.pop_front();
    }
    for (const auto& u : script.updates) writer->Write(u);
    if (script.hold) {
      absl::MutexLock lock(&mu_);
      released_ = false;
      while (!released_ && !shutdown_ && !ctx->IsCancelled())
        mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Milliseconds(20));
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "script ended");
  }
  void Shutdown() {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }

 private:
  absl::Mutex mu_;
  std::deque<Script> scripts_;
  bool released_ = false;
  bool shutdown_ = false;
  int calls_ = 0;
};

bool WaitFor(const std::function<bool()>& cond) {
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return cond();
}

double ValueOf(const RecordingSink& sink, const std::string& deployment) {
  std::optional<MetricPoint> p = sink.Find("prod", "smart_cpu_pressure", deployment);
  return p.has_value() ? p->value : -1;
}

class SubscriberTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& address) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    if (client_) client_->Stop();
    service_.Shutdown();
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  void StartClient(const std::string& address, int max_receive_message_bytes = 0) {
    SubscriberOptions o;
    o.address = address;
    o.max_receive_message_bytes = max_receive_message_bytes;
    o.metrics = &registry_;
    o.initial_backoff = absl::Milliseconds(10);
    o.max_backoff = absl::Milliseconds(50);
    client_ = std::make_unique<Subscriber>(&table_, &base::RealClock(), o);
    client_->Start();
  }

  prometheus::Registry registry_;
  ScriptedService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  RecordingSink table_;
  std::unique_ptr<Subscriber> client_;
};

TEST_F(SubscriberTest, AppliesFullSnapshotThenDeltas) {
  StartServer("127.0.0.1:0");
  service_.Add({{Update(pb::SnapshotUpdate::FULL, 1, {Value("api", 0.85), Value("web", 2)}),
                 Update(pb::SnapshotUpdate::DELTA, 2, {Value("api", 1.25)}, {"web"})},
                /*hold=*/true});
  StartClient("127.0.0.1:" + std::to_string(port_));
  ASSERT_TRUE(WaitFor([&] { return client_->stats().deltas == 1; }));
  EXPECT_EQ(ValueOf(table_, "api"), 1.25);
  EXPECT_EQ(ValueOf(table_, "web"), -1);
  const MetricPoint series = table_.Find("prod", "smart_cpu_pressure", "api").value();
  EXPECT_EQ(series.timestamp, absl::FromUnixMillis(1741083330000));
  EXPECT_EQ(absl::ToInt64Seconds(series.window), 60);
  EXPECT_TRUE(client_->stats().connected);
  service_.Release();
}

TEST_F(SubscriberTest, ValueWithoutTimestampAgesFromItsReceipt) {
  StartServer("127.0.0.1:0");
  pb::MetricValue unstamped = Value("api", 0.5);
  unstamped.set_timestamp_ms(0);  // "no timestamp" on the wire
  service_.Add({{Update(pb::SnapshotUpdate::FULL, 1, {unstamped, Value("web", 2)})}, true});
  StartClient("127.0.0.1:" + std::to_string(port_));
  ASSERT_TRUE(WaitFor([&] { return client_->stats().full == 1; }));
  const MetricPoint api = table_.Find("prod", "smart_cpu_pressure", "api").value();
  EXPECT_NE(api.timestamp, kTimeless);  // the stream has no timeless values
  EXPECT_EQ(api.timestamp, table_.received());
  EXPECT_EQ(table_.Find("prod", "smart_cpu_pressure", "web")->timestamp,
            absl::FromUnixMillis(1741083330000));
  service_.Release();
}

TEST_F(SubscriberTest, ReconnectsAfterDisconnectAndKeepsLastValuesMeanwhile) {
  StartServer("127.0.0.1:0");
  service_.Add({{Update(pb::SnapshotUpdate::FULL, 1, {Value("api", 0.5)})}, false});
  StartClient("127.0.0.1:" + std::to_string(port_));
  ASSERT_TRUE(WaitFor([&] { return client_->stats().stream_errors >= 1; }));
  EXPECT_EQ(ValueOf(table_, "api"), 0.5);  // last values stay while disconnected
  service_.Add({{Update(pb::SnapshotUpdate::FULL, 1, {Value("api", 0.75)})}, true});
  ASSERT_TRUE(WaitFor([&] { return ValueOf(table_, "api") == 0.75; }));
  EXPECT_GE(client_->stats().connects, 2u);
  EXPECT_EQ(client_->stats().full, 2u);
  service_.Release();
}

TEST_F(SubscriberTest, SequenceGapForcesReconnect) {
  // TEST_TMPDIR is too long for a Unix socket path (107 bytes).
  const std::string socket = "unix:///tmp/adapter-snap-" + std::to_string(getpid()) + ".sock";
  StartServer(socket);
  service_.Add({{Update(pb::SnapshotUpdate::FULL, 1, {Value("api", 1)}),
                 Update(pb::SnapshotUpdate::DELTA, 3, {Value("api", 9)})},
                true});
  service_.Add({{Update(pb::SnapshotUpdate::DELTA, 5, {Value("api", 8)})}, true});  // no full first
  service_.Add({{Update(pb::SnapshotUpdate::FULL, 1, {Value("api", 3)})}, true});
  StartClient(socket);
  ASSERT_TRUE(WaitFor([&] { return ValueOf(table_, "api") == 3; }));
  EXPECT_EQ(client_->stats().gaps, 2u);
  EXPECT_EQ(client_->stats().deltas, 0u);
  service_.Release();
}

TEST_F(SubscriberTest, BacksOffWhileServerIsDown) {
  StartClient("127.0.0.1:1");  // nothing listens there
  ASSERT_TRUE(WaitFor([&] { return client_->stats().connects >= 3; }));
  EXPECT_FALSE(table_.has_data());
  client_->Stop();  // returns promptly even mid-backoff
}

// 100,000 values (~6.5 MB) exceed gRPC's 4 MiB default receive limit; the client's default
// (64 MiB) takes them.
std::vector<pb::MetricValue> ManyValues(int n) {
  std::vector<pb::MetricValue> values;
  values.reserve(n);
  for (int i = 0; i < n; ++i) {
    pb::MetricValue v = Value("deployment-" + std::to_string(i), i * 0.5);
    (*v.mutable_id()->mutable_labels())["node_pool"] = "general";
    values.push_back(std::move(v));
  }
  return values;
}

TEST_F(SubscriberTest, ReceivesASnapshotOf100000Values) {
  StartServer("127.0.0.1:0");
  pb::SnapshotUpdate full = Update(pb::SnapshotUpdate::FULL, 1, ManyValues(100000));
  ASSERT_GT(full.ByteSizeLong(), 4u << 20);
  service_.Add({{full}, /*hold=*/true});
  StartClient("127.0.0.1:" + std::to_string(port_));
  ASSERT_TRUE(WaitFor([&] { return client_->stats().full == 1; }));
  EXPECT_EQ(table_.size(), 100000u);
  EXPECT_EQ(ValueOf(table_, "deployment-99999"), 99999 * 0.5);
  EXPECT_EQ(MetricValue(registry_, "adapter_snapshot_stream_connected", {}), 1);
  EXPECT_EQ(MetricValue(registry_, "adapter_snapshot_updates_total", {{"kind", "full"}}),
            1);
  service_.Release();
}

TEST_F(SubscriberTest, SnapshotOverTheLimitFailsTheStream) {
  StartServer("127.0.0.1:0");
  service_.Add({{Update(pb::SnapshotUpdate::FULL, 1, ManyValues(100000))}, true});
  StartClient("127.0.0.1:" + std::to_string(port_), /*max_receive_message_bytes=*/4 << 20);
  ASSERT_TRUE(WaitFor([&] { return client_->stats().stream_errors >= 1; }));
  EXPECT_FALSE(table_.has_data());
  EXPECT_EQ(MetricValue(registry_, "adapter_snapshot_stream_connected", {}), 0);
  EXPECT_GE(
      MetricValue(registry_, "adapter_snapshot_stream_failures_total", {{"reason", "error"}}),
      1);
  service_.Release();
}

}  // namespace
}  // namespace snapshot
