#include "clients/http/resilient_http_client.h"

#include "base/clock.h"
#include "clients/http/fake_http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace clients::http {
namespace {

using ::testing::ElementsAre;

HttpResponse Status(int code) {
  HttpResponse r;
  r.status = code;
  return r;
}

TEST(ResilientHttpClientTest, RetriesWithBackoffAndReturnsSuccess) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  base::FakeSleeper sleeper(&clock);
  FakeHttpClient inner;
  inner.Push(absl::UnavailableError("refused"));
  inner.Push(Status(503));
  inner.Push(Status(200));
  ResilientHttpClient c(&inner, {}, &clock, &sleeper, "test");
  absl::StatusOr<HttpResponse> r = c.Do({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(sleeper.sleeps(), ElementsAre(absl::Seconds(1), absl::Seconds(2)));
  ResilienceStats s = c.stats();
  EXPECT_EQ(s.requests, 1);
  EXPECT_EQ(s.attempts, 3);
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.failures, 2);
}

TEST(ResilientHttpClientTest, BreakerOpensAndRefusesWithoutCallingOrRetrying) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  base::FakeSleeper sleeper(&clock);
  FakeHttpClient inner;
  inner.set_default(Status(500));
  ResilienceOptions opts;
  opts.backoff.max_retries = 0;
  ResilientHttpClient c(&inner, opts, &clock, &sleeper, "test");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c.Do({})->status, 500);
  EXPECT_EQ(c.breaker_state(), CircuitBreaker::State::kOpen);
  absl::StatusOr<HttpResponse> r = c.Do({});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inner.requests().size(), 5u);
  clock.Advance(absl::Seconds(60));
  inner.set_default(Status(200));
  EXPECT_EQ(c.Do({})->status, 200);
  EXPECT_EQ(c.breaker_state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(c.stats().breaker_opens, 1);
  EXPECT_EQ(c.stats().breaker_rejections, 1);
}

TEST(ResilientHttpClientTest, RateLimitWaitsOnTheSleeper) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  base::FakeSleeper sleeper(&clock);
  FakeHttpClient inner;
  ResilienceOptions opts;
  opts.rate_per_second = 10;
  opts.burst = 1;
  ResilientHttpClient c(&inner, opts, &clock, &sleeper, "test");
  ASSERT_TRUE(c.Do({}).ok());
  ASSERT_TRUE(c.Do({}).ok());
  EXPECT_THAT(sleeper.sleeps(), ElementsAre(absl::ZeroDuration(), absl::Milliseconds(100)));
  EXPECT_EQ(c.stats().rate_limited, 1);
}

TEST(ResilientHttpClientTest, RefusesWhenRateLimitWaitTooLong) {
  base::FakeClock clock(absl::FromUnixSeconds(0));
  base::FakeSleeper sleeper(nullptr);  // time does not move: the debt grows
  FakeHttpClient inner;
  ResilienceOptions opts;
  opts.rate_per_second = 1;
  opts.max_rate_limit_wait = absl::Seconds(2);
  ResilientHttpClient c(&inner, opts, &clock, &sleeper, "test");
  EXPECT_TRUE(c.Do({}).ok());
  EXPECT_TRUE(c.Do({}).ok());
  EXPECT_TRUE(c.Do({}).ok());
  EXPECT_EQ(c.Do({}).status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace clients::http
