// RFC 3339 timestamps in UTC, as Kubernetes (metav1.Time, metav1.MicroTime) and our JSON APIs
// and logs write them. The one formatter of the project.
//
//   base::FormatRfc3339(absl::FromUnixSeconds(1741083330))        // "2025-03-04T10:15:30Z"
//   base::FormatRfc3339Micros(absl::FromUnixMicros(1741083330000001))
//                                                  // "2025-03-04T10:15:30.000001Z"
#pragma once

#include <string>

#include "absl/time/time.h"

namespace base {

// Second precision (the fraction is truncated). absl::InfinitePast()/InfiniteFuture() come out
// as "infinite-past"/"infinite-future" (absl's spelling): callers that may hold them decide
// what to write instead.
std::string FormatRfc3339(absl::Time t);

// Microsecond precision, always six digits.
std::string FormatRfc3339Micros(absl::Time t);

}  // namespace base
