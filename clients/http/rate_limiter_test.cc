#include "clients/http/rate_limiter.h"

#include "base/clock.h"
#include "gtest/gtest.h"

namespace clients::http {
namespace {

TEST(TokenBucketTest, AllowsBurstThenRefillsAtRate) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  TokenBucket bucket(&clock, /*rate_per_second=*/10, /*burst=*/10);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bucket.TryAcquire()) << i;
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(absl::Milliseconds(100));
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(absl::Seconds(60));  // never more than the burst
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
  EXPECT_EQ(bucket.throttled(), 3);
}

TEST(TokenBucketTest, ReserveQueuesCallersAtTheRate) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  TokenBucket bucket(&clock, /*rate_per_second=*/20, /*burst=*/2);
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(50));
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(100));
  clock.Advance(absl::Milliseconds(100));  // the debt is paid
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(50));
}

}  // namespace
}  // namespace clients::http
