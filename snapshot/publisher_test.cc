// Tests the publisher against the real Subscriber (and, for the slow-client and shutdown
// cases, a raw gRPC client that never reads).
#include "snapshot/publisher.h"

#include <grpcpp/grpcpp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "proto/snapshot.grpc.pb.h"
#include "snapshot/recording_sink.h"
#include "snapshot/subscriber.h"

namespace snapshot {
namespace {

namespace pb = smartautoscaler::v1;

const absl::Time kT0 = absl::FromUnixMillis(1741083330000);

MetricPoint Point(const std::string& deployment, double value,
                  const std::string& metric = "smart_cpu_pressure",
                  std::map<std::string, std::string> labels = {}) {
  MetricPoint p;
  p.namespace_name = "prod";
  p.metric = metric;
  p.deployment = deployment;
  p.labels = std::move(labels);
  p.value = value;
  p.timestamp = kT0;
  p.window = absl::Seconds(60);
  return p;
}

// Table A and B differ by one changed value (api), one removal (web) and one new point (db);
// "worker" with a label stays the same.
std::vector<MetricPoint> TableA() {
  return {Point("api", 0.85), Point("web", 2), Point("api", 400, "smart_cpu_target"),
          Point("worker", 1.5, "smart_cpu_pressure", {{"node_pool", "spot"}})};
}
std::vector<MetricPoint> TableB() {
  return {Point("api", 1.25), Point("api", 400, "smart_cpu_target"),
          Point("worker", 1.5, "smart_cpu_pressure", {{"node_pool", "spot"}}), Point("db", 0.3)};
}
std::vector<MetricPoint> TableC() {
  std::vector<MetricPoint> c = TableB();
  c.push_back(Point("cache", 7, "smart_memory_blended"));
  c[0].value = 2.5;
  c[0].timestamp = kT0 + absl::Minutes(1);
  return c;
}

// One line per point: namespace, metric, deployment, labels (with deployment=), value,
// timestamp, window; sorted. Comparable between what was published and what the subscriber
// handed over.
std::vector<std::string> Render(const std::vector<MetricPoint>& points) {
  std::vector<std::string> out;
  for (const MetricPoint& p : points) {
    std::map<std::string, std::string> labels = p.labels;
    labels["deployment"] = p.deployment;
    out.push_back(absl::StrCat(p.namespace_name, "|", p.metric, "|", p.deployment, "|",
                               absl::StrJoin(labels, ",", absl::PairFormatter("=")), "|", p.value,
                               "|", absl::FormatTime(p.timestamp), "|",
                               absl::ToInt64Seconds(p.window)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Render(const RecordingSink& sink) { return Render(sink.points()); }

// Polls `cond` until it holds or a generous deadline passes.
bool WaitFor(const std::function<bool()>& cond, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return cond();
}

class PublisherTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (client_) client_->Stop();
    publisher_.Stop();
  }

  // Starts the publisher on a free loopback port as leader; returns the address clients use.
  std::string StartLoopback() {
    EXPECT_TRUE(publisher_.Start("127.0.0.1:0").ok());
    publisher_.SetLeader(true);
    return absl::StrCat("127.0.0.1:", publisher_.port());
  }

  void StartClient(const std::string& address) {
    SubscriberOptions o;
    o.address = address;
    o.client_name = "publisher_test";
    o.initial_backoff = absl::Milliseconds(10);
    o.max_backoff = absl::Milliseconds(50);
    client_ = std::make_unique<Subscriber>(&table_, &base::RealClock(), o);
    client_->Start();
  }

  // Waits until the subscriber's table equals `expected`; on timeout the EXPECT shows the diff.
  void ExpectConverges(const std::vector<MetricPoint>& expected) {
    const std::vector<std::string> want = Render(expected);
    WaitFor([&] { return Render(table_) == want; });
    EXPECT_EQ(Render(table_), want);
  }

  base::FakeClock clock_{kT0};
  Publisher publisher_{&clock_};
  RecordingSink table_;
  std::unique_ptr<Subscriber> client_;
};

TEST_F(PublisherTest, FullSnapshotThenDeltaWithChangeRemovalAndAddition) {
  StartClient(StartLoopback());
  publisher_.Publish(TableA());
  ExpectConverges(TableA());
  publisher_.Publish(TableB());
  ExpectConverges(TableB());
  const Subscriber::Stats stats = client_->stats();
  EXPECT_EQ(stats.connects, 1u);  // B arrived as a delta on the same stream
  EXPECT_EQ(stats.full, 1u);
  EXPECT_EQ(stats.deltas, 1u);
  EXPECT_EQ(stats.gaps, 0u);
  EXPECT_EQ(publisher_.Stats().connected_streams, 1);
  EXPECT_EQ(publisher_.Stats().updates_sent, 2u);
}

TEST_F(PublisherTest, TimelessPointsAreStampedWithThePublishTime) {
  StartClient(StartLoopback());
  clock_.Advance(absl::Minutes(3));
  std::vector<MetricPoint> table = TableA();
  table[0].timestamp = kTimeless;
  table[1].timestamp = absl::UnixEpoch() - absl::Seconds(1);  // the wire cannot carry it
  publisher_.Publish(table);
  std::vector<MetricPoint> want = TableA();
  want[0].timestamp = kT0 + absl::Minutes(3);
  want[1].timestamp = kT0 + absl::Minutes(3);
  ExpectConverges(want);
}

TEST_F(PublisherTest, LateClientGetsFullSnapshotOfCurrentTable) {
  const std::string address = StartLoopback();
  publisher_.Publish(TableA());
  publisher_.Publish(TableB());
  publisher_.Publish(TableC());
  StartClient(address);
  ExpectConverges(TableC());
  EXPECT_EQ(client_->stats().full, 1u);
  EXPECT_EQ(client_->stats().deltas, 0u);
  publisher_.Publish(TableA());
  ExpectConverges(TableA());
  EXPECT_EQ(client_->stats().deltas, 1u);
  EXPECT_EQ(client_->stats().gaps, 0u);
}

TEST_F(PublisherTest, UnchangedPublishSendsEmptyDeltaWithNextSequence) {
  StartClient(StartLoopback());
  publisher_.Publish(TableA());
  ExpectConverges(TableA());
  for (int i = 0; i < 3; ++i) publisher_.Publish(TableA());
  // A sequence gap would make the client drop and reconnect.
  ASSERT_TRUE(WaitFor([&] { return client_->stats().deltas == 3; }));
  EXPECT_EQ(client_->stats().gaps, 0u);
  EXPECT_EQ(client_->stats().connects, 1u);
  ExpectConverges(TableA());
}

TEST_F(PublisherTest, ClientConnectedBeforeFirstPublishGetsNothingUntilThen) {
  StartClient(StartLoopback());
  ASSERT_TRUE(WaitFor([&] { return publisher_.Stats().connected_streams == 1; }));
  EXPECT_FALSE(table_.has_data());  // no empty FULL that would wipe an adapter's values
  EXPECT_EQ(client_->stats().full, 0u);
  publisher_.Publish(TableA());
  ExpectConverges(TableA());
  EXPECT_EQ(client_->stats().full, 1u);
}

TEST_F(PublisherTest, ClientReconnectsAfterStopAndRestart) {
  const std::string address = StartLoopback();
  StartClient(address);
  publisher_.Publish(TableA());
  ExpectConverges(TableA());
  publisher_.Stop();
  ASSERT_TRUE(WaitFor([&] { return !client_->stats().connected; }));
  EXPECT_EQ(publisher_.Stats().connected_streams, 0);
  publisher_.Publish(TableB());  // while stopped: kept for the next start
  ASSERT_TRUE(publisher_.Start(address).ok());
  ExpectConverges(TableB());
  EXPECT_EQ(client_->stats().full, 2u);
  publisher_.Publish(TableC());
  ExpectConverges(TableC());
}

TEST_F(PublisherTest, StandbyServesNothingAndLeaderConverges) {
  StartClient(StartLoopback());
  publisher_.Publish(TableA());
  ExpectConverges(TableA());

  publisher_.SetLeader(false);
  ASSERT_TRUE(WaitFor(
      [&] { return !client_->stats().connected && publisher_.Stats().connected_streams == 0; }));
  publisher_.Publish(TableB());
  // The client keeps retrying and is refused each time; its table keeps the last values.
  ASSERT_TRUE(WaitFor([&] { return publisher_.Stats().standby_refusals >= 3; }));
  EXPECT_EQ(Render(table_), Render(TableA()));
  EXPECT_EQ(client_->stats().full, 1u);

  publisher_.SetLeader(true);
  ExpectConverges(TableB());
  EXPECT_EQ(client_->stats().full, 2u);
}

TEST_F(PublisherTest, StartsAsStandbyByDefault) {
  ASSERT_TRUE(publisher_.Start("127.0.0.1:0").ok());
  publisher_.Publish(TableA());
  StartClient(absl::StrCat("127.0.0.1:", publisher_.port()));
  ASSERT_TRUE(WaitFor([&] { return publisher_.Stats().standby_refusals >= 2; }));
  EXPECT_FALSE(table_.has_data());
  publisher_.SetLeader(true);
  ExpectConverges(TableA());
}

TEST_F(PublisherTest, RefusesAddressesReachableFromOutsideThePod) {
  for (const std::string& address : std::vector<std::string>{
           "0.0.0.0:1234", "10.0.0.1:1", "[::]:1234", "example.com:443", "127.0.0.2:1", ":1234",
           "1234", "", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:-1", "localhost:http",
           "unix:relative.sock", "unix://relative.sock",
           "unix:", "unix:///tmp/" + std::string(120, 'x') + ".sock"}) {
    absl::Status s = publisher_.Start(address);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << address << ": " << s;
    EXPECT_EQ(publisher_.port(), 0);
  }
  EXPECT_TRUE(publisher_.Start("localhost:0").ok());
  EXPECT_GT(publisher_.port(), 0);
  EXPECT_EQ(publisher_.Start("127.0.0.1:0").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PublisherTest, PortInUseIsUnavailable) {
  ASSERT_TRUE(publisher_.Start("127.0.0.1:0").ok());
  Publisher other(&clock_);
  EXPECT_EQ(other.Start(absl::StrCat("127.0.0.1:", publisher_.port())).code(),
            absl::StatusCode::kUnavailable);
}

// TEST_TMPDIR is too long for a Unix socket path (107 bytes).
std::string SocketPath(const std::string& name) {
  return absl::StrCat("/tmp/sa-publisher-", getpid(), "-", name, ".sock");
}

TEST_F(PublisherTest, ServesOnUnixSocketReplacingStaleSocketFile) {
  const std::string path = SocketPath("stale");
  {
    // A socket file left by a previous process (bound, never unlinked).
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    unlink(path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  ASSERT_TRUE(publisher_.Start("unix://" + path).ok());
  publisher_.SetLeader(true);
  EXPECT_EQ(publisher_.port(), 0);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660);

  StartClient("unix://" + path);
  publisher_.Publish(TableA());
  ExpectConverges(TableA());
  publisher_.Publish(TableB());
  ExpectConverges(TableB());

  client_->Stop();
  publisher_.Stop();
  EXPECT_NE(stat(path.c_str(), &st), 0);  // removed on Stop
}

TEST_F(PublisherTest, DoesNotRemoveAFileThatIsNotASocket) {
  const std::string path = SocketPath("regular");
  { std::ofstream(path) << "keep me"; }
  EXPECT_EQ(publisher_.Start("unix://" + path).code(), absl::StatusCode::kFailedPrecondition);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  unlink(path.c_str());
}

// A raw Watch stream that never reads: the server's writes stall once the flow-control window
// is full.
class StuckClient {
 public:
  explicit StuckClient(const std::string& address)
      : stub_(pb::MetricSnapshots::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    pb::WatchRequest request;
    request.set_client("stuck");
    reader_ = stub_->Watch(&context_, request);
  }
  ~StuckClient() {
    context_.TryCancel();
    reader_->Finish();
  }

 private:
  std::unique_ptr<pb::MetricSnapshots::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<pb::SnapshotUpdate>> reader_;
};

// `n` points whose values all change with `round`: a delta of a few hundred kilobytes.
std::vector<MetricPoint> BigTable(int n, int round) {
  std::vector<MetricPoint> points;
  for (int i = 0; i < n; ++i) {
    points.push_back(Point(absl::StrCat("deployment-with-a-long-name-", i), round + i * 0.001,
                           "smart_cpu_pressure", {{"node_pool", "general-purpose-pool"}}));
  }
  return points;
}

TEST(PublisherSlowClientTest, SlowClientIsDroppedWithoutBlockingPublishOthersContinue) {
  base::FakeClock clock(kT0);
  PublisherOptions options;
  options.max_queued_updates = 2;
  options.initially_leader = true;
  Publisher publisher(&clock, options);
  ASSERT_TRUE(publisher.Start("127.0.0.1:0").ok());
  const std::string address = absl::StrCat("127.0.0.1:", publisher.port());
  publisher.Publish(BigTable(4000, 0));

  RecordingSink table;
  SubscriberOptions o;
  o.address = address;
  o.initial_backoff = absl::Milliseconds(10);
  o.max_backoff = absl::Milliseconds(50);
  Subscriber good(&table, &base::RealClock(), o);
  good.Start();
  auto stuck = std::make_unique<StuckClient>(address);
  ASSERT_TRUE(WaitFor([&] { return publisher.Stats().connected_streams == 2; }));

  // Publish never waits for the stuck client; within a bounded number of rounds its queue
  // overflows and its stream is ended.
  int round = 1;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (publisher.Stats().slow_client_drops == 0 && absl::Now() < deadline && round < 500) {
    const absl::Time before = absl::Now();
    publisher.Publish(BigTable(4000, round++));
    EXPECT_LT(absl::Now() - before, absl::Seconds(2)) << "Publish blocked";
    // Let the good client keep up, so only the stuck one falls behind.
    const auto want = static_cast<uint64_t>(round - 1);
    WaitFor([&] { return good.stats().deltas >= want; }, absl::Seconds(5));
  }
  EXPECT_EQ(publisher.Stats().slow_client_drops, 1u);
  ASSERT_TRUE(WaitFor([&] { return publisher.Stats().connected_streams == 1; }));
  EXPECT_EQ(good.stats().connects, 1u);  // the good client was never dropped
  const std::vector<MetricPoint> last = BigTable(4000, round - 1);
  WaitFor([&] { return Render(table) == Render(last); });
  EXPECT_EQ(Render(table), Render(last));
  good.Stop();
  stuck.reset();
  publisher.Stop();
}

TEST(PublisherStopTest, StopIsBoundedEvenWithAStuckClient) {
  base::FakeClock clock(kT0);
  PublisherOptions options;
  options.max_queued_updates = 1000;  // never drop: the handler stays blocked in Write
  options.initially_leader = true;
  options.shutdown_grace = absl::Milliseconds(200);
  Publisher publisher(&clock, options);
  ASSERT_TRUE(publisher.Start("127.0.0.1:0").ok());
  StuckClient stuck(absl::StrCat("127.0.0.1:", publisher.port()));
  for (int round = 0; round < 40; ++round) publisher.Publish(BigTable(4000, round));
  ASSERT_TRUE(WaitFor([&] { return publisher.Stats().updates_sent >= 1; }));
  const absl::Time before = absl::Now();
  publisher.Stop();
  EXPECT_LT(absl::Now() - before, absl::Seconds(3));
  EXPECT_EQ(publisher.Stats().connected_streams, 0);
}

}  // namespace
}  // namespace snapshot
