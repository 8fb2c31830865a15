// CheckFraming: the Transfer-Encoding list is split on commas (parameters after ';' stripped).
#include "base/http_framing.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace base {
namespace internal {

int CheckFraming(const std::vector<absl::string_view>& transfer_encodings, int hosts,
                 bool has_content_length, unsigned version, std::string* message) {
  if (hosts > 1 || (hosts == 0 && version >= 11)) {
    *message = absl::StrCat("a request needs exactly one Host header; got ", hosts);
    return 400;
  }
  if (transfer_encodings.empty()) return 0;
  if (version < 11) {
    *message = "Transfer-Encoding in an HTTP/1.0 request";
    return 400;
  }
  if (has_content_length) {
    *message = "both Transfer-Encoding and Content-Length";
    return 400;
  }
  std::vector<absl::string_view> codings;
  for (absl::string_view field : transfer_encodings) {
    for (absl::string_view c : absl::StrSplit(field, ',')) {
      codings.push_back(absl::StripAsciiWhitespace(c.substr(0, c.find(';'))));
    }
  }
  for (size_t i = 0; i < codings.size(); ++i) {
    if (codings[i].empty()) {
      *message = "empty transfer coding";
      return 400;
    }
    const bool chunked = absl::EqualsIgnoreCase(codings[i], "chunked");
    if (chunked && i + 1 != codings.size()) {
      *message = "chunked must be the final transfer coding, once";
      return 400;
    }
    if (!chunked) {
      *message = absl::StrCat("transfer coding '", codings[i], "' is not implemented");
      return 501;
    }
  }
  return 0;
}

}  // namespace internal
}  // namespace base
