// URL pieces shared by the HTTP servers (the adapter's HTTPS router and base::HttpServer).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace base {

// Percent-decodes `in`; with `form` also maps '+' to ' ' (query strings). False on a malformed
// escape ("%4", "%zz") or a NUL byte, encoded or not.
bool PercentDecode(absl::string_view in, bool form, std::string* out);

}  // namespace base
