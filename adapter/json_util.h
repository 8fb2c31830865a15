// Small JSON writing helpers for the adapter's hand-assembled response bodies (the hot path
// concatenates pre-rendered fragments instead of building a DOM). Pure functions.
//
//   std::string out;  adapter::AppendJsonString(&out, "a\"b");   // "a\"b" with quotes
//   adapter::JsonStringMap({{"deployment", "api"}})              // {"deployment":"api"}
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/json.h"

namespace adapter {

// Appends `s` as a quoted JSON string (base/json.h).
using base::AppendJsonString;

// {"k":"v",...} in key order.
std::string JsonStringMap(const std::map<std::string, std::string>& m);

// RFC 3339, UTC, second precision: "2025-03-04T10:15:30Z" (metav1.Time).
std::string FormatTimestamp(absl::Time t);

}  // namespace adapter
