#include "base/memory_guard.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace base {
namespace {

// cgroup v1 reports "no limit" as a page-rounded LONG_MAX; anything above 2^60 is that.
constexpr int64_t kV1NoLimit = int64_t{1} << 60;

absl::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return absl::nullopt;
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A file holding one integer (or "max" when `max_means_none`, returned as -1).
absl::optional<int64_t> ReadInt(const std::string& path, bool max_means_none) {
  absl::optional<std::string> text = ReadSmallFile(path);
  if (!text) return absl::nullopt;
  absl::string_view v = absl::StripAsciiWhitespace(*text);
  if (max_means_none && v == "max") return -1;
  int64_t n;
  if (!absl::SimpleAtoi(v, &n) || n < 0) return absl::nullopt;
  return n;
}

// The value of `key` in a memory.stat file ("key value" lines); 0 when absent.
int64_t StatValue(const std::string& path, absl::string_view key) {
  absl::optional<std::string> text = ReadSmallFile(path);
  if (!text) return 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, ' ');
    int64_t n;
    if (kv.first == key && absl::SimpleAtoi(kv.second, &n) && n >= 0) return n;
  }
  return 0;
}

struct Raw {
  int64_t usage = 0;
  int64_t inactive_file = 0;
  absl::optional<int64_t> limit;  // nullopt: none
  std::string source;
};

absl::optional<Raw> ReadV2(const std::string& root) {
  absl::optional<int64_t> usage = ReadInt(root + "/memory.current", false);
  if (!usage) return absl::nullopt;
  Raw r;
  r.usage = *usage;
  r.inactive_file = StatValue(root + "/memory.stat", "inactive_file");
  absl::optional<int64_t> max = ReadInt(root + "/memory.max", true);
  if (max && *max >= 0) r.limit = *max;
  r.source = "cgroup v2";
  return r;
}

absl::optional<Raw> ReadV1(const std::string& root) {
  const std::string dir = root + "/memory";
  absl::optional<int64_t> usage = ReadInt(dir + "/memory.usage_in_bytes", false);
  if (!usage) return absl::nullopt;
  Raw r;
  r.usage = *usage;
  r.inactive_file = StatValue(dir + "/memory.stat", "total_inactive_file");
  absl::optional<int64_t> limit = ReadInt(dir + "/memory.limit_in_bytes", false);
  if (limit && *limit < kV1NoLimit) r.limit = *limit;
  r.source = "cgroup v1";
  return r;
}

}  // namespace

const char* MemoryLevelName(MemoryLevel level) {
  switch (level) {
    case MemoryLevel::kOk:
      return "ok";
    case MemoryLevel::kWarning:
      return "warning";
    case MemoryLevel::kCritical:
      return "critical";
    case MemoryLevel::kUnknown:
      break;
  }
  return "unknown";
}

MemoryReading MemoryGuard::Check() const {
  MemoryReading out;
  absl::optional<Raw> raw = ReadV2(options_.cgroup_root);
  if (!raw) raw = ReadV1(options_.cgroup_root);
  if (!raw) {
    out.source = "no readable cgroup memory files under " + options_.cgroup_root;
    return out;
  }
  out.source = raw->source;
  out.working_set_bytes = std::max<int64_t>(0, raw->usage - raw->inactive_file);
  if (options_.limit_override_bytes > 0) raw->limit = options_.limit_override_bytes;
  out.limit_bytes = raw->limit;
  if (!raw->limit || *raw->limit <= 0) return out;  // no limit: nothing to be near
  out.fraction = static_cast<double>(*out.working_set_bytes) / static_cast<double>(*raw->limit);
  out.level = out.fraction >= options_.critical  ? MemoryLevel::kCritical
              : out.fraction >= options_.warning ? MemoryLevel::kWarning
                                                 : MemoryLevel::kOk;
  return out;
}

}  // namespace base
