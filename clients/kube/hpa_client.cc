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
  absl::StatusOr<clients::http::HttpResponse> r = DoApiRequest(
      http_, cluster_, "PATCH", path, body, timeout_, "application/json-patch+json");
  if (!r.ok()) return absl::UnavailableError(absl::StrCat("patch ", path, ": ", r.status().message()));
  if (r->status == 200) return absl::OkStatus();
  if (r->status == 409 || r->status == 422) {
    // The test op failed (or a conflict): the field changed since it was read.
    return absl::FailedPreconditionError(ApiError("PATCH", path, r->status, r->body).message());
  }
  return ApiError("PATCH", path, r->status, r->body);
}

}  // namespace clients::kube
