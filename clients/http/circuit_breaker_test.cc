#include "clients/http/circuit_breaker.h"

#include "base/clock.h"
#include "gtest/gtest.h"

namespace clients::http {
namespace {

using State = CircuitBreaker::State;

TEST(CircuitBreakerTest, OpensAfterFiveConsecutiveFailures) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  CircuitBreaker b(&clock);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(b.Allow());
    b.RecordFailure();
  }
  EXPECT_EQ(b.state(), State::kClosed);
  b.RecordSuccess();  // resets the count
  for (int i = 0; i < 4; ++i) b.RecordFailure();
  EXPECT_EQ(b.state(), State::kClosed);
  b.RecordFailure();
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_FALSE(b.Allow());
  EXPECT_EQ(b.opens(), 1);
  EXPECT_EQ(b.rejections(), 1);
}

TEST(CircuitBreakerTest, HalfOpenAfterSixtySecondsLetsOneTrialThrough) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  CircuitBreaker b(&clock);
  for (int i = 0; i < 5; ++i) b.RecordFailure();
  clock.Advance(absl::Seconds(59));
  EXPECT_FALSE(b.Allow());
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_TRUE(b.Allow());
  EXPECT_FALSE(b.Allow());  // only one trial at a time
  b.RecordSuccess();
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.Allow());
}

TEST(CircuitBreakerTest, FailedTrialOpensForAnotherFullPeriod) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  CircuitBreaker b(&clock);
  for (int i = 0; i < 5; ++i) b.RecordFailure();
  clock.Advance(absl::Seconds(60));
  ASSERT_TRUE(b.Allow());
  b.RecordFailure();
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.opens(), 2);
  clock.Advance(absl::Seconds(30));
  EXPECT_FALSE(b.Allow());
  clock.Advance(absl::Seconds(30));
  EXPECT_TRUE(b.Allow());
}

}  // namespace
}  // namespace clients::http
