#include "clients/prometheus/prometheus.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/url.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace clients::prometheus {
namespace {

// Unix seconds with millisecond precision, as Prometheus accepts them.
std::string UnixSeconds(absl::Time t) {
  const int64_t ms = absl::ToUnixMillis(t);
  return absl::StrCat(ms / 1000, ".", absl::StrFormat("%03d", std::abs(ms % 1000)));
}

// [ <unix seconds float>, "<value string>" ]
absl::StatusOr<Point> ParsePoint(const rapidjson::Value& v) {
  if (!v.IsArray() || v.Size() != 2 || !v[0].IsNumber() || !v[1].IsString()) {
    return absl::DataLossError("prometheus: sample is not [time, \"value\"]");
  }
  Point p;
  p.time = absl::FromUnixMicros(static_cast<int64_t>(std::llround(v[0].GetDouble() * 1e6)));
  const absl::string_view s(v[1].GetString(), v[1].GetStringLength());
  // strtod understands NaN, +Inf and -Inf the way Prometheus writes them.
  const std::string str(s);
  char* end = nullptr;
  p.value = std::strtod(str.c_str(), &end);
  if (str.empty() || end != str.c_str() + str.size()) {
    return absl::DataLossError(absl::StrCat("prometheus: bad sample value '", s, "'"));
  }
  return p;
}

absl::Status ApiError(absl::string_view type, absl::string_view message) {
  const std::string text = absl::StrCat("prometheus: ", type, ": ", message);
  if (type == "bad_data") return absl::InvalidArgumentError(text);
  if (type == "timeout") return absl::DeadlineExceededError(text);
  if (type == "canceled") return absl::CancelledError(text);
  if (type == "unavailable") return absl::UnavailableError(text);
  if (type == "not_found") return absl::NotFoundError(text);
  return absl::InternalError(text);
}

class Client : public PrometheusClient {
 public:
  Client(ClientOptions options, http::HttpClient* http)
      : options_(std::move(options)), http_(http) {
    while (!options_.base_url.empty() && options_.base_url.back() == '/') {
      options_.base_url.pop_back();
    }
  }

  absl::StatusOr<std::vector<Series>> Query(absl::string_view promql, absl::Time at) override {
    return Get(absl::StrCat("/api/v1/query?query=", base::UrlEncode(promql), "&time=", UnixSeconds(at)));
  }

  absl::StatusOr<std::vector<Series>> QueryRange(absl::string_view promql, absl::Time from,
                                                 absl::Time to, absl::Duration step) override {
    if (to < from) return absl::InvalidArgumentError("prometheus: range end before start");
    if (step <= absl::ZeroDuration()) return absl::InvalidArgumentError("prometheus: step <= 0");
    return Get(absl::StrCat("/api/v1/query_range?query=", base::UrlEncode(promql),
                            "&start=", UnixSeconds(from), "&end=", UnixSeconds(to),
                            "&step=", absl::ToDoubleSeconds(step)));
  }

 private:
  absl::StatusOr<std::vector<Series>> Get(const std::string& path_and_query) {
    http::HttpRequest req;
    req.url = options_.base_url + path_and_query;
    req.timeout = options_.timeout;
    req.headers = options_.headers;
    req.headers.emplace_back("Accept", "application/json");
    if (!options_.bearer_token.empty()) {
      req.headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
    }
    absl::StatusOr<http::HttpResponse> resp = http_->Do(req);
    if (!resp.ok()) return resp.status();
    return ParseQueryResponse(resp->body, resp->status);
  }

  ClientOptions options_;
  http::HttpClient* http_;
};

}  // namespace

absl::StatusOr<std::vector<Series>> ParseQueryResponse(absl::string_view body, int http_status) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status") ||
      !doc["status"].IsString()) {
    std::string why = absl::StrCat("prometheus: HTTP ", http_status, ": response is not the API's JSON");
    if (doc.HasParseError()) {
      absl::StrAppend(&why, " (", rapidjson::GetParseError_En(doc.GetParseError()), " at byte ",
                      doc.GetErrorOffset(), ")");
    }
    if (http_status >= 500 || http_status == 429) return absl::UnavailableError(why);
    return absl::DataLossError(why);
  }
  if (std::string(doc["status"].GetString()) != "success") {
    auto str = [&](const char* k) -> std::string {
      return doc.HasMember(k) && doc[k].IsString() ? doc[k].GetString() : "";
    };
    return ApiError(str("errorType"), str("error"));
  }
  if (!doc.HasMember("data") || !doc["data"].IsObject()) {
    return absl::DataLossError("prometheus: success without data");
  }
  const rapidjson::Value& data = doc["data"];
  if (!data.HasMember("resultType") || !data["resultType"].IsString() ||
      !data.HasMember("result")) {
    return absl::DataLossError("prometheus: data without resultType/result");
  }
  const std::string type = data["resultType"].GetString();
  const rapidjson::Value& result = data["result"];
  std::vector<Series> out;
  if (type == "scalar") {
    absl::StatusOr<Point> p = ParsePoint(result);
    if (!p.ok()) return p.status();
    out.push_back({{}, {*p}});
    return out;
  }
  if (type != "vector" && type != "matrix") {
    return absl::DataLossError(absl::StrCat("prometheus: unsupported resultType '", type, "'"));
  }
  if (!result.IsArray()) return absl::DataLossError("prometheus: result is not an array");
  out.reserve(result.Size());
  for (const rapidjson::Value& item : result.GetArray()) {
    if (!item.IsObject()) return absl::DataLossError("prometheus: series is not an object");
    Series s;
    if (item.HasMember("metric") && item["metric"].IsObject()) {
      for (const auto& m : item["metric"].GetObject()) {
        if (m.value.IsString()) s.labels[m.name.GetString()] = m.value.GetString();
      }
    }
    if (type == "vector") {
      if (!item.HasMember("value")) return absl::DataLossError("prometheus: vector item without value");
      absl::StatusOr<Point> p = ParsePoint(item["value"]);
      if (!p.ok()) return p.status();
      s.points.push_back(*p);
    } else {
      if (!item.HasMember("values") || !item["values"].IsArray()) {
        return absl::DataLossError("prometheus: matrix item without values");
      }
      s.points.reserve(item["values"].Size());
      for (const rapidjson::Value& v : item["values"].GetArray()) {
        absl::StatusOr<Point> p = ParsePoint(v);
        if (!p.ok()) return p.status();
        s.points.push_back(*p);
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::unique_ptr<PrometheusClient> MakePrometheusClient(ClientOptions options,
                                                       http::HttpClient* http) {
  return std::make_unique<Client>(std::move(options), http);
}

}  // namespace clients::prometheus
