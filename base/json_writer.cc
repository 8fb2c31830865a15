#include "base/json_writer.h"

#include <cmath>

#include "base/time_format.h"

namespace base {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
size_t Utf8Length(absl::string_view s, size_t i) {
  const unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Index of the first byte that does not start a valid UTF-8 sequence, or s.size().
size_t FirstInvalid(absl::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Utf8Length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return s.size();
}

}  // namespace

void JsonString(JsonWriter& w, absl::string_view s) {
  const size_t bad = FirstInvalid(s);
  if (bad == s.size()) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  // Invalid UTF-8 (e.g. from a percent-encoded path): each bad byte becomes U+FFFD.
  std::string clean(s.substr(0, bad));
  for (size_t i = bad; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    if (n == 0) {
      clean += "\xEF\xBF\xBD";
      ++i;
    } else {
      clean.append(s.data() + i, n);
      i += n;
    }
  }
  w.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
}

void JsonField(JsonWriter& w, const char* key, absl::string_view value) {
  w.Key(key);
  JsonString(w, value);
}

void JsonIntField(JsonWriter& w, const char* key, int64_t value) {
  w.Key(key);
  w.Int64(value);
}

void JsonNumberField(JsonWriter& w, const char* key, double value) {
  w.Key(key);
  if (std::isfinite(value)) {
    w.Double(value);
  } else {
    w.Null();
  }
}

void JsonNumberField(JsonWriter& w, const char* key, const absl::optional<double>& value) {
  JsonNumberField(w, key, value ? *value : std::nan(""));
}

void JsonTimeField(JsonWriter& w, const char* key, absl::Time t) {
  w.Key(key);
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    w.Null();
  } else {
    JsonString(w, FormatRfc3339(t));
  }
}

void JsonStringMap(JsonWriter& w, const std::map<std::string, std::string>& m) {
  w.StartObject();
  for (const auto& [k, v] : m) {
    JsonString(w, k);  // as a key: Writer::Key is String in key position
    JsonString(w, v);
  }
  w.EndObject();
}

std::string JsonStringMapText(const std::map<std::string, std::string>& m) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  JsonStringMap(w, m);
  return JsonText(buf);
}

}  // namespace base
