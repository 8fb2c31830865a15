// The JSON API's deployment sub-resources: both route forms reach the registered handler with
// the namespace, the name and the query; unknown resources and malformed paths get a 404
// Status; JsonError carries the code and reason. Served by a real base::HttpServer on loopback.
#include "reconciler/api.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "clients/http/curl_http_client.h"
#include "gtest/gtest.h"

namespace reconciler {
namespace {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    view_.deployment_resources["cost"] = [](const std::string& ns, const std::string& name,
                                            const base::HttpRequest& req) {
      auto it = req.query.find("hours");
      if (it == req.query.end()) return JsonError(400, "hours is required");
      base::HttpResponse r;
      r.content_type = "application/json";
      r.body = absl::StrCat("{\"ns\":\"", ns, "\",\"name\":\"", name, "\",\"hours\":",
                            it->second, "}");
      return r;
    };
    RegisterApi(&server_, &view_);
    ASSERT_TRUE(server_.Start("127.0.0.1:0").ok());
    http_ = clients::http::MakeCurlHttpClient({});
  }

  clients::http::HttpResponse Get(const std::string& path) {
    clients::http::HttpRequest req;
    req.url = absl::StrCat("http://127.0.0.1:", server_.port(), path);
    absl::StatusOr<clients::http::HttpResponse> r = http_->Do(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : clients::http::HttpResponse{};
  }

  StatusView view_;
  base::HttpServer server_;
  std::unique_ptr<clients::http::HttpClient> http_;
};

TEST_F(ApiTest, BothRouteFormsReachTheResourceWithItsQuery) {
  for (const char* prefix : {"/api/v1/deployments/", "/api/deployment/"}) {
    clients::http::HttpResponse r = Get(absl::StrCat(prefix, "shop/web/cost?hours=24"));
    EXPECT_EQ(r.status, 200) << prefix;
    EXPECT_EQ(r.body, R"({"ns":"shop","name":"web","hours":24})") << prefix;
  }
}

TEST_F(ApiTest, HandlerErrorsAndUnknownResourcesAreStatuses) {
  clients::http::HttpResponse bad = Get("/api/v1/deployments/shop/web/cost");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find(R"("reason":"BadRequest")"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find(R"("code":400)"), std::string::npos) << bad.body;

  clients::http::HttpResponse unknown = Get("/api/v1/deployments/shop/web/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("no resource \\\"nope\\\""), std::string::npos) << unknown.body;

  for (const char* path : {"/api/v1/deployments/shop//cost", "/api/deployment/a/b/c/d",
                           "/api/deployment/", "/api/v1/deployments/onlyns"}) {
    clients::http::HttpResponse r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_NE(r.body.find(R"("kind":"Status")"), std::string::npos) << path << " " << r.body;
  }
}

TEST(JsonErrorTest, CodeAndReason) {
  base::HttpResponse r = JsonError(503, "store unavailable");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"store unavailable",)"
            R"("reason":"ServiceUnavailable","code":503})");
}

}  // namespace
}  // namespace reconciler
