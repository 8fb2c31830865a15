#include "adapter/router.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace adapter {
namespace {

bool Fail(RouteError* error, int code, std::string reason, std::string message) {
  *error = {code, std::move(reason), std::move(message)};
  return false;
}

bool NotFound(RouteError* error, absl::string_view path) {
  return Fail(error, 404, "NotFound",
              absl::StrCat("the server could not find the requested resource (path ", path, ")"));
}

void NonResource(Route* route, absl::string_view path, Route::Kind kind) {
  route->kind = kind;
  route->attributes.resource_request = false;
  route->attributes.verb = "get";
  route->attributes.path = std::string(path);
}

}  // namespace


bool ParseQuery(absl::string_view query, std::map<std::string, std::string>* out) {
  for (absl::string_view pair : absl::StrSplit(query, absl::ByAnyChar("&;"), absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), true, &key)) return false;
    if (eq != absl::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value)) {
      return false;
    }
    out->emplace(std::move(key), std::move(value));  // first value wins
  }
  return true;
}

bool RouteRequest(absl::string_view method, absl::string_view raw_path, absl::string_view raw_query,
                  Route* route, RouteError* error) {
  *route = Route();
  if (raw_path.empty() || raw_path[0] != '/') {
    return Fail(error, 400, "BadRequest", "the request path must start with '/'");
  }
  // Split first, then decode each segment: "%2F" stays inside its segment.
  std::vector<std::string> segments;
  absl::string_view trimmed = raw_path.substr(1);
  if (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
  if (!trimmed.empty()) {
    for (absl::string_view raw : absl::StrSplit(trimmed, '/')) {
      std::string seg;
      if (!PercentDecode(raw, false, &seg)) {
        return Fail(error, 400, "BadRequest", "the request path has a malformed percent-encoding");
      }
      if (seg.empty() || seg == "." || seg == ".." || seg.find('/') != std::string::npos) {
        return Fail(error, 400, "BadRequest",
                    "the request path must not contain empty, '.', '..' or encoded '/' segments");
      }
      segments.push_back(std::move(seg));
    }
  }
  std::map<std::string, std::string> query;
  if (!ParseQuery(raw_query, &query)) {
    return Fail(error, 400, "BadRequest", "the query string has a malformed percent-encoding");
  }
  std::string decoded_path = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) decoded_path.push_back('/');
    decoded_path += segments[i];
  }

  const bool read = method == "GET" || method == "HEAD";
  if (!read) {
    return Fail(error, 405, "MethodNotAllowed",
                absl::StrCat(method.empty() ? "this method" : std::string(method),
                             " is not supported; only GET and HEAD are"));
  }
  auto it = query.find("pretty");
  route->pretty = it != query.end() && (it->second == "true" || it->second == "1");

  const size_t n = segments.size();
  if (n == 1 && segments[0] == "healthz")
    return NonResource(route, decoded_path, Route::Kind::kHealthz), true;
  if (n == 1 && segments[0] == "livez")
    return NonResource(route, decoded_path, Route::Kind::kLivez), true;
  if (n == 1 && segments[0] == "readyz")
    return NonResource(route, decoded_path, Route::Kind::kReadyz), true;
  if (n == 1 && segments[0] == "version")
    return NonResource(route, decoded_path, Route::Kind::kVersion), true;
  if (n == 1 && segments[0] == "metrics")
    return NonResource(route, decoded_path, Route::Kind::kMetrics), true;
  if (n >= 2 && segments[0] == "openapi" && segments[1] == "v2") {
    return NonResource(route, decoded_path, Route::Kind::kOpenApiV2), true;
  }
  if (n >= 2 && segments[0] == "openapi" && segments[1] == "v3") {
    return NonResource(route, decoded_path, Route::Kind::kOpenApiV3), true;
  }
  if (n == 0 || segments[0] != "apis") return NotFound(error, decoded_path);
  if (n == 1) return NonResource(route, decoded_path, Route::Kind::kApis), true;

  const std::string& group = segments[1];
  if (group != kExternalGroup && group != kCustomGroup) return NotFound(error, decoded_path);
  route->group = group;
  if (n == 2) return NonResource(route, decoded_path, Route::Kind::kApiGroup), true;
  const std::string& version = segments[2];
  const bool known_version = group == kExternalGroup
                                 ? version == "v1beta1"
                                 : (version == "v1beta1" || version == "v1beta2");
  if (!known_version) return NotFound(error, decoded_path);
  route->version = version;
  if (n == 3) return NonResource(route, decoded_path, Route::Kind::kApiResourceList), true;

  // Resource request: k8s RequestInfo.
  std::vector<std::string> rest(segments.begin() + 3, segments.end());
  auth::Attributes& a = route->attributes;
  a.resource_request = true;
  a.group = group;
  a.version = version;
  a.path = decoded_path;
  a.verb = "get";
  if (rest[0] == "namespaces" && rest.size() > 1) {
    a.namespace_name = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  a.resource = rest[0];
  if (rest.size() > 1) a.name = rest[1];
  if (rest.size() > 2) a.subresource = rest[2];
  auto watch = query.find("watch");
  const bool is_watch = watch != query.end() && (watch->second == "true" || watch->second == "1");
  if (a.name.empty()) a.verb = is_watch ? "watch" : "list";
  if (is_watch) {
    return Fail(error, 405, "MethodNotAllowed", "watch is not supported by the metrics APIs");
  }
  if ((it = query.find("labelSelector")) != query.end()) route->label_selector = it->second;
  if ((it = query.find("metricLabelSelector")) != query.end()) {
    route->metric_label_selector = it->second;
  }

  const size_t r = segments.size() - 3;  // length of the original rest
  if (group == kExternalGroup) {
    // namespaces/{ns}/{metric}
    if (r != 3 || segments[3] != "namespaces") return NotFound(error, decoded_path);
    route->kind = Route::Kind::kExternalMetric;
    route->namespace_name = segments[4];
    route->metric = segments[5];
    return true;
  }
  route->kind = Route::Kind::kCustomMetric;
  if (r == 4 && segments[3] == "namespaces" && segments[5] == "metrics") {
    route->namespace_name = segments[4];
    route->resource = "namespaces";
    route->name = segments[4];
    route->metric = segments[6];
    return true;
  }
  if (r == 5 && segments[3] == "namespaces") {
    route->namespace_name = segments[4];
    route->resource = absl::AsciiStrToLower(segments[5]);
    route->name = segments[6];
    route->metric = segments[7];
    return true;
  }
  if (r == 3 && segments[3] != "namespaces") {
    route->resource = absl::AsciiStrToLower(segments[3]);
    route->name = segments[4];
    route->metric = segments[5];
    return true;
  }
  return NotFound(error, decoded_path);
}

}  // namespace adapter
