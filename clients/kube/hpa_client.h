// HpaClient: the one write the legacy HPA_PATCH_MODE needs: set averageUtilization of a classic
// CPU metric of an autoscaling/v2 HorizontalPodAutoscaler.
//
//   clients::kube::HpaClient hpas(http.get(), cluster);
//   absl::Status s = hpas.PatchCpuUtilization("shop", "api", /*metric_index=*/0, 60, 75);
//
// It sends a JSON Patch (RFC 6902) that first tests the value it expects and then replaces it,
// touching nothing else: the original project read the whole HPA and wrote it back, which
// overwrote concurrent edits. Thread-safe when the HttpClient is.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "clients/http/http_client.h"
#include "clients/kube/cluster_config.h"

namespace clients::kube {

class HpaClient {
 public:
  // `http` must outlive this client.
  HpaClient(clients::http::HttpClient* http, ClusterConfig cluster,
            absl::Duration timeout = absl::Seconds(10));

  // Sets spec.metrics[metric_index].resource.target.averageUtilization to `target` if it is
  // still `expected`. Errors: kFailedPrecondition when it changed meanwhile (the test op failed,
  // 422), kNotFound, kUnauthenticated / kPermissionDenied, kUnavailable (transport, 429, 5xx).
  absl::Status PatchCpuUtilization(const std::string& namespace_name, const std::string& name,
                                   int metric_index, int32_t expected, int32_t target);

 private:
  clients::http::HttpClient* const http_;
  const ClusterConfig cluster_;
  const absl::Duration timeout_;
};

}  // namespace clients::kube
