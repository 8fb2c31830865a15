// Writing JSON with RapidJSON's streaming Writer (no DOM): the helpers every JSON producer in
// the project shares, so no file re-defines its own.
//
//   rapidjson::StringBuffer buf;
//   base::JsonWriter w(buf);
//   w.StartObject();
//   base::JsonField(w, "name", "api");                 // "name":"api"
//   base::JsonNumberField(w, "value", std::nan(""));   // "value":null
//   base::JsonTimeField(w, "at", absl::Now());         // "at":"2025-03-04T10:15:30Z"
//   w.EndObject();
//   std::string json(buf.GetString(), buf.GetSize());
//
// Strings are written as RapidJSON escapes them ('"', '\\', control characters as \b \f \n \r
// \t or \u00XX); valid UTF-8 is copied as is and each invalid byte becomes U+FFFD, so the
// output is always valid JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace base {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A string value.
void JsonString(JsonWriter& w, absl::string_view s);
// "key":"value".
void JsonField(JsonWriter& w, const char* key, absl::string_view value);
// "key":<integer>.
void JsonIntField(JsonWriter& w, const char* key, int64_t value);
// "key":<number>, or null when `value` is NaN or infinite (missing data is not a number).
void JsonNumberField(JsonWriter& w, const char* key, double value);
// "key":<number>, or null when absent or not finite.
void JsonNumberField(JsonWriter& w, const char* key, const absl::optional<double>& value);
// "key":"<RFC 3339, seconds>", or null for absl::InfinitePast()/InfiniteFuture().
void JsonTimeField(JsonWriter& w, const char* key, absl::Time t);
// {"k":"v",...} in key order.
void JsonStringMap(JsonWriter& w, const std::map<std::string, std::string>& m);

// The buffer's text.
inline std::string JsonText(const rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

// {"k":"v",...} in key order, as a string.
std::string JsonStringMapText(const std::map<std::string, std::string>& m);

}  // namespace base
