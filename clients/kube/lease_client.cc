#include "clients/kube/lease_client.h"

#include "absl/strings/str_cat.h"

namespace clients::kube {

LeaseClient::LeaseClient(clients::http::HttpClient* http, ClusterConfig cluster,
                         absl::Duration timeout)
    : http_(http), cluster_(std::move(cluster)), timeout_(timeout) {}

absl::StatusOr<Lease> LeaseClient::Call(const std::string& method, const std::string& path,
                                        const std::string& body) {
  absl::StatusOr<clients::http::HttpResponse> r =
      DoApiRequest(http_, cluster_, method, path, body, timeout_);
  if (!r.ok()) return r.status();
  switch (r->status) {
    case 200:
    case 201: {
      absl::StatusOr<Lease> lease = ParseLeaseJson(r->body);
      if (!lease.ok()) return absl::InternalError(lease.status().message());
      return lease;
    }
    case 409: {
      std::string what = std::string(ApiError(method, path, 409, r->body).message());
      if (method == "POST") return absl::AlreadyExistsError(what);
      return absl::AbortedError(what);
    }
    default:
      return ApiError(method, path, r->status, r->body);
  }
}

absl::StatusOr<Lease> LeaseClient::Get(const std::string& namespace_name, const std::string& name) {
  return Call(
      "GET",
      absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/", namespace_name, "/leases/", name),
      "");
}

absl::StatusOr<Lease> LeaseClient::Create(const Lease& lease) {
  if (lease.metadata.name.empty() || lease.metadata.namespace_name.empty()) {
    return absl::InvalidArgumentError("a Lease needs metadata.namespace and metadata.name");
  }
  Lease fresh = lease;
  fresh.metadata.resource_version.clear();
  return Call("POST",
              absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/",
                           lease.metadata.namespace_name, "/leases"),
              LeaseToJson(fresh));
}

absl::StatusOr<Lease> LeaseClient::Update(const Lease& lease) {
  if (lease.metadata.name.empty() || lease.metadata.namespace_name.empty()) {
    return absl::InvalidArgumentError("a Lease needs metadata.namespace and metadata.name");
  }
  return Call("PUT",
              absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/",
                           lease.metadata.namespace_name, "/leases/", lease.metadata.name),
              LeaseToJson(lease));
}

}  // namespace clients::kube
