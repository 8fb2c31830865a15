// Request routing for the adapter: raw path + query -> which endpoint, its parameters and the
// authorization attributes (Kubernetes RequestInfo rules). Pure functions, no I/O; safe from any thread.
//
//   absl::StatusOr<adapter::Route> r = adapter::RouteRequest("GET",
//       "/apis/external.metrics.k8s.io/v1beta1/namespaces/prod/queue_depth",
//       "labelSelector=queue%3Dorders");
//   // r->kind == Route::Kind::kExternalMetric, r->metric == "queue_depth", r->attributes.verb ==
//   "list"
//
// Errors are returned as an HTTP status + Status reason (see RouteError) so the server can turn
// every failure into a metav1.Status body.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "adapter/auth/auth.h"
#include "base/url.h"

namespace adapter {

inline constexpr char kExternalGroup[] = "external.metrics.k8s.io";
inline constexpr char kCustomGroup[] = "custom.metrics.k8s.io";

struct Route {
  enum class Kind {
    kHealthz,
    kLivez,
    kReadyz,
    kVersion,
    kMetrics,          // /metrics (Prometheus exposition; authorized like any non-resource path)
    kApis,             // /apis (APIGroupList)
    kApiGroup,         // /apis/<group>
    kApiResourceList,  // /apis/<group>/<version>
    kOpenApiV2,
    kOpenApiV3,
    kExternalMetric,  // /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}
    kCustomMetric,    // /apis/custom.metrics.k8s.io/{v}/... (object, wildcard, namespace)
  };
  Kind kind = Kind::kHealthz;
  std::string group, version;
  // Metric requests. For custom metrics `resource` is "deployments.apps", "pods", "namespaces"
  // (the namespace-metric form) ...; `name` is the object name or "*".
  std::string namespace_name, resource, name, metric;
  std::string label_selector, metric_label_selector;  // decoded; empty when absent
  bool pretty = false;
  auth::Attributes attributes;
};

// A routing failure: HTTP code, metav1.Status reason and message.
struct RouteError {
  int code;
  std::string reason;
  std::string message;
};

// Percent-decoding (base/url.h): with `form` also '+' -> ' '; false on a malformed escape or NUL.
using base::PercentDecode;

// Parses an application/x-www-form-urlencoded query. When a key repeats the first value wins.
// False on malformed escapes.
bool ParseQuery(absl::string_view query, std::map<std::string, std::string>* out);

// Routes one request. `raw_path` is the request target's path (still percent-encoded) and
// `raw_query` the part after '?'. On failure fills *error (404 NotFound for unknown paths,
// 400 BadRequest for malformed encodings or dot segments, 405 MethodNotAllowed for non-GET
// methods and watch) and returns false.
bool RouteRequest(absl::string_view method, absl::string_view raw_path, absl::string_view raw_query,
                  Route* route, RouteError* error);

}  // namespace adapter
