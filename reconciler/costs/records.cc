// Pod lifetimes as stored records (PodLifetimeRecord).
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/records.pb.h"
#include "reconciler/costs/costs.h"

namespace costs {

std::string EncodePodLifetime(absl::string_view namespace_name, absl::string_view deployment,
                              const PodLifetime& life) {
  smartautoscaler::v1::PodLifetimeRecord r;
  r.set_namespace_(std::string(namespace_name));
  r.set_deployment(std::string(deployment));
  r.set_pod(life.pod);
  r.set_start_ms(absl::ToUnixMillis(life.start));
  if (life.end != absl::InfiniteFuture()) r.set_end_ms(absl::ToUnixMillis(life.end));
  r.set_cpu_request_millicores(life.cpu_request_millicores);
  r.set_memory_request_bytes(life.memory_request_bytes);
  r.set_node(life.node);
  r.set_pool(life.pool);
  return r.SerializeAsString();
}

absl::Status DecodePodLifetimeInto(absl::string_view payload, DecodedLifetime* d) {
  // One message per thread, parsed over and over: its strings keep their storage.
  thread_local smartautoscaler::v1::PodLifetimeRecord r;
  if (!r.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError(
        absl::StrCat("pod lifetime record of ", payload.size(), " bytes does not parse"));
  }
  if (r.pod().empty() || r.start_ms() == 0) {
    return absl::DataLossError("pod lifetime record without a pod name or start time");
  }
  d->namespace_name.assign(r.namespace_());
  d->deployment.assign(r.deployment());
  d->life.pod.assign(r.pod());
  d->life.start = absl::FromUnixMillis(r.start_ms());
  d->life.end = r.end_ms() == 0 ? absl::InfiniteFuture() : absl::FromUnixMillis(r.end_ms());
  d->life.cpu_request_millicores = r.cpu_request_millicores();
  d->life.memory_request_bytes = r.memory_request_bytes();
  d->life.node.assign(r.node());
  d->life.pool.assign(r.pool());
  return absl::OkStatus();
}

absl::StatusOr<DecodedLifetime> DecodePodLifetime(absl::string_view payload) {
  DecodedLifetime d;
  if (absl::Status s = DecodePodLifetimeInto(payload, &d); !s.ok()) return s;
  return d;
}

}  // namespace costs
