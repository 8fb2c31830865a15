// PodLifetimeTracker fed cycle by cycle, then priced.
#include "gtest/gtest.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

ObservedPod Seen(const char* pod, absl::Time created, int64_t millicores = 500) {
  ObservedPod p;
  p.namespace_name = "shop";
  p.deployment = "api";
  p.pod = pod;
  p.created = created;
  p.cpu_request_millicores = millicores;
  p.memory_request_bytes = 1000000000;
  p.node = "n1";
  p.pool = "big";
  return p;
}

TEST(PodLifetimeTrackerTest, StartsAtCreationAndEndsBetweenCycles) {
  PodLifetimeTracker t;
  auto c1 = t.Observe(kT0, {Seen("a", kT0 - absl::Minutes(30)), Seen("b", kT0 - absl::Minutes(5))});
  ASSERT_EQ(c1.size(), 2u);
  EXPECT_EQ(c1[0].first, "shop/api");
  EXPECT_EQ(c1[0].second.start, kT0 - absl::Minutes(30));
  EXPECT_EQ(c1[0].second.end, absl::InfiniteFuture());
  // Seen again: nothing changed.
  EXPECT_TRUE(t.Observe(kT0 + absl::Seconds(60), {Seen("a", kT0 - absl::Minutes(30)),
                                                   Seen("b", kT0 - absl::Minutes(5))})
                  .empty());
  // b is gone at 120 s: it ended halfway between 60 s and 120 s.
  auto c3 = t.Observe(kT0 + absl::Seconds(120), {Seen("a", kT0 - absl::Minutes(30))});
  ASSERT_EQ(c3.size(), 1u);
  EXPECT_EQ(c3[0].second.pod, "b");
  EXPECT_EQ(c3[0].second.end, kT0 + absl::Seconds(90));
  EXPECT_EQ(c3[0].second.pool, "big");

  // Priced over [T0 - 1 h, T0 + 120 s): a 32 min, b 6.5 min at 500m and 1 GB.
  auto lives = t.Lifetimes("shop/api");
  ASSERT_EQ(lives.size(), 2u);
  auto r = ComputeCost(lives, {}, kT0 - absl::Hours(1), kT0 + absl::Seconds(120),
                       PriceTable::Flat({0.04, 0.005}));
  const double hours = (32 + 6.5) / 60.0;
  EXPECT_NEAR(r.pod_hours, hours, 1e-9);
  EXPECT_NEAR(r.cpu_cost, 0.5 * hours * 0.04, 1e-12);
  EXPECT_NEAR(r.memory_cost, 1 * hours * 0.005, 1e-12);

  t.Forget(kT0 + absl::Seconds(100));
  EXPECT_EQ(t.Lifetimes("shop/api").size(), 1u);
}

TEST(PodLifetimeTrackerTest, APodBackUnderTheSameNameIsANewLifetime) {
  PodLifetimeTracker t;
  t.Observe(kT0, {Seen("db-0", kT0)});
  t.Observe(kT0 + absl::Seconds(60), {});
  auto back = t.Observe(kT0 + absl::Seconds(120), {Seen("db-0", kT0 + absl::Seconds(100))});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].second.start, kT0 + absl::Seconds(100));
  EXPECT_EQ(back[0].second.end, absl::InfiniteFuture());
  // A creation time in the future (clock skew) starts at the sighting.
  auto skew = t.Observe(kT0 + absl::Seconds(180), {Seen("db-0", kT0 + absl::Seconds(100)),
                                                   Seen("x", kT0 + absl::Hours(1))});
  ASSERT_EQ(skew.size(), 1u);
  EXPECT_EQ(skew[0].second.start, kT0 + absl::Seconds(180));
}

}  // namespace
}  // namespace costs
