#include "adapter/handler.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "adapter/json_util.h"
#include "adapter/router.h"
#include "adapter/selector.h"
#include "glog/logging.h"

namespace adapter {
namespace {

constexpr char kApiGroupList[] =
    R"({"kind":"APIGroupList","apiVersion":"v1","groups":[)"
    R"({"name":"custom.metrics.k8s.io","versions":[)"
    R"({"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},)"
    R"({"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
    R"("preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}},)"
    R"({"name":"external.metrics.k8s.io","versions":[)"
    R"({"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
    R"("preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}}]})";

constexpr char kCustomGroup_[] =
    R"({"kind":"APIGroup","apiVersion":"v1","name":"custom.metrics.k8s.io","versions":[)"
    R"({"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},)"
    R"({"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
    R"("preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}})";

constexpr char kExternalGroup_[] =
    R"({"kind":"APIGroup","apiVersion":"v1","name":"external.metrics.k8s.io","versions":[)"
    R"({"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
    R"("preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}})";

// One media range of an Accept header.
struct MediaRange {
  std::string type;   // "application/json", lower-cased
  bool as_discovery;  // has as=APIGroupDiscoveryList (aggregated discovery)
};

std::vector<MediaRange> ParseAccept(const HttpRequest& request) {
  std::vector<MediaRange> ranges;
  auto [begin, end] = request.headers.equal_range("accept");
  for (auto it = begin; it != end; ++it) {
    for (absl::string_view part : absl::StrSplit(it->second, ',')) {
      std::vector<absl::string_view> params = absl::StrSplit(part, ';');
      MediaRange r{absl::AsciiStrToLower(absl::StripAsciiWhitespace(params[0])), false};
      if (r.type.empty()) continue;
      for (size_t i = 1; i < params.size(); ++i) {
        std::string p = absl::AsciiStrToLower(absl::StripAsciiWhitespace(params[i]));
        if (p == "as=apigroupdiscoverylist") r.as_discovery = true;
      }
      ranges.push_back(std::move(r));
    }
  }
  return ranges;
}

// True when the client accepts a plain JSON body (or sent no Accept header).
bool AcceptsJson(const std::vector<MediaRange>& ranges) {
  if (ranges.empty()) return true;
  for (const MediaRange& r : ranges) {
    if (r.as_discovery) continue;
    if (r.type == "application/json" || r.type == "application/*" || r.type == "*/*" ||
        r.type == "*") {
      return true;
    }
  }
  return false;
}

bool HasAcceptableAsDiscovery(const std::vector<MediaRange>& ranges) {
  for (const MediaRange& r : ranges) {
    if (r.as_discovery) return true;
  }
  return false;
}

std::string FirstHeader(const HttpRequest& request, const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

bool IsHealthPath(Route::Kind k) {
  return k == Route::Kind::kHealthz || k == Route::Kind::kLivez || k == Route::Kind::kReadyz;
}

std::string GroupResource(const Route& route) { return route.resource; }

constexpr char kJson[] = "application/json";

HttpResponse Json(std::string body) {
  HttpResponse r;
  r.content_type = kJson;
  r.body = std::move(body);
  return r;
}

// The `resource` label of adapter_requests_total: bounded by construction (metric and object
// names are chosen by clients and never become label values).
std::string ResourceLabel(const Route& route) {
  switch (route.kind) {
    case Route::Kind::kHealthz:
    case Route::Kind::kLivez:
    case Route::Kind::kReadyz:
    case Route::Kind::kVersion:
    case Route::Kind::kMetrics:
    case Route::Kind::kApis:
    case Route::Kind::kApiGroup:         // the router admits only the two groups
    case Route::Kind::kApiResourceList:  // ... and their known versions
      return route.attributes.path;
    case Route::Kind::kOpenApiV2:
      return "/openapi/v2";
    case Route::Kind::kOpenApiV3:
      return "/openapi/v3";
    case Route::Kind::kExternalMetric:
      return "externalmetrics";
    case Route::Kind::kCustomMetric:
      for (const char* known : {"deployments.apps", "deployments", "pods", "namespaces", "nodes",
                                "metrics", "services", "statefulsets.apps", "jobs.batch"}) {
        if (route.resource == known) return route.resource;
      }
      return "other";
  }
  return "other";
}

std::string MethodVerb(absl::string_view method) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == m) return absl::AsciiStrToLower(method);
  }
  return "other";
}

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

}  // namespace

Handler::Handler(const MetricTable* table, auth::Authenticator* authenticator,
                 auth::Authorizer* authorizer, const base::Clock* clock, HandlerOptions options)
    : table_(table),
      authenticator_(authenticator),
      authorizer_(authorizer),
      clock_(clock),
      options_(std::move(options)),
      own_registry_(options_.metrics != nullptr ? nullptr
                                                : std::make_unique<prometheus::Registry>()),
      metrics_(options_.metrics != nullptr ? options_.metrics : own_registry_.get()) {}

HttpResponse Handler::Status(int code, absl::string_view reason, absl::string_view message) {
  HttpResponse r;
  r.status = code;
  r.content_type = kJson;
  r.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)";
  AppendJsonString(&r.body, message);
  r.body += R"(,"reason":)";
  AppendJsonString(&r.body, reason);
  absl::StrAppend(&r.body, R"(,"code":)", code, "}");
  return r;
}

HttpResponse Handler::Handle(const HttpRequest& request) const {
  const absl::Time start = clock_->Now();
  std::string resource = "unmatched";
  std::string verb = MethodVerb(request.method);
  HttpResponse r = Serve(request, &resource, &verb);
  metrics_.CountRequest(resource, verb, r.status, clock_->Now() - start);
  return r;
}

HttpResponse Handler::Serve(const HttpRequest& request, std::string* resource,
                            std::string* verb) const {
  absl::string_view target = request.target;
  target = target.substr(0, target.find('#'));
  size_t q = target.find('?');
  absl::string_view path = target.substr(0, q);
  absl::string_view query =
      q == absl::string_view::npos ? absl::string_view() : target.substr(q + 1);

  Route route;
  RouteError route_error;
  const bool routed = RouteRequest(request.method, path, query, &route, &route_error);
  if (routed) {
    *resource = ResourceLabel(route);
    *verb = route.attributes.verb;
  }

  // Authenticate every request. Health probes (kubelet, no credentials) fall back to the
  // anonymous identity; the authorizer's always-allow paths then let them through.
  auth::Request auth_request;
  auth_request.method = request.method;
  auth_request.path = std::string(path);
  for (const auto& [name, value] : request.headers) {
    auth_request.headers.emplace(name, value);
    auth_request.header_values.emplace(name, value);
  }
  auth_request.peer_cert_der = request.peer_cert_der;
  auth_request.peer_chain_der = request.peer_chain_der;
  absl::StatusOr<auth::UserInfo> user = authenticator_->Authenticate(auth_request);
  if (!user.ok()) {
    if (routed && IsHealthPath(route.kind) &&
        user.status().code() == absl::StatusCode::kUnauthenticated) {
      user = auth::UserInfo{"system:anonymous", {"system:unauthenticated"}, {}};
    } else {
      VLOG(1) << "authentication failed: " << user.status();
      if (user.status().code() == absl::StatusCode::kUnavailable) {
        return Status(503, "ServiceUnavailable", user.status().message());
      }
      return 
          Status(401, "Unauthorized",
                 user.status().message().empty() ? "Unauthorized" : user.status().message());
    }
  }
  if (!routed) return Status(route_error.code, route_error.reason, route_error.message);

  if (absl::Status allowed = authorizer_->Authorize(*user, route.attributes); !allowed.ok()) {
    if (allowed.code() == absl::StatusCode::kPermissionDenied) {
      return Status(403, "Forbidden", allowed.message());
    }
    LOG(ERROR) << "authorization failed: " << allowed;
    return Status(500, "InternalError",
                        absl::StrCat("authorization check failed: ", allowed.message()));
  }

  const std::vector<MediaRange> accept = ParseAccept(request);
  if (route.kind == Route::Kind::kApis && HasAcceptableAsDiscovery(accept) &&
      !AcceptsJson(accept)) {
    return Status(406, "NotAcceptable",
                        "aggregated discovery (apidiscovery.k8s.io) is not served; "
                        "use application/json");
  }
  if (!IsHealthPath(route.kind) && route.kind != Route::Kind::kMetrics && !AcceptsJson(accept)) {
    return Status(406, "NotAcceptable",
                        absl::StrCat("only application/json is served; got Accept: ",
                                     FirstHeader(request, "accept")));
  }

  switch (route.kind) {
    case Route::Kind::kHealthz:
    case Route::Kind::kLivez:
      return Text(200, "ok");
    case Route::Kind::kReadyz:
      return Readyz();
    case Route::Kind::kVersion:
      return 
          Json(absl::StrCat(R"({"major":"0","minor":"1","gitVersion":"v)", options_.version,
                            R"(","gitCommit":"","gitTreeState":"clean","buildDate":"",)",
                            R"("goVersion":"n/a","compiler":"gcc","platform":"linux/amd64"})"));
    case Route::Kind::kMetrics:
      return Metrics();
    case Route::Kind::kApis:
      return Json(kApiGroupList);
    case Route::Kind::kApiGroup:
      return Json(route.group == kCustomGroup ? kCustomGroup_ : kExternalGroup_);
    case Route::Kind::kApiResourceList:
      return ResourceList(route.group, route.version);
    case Route::Kind::kOpenApiV2:
    case Route::Kind::kOpenApiV3:
      // The aggregator skips a 404 gracefully (contract 1.3.4).
      return Status(404, "NotFound", "this server does not publish an OpenAPI document");
    case Route::Kind::kExternalMetric:
    case Route::Kind::kCustomMetric: {
      HttpResponse r = route.kind == Route::Kind::kExternalMetric ? External(route) : Custom(route);
      if (r.status == 503) metrics_.CountStale();
      return r;
    }
  }
  return Status(500, "InternalError", "unhandled route");
}

HttpResponse Handler::Metrics() const {
  std::shared_ptr<const MetricTable::Snapshot> s = table_->Get();
  double age = std::numeric_limits<double>::infinity();  // no snapshot yet: infinitely old
  if (s->has_data) {
    age = s->updated == absl::InfiniteFuture()  // --static-metrics never ages as a whole
              ? 0
              : std::max(0.0, absl::ToDoubleSeconds(clock_->Now() - s->updated));
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.Scrape(age, s->size, options_.auth_counters);
  return r;
}

HttpResponse Handler::Readyz() const {
  std::shared_ptr<const MetricTable::Snapshot> s = table_->Get();
  if (!s->has_data) {
    return Text(500, "[-]snapshot failed: no metric snapshot received yet\nreadyz check failed");
  }
  absl::Duration age = clock_->Now() - s->updated;
  if (age > options_.max_staleness) {
    return Text(500, absl::StrCat("[-]snapshot failed: last update ", absl::FormatDuration(age),
                                  " ago, limit ", absl::FormatDuration(options_.max_staleness),
                                  "\nreadyz check failed"));
  }
  return Text(200, "ok");
}

HttpResponse Handler::ResourceList(const std::string& group, const std::string& version) const {
  std::shared_ptr<const MetricTable::Snapshot> s = table_->Get();
  std::string body = absl::StrCat(R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":")",
                                  group, "/", version, R"(","resources":[)");
  bool first = true;
  for (const std::string& name : s->metric_names) {
    if (!first) body.push_back(',');
    first = false;
    body += R"({"name":)";
    if (group == kExternalGroup) {
      AppendJsonString(&body, name);
      body +=
          R"(,"singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]})";
    } else {
      AppendJsonString(&body, absl::StrCat("deployments.apps/", name));
      body += R"(,"singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]})";
    }
  }
  body += "]}";
  return Json(std::move(body));
}

namespace {

// Finds the group or explains why not. Returns nullptr and sets *error when there is no group.
const MetricTable::Group* FindGroup(const MetricTable::Snapshot& s, const Route& route,
                                    const std::string& gr, HttpResponse* error) {
  if (!s.has_data) {
    *error = Handler::Status(
        503, "ServiceUnavailable",
        "no metric snapshot received yet; the adapter is waiting for the reconciler");
    return nullptr;
  }
  auto it = s.groups.find(MetricTable::GroupKey(route.namespace_name, route.metric));
  if (it != s.groups.end()) return &it->second;
  const bool known = std::binary_search(s.metric_names.begin(), s.metric_names.end(),
                                        absl::AsciiStrToLower(route.metric));
  if (!known) {
    *error = Handler::Status(
        404, "NotFound",
        absl::StrCat("the server could not find the metric ", route.metric, " for ", gr));
  }
  return nullptr;
}

}  // namespace

HttpResponse Handler::External(const Route& route) const {
  std::shared_ptr<const MetricTable::Snapshot> s = table_->Get();
  absl::StatusOr<Selector> selector = Selector::Parse(route.label_selector);
  if (!selector.ok()) return Status(400, "BadRequest", selector.status().message());
  HttpResponse error;
  const MetricTable::Group* group =
      FindGroup(*s, route, absl::StrCat("namespaces ", route.namespace_name), &error);
  if (group == nullptr && error.status != 200) return error;

  const absl::Time now = clock_->Now();
  std::string now_text;
  std::string body =
      R"({"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[)";
  bool first = true;
  auto emit = [&](const MetricTable::Series& series) -> bool {
    if (!selector->Matches(series.labels)) return true;
    if (series.timestamp != absl::InfinitePast() &&
        now - series.timestamp > options_.max_staleness) {
      error =
          Status(503, "ServiceUnavailable",
                 absl::StrCat("the metric ", series.metric, " for deployment ", series.deployment,
                              " in namespace ", route.namespace_name, " is stale: computed at ",
                              FormatTimestamp(series.timestamp), ", older than the ",
                              absl::FormatDuration(options_.max_staleness), " limit"));
      return false;
    }
    if (!first) body.push_back(',');
    first = false;
    body += R"({"metricName":)";
    AppendJsonString(&body, series.metric);
    absl::StrAppend(&body, R"(,"metricLabels":)", series.labels_json, R"(,"timestamp":")");
    if (series.timestamp == absl::InfinitePast()) {
      if (now_text.empty()) now_text = FormatTimestamp(now);
      body += now_text;
    } else {
      body += series.timestamp_text;
    }
    body.push_back('"');
    if (series.window_seconds > 0) absl::StrAppend(&body, R"(,"window":)", series.window_seconds);
    absl::StrAppend(&body, R"(,"value":")", series.quantity, R"("})");
    return true;
  };
  if (group != nullptr) {
    std::string deployment;
    if (selector->ExactValue("deployment", &deployment)) {
      auto it = group->by_deployment.find(deployment);
      if (it != group->by_deployment.end()) {
        for (uint32_t i : it->second) {
          if (!emit(group->series[i])) return error;
        }
      }
    } else {
      for (const MetricTable::Series& series : group->series) {
        if (!emit(series)) return error;
      }
    }
  }
  body += "]}";
  return Json(std::move(body));
}

HttpResponse Handler::Custom(const Route& route) const {
  const std::string gr = GroupResource(route);
  if (gr != "deployments.apps" && gr != "deployments") {
    return Status(404, "NotFound",
                  absl::StrCat("the server could not find the metric ", route.metric, " for ", gr,
                               route.name == "*" || route.name.empty() ? "" : " ",
                               route.name == "*" ? "" : route.name));
  }
  if (route.namespace_name.empty()) {
    return Status(404, "NotFound",
                  absl::StrCat("the server could not find the metric ", route.metric, " for ", gr,
                               ": deployments are namespaced"));
  }
  absl::StatusOr<Selector> object_selector = Selector::Parse(route.label_selector);
  if (!object_selector.ok()) return Status(400, "BadRequest", object_selector.status().message());
  absl::StatusOr<Selector> metric_selector = Selector::Parse(route.metric_label_selector);
  if (!metric_selector.ok()) return Status(400, "BadRequest", metric_selector.status().message());

  std::shared_ptr<const MetricTable::Snapshot> s = table_->Get();
  HttpResponse error;
  const MetricTable::Group* group = FindGroup(*s, route, gr, &error);
  if (group == nullptr && error.status != 200) return error;

  const bool wildcard = route.name == "*";
  std::vector<const MetricTable::Series*> matched;
  if (group != nullptr) {
    if (wildcard) {
      // Deployment labels are not in the table; the object selector is applied to the series
      // labels, which carry deployment=<name> and the labels the reconciler attached.
      for (const MetricTable::Series& series : group->series) {
        if (object_selector->Matches(series.labels) && metric_selector->Matches(series.labels)) {
          matched.push_back(&series);
        }
      }
    } else {
      auto it = group->by_deployment.find(route.name);
      if (it != group->by_deployment.end()) {
        for (uint32_t i : it->second) {
          if (metric_selector->Matches(group->series[i].labels))
            matched.push_back(&group->series[i]);
        }
      }
    }
  }
  if (!wildcard && matched.size() != 1) {
    if (matched.empty()) {
      return Status(404, "NotFound",
                    absl::StrCat("the server could not find the metric ", route.metric, " for ", gr,
                                 " ", route.name));
    }
    return Status(
        404, "NotFound",
        absl::StrCat("the metric ", route.metric, " for ", gr, " ", route.name, " has ",
                     matched.size(), " series; select exactly one with metricLabelSelector"));
  }

  const absl::Time now = clock_->Now();
  const bool v1beta1 = route.version == "v1beta1";
  const std::string selector_json = route.metric_label_selector.empty() || metric_selector->empty()
                                        ? "null"
                                        : metric_selector->ToLabelSelectorJson();
  std::string body =
      absl::StrCat(R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/)",
                   route.version, R"(","metadata":{},"items":[)");
  bool first = true;
  for (const MetricTable::Series* series : matched) {
    if (series->timestamp != absl::InfinitePast() &&
        now - series->timestamp > options_.max_staleness) {
      return Status(
          503, "ServiceUnavailable",
          absl::StrCat("the metric ", series->metric, " for ", gr, " ", series->deployment,
                       " in namespace ", route.namespace_name, " is stale: computed at ",
                       FormatTimestamp(series->timestamp), ", older than the ",
                       absl::FormatDuration(options_.max_staleness), " limit"));
    }
    if (!first) body.push_back(',');
    first = false;
    body += R"({"describedObject":{"kind":"Deployment","namespace":)";
    AppendJsonString(&body, route.namespace_name);
    body += R"(,"name":)";
    AppendJsonString(&body, series->deployment);
    body += R"(,"apiVersion":"apps/v1"},)";
    if (v1beta1) {
      body += R"("metricName":)";
      AppendJsonString(&body, series->metric);
    } else {
      body += R"("metric":{"name":)";
      AppendJsonString(&body, series->metric);
      absl::StrAppend(&body, R"(,"selector":)", selector_json, "}");
    }
    absl::StrAppend(
        &body, R"(,"timestamp":")",
        series->timestamp == absl::InfinitePast() ? FormatTimestamp(now) : series->timestamp_text,
        R"(")");
    if (series->window_seconds > 0) {
      absl::StrAppend(&body, v1beta1 ? R"(,"window":)" : R"(,"windowSeconds":)",
                      series->window_seconds);
    }
    absl::StrAppend(&body, R"(,"value":")", series->quantity, R"(")");
    if (v1beta1) absl::StrAppend(&body, R"(,"selector":)", selector_json);
    body.push_back('}');
  }
  body += "]}";
  return Json(std::move(body));
}

}  // namespace adapter
