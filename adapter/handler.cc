#include "adapter/handler.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "adapter/router.h"
#include "adapter/selector.h"
#include "base/json_writer.h"
#include "base/time_format.h"
#include "glog/logging.h"

namespace adapter {
namespace {

// The served groups and their versions, preferred first.
struct GroupVersions {
  const char* name;
  std::vector<const char*> versions;
};

const std::vector<GroupVersions>& ServedGroups() {
  static const auto* groups = new std::vector<GroupVersions>{
      {"custom.metrics.k8s.io", {"v1beta2", "v1beta1"}},
      {"external.metrics.k8s.io", {"v1beta1"}},
  };
  return *groups;
}

// The members of an APIGroup object (name, versions, preferredVersion), inside an open object.
void WriteGroupMembers(base::JsonWriter& w, const GroupVersions& g) {
  base::JsonField(w, "name", g.name);
  auto version = [&](const char* v) {
    w.StartObject();
    base::JsonField(w, "groupVersion", absl::StrCat(g.name, "/", v));
    base::JsonField(w, "version", v);
    w.EndObject();
  };
  w.Key("versions");
  w.StartArray();
  for (const char* v : g.versions) version(v);
  w.EndArray();
  w.Key("preferredVersion");
  version(g.versions.front());
}

// GET /apis: the APIGroupList; GET /apis/<group>: that APIGroup. Built once.
std::string ApiGroupListJson() {
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "kind", "APIGroupList");
  base::JsonField(w, "apiVersion", "v1");
  w.Key("groups");
  w.StartArray();
  for (const GroupVersions& g : ServedGroups()) {
    w.StartObject();
    WriteGroupMembers(w, g);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return base::JsonText(buf);
}

std::string ApiGroupJson(absl::string_view group) {
  for (const GroupVersions& g : ServedGroups()) {
    if (group != g.name) continue;
    rapidjson::StringBuffer buf;
    base::JsonWriter w(buf);
    w.StartObject();
    base::JsonField(w, "kind", "APIGroup");
    base::JsonField(w, "apiVersion", "v1");
    WriteGroupMembers(w, g);
    w.EndObject();
    return base::JsonText(buf);
  }
  return "";
}

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

// {"kind":<kind>,"apiVersion":<api_version>,"metadata":{},"items":[ -- the caller writes the
// items and closes the array and the object.
void StartList(base::JsonWriter& w, absl::string_view kind, absl::string_view api_version) {
  w.StartObject();
  base::JsonField(w, "kind", kind);
  base::JsonField(w, "apiVersion", api_version);
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("items");
  w.StartArray();
}

// version.Info, as kube-apiserver's /version.
std::string VersionJson(absl::string_view version) {
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "major", "0");
  base::JsonField(w, "minor", "1");
  base::JsonField(w, "gitVersion", absl::StrCat("v", version));
  base::JsonField(w, "gitCommit", "");
  base::JsonField(w, "gitTreeState", "clean");
  base::JsonField(w, "buildDate", "");
  base::JsonField(w, "goVersion", "n/a");
  base::JsonField(w, "compiler", "gcc");
  base::JsonField(w, "platform", "linux/amd64");
  w.EndObject();
  return base::JsonText(buf);
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
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "kind", "Status");
  base::JsonField(w, "apiVersion", "v1");
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  base::JsonField(w, "status", "Failure");
  base::JsonField(w, "message", message);
  base::JsonField(w, "reason", reason);
  base::JsonIntField(w, "code", code);
  w.EndObject();
  r.body = base::JsonText(buf);
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
      return Status(401, "Unauthorized",
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
      return Json(VersionJson(options_.version));
    case Route::Kind::kMetrics:
      return Metrics();
    case Route::Kind::kApis: {
      static const std::string* list = new std::string(ApiGroupListJson());
      return Json(*list);
    }
    case Route::Kind::kApiGroup:
      return Json(ApiGroupJson(route.group));
    case Route::Kind::kApiResourceList:
      return ResourceList(route.group, route.version);
    case Route::Kind::kOpenApiV2:
    case Route::Kind::kOpenApiV3:
      // The aggregator skips a missing OpenAPI document (404) gracefully.
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
  const bool external = group == kExternalGroup;
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "kind", "APIResourceList");
  base::JsonField(w, "apiVersion", "v1");
  base::JsonField(w, "groupVersion", absl::StrCat(group, "/", version));
  w.Key("resources");
  w.StartArray();
  for (const std::string& name : s->metric_names) {
    w.StartObject();
    base::JsonField(w, "name", external ? name : absl::StrCat("deployments.apps/", name));
    base::JsonField(w, "singularName", "");
    w.Key("namespaced");
    w.Bool(true);
    base::JsonField(w, "kind", external ? "ExternalMetricValueList" : "MetricValueList");
    w.Key("verbs");
    w.StartArray();
    w.String("get");
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Json(base::JsonText(buf));
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
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  StartList(w, "ExternalMetricValueList", "external.metrics.k8s.io/v1beta1");
  auto emit = [&](const MetricTable::Series& series) -> bool {
    if (!selector->Matches(series.labels)) return true;
    if (series.timestamp != absl::InfinitePast() &&
        now - series.timestamp > options_.max_staleness) {
      error =
          Status(503, "ServiceUnavailable",
                 absl::StrCat("the metric ", series.metric, " for deployment ", series.deployment,
                              " in namespace ", route.namespace_name, " is stale: computed at ",
                              base::FormatRfc3339(series.timestamp), ", older than the ",
                              absl::FormatDuration(options_.max_staleness), " limit"));
      return false;
    }
    w.StartObject();
    base::JsonField(w, "metricName", series.metric);
    w.Key("metricLabels");
    w.RawValue(series.labels_json.data(), series.labels_json.size(), rapidjson::kObjectType);
    if (series.timestamp == absl::InfinitePast()) {
      if (now_text.empty()) now_text = base::FormatRfc3339(now);
      base::JsonField(w, "timestamp", now_text);
    } else {
      base::JsonField(w, "timestamp", series.timestamp_text);
    }
    if (series.window_seconds > 0) base::JsonIntField(w, "window", series.window_seconds);
    base::JsonField(w, "value", series.quantity);
    w.EndObject();
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
  w.EndArray();
  w.EndObject();
  return Json(base::JsonText(buf));
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
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  StartList(w, "MetricValueList", absl::StrCat("custom.metrics.k8s.io/", route.version));
  auto selector = [&] {
    w.Key("selector");
    w.RawValue(selector_json.data(), selector_json.size(), rapidjson::kObjectType);
  };
  for (const MetricTable::Series* series : matched) {
    if (series->timestamp != absl::InfinitePast() &&
        now - series->timestamp > options_.max_staleness) {
      return Status(
          503, "ServiceUnavailable",
          absl::StrCat("the metric ", series->metric, " for ", gr, " ", series->deployment,
                       " in namespace ", route.namespace_name, " is stale: computed at ",
                       base::FormatRfc3339(series->timestamp), ", older than the ",
                       absl::FormatDuration(options_.max_staleness), " limit"));
    }
    w.StartObject();
    w.Key("describedObject");
    w.StartObject();
    base::JsonField(w, "kind", "Deployment");
    base::JsonField(w, "namespace", route.namespace_name);
    base::JsonField(w, "name", series->deployment);
    base::JsonField(w, "apiVersion", "apps/v1");
    w.EndObject();
    if (v1beta1) {
      base::JsonField(w, "metricName", series->metric);
    } else {
      w.Key("metric");
      w.StartObject();
      base::JsonField(w, "name", series->metric);
      selector();
      w.EndObject();
    }
    base::JsonField(w, "timestamp",
                    series->timestamp == absl::InfinitePast() ? base::FormatRfc3339(now)
                                                              : series->timestamp_text);
    if (series->window_seconds > 0) {
      base::JsonIntField(w, v1beta1 ? "window" : "windowSeconds", series->window_seconds);
    }
    base::JsonField(w, "value", series->quantity);
    if (v1beta1) selector();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Json(base::JsonText(buf));
}

}  // namespace adapter
