// URL pieces shared by the HTTP servers (the adapter's HTTPS router and base::HttpServer) and
// the HTTP clients (Kubernetes, Prometheus).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace base {

// Percent-decodes `in`; with `form` also maps '+' to ' ' (query strings). False on a malformed
// escape ("%4", "%zz") or a NUL byte, encoded or not.
bool PercentDecode(absl::string_view in, bool form, std::string* out);

// Percent-encodes one query parameter value: RFC 3986 unreserved characters (letters, digits,
// '-', '_', '.', '~') pass through, every other byte becomes %XX (upper-case hex).
std::string UrlEncode(absl::string_view s);

}  // namespace base
