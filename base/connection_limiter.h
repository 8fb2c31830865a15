// Admission of a server's connections by count: a global limit, a reserve above it that only
// health probes may use, and a limit per client address. Used by base::HttpServer at accept.
//
//   base::ConnectionLimiter limiter({.max = 4096, .reserve = 32, .per_client = 1024});
//   base::ConnectionLimiter::Slot slot = limiter.Acquire("10.0.0.7");
//   if (slot == base::ConnectionLimiter::Slot::kNormal) { ... }  // later: Release(...)
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace base {

class ConnectionLimiter {
 public:
  struct Options {
    int max = 0;         // connections served normally; 0: no limit (and no reserve)
    int reserve = 0;     // extra connections past `max`, for health probes only
    int per_client = 0;  // open connections per client address, reserve included; 0: no limit
  };
  enum class Slot { kNormal, kReserve, kRejectedGlobal, kRejectedClient };

  explicit ConnectionLimiter(Options options) : options_(options) {}

  // Takes a slot for a new connection from `client` (an address as text). A rejected
  // connection holds nothing and is not Release()d.
  Slot Acquire(const std::string& client);
  // Gives back a slot Acquire() returned as kNormal or kReserve.
  void Release(const std::string& client, Slot slot);

  int open() const;          // normal + reserve connections now
  int open_reserve() const;  // reserve connections now
  int clients() const;       // distinct client addresses with an open connection

 private:
  const Options options_;
  mutable absl::Mutex mu_;
  int normal_ ABSL_GUARDED_BY(mu_) = 0;
  int reserve_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> per_client_ ABSL_GUARDED_BY(mu_);
};

}  // namespace base
