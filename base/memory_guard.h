// memory_guard: the process's memory use against its container's limit, read from the cgroup
// files, classified against two thresholds (MEMORY_WARNING_THRESHOLD and
// MEMORY_CRITICAL_THRESHOLD of the reconciler).
//
//   base::MemoryGuard guard({.warning = 0.75, .critical = 0.90});   // reads /sys/fs/cgroup
//   base::MemoryReading r = guard.Check();
//   if (r.level == base::MemoryLevel::kCritical) ShrinkCaches();
//
// cgroup v2 first (memory.current, memory.max, and memory.stat's inactive_file, which the
// kernel reclaims before it OOM-kills, so it does not count as use, as the kubelet computes
// the working set); then cgroup v1 (memory/memory.usage_in_bytes, memory.limit_in_bytes,
// memory.stat total_inactive_file). Without a limit ("max", or v1's huge sentinel) or
// without readable files the level is kUnknown: an unknown limit never reads as pressure.
// Thread-compatible; Check does file I/O (a few small reads).
#pragma once

#include <cstdint>
#include <utility>
#include <string>

#include "absl/types/optional.h"

namespace base {

enum class MemoryLevel { kUnknown, kOk, kWarning, kCritical };

// "unknown", "ok", "warning", "critical".
const char* MemoryLevelName(MemoryLevel level);

struct MemoryReading {
  MemoryLevel level = MemoryLevel::kUnknown;
  absl::optional<int64_t> working_set_bytes;  // usage minus inactive file cache
  absl::optional<int64_t> limit_bytes;        // nullopt: no limit set
  double fraction = 0;                        // working set / limit (0 without both)
  std::string source;  // "cgroup v2", "cgroup v1" or why nothing was read
};

struct MemoryGuardOptions {
  double warning = 0.75;   // fraction of the limit
  double critical = 0.90;  // fraction of the limit; > warning
  // The cgroup file system; tests point it at a directory of their own.
  std::string cgroup_root = "/sys/fs/cgroup";
  // Used instead of the cgroup limit when > 0 (MEMORY_LIMIT_MB of the original, in bytes).
  int64_t limit_override_bytes = 0;
};

class MemoryGuard {
 public:
  explicit MemoryGuard(MemoryGuardOptions options) : options_(std::move(options)) {}

  // Reads the cgroup files now and classifies the use.
  MemoryReading Check() const;

  const MemoryGuardOptions& options() const { return options_; }

 private:
  MemoryGuardOptions options_;
};

}  // namespace base
