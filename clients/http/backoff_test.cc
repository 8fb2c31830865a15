#include "clients/http/backoff.h"

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

TEST(BackoffTest, DelaysAreOneTwoFourSecondsByDefault) {
  BackoffPolicy p;
  EXPECT_EQ(BackoffDelay(p, 0), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(p, 1), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(p, 2), absl::Seconds(4));
  p.max_delay = absl::Seconds(3);
  EXPECT_EQ(BackoffDelay(p, 2), absl::Seconds(3));
}

TEST(BackoffTest, RetriesConnectErrors429And5xxThenGivesUp) {
  base::FakeClock clock(absl::FromUnixSeconds(1000));
  base::FakeSleeper sleeper(&clock);
  FakeHttpClient fake;
  fake.Push(absl::UnavailableError("connection refused"));
  fake.Push(Status(429));
  fake.Push(Status(503));
  fake.Push(Status(500));
  int retries = -1;
  absl::StatusOr<HttpResponse> r = RetryWithBackoff(
      BackoffPolicy{}, sleeper, [&] { return fake.Do({}); }, &retries);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);  // the last outcome
  EXPECT_EQ(retries, 3);
  EXPECT_EQ(fake.requests().size(), 4u);
  EXPECT_THAT(sleeper.sleeps(), ElementsAre(absl::Seconds(1), absl::Seconds(2), absl::Seconds(4)));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1007));
}

TEST(BackoffTest, StopsAtFirstSuccess) {
  base::FakeSleeper sleeper(nullptr);
  FakeHttpClient fake;
  fake.Push(Status(502));
  fake.Push(Status(200));
  absl::StatusOr<HttpResponse> r =
      RetryWithBackoff(BackoffPolicy{}, sleeper, [&] { return fake.Do({}); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(sleeper.sleeps(), ElementsAre(absl::Seconds(1)));
}

TEST(BackoffTest, DoesNotRetryClientErrorsOrTimeouts) {
  base::FakeSleeper sleeper(nullptr);
  for (absl::StatusOr<HttpResponse> outcome :
       {absl::StatusOr<HttpResponse>(Status(404)), absl::StatusOr<HttpResponse>(Status(401)),
        absl::StatusOr<HttpResponse>(absl::DeadlineExceededError("timeout")),
        absl::StatusOr<HttpResponse>(absl::InvalidArgumentError("bad url"))}) {
    FakeHttpClient fake;
    fake.Push(outcome);
    absl::StatusOr<HttpResponse> r =
        RetryWithBackoff(BackoffPolicy{}, sleeper, [&] { return fake.Do({}); });
    EXPECT_EQ(fake.requests().size(), 1u);
    EXPECT_EQ(r.ok(), outcome.ok());
  }
  EXPECT_TRUE(sleeper.sleeps().empty());
}

}  // namespace
}  // namespace clients::http
