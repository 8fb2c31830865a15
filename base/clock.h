// Clock: the one place code asks for "now", so tests can move time by hand.
//
//   base::Clock& clock = base::RealClock();
//   absl::Time start = clock.Now();
//   base::FakeClock fake(absl::FromUnixSeconds(1700000000)); fake.Advance(absl::Minutes(5));
//
// Inject a Clock instead of calling absl::Now() so code that uses time is decoupled from the
// code that makes it. Every implementation is safe for concurrent use.
#pragma once

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace base {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The process-wide wall clock. Never destroyed.
Clock& RealClock();

// A clock that moves only when told. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace base
