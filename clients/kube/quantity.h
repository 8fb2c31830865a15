// Kubernetes resource.Quantity strings ("500m", "1.5", "128Mi", "1e3") as exact integers:
// CPU in millicores, memory in bytes.
//
//   absl::StatusOr<int64_t> m = clients::kube::ParseCpuMillicores("1.5");      // 1500
//   absl::StatusOr<int64_t> b = clients::kube::ParseMemoryBytes("128Mi");      // 134217728
//   absl::StatusOr<int64_t> v = clients::kube::ParseQuantityScaled("250m", 0); // 1 (rounds up)
//
// The grammar is the one of k8s.io/apimachinery/pkg/api/resource: an optional sign, digits with
// an optional fraction, then a binary-SI suffix (Ki Mi Gi Ti Pi Ei), a decimal-SI suffix
// (n u m "" k M G T P E) or a decimal exponent (e3, E-2). Arithmetic is exact (128-bit
// integers); a value that is not a whole number of the requested unit is rounded up, as
// Quantity.MilliValue()/Value() do. Pure functions, thread-safe.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace clients::kube {

// The quantity in units of 10^-scale (scale 3 = milli, 0 = whole units), rounded up.
// kInvalidArgument for a malformed string or a negative value (resource amounts are never
// negative), kOutOfRange when the value does not fit in int64.
absl::StatusOr<int64_t> ParseQuantityScaled(absl::string_view text, int scale);

// ParseQuantityScaled(text, 3): "500m" -> 500, "2" -> 2000, "0.1" -> 100.
absl::StatusOr<int64_t> ParseCpuMillicores(absl::string_view text);

// ParseQuantityScaled(text, 0): "1Gi" -> 1073741824, "1G" -> 1000000000, "1e3" -> 1000.
absl::StatusOr<int64_t> ParseMemoryBytes(absl::string_view text);

}  // namespace clients::kube
