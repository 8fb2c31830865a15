#include "adapter/quantity.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace adapter {
namespace {

std::string Q(double v) {
  absl::StatusOr<std::string> s = FormatQuantity(v);
  EXPECT_TRUE(s.ok()) << v;
  return s.ok() ? *s : "";
}

TEST(QuantityTest, FormatsLikeKubernetes) {
  EXPECT_EQ(Q(0), "0");
  EXPECT_EQ(Q(0.85), "850m");
  EXPECT_EQ(Q(73.5), "73500m");
  EXPECT_EQ(Q(2), "2");
  EXPECT_EQ(Q(1.5), "1500m");
  EXPECT_EQ(Q(42), "42");
  EXPECT_EQ(Q(1500), "1500");
  EXPECT_EQ(Q(2000), "2k");
  EXPECT_EQ(Q(1234567.891), "1234567891m");
  EXPECT_EQ(Q(0.0005), "500u");
  EXPECT_EQ(Q(-3), "-3");
  EXPECT_EQ(Q(-0.25), "-250m");
  EXPECT_EQ(Q(3e6), "3M");
  EXPECT_EQ(Q(1e-9), "1n");
}

TEST(QuantityTest, HidesFloatingPointNoise) {
  EXPECT_EQ(Q(0.1 + 0.2), "300m");
  EXPECT_EQ(Q(100.0 * 0.735), "73500m");
  EXPECT_EQ(Q(1e9 + 0.3), "1000000000300m");
}

TEST(QuantityTest, RoundsSubNanoRemaindersUp) {
  EXPECT_EQ(Q(1.0000000004), "1000000001n");
  EXPECT_EQ(Q(1e-12), "1n");
}

TEST(QuantityTest, RejectsNonFiniteAndHugeValues) {
  EXPECT_FALSE(FormatQuantity(std::nan("")).ok());
  EXPECT_FALSE(FormatQuantity(std::numeric_limits<double>::infinity()).ok());
  EXPECT_FALSE(FormatQuantity(-std::numeric_limits<double>::infinity()).ok());
  EXPECT_FALSE(FormatQuantity(1e16).ok());
  EXPECT_EQ(Q(9e15), "9P");
}

}  // namespace
}  // namespace adapter
