// The anomaly log over a real RocksDB store: start and resolve recorded with their evidence,
// read back after the store is closed and reopened (a restart), restored into a new
// AlertManager without a second start, and served by the "anomalies" sub-resource.
#include "reconciler/alerts/anomaly_log.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "reconciler/alerts/routes.h"

namespace reconciler::alerts {
namespace {

namespace an = predictor::anomaly;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

class RecordingNotifier : public Notifier {
 public:
  void Notify(const clients::webhook::Alert& a) override { got.push_back(a); }
  std::vector<clients::webhook::Alert> got;
};

an::Finding Spike(bool active, double value = 2400) {
  an::Finding f;
  f.type = an::AnomalyType::kCpuSpike;
  f.active = active;
  f.severity = an::Severity::kCritical;
  f.value = value;
  f.low = 700;
  f.high = 1300;
  f.values = {1000, value};
  f.judged = "the value";
  return f;
}

class AnomalyLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::string(getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Open();
  }
  void Open() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<storage::Store>> s =
        storage::OpenRocksStore({.path = path_, .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  base::HttpResponse Get(const AnomalyLog* log, const std::string& hours,
                         const std::string& path = "/api/v1/deployments/shop/api/anomalies") {
    StatusView view;
    AddAnomalyRoutes(&view, log, &clock_);
    base::HttpRequest req;
    req.method = "GET";
    req.path = path;
    if (!hours.empty()) req.query["hours"] = hours;
    return view.deployment_resources.at("anomalies")("shop", "api", req);
  }

  std::string path_;
  base::FakeClock clock_{kT0};
  std::unique_ptr<storage::Store> store_;
};

TEST_F(AnomalyLogTest, StartAndResolveSurviveARestartWithTheirEvidence) {
  {
    RecordingNotifier n;
    AlertManager m(&n, &clock_);
    AnomalyLog log(store_.get(), &clock_);
    m.AddListener(&log);
    m.Observe("shop", "api", Spike(true), true);
    clock_.Advance(absl::Minutes(5));
    m.Observe("shop", "api", Spike(false), true);
    m.Observe("shop", "web", Spike(true), true);  // another deployment, still open
    EXPECT_EQ(log.write_errors(), 0);
  }
  Open();  // the restart
  AnomalyLog log(store_.get(), &clock_);
  absl::StatusOr<std::vector<Transition>> day =
      log.ForDeployment("shop", "api", clock_.Now() - absl::Hours(24), clock_.Now());
  ASSERT_TRUE(day.ok()) << day.status();
  ASSERT_EQ(day->size(), 1u);  // the resolve replaced the start: one anomaly
  const Transition& t = (*day)[0];
  EXPECT_EQ(t.evidence.type, an::AnomalyType::kCpuSpike);
  EXPECT_EQ(t.evidence.severity, an::Severity::kCritical);
  EXPECT_EQ(t.start, kT0);
  EXPECT_EQ(t.end, kT0 + absl::Minutes(5));
  EXPECT_EQ(t.evidence.low, 700);
  EXPECT_EQ(t.evidence.high, 1300);
  EXPECT_EQ(t.evidence.values, (std::vector<double>{1000, 2400}));
  EXPECT_EQ(t.evidence.judged, "the value");

  absl::StatusOr<std::vector<Transition>> open = log.Open();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].deployment, "web");

  // The overview's counts: both were active in the last hour.
  absl::StatusOr<std::vector<Transition>> hour = log.ActiveSince(clock_.Now() - absl::Hours(1));
  ASSERT_TRUE(hour.ok()) << hour.status();
  EXPECT_EQ(hour->size(), 2u);
  clock_.Advance(absl::Minutes(10));
  absl::StatusOr<std::vector<Transition>> recent = log.ActiveSince(clock_.Now() - absl::Minutes(1));
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u) << "the api spike ended 10 min ago";
  EXPECT_EQ((*recent)[0].deployment, "web");
}

TEST_F(AnomalyLogTest, ARestoredAnomalyIsNotStartedAgainButIsResolved) {
  {
    RecordingNotifier n;
    AlertManager m(&n, &clock_);
    AnomalyLog log(store_.get(), &clock_);
    m.AddListener(&log);
    m.Observe("shop", "api", Spike(true), true);
    ASSERT_EQ(n.got.size(), 1u);
  }
  Open();
  clock_.Advance(absl::Minutes(2));
  RecordingNotifier n;
  AlertManager m(&n, &clock_);
  AnomalyLog log(store_.get(), &clock_);
  m.AddListener(&log);
  absl::StatusOr<std::vector<Transition>> open = log.Open();
  ASSERT_TRUE(open.ok()) << open.status();
  for (const Transition& t : *open) m.Restore(t);
  m.Observe("shop", "api", Spike(true, 2500), true);  // still active: nothing sent
  EXPECT_TRUE(n.got.empty());
  clock_.Advance(absl::Minutes(1));
  m.Observe("shop", "api", Spike(false), true);
  ASSERT_EQ(n.got.size(), 1u);
  EXPECT_TRUE(n.got[0].resolved);
  EXPECT_EQ(n.got[0].key, "shop/api/cpu_spike/1700000000");  // the key the start was sent with
  EXPECT_TRUE(log.Open()->empty());
}

TEST_F(AnomalyLogTest, TheRouteServesTheWindowAndRejectsBadHours) {
  RecordingNotifier n;
  AlertManager m(&n, &clock_);
  AnomalyLog log(store_.get(), &clock_);
  m.AddListener(&log);
  m.Observe("shop", "api", Spike(true), true);
  clock_.Advance(absl::Minutes(10));
  m.Observe("shop", "api", Spike(false), true);
  clock_.Advance(absl::Hours(3));

  base::HttpResponse r = Get(&log, "");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_FALSE(d.HasParseError()) << r.body;
  EXPECT_EQ(d["hours"].GetDouble(), 24);
  ASSERT_EQ(d["anomalies"].Size(), 1u);
  const auto& a = d["anomalies"][0];
  EXPECT_STREQ(a["type"].GetString(), "cpu_spike");
  EXPECT_STREQ(a["severity"].GetString(), "critical");
  EXPECT_STREQ(a["start"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(a["end"].GetString(), "2023-11-14T22:23:20Z");
  EXPECT_FALSE(a["active"].GetBool());
  EXPECT_EQ(a["evidence"]["band"]["high"].GetDouble(), 1300);
  EXPECT_TRUE(a["evidence"]["threshold"].IsNull());  // a band, not a threshold
  EXPECT_EQ(a["evidence"]["values"].Size(), 2u);
  EXPECT_STREQ(a["evidence"]["judged"].GetString(), "the value");

  // Ended 3 h ago: outside a 2-hour window.
  r = Get(&log, "2");
  ASSERT_EQ(r.status, 200);
  d.Parse(r.body.c_str());
  EXPECT_EQ(d["anomalies"].Size(), 0u);

  for (const char* bad : {"0", "-1", "abc", "721", "nan", "inf"}) {
    r = Get(&log, bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("hours"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Get(nullptr, "24").status, 503);

  // The original's route: a list in its field names, with the same `hours` and 400s.
  const std::string original = "/api/deployment/shop/api/anomalies";
  r = Get(&log, "24", original);
  ASSERT_EQ(r.status, 200) << r.body;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d.IsArray()) << r.body;
  ASSERT_EQ(d.Size(), 1u);
  const auto& o = d[0];
  EXPECT_STREQ(o["timestamp"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(o["type"].GetString(), "cpu_spike");
  EXPECT_STREQ(o["severity"].GetString(), "critical");
  EXPECT_EQ(o["current"].GetDouble(), 2400);
  EXPECT_EQ(o["expected"].GetDouble(), 1000);  // the middle of 700..1300
  EXPECT_DOUBLE_EQ(o["deviation"].GetDouble(), 140);
  EXPECT_STREQ(o["description"].GetString(), "cpu_spike: 2400 outside 700..1300 (the value)");
  EXPECT_FALSE(o["active"].GetBool());
  d.Parse(Get(&log, "2", original).body.c_str());
  EXPECT_EQ(d.Size(), 0u);
  EXPECT_EQ(Get(&log, "abc", original).status, 400);
  EXPECT_EQ(Get(nullptr, "24", original).status, 503);
}

}  // namespace
}  // namespace reconciler::alerts
