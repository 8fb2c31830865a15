// libFuzzer target: the Prometheus HTTP API response parser (/api/v1/query and query_range
// bodies) must never crash, hang or leak on any body with any HTTP status, and a body it
// rejects must be rejected with one of the codes its header documents.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "clients/prometheus/prometheus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the HTTP status the body arrived with (2xx, 4xx, 429, 5xx differ).
  static const int kStatuses[] = {200, 400, 422, 429, 500, 503};
  const int status = kStatuses[data[0] % 6];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto series = clients::prometheus::ParseQueryResponse(body, status);
  if (!series.ok()) {
    switch (series.status().code()) {
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kDeadlineExceeded:
      case absl::StatusCode::kCancelled:
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kNotFound:
      case absl::StatusCode::kInternal:
      case absl::StatusCode::kDataLoss:
        return 0;
      default:
        __builtin_trap();  // an undocumented error code
    }
  }
  size_t n = 0;
  for (const auto& s : *series) {
    for (const auto& [k, v] : s.labels) n += k.size() + v.size();
    n += s.points.size();
  }
  return n == static_cast<size_t>(-1) ? 1 : 0;
}
