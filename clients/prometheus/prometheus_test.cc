#include "clients/prometheus/prometheus.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace clients::prometheus {
namespace {

using ::testing::HasSubstr;

// Answers every request with a canned response and records what was asked.
class CannedHttp : public http::HttpClient {
 public:
  CannedHttp(int status, std::string body) : status_(status), body_(std::move(body)) {}
  absl::StatusOr<http::HttpResponse> Do(const http::HttpRequest& r) override {
    last_ = r;
    http::HttpResponse resp;
    resp.status = status_;
    resp.body = body_;
    return resp;
  }
  http::HttpRequest last_;

 private:
  int status_;
  std::string body_;
};

TEST(PrometheusParseTest, ParsesVector) {
  auto r = ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"namespace":"a","pod":"p-1"},"value":[1700000000.5,"0.25"]},
      {"metric":{"pod":"p-2"},"value":[1700000000.5,"NaN"]},
      {"metric":{},"value":[1700000000.5,"+Inf"]}]}})",
                              200);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].labels.at("namespace"), "a");
  EXPECT_EQ((*r)[0].points[0].time, absl::FromUnixMillis(1700000000500));
  EXPECT_DOUBLE_EQ((*r)[0].points[0].value, 0.25);
  EXPECT_TRUE(std::isnan((*r)[1].points[0].value));
  EXPECT_TRUE(std::isinf((*r)[2].points[0].value));
}

TEST(PrometheusParseTest, ParsesMatrixAndScalar) {
  auto m = ParseQueryResponse(R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"pod":"x"},"values":[[10,"1"],[20,"2"],[30,"3e2"]]}]}})",
                              200);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ((*m)[0].points.size(), 3u);
  EXPECT_DOUBLE_EQ((*m)[0].points[2].value, 300);
  auto s = ParseQueryResponse(R"({"status":"success","data":{"resultType":"scalar","result":[5,"7"]}})",
                              200);
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ((*s)[0].points[0].value, 7);
  auto empty = ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[]}})",
                                  200);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(PrometheusParseTest, MapsApiErrors) {
  auto bad = ParseQueryResponse(
      R"({"status":"error","errorType":"bad_data","error":"parse error at char 4"})", 400);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("parse error at char 4"));
  EXPECT_EQ(ParseQueryResponse(R"({"status":"error","errorType":"timeout","error":"t"})", 503)
                .status()
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ParseQueryResponse(R"({"status":"error","errorType":"execution","error":"e"})", 422)
                .status()
                .code(),
            absl::StatusCode::kInternal);
}

TEST(PrometheusParseTest, NonJsonIsUnavailableBehindA5xxElseDataLoss) {
  EXPECT_EQ(ParseQueryResponse("<html>Bad Gateway</html>", 502).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(ParseQueryResponse("not json", 200).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseQueryResponse("", 200).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"value":[1,"abc"]}]}})", 200).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"value":[1]}]}})", 200).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseQueryResponse(R"({"status":"success"})", 200).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(PrometheusClientTest, EncodesQueryAndSendsHeaders) {
  CannedHttp http(200, R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  auto client = MakePrometheusClient({.base_url = "http://prom:9090/",
                                      .bearer_token = "s3cret",
                                      .headers = {{"X-Scope-OrgID", "team-a"}}},
                                     &http);
  ASSERT_TRUE(client->Query("sum by (pod) (rate(x{a=\"b c\"}[5m]))",
                            absl::FromUnixMillis(1700000000123))
                  .ok());
  EXPECT_EQ(http.last_.url,
            "http://prom:9090/api/v1/query?query=sum%20by%20%28pod%29%20%28rate%28x%7Ba%3D%22b%"
            "20c%22%7D%5B5m%5D%29%29&time=1700000000.123");
  EXPECT_THAT(http.last_.headers, ::testing::Contains(std::make_pair(
                                      std::string("Authorization"), std::string("Bearer s3cret"))));
  EXPECT_THAT(http.last_.headers, ::testing::Contains(std::make_pair(
                                      std::string("X-Scope-OrgID"), std::string("team-a"))));
}

TEST(PrometheusClientTest, RangeQueryValidatesBeforeAsking) {
  CannedHttp http(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
  auto client = MakePrometheusClient({.base_url = "http://prom:9090"}, &http);
  const absl::Time t = absl::FromUnixSeconds(1000);
  EXPECT_EQ(client->QueryRange("up", t, t - absl::Seconds(1), absl::Seconds(15)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->QueryRange("up", t, t, absl::ZeroDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(http.last_.url.empty());
  ASSERT_TRUE(client->QueryRange("up", t, t + absl::Hours(1), absl::Seconds(30)).ok());
  EXPECT_EQ(http.last_.url,
            "http://prom:9090/api/v1/query_range?query=up&start=1000.000&end=4600.000&step=30");
}

}  // namespace
}  // namespace clients::prometheus
