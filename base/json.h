// JSON string escaping shared by the hand-assembled JSON writers (the adapter's response
// bodies, base/json_log's log lines).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace base {

// Appends `s` as a quoted JSON string: RFC 8259 escaping, control characters as \uXXXX, valid
// UTF-8 copied as is, invalid UTF-8 bytes as \ufffd (never broken JSON).
void AppendJsonString(std::string* out, absl::string_view s);

}  // namespace base
