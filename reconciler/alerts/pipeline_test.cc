// Two replicas' whole alert path over real parts: the stage's detectors, the lifecycle, the
// anomaly log in a real RocksDB store each, and the dispatcher's libcurl delivery to a real
// loopback HTTP receiver (the generic JSON channel). An injected 15-minute CPU spike gives
// exactly one start and one resolve at the receiver, sent by the leader only; both replicas'
// stores hold the anomaly. (Readings are synthetic here, not from Prometheus.)
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "clients/http/curl_http_client.h"
#include "clients/webhook/dispatcher.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "reconciler/alerts/alerts.h"
#include "reconciler/alerts/anomaly_log.h"
#include "reconciler/alerts/stage.h"
#include "storage/store.h"

namespace reconciler::alerts {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

class Receiver {
 public:
  Receiver() {
    server_.HandlePrefix("/", [this](const base::HttpRequest& r) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(r.body);
      base::HttpResponse resp;
      resp.content_type = "application/json";
      resp.body = "{}";
      return resp;
    });
    EXPECT_TRUE(server_.Start("127.0.0.1:0").ok());
  }
  std::string Url() const { return absl::StrCat("http://127.0.0.1:", server_.port(), "/hook"); }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

 private:
  base::HttpServer server_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
};

// One replica: its own store, dispatcher, lifecycle and detectors.
struct Replica {
  Replica(const std::string& path, const std::string& url, const base::FakeClock* clock,
          clients::http::HttpClient* http)
      : store(std::move(*storage::OpenRocksStore({.path = path, .clock = clock}))),
        dispatcher({{clients::webhook::Channel::kGeneric, url, "", "", ""}}, http,
                   &base::RealClock(), &base::RealSleeper()),
        notifier(&dispatcher),
        alerts(&notifier, clock),
        log(store.get(), clock),
        stage(&alerts) {
    alerts.AddListener(&log);
  }
  std::unique_ptr<storage::Store> store;
  clients::webhook::Dispatcher dispatcher;
  DispatcherNotifier notifier;
  AlertManager alerts;
  AnomalyLog log;
  AnomalyStage stage;
};

TEST(AlertPipelineTest, InjectedSpikeGivesOneStartAndOneResolveFromTheLeaderOnly) {
  base::FakeClock clock(kT0);
  Receiver rx;
  auto http = clients::http::MakeCurlHttpClient({});
  const std::string dir = getenv("TEST_TMPDIR");
  Replica leader(dir + "/leader", rx.Url(), &clock, http.get());
  Replica follower(dir + "/follower", rx.Url(), &clock, http.get());
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 20);
  for (int i = 0; i < 3 * 288; ++i) {  // three days of 5-minute cycles
    DeploymentReading r{"default", "api", clock.Now(), 800 + noise(rng), 60, 3};
    if (i >= 700 && i < 703) r.demand_millicores = 2400 + noise(rng);  // the spike
    leader.stage.Observe(r, /*is_leader=*/true);
    follower.stage.Observe(r, /*is_leader=*/false);
    clock.Advance(absl::Minutes(5));
  }
  // Delivery is asynchronous: wait (generously, for a loaded machine) for the queues to drain.
  ASSERT_TRUE(leader.dispatcher.WaitIdle(absl::Seconds(60)));
  ASSERT_TRUE(follower.dispatcher.WaitIdle(absl::Seconds(60)));

  const std::vector<std::string> got = rx.bodies();
  ASSERT_EQ(got.size(), 2u);
  std::vector<std::string> events, keys;
  for (const std::string& body : got) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    ASSERT_FALSE(d.HasParseError()) << body;
    events.push_back(d["event"].GetString());
    keys.push_back(d["key"].GetString());
    EXPECT_STREQ(d["type"].GetString(), "cpu_spike");
  }
  EXPECT_EQ(events, (std::vector<std::string>{"anomaly.started", "anomaly.resolved"}));
  EXPECT_EQ(keys[0], keys[1]);
  EXPECT_EQ(leader.dispatcher.Stats()[0].sent, 2);
  EXPECT_EQ(follower.dispatcher.Stats()[0].sent, 0);

  for (Replica* r : {&leader, &follower}) {  // each replica's own store has the anomaly
    absl::StatusOr<std::vector<Transition>> stored =
        r->log.ForDeployment("default", "api", kT0, clock.Now());
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_EQ(stored->size(), 1u);
    EXPECT_EQ((*stored)[0].start, kT0 + 700 * absl::Minutes(5));
    EXPECT_NE((*stored)[0].end, absl::InfiniteFuture());
  }
}

}  // namespace
}  // namespace reconciler::alerts
