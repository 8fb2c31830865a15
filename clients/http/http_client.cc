#include "clients/http/http_client.h"

#include "absl/strings/ascii.h"

namespace clients::http {

std::string HttpResponse::Header(absl::string_view name) const {
  auto it = headers.find(absl::AsciiStrToLower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool IsRetryableError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

bool IsRetryableStatus(int http_status) {
  return http_status == 429 || (http_status >= 500 && http_status <= 599);
}

}  // namespace clients::http
