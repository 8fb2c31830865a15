// Request-framing checks base::HttpServer makes on a parsed header before reading a body
// (RFC 9112 sections 3.2 and 6.1), so that a body the parser would not frame cannot be read as a
// second request on the same connection:
//
//   int status = base::internal::CheckFraming({"chunked, identity"}, 1, false, 11, &message);
//   // status == 400; 0 means the header is acceptable.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace base {
namespace internal {

// `transfer_encodings`: the value of each Transfer-Encoding field, in order; `hosts`: how many
// Host fields; `version`: 10 or 11. Returns 0 when acceptable; 501 for a transfer coding other
// than chunked; 400 for chunked that is not the final coding or appears twice, Transfer-Encoding
// with Content-Length or in HTTP/1.0, an empty coding, or a Host count other than one (HTTP/1.0:
// zero or one). *message says why.
int CheckFraming(const std::vector<absl::string_view>& transfer_encodings, int hosts,
                 bool has_content_length, unsigned version, std::string* message);

}  // namespace internal
}  // namespace base
