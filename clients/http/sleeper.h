// Sleeper: the one place client code waits, so tests can wait without waiting.
//
//   clients::http::Sleeper& s = clients::http::RealSleeper();   // production
//   base::FakeClock clock(t0); clients::http::FakeSleeper fake(&clock);
//   fake.Sleep(absl::Seconds(2));   // returns at once; clock.Now() == t0 + 2 s
//
// Every implementation is safe for concurrent use.
#pragma once

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace clients::http {

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Blocks the calling thread for `d` (no-op when d <= 0).
  virtual void Sleep(absl::Duration d) = 0;
};

// absl::SleepFor. Never destroyed.
Sleeper& RealSleeper();

// Records each requested sleep and advances `clock` by it instead of blocking. Thread-safe.
class FakeSleeper : public Sleeper {
 public:
  explicit FakeSleeper(base::FakeClock* clock) : clock_(clock) {}
  void Sleep(absl::Duration d) override {
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(d);
    if (d > absl::ZeroDuration() && clock_ != nullptr) clock_->Advance(d);
  }
  std::vector<absl::Duration> sleeps() const {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  base::FakeClock* const clock_;
  mutable absl::Mutex mu_;
  std::vector<absl::Duration> sleeps_;
};

}  // namespace clients::http
