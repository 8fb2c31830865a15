// LeaseClient: get/create/update of coordination.k8s.io/v1 Leases, the calls a leader-election
// loop needs. Updates use optimistic concurrency: the Lease's metadata.resourceVersion is sent,
// and a stale one is refused by the API server (409) and surfaced as kAborted.
//
//   clients::kube::LeaseClient leases(http.get(), cluster);
//   absl::StatusOr<clients::kube::Lease> l = leases.Get("smart-autoscaler", "leader");
//   if (l.ok()) { l->renew_time = clock.Now(); l = leases.Update(*l); }  // kAborted: lost race
//
// Thread-safe when the HttpClient is.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/http/http_client.h"
#include "clients/kube/cluster_config.h"
#include "clients/kube/objects.h"

namespace clients::kube {

class LeaseClient {
 public:
  // `http` must outlive this client.
  LeaseClient(clients::http::HttpClient* http, ClusterConfig cluster,
              absl::Duration timeout = absl::Seconds(10));

  // The Lease. kNotFound when absent. Errors for every call: kUnavailable (transport, 429,
  // 5xx, timeout), kUnauthenticated / kPermissionDenied (401 / 403), kInternal (unexpected
  // answer or body).
  absl::StatusOr<Lease> Get(const std::string& namespace_name, const std::string& name);
  // Creates `lease` (metadata.namespace and name required; resourceVersion ignored) and returns
  // it as stored, with its resourceVersion. kAlreadyExists when it exists.
  absl::StatusOr<Lease> Create(const Lease& lease);
  // Replaces `lease`; metadata.resourceVersion should be the one last read. Returns the stored
  // Lease with its new resourceVersion. kAborted when the resourceVersion is stale (409
  // Conflict: someone else wrote it), kNotFound when it does not exist.
  absl::StatusOr<Lease> Update(const Lease& lease);

 private:
  absl::StatusOr<Lease> Call(const std::string& method, const std::string& path,
                             const std::string& body);

  clients::http::HttpClient* const http_;
  const ClusterConfig cluster_;
  const absl::Duration timeout_;
};

}  // namespace clients::kube
