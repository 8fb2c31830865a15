#include "clients/http/sleeper.h"

namespace clients::http {
namespace {

class RealSleeperImpl : public Sleeper {
 public:
  void Sleep(absl::Duration d) override {
    if (d > absl::ZeroDuration()) absl::SleepFor(d);
  }
};

}  // namespace

Sleeper& RealSleeper() {
  static RealSleeperImpl* sleeper = new RealSleeperImpl();
  return *sleeper;
}

}  // namespace clients::http
