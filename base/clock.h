// The environment: the one place code asks for "now" (Clock) and waits (Sleeper), so tests
// can move time by hand and wait without waiting. Env is both, as LevelDB's Env.
//
//   base::Env& env = base::RealEnv();                 // production: wall clock, real sleeps
//   absl::Time start = env.Now();
//   env.SleepFor(absl::Seconds(2));
//   base::FakeClock fake(absl::FromUnixSeconds(1700000000));
//   fake.SleepFor(absl::Minutes(5));                  // returns at once; Now() moved 5 min
//
// Inject an Env (or only the Clock or the Sleeper a component needs) instead of calling
// absl::Now() or absl::SleepFor(), so code that uses time is decoupled from the code that makes
// it. Only base/clock.cc reads the wall clock or sleeps. Every implementation is safe for
// concurrent use.
#pragma once

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace base {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Blocks the calling thread for `d`; returns at once when d <= 0.
  virtual void SleepFor(absl::Duration d) = 0;
};

// Time and waiting together.
class Env : public Clock, public Sleeper {};

// The process-wide environment: absl::Now() and absl::SleepFor(). Never destroyed.
Env& RealEnv();
// RealEnv(), seen as only a Clock or only a Sleeper.
Clock& RealClock();
Sleeper& RealSleeper();

// An Env that moves only when told: by Advance() or Set(), or by SleepFor(d), which returns at
// once after moving the time by d (d > 0) and recording d. Thread-safe.
class FakeClock : public Env {
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
  void SleepFor(absl::Duration d) override {
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(d);
    if (d > absl::ZeroDuration()) now_ += d;
  }
  // Every SleepFor() argument so far, in call order.
  std::vector<absl::Duration> sleeps() const {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

// A Sleeper that records each requested sleep and advances `clock` by it (if not null) instead
// of blocking: for a test that needs sleeps apart from its clock (for instance a clock that
// must not move while the code waits). Thread-safe.
class FakeSleeper : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock* clock) : clock_(clock) {}
  void SleepFor(absl::Duration d) override {
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(d);
    if (d > absl::ZeroDuration() && clock_ != nullptr) clock_->Advance(d);
  }
  std::vector<absl::Duration> sleeps() const {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  FakeClock* const clock_;
  mutable absl::Mutex mu_;
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace base
