// Internal: a small thread-safe map with per-entry expiry on an injected clock, for the 10 s
// TokenReview and SubjectAccessReview caches. Bounded: when full, expired entries are dropped,
// then the whole map if still full (a cache, not a store: a miss only costs a review).
#pragma once

#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace adapter::auth::internal {

template <typename V>
class TtlCache {
 public:
  TtlCache(const base::Clock* clock, size_t max_entries) : clock_(clock), max_(max_entries) {}

  std::optional<V> Get(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    if (clock_->Now() >= it->second.expires) {
      map_.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  void Put(const std::string& key, V value, absl::Duration ttl) {
    if (ttl <= absl::ZeroDuration()) return;
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_->Now();
    if (map_.size() >= max_) {
      for (auto it = map_.begin(); it != map_.end();) {
        if (now >= it->second.expires) {
          map_.erase(it++);
        } else {
          ++it;
        }
      }
      if (map_.size() >= max_) map_.clear();
    }
    map_[key] = Entry{std::move(value), now + ttl};
  }

  size_t size() const {
    absl::MutexLock lock(&mu_);
    return map_.size();
  }

 private:
  struct Entry {
    V value;
    absl::Time expires;
  };
  const base::Clock* const clock_;
  const size_t max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> map_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adapter::auth::internal
