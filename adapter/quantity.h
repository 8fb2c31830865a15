// Kubernetes Quantity formatting: the `value` strings of the metrics APIs, in the canonical form
// resource.Quantity prints.
//
//   adapter::FormatQuantity(0.85)   -> "850m"
//   adapter::FormatQuantity(73.5)   -> "73500m"
//   adapter::FormatQuantity(2000)   -> "2k"
//
// The output is the canonical decimal-SI form Go's resource.Quantity.String() prints: an
// integer mantissa with the largest SI exponent (multiple of 3) that keeps it an integer.
// Precision is nano (1e-9); the mantissa keeps at most 15 significant digits so floating-point
// noise never shows up as digits. Thread-safe (pure functions).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace adapter {

// Largest magnitude the HPA can take (it multiplies by 1000 into an int64).
inline constexpr double kMaxQuantity = 9.2e15;

// Returns the canonical Quantity string for `value`.
// kInvalidArgument for NaN, infinities and |value| >= kMaxQuantity.
absl::StatusOr<std::string> FormatQuantity(double value);

}  // namespace adapter
