// Tests base::ConnectionLimiter's global limit, probe reserve and per-client limit.
#include "base/connection_limiter.h"

#include "gtest/gtest.h"

namespace base {
namespace {

using Slot = ConnectionLimiter::Slot;

TEST(ConnectionLimiterTest, GlobalLimitThenReserveThenReject) {
  ConnectionLimiter limiter({.max = 2, .reserve = 1, .per_client = 0});
  EXPECT_EQ(limiter.Acquire("a"), Slot::kNormal);
  EXPECT_EQ(limiter.Acquire("b"), Slot::kNormal);
  EXPECT_EQ(limiter.Acquire("c"), Slot::kReserve);
  EXPECT_EQ(limiter.Acquire("d"), Slot::kRejectedGlobal);
  EXPECT_EQ(limiter.open(), 3);
  EXPECT_EQ(limiter.open_reserve(), 1);
  limiter.Release("a", Slot::kNormal);
  EXPECT_EQ(limiter.Acquire("d"), Slot::kNormal);  // a normal slot is free again
  EXPECT_EQ(limiter.Acquire("e"), Slot::kRejectedGlobal);
  limiter.Release("c", Slot::kReserve);
  EXPECT_EQ(limiter.Acquire("e"), Slot::kReserve);
}

TEST(ConnectionLimiterTest, PerClientLimitLeavesOthersServed) {
  ConnectionLimiter limiter({.max = 10, .reserve = 2, .per_client = 3});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("hostile"), Slot::kNormal);
  EXPECT_EQ(limiter.Acquire("hostile"), Slot::kRejectedClient);
  EXPECT_EQ(limiter.Acquire("friend"), Slot::kNormal);
  EXPECT_EQ(limiter.clients(), 2);
  limiter.Release("hostile", Slot::kNormal);
  EXPECT_EQ(limiter.Acquire("hostile"), Slot::kNormal);
  for (int i = 0; i < 3; ++i) limiter.Release("hostile", Slot::kNormal);
  limiter.Release("friend", Slot::kNormal);
  EXPECT_EQ(limiter.open(), 0);
  EXPECT_EQ(limiter.clients(), 0);
}

TEST(ConnectionLimiterTest, NoLimitsAdmitsEverything) {
  ConnectionLimiter limiter({});
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.Acquire("x"), Slot::kNormal);
  EXPECT_EQ(limiter.open(), 1000);
}

}  // namespace
}  // namespace base
