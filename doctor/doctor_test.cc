// The doctor against tests/kube_api_server (the stand-in for kube-apiserver), a real Prometheus
// and real TLS servers: the healthy install passes every check, and each broken fixture of
// tests/kube_api_server/fixtures/doctor_broken.json fails exactly its check with the right cause.
#include "doctor/doctor.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "base/clock.h"
#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/kube_api_server/fake_kube_api_server.h"
#include "tests/prometheus/prometheus_server.h"
#include "tests/testing/test_certs.h"

namespace doctor {
namespace {

constexpr char kSa[] = "system:serviceaccount:smart-autoscaler:smart-autoscaler";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

// A TLS server presenting `leaf` (signed by `ca`), for the serving-certificate check.
std::unique_ptr<tests::FakeKubeApiServer> StartTlsServer(const std::string& dir,
                                                         const std::string& tag,
                                                         const tests::TestCert& ca,
                                                         const tests::TestCert& leaf) {
  tests::FakeKubeApiServerOptions o;
  o.tls_cert_file = absl::StrCat(dir, "/", tag, ".crt");
  o.tls_key_file = absl::StrCat(dir, "/", tag, ".key");
  o.ca_file = absl::StrCat(dir, "/", tag, "-ca.crt");
  EXPECT_TRUE(tests::WriteTestFile(o.tls_cert_file, leaf.cert_pem).ok());
  EXPECT_TRUE(tests::WriteTestFile(o.tls_key_file, leaf.key_pem).ok());
  EXPECT_TRUE(tests::WriteTestFile(o.ca_file, ca.cert_pem).ok());
  auto s = tests::FakeKubeApiServer::Start(o);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

tests::TestCert Leaf(const tests::TestCert& ca, std::vector<std::string> dns) {
  tests::LeafSpec spec;
  spec.common_name = dns[0];
  spec.dns_names = std::move(dns);
  spec.ip_addresses = {"127.0.0.1"};  // for the harness's own control calls
  spec.client_auth = false;
  spec.server_auth = true;
  spec.not_before = absl::Now() - absl::Hours(24);  // the test clock runs 3 h behind
  auto leaf = tests::MakeLeaf(ca, spec);
  EXPECT_TRUE(leaf.ok()) << leaf.status();
  return *leaf;
}

// cAdvisor series for the two shop pods and node_exporter series for node-a (by instance) and
// node-b (by node label), one sample a minute for an hour ending at `end`.
std::string OpenMetrics(absl::Time end) {
  std::string om = "# TYPE container_cpu_usage_seconds counter\n";
  std::string node = "# TYPE node_cpu_seconds counter\n";
  const int64_t t_end = absl::ToUnixSeconds(end);
  for (int i = 0; i <= 60; ++i) {
    const int64_t t = t_end - (60 - i) * 60;
    for (const char* pod : {"api-service-7d9f8b6c5-x2x9p", "api-service-7d9f8b6c5-q8kzt"}) {
      absl::StrAppendFormat(&om,
                            "container_cpu_usage_seconds_total{namespace=\"shop\",pod=\"%s\","
                            "container=\"api\"} %d %d\n",
                            pod, 100 + 30 * i, t);
    }
    absl::StrAppendFormat(
        &node, "node_cpu_seconds_total{instance=\"node-a:9100\",cpu=\"0\",mode=\"user\"} %d %d\n",
        1000 + 40 * i, t);
    absl::StrAppendFormat(&node,
                          "node_cpu_seconds_total{instance=\"10.0.0.2:9100\",node=\"node-b\",cpu="
                          "\"0\",mode=\"user\"} %d %d\n",
                          1000 + 20 * i, t);
  }
  return om + node + "# EOF\n";
}

class DoctorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(tests::MakeTestDir("doctor"));
    const absl::Time from = absl::Now() - absl::Hours(24);  // the test clock runs 3 h behind
    auto ca = tests::MakeCa("smart-autoscaler-ca", from);
    auto other = tests::MakeCa("some-other-ca", from);
    ASSERT_TRUE(ca.ok() && other.ok());
    const std::vector<std::string> names = {"smart-autoscaler.smart-autoscaler.svc",
                                            "smart-autoscaler",
                                            "smart-autoscaler.smart-autoscaler"};
    ca_pem_ = new std::string(ca->cert_pem);
    good_ = StartTlsServer(*dir_, "good", *ca, Leaf(*ca, names)).release();
    other_ca_ = StartTlsServer(*dir_, "other", *other, Leaf(*other, names)).release();
    wrong_san_ =
        StartTlsServer(*dir_, "wrong", *ca, Leaf(*ca, {"smart-autoscaler.default.svc"})).release();
    tests::FakeKubeApiServerOptions ko;
    ko.fixtures_file = tests::FixturesPath();
    auto kube = tests::FakeKubeApiServer::Start(ko);
    ASSERT_TRUE(kube.ok()) << kube.status();
    kube_ = kube->release();
    // Older than two hours, so Prometheus backfills the blocks.
    end_ = absl::FromUnixSeconds((absl::ToUnixSeconds(absl::Now() - absl::Hours(3)) / 60) * 60);
    auto prom = testing_util::PrometheusServer::Start(OpenMetrics(end_), *dir_ + "/prom");
    ASSERT_TRUE(prom.ok()) << prom.status();
    prom_ = prom->release();
  }
  static void TearDownTestSuite() {
    delete prom_;
    delete kube_;
    delete good_;
    delete other_ca_;
    delete wrong_san_;
  }

  // The clock: 30 s after the last sample.
  absl::Time Now() const { return end_ + absl::Seconds(30); }

  std::string Fill(std::string json) const {
    return absl::StrReplaceAll(
        json, {{"@CA_BUNDLE@", absl::Base64Escape(*ca_pem_)},
               {"@NOW@", absl::FormatTime(absl::RFC3339_sec, Now(), absl::UTCTimeZone())},
               {"@NOW-10m@", absl::FormatTime(absl::RFC3339_sec, Now() - absl::Minutes(10),
                                              absl::UTCTimeZone())}});
  }

  // Back to cluster.json plus the healthy install.
  void InstallHealthy() {
    ASSERT_TRUE(kube_->Reset().ok());
    rapidjson::Document d;
    d.Parse(Fill(ReadFile(tests::RunfilePath("tests/kube_api_server/fixtures/doctor_healthy.json")))
                .c_str());
    ASSERT_FALSE(d.HasParseError());
    std::string ops = "{\"ops\":[";
    for (const auto& item : d["items"].GetArray()) {
      absl::StrAppend(&ops, ops.back() == '[' ? "" : ",",
                      "{\"op\":\"add\",\"object\":", ToJson(item), "}");
    }
    ASSERT_TRUE(kube_->ApplyObjects(ops + "]}").ok());
    ASSERT_TRUE(kube_->Configure(ToJson(d["config"])).ok());
  }

  Report Run(const std::string& serving_address, const std::string& prometheus_url,
             Options options = {}, const std::string& token = "") {
    clients::kube::ClusterConfig cluster;
    cluster.server = kube_->url();
    cluster.bearer_token = token;
    auto http = clients::kube::MakeHttpClient(cluster);
    auto prom_http = clients::http::MakeCurlHttpClient({});
    auto prom =
        clients::prometheus::MakePrometheusClient({.base_url = prometheus_url}, prom_http.get());
    auto certs = MakeTlsCertFetcher();
    base::FakeClock clock(Now());
    options.serving_address = serving_address;
    options.timeout = absl::Seconds(5);
    return RunDoctor(options, {http.get(), &cluster, prom.get(), certs.get(), &clock});
  }

  std::string Good() const { return absl::StrCat("127.0.0.1:", good_->port()); }

  static void SaveOutput(const std::string& name, const std::string& text) {
    const char* out = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    if (out != nullptr) (void)tests::WriteTestFile(absl::StrCat(out, "/", name), text);
  }

  static std::string* dir_;
  static std::string* ca_pem_;
  static tests::FakeKubeApiServer* kube_;
  static tests::FakeKubeApiServer* good_;
  static tests::FakeKubeApiServer* other_ca_;
  static tests::FakeKubeApiServer* wrong_san_;
  static testing_util::PrometheusServer* prom_;
  static absl::Time end_;
};

std::string* DoctorTest::dir_ = nullptr;
std::string* DoctorTest::ca_pem_ = nullptr;
tests::FakeKubeApiServer* DoctorTest::kube_ = nullptr;
tests::FakeKubeApiServer* DoctorTest::good_ = nullptr;
tests::FakeKubeApiServer* DoctorTest::other_ca_ = nullptr;
tests::FakeKubeApiServer* DoctorTest::wrong_san_ = nullptr;
testing_util::PrometheusServer* DoctorTest::prom_ = nullptr;
absl::Time DoctorTest::end_;

TEST_F(DoctorTest, HealthyInstallPassesEveryCheck) {
  InstallHealthy();
  Report r = Run(Good(), prom_->url());
  std::vector<std::string> ids;
  for (const Check& c : r.checks) {
    EXPECT_TRUE(c.ok) << c.id << ": " << c.cause;
    ids.push_back(c.id);
  }
  EXPECT_EQ(
      ids,
      (std::vector<std::string>{
          "apiservice/v1beta1.external.metrics.k8s.io", "apiservice/v1beta2.custom.metrics.k8s.io",
          "apiservice/v1beta1.custom.metrics.k8s.io", "apiservice-owner/custom.metrics.k8s.io",
          "apiservice-owner/external.metrics.k8s.io", "service-endpoints", "serving-cert",
          "rbac/reconciler", "rbac/adapter", "auth-configmap", "prometheus",
          "prometheus/pod-cpu/shop/api-service", "prometheus/node-cpu", "hpa/shop/api-service"}));
  EXPECT_TRUE(r.ok());
  const std::string text = FormatText(r);
  SaveOutput("doctor-healthy.txt", text);
  EXPECT_TRUE(absl::StrContains(
      text, "\u2714 APIService v1beta1.external.metrics.k8s.io \u2014 Available\n"));
  EXPECT_TRUE(absl::StrContains(text, "verified for smart-autoscaler.smart-autoscaler.svc"))
      << text;
  EXPECT_TRUE(absl::EndsWith(text, "all 14 of 14 checks passed\n")) << text;
  rapidjson::Document json;
  json.Parse(FormatJson(r).c_str());
  ASSERT_FALSE(json.HasParseError());
  EXPECT_TRUE(json["ok"].GetBool());
  EXPECT_EQ(json["checks"].Size(), 14u);
}

TEST_F(DoctorTest, EveryBrokenFixtureFailsItsCheckWithTheRightCause) {
  rapidjson::Document cases;
  cases.Parse(
      ReadFile(tests::RunfilePath("tests/kube_api_server/fixtures/doctor_broken.json")).c_str());
  ASSERT_FALSE(cases.HasParseError());
  std::string all_text;
  for (const auto& c : cases["cases"].GetArray()) {
    const std::string name = c["name"].GetString();
    SCOPED_TRACE(name);
    InstallHealthy();
    if (c.HasMember("ops")) {
      ASSERT_TRUE(kube_->ApplyObjects(absl::StrCat("{\"ops\":", Fill(ToJson(c["ops"])), "}")).ok());
    }
    if (c.HasMember("config")) ASSERT_TRUE(kube_->Configure(Fill(ToJson(c["config"]))).ok());
    std::string serving = Good();
    if (c.HasMember("serving")) {
      serving = absl::StrCat("127.0.0.1:", std::string(c["serving"].GetString()) == "other-ca"
                                               ? other_ca_->port()
                                               : wrong_san_->port());
    }
    std::string prom_url = prom_->url();
    if (c.HasMember("prometheus"))
      prom_url = absl::StrCat("http://127.0.0.1:", testing_util::PickFreePort());
    Report r = Run(serving, prom_url);
    std::set<std::string> may_fail = {c["check"].GetString()};
    if (c.HasMember("also_fail")) {
      for (const auto& id : c["also_fail"].GetArray()) may_fail.insert(id.GetString());
    }
    bool seen = false;
    for (const Check& check : r.checks) {
      if (check.id == c["check"].GetString()) {
        seen = true;
        EXPECT_FALSE(check.ok);
        EXPECT_TRUE(absl::StrContains(check.cause, c["cause"].GetString())) << check.cause;
        EXPECT_FALSE(check.fix.empty());
      } else if (!may_fail.count(check.id)) {
        EXPECT_TRUE(check.ok) << check.id << ": " << check.cause;
      }
    }
    EXPECT_TRUE(seen) << "no check " << c["check"].GetString();
    EXPECT_FALSE(r.ok());
    absl::StrAppend(&all_text, "## ", name, "\n", FormatText(r), "\n");
  }
  SaveOutput("doctor-broken.txt", all_text);
}

TEST_F(DoctorTest, InClusterRbacUsesSelfSubjectAccessReview) {
  InstallHealthy();
  ASSERT_TRUE(kube_
                  ->Configure(absl::StrCat(R"({"tokens": {"sa-token": {"username": ")", kSa,
                                           R"(", "groups": ["system:serviceaccounts"]}}})"))
                  .ok());
  Options o;
  o.rbac_self = true;
  ASSERT_TRUE(kube_->ClearRequests().ok());
  Report r = Run(Good(), prom_->url(), o, "sa-token");
  EXPECT_TRUE(r.ok()) << FormatText(r);
  EXPECT_GT(*kube_->CountRequests("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"), 10);
  EXPECT_EQ(*kube_->CountRequests("/apis/authorization.k8s.io/v1/subjectaccessreviews"), 0);

  ASSERT_TRUE(
      kube_
          ->Configure(absl::StrCat(R"({"sar_rules": [{"user": ")", kSa,
                                   R"(", "resource": "leases", "verb": "update", "allowed": false},
                                               {"user": ")",
                                   kSa, R"(", "allowed": true}]})"))
          .ok());
  r = Run(Good(), prom_->url(), o, "sa-token");
  ASSERT_FALSE(r.ok());
  for (const Check& c : r.checks) {
    if (c.id == "rbac/reconciler") {
      EXPECT_EQ(c.cause,
                "missing permission: update leases.coordination.k8s.io in smart-autoscaler");
    } else {
      EXPECT_TRUE(c.ok) << c.id << ": " << c.cause;
    }
  }
}

TEST_F(DoctorTest, UnreachableApiServerFailsEveryKubeCheckInsteadOfPassing) {
  clients::kube::ClusterConfig cluster;
  cluster.server = absl::StrCat("http://127.0.0.1:", testing_util::PickFreePort());
  auto http = clients::kube::MakeHttpClient(cluster);
  auto certs = MakeTlsCertFetcher();
  base::FakeClock clock(Now());
  Options o;
  o.serving_address = Good();
  o.timeout = absl::Seconds(2);
  Report r = RunDoctor(o, {http.get(), &cluster, nullptr, certs.get(), &clock});
  for (const Check& c : r.checks) EXPECT_FALSE(c.ok) << c.id << ": " << c.cause;
  EXPECT_EQ(r.failed(), static_cast<int>(r.checks.size()));
}

}  // namespace
}  // namespace doctor
