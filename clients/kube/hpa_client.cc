#include "clients/kube/hpa_client.h"

#include "absl/strings/str_cat.h"

namespace clients::kube {

HpaClient::HpaClient(clients::http::HttpClient* http, ClusterConfig cluster, absl::Duration timeout)
    : http_(http), cluster_(std::move(cluster)), timeout_(timeout) {}

absl::Status HpaClient::PatchCpuUtilization(const std::string& namespace_name,
                                            const std::string& name, int metric_index,
                                            int32_t expected, int32_t target) {
  std::string field =
      absl::StrCat("/spec/metrics/", metric_index, "/resource/target/averageUtilization");
  std::string body = absl::StrCat(R"([{"op":"test","path":")", field, R"(","value":)", expected,
                                  R"(},{"op":"replace","path":")", field, R"(","value":)",
                                  target, "}]");
  std::string path = absl::StrCat("/apis/autoscaling/v2/namespaces/", namespace_name,
                                  "/horizontalpodautoscalers/", name);
  absl::StatusOr<clients::http::HttpRequest> req =
      NewApiRequest(cluster_, "PATCH", path, body, timeout_);
  if (!req.ok()) return req.status();
  for (auto& [k, v] : req->headers) {
    if (k == "Content-Type") v = "application/json-patch+json";
  }
  absl::StatusOr<clients::http::HttpResponse> r = http_->Do(*req);
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("patch ", path, ": ", r.status().message()));
  std::string what = absl::StrCat("kubernetes API PATCH ", path, " answered HTTP ", r->status,
                                  ": ", r->body.substr(0, 300));
  switch (r->status) {
    case 200:
      return absl::OkStatus();
    case 401:
      return absl::UnauthenticatedError(what);
    case 403:
      return absl::PermissionDeniedError(what);
    case 404:
      return absl::NotFoundError(what);
    case 409:
    case 422:
      return absl::FailedPreconditionError(what);
    default:
      if (clients::http::IsRetryableStatus(r->status)) return absl::UnavailableError(what);
      return absl::InternalError(what);
  }
}

}  // namespace clients::kube
