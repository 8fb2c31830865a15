#include "base/clock.h"

namespace base {
namespace {

class RealEnvImpl : public Env {
 public:
  absl::Time Now() const override { return absl::Now(); }
  void SleepFor(absl::Duration d) override {
    if (d > absl::ZeroDuration()) absl::SleepFor(d);
  }
};

}  // namespace

Env& RealEnv() {
  static RealEnvImpl* env = new RealEnvImpl();
  return *env;
}

Clock& RealClock() { return RealEnv(); }

Sleeper& RealSleeper() { return RealEnv(); }

}  // namespace base
