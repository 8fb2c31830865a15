// ConnectionLimiter: counts under one mutex (taken once per accept and once per close).
#include "base/connection_limiter.h"

#include "glog/logging.h"

namespace base {

ConnectionLimiter::Slot ConnectionLimiter::Acquire(const std::string& client) {
  absl::MutexLock lock(&mu_);
  if (options_.per_client > 0) {
    auto it = per_client_.find(client);
    if (it != per_client_.end() && it->second >= options_.per_client) return Slot::kRejectedClient;
  }
  Slot slot = Slot::kNormal;
  if (options_.max > 0 && normal_ >= options_.max) {
    if (reserve_ >= options_.reserve) return Slot::kRejectedGlobal;
    slot = Slot::kReserve;
  }
  ++(slot == Slot::kNormal ? normal_ : reserve_);
  ++per_client_[client];
  return slot;
}

void ConnectionLimiter::Release(const std::string& client, Slot slot) {
  CHECK(slot == Slot::kNormal || slot == Slot::kReserve) << "released a rejected slot";
  absl::MutexLock lock(&mu_);
  --(slot == Slot::kNormal ? normal_ : reserve_);
  auto it = per_client_.find(client);
  CHECK(it != per_client_.end()) << "released a slot of an unknown client";
  if (--it->second == 0) per_client_.erase(it);
}

int ConnectionLimiter::open() const {
  absl::MutexLock lock(&mu_);
  return normal_ + reserve_;
}

int ConnectionLimiter::open_reserve() const {
  absl::MutexLock lock(&mu_);
  return reserve_;
}

int ConnectionLimiter::clients() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(per_client_.size());
}

}  // namespace base
