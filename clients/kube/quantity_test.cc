#include "clients/kube/quantity.h"

#include "gtest/gtest.h"

namespace clients::kube {
namespace {

struct Case {
  const char* text;
  int scale;
  int64_t want;
};

TEST(QuantityTest, ParsesTable) {
  const Case cases[] = {
      {"500m", 3, 500},
      {"1", 3, 1000},
      {"1.5", 3, 1500},
      {"0.1", 3, 100},
      {".5", 3, 500},
      {"2.", 3, 2000},
      {"100m", 0, 1},
      {"1500m", 0, 2},
      {"1m", 3, 1},
      {"1u", 3, 1},
      {"250000u", 3, 250},
      {"999999n", 3, 1},
      {"1000000n", 3, 1},
      {"0", 3, 0},
      {"0m", 0, 0},
      {"+3", 3, 3000},
      {"128Mi", 0, 134217728},
      {"1Gi", 0, 1073741824},
      {"1.5Gi", 0, 1610612736},
      {"1Ki", 0, 1024},
      {"2Ti", 0, 2199023255552},
      {"1Ei", 0, 1152921504606846976},
      {"1k", 0, 1000},
      {"1M", 0, 1000000},
      {"1G", 0, 1000000000},
      {"1T", 0, 1000000000000},
      {"1P", 0, 1000000000000000},
      {"1E", 0, 1000000000000000000},
      {"1e3", 0, 1000},
      {"1E3", 0, 1000},
      {"1.5e3", 0, 1500},
      {"12e-1", 3, 1200},
      {"1e+2", 0, 100},
      {"1e-3", 3, 1},
      {"0.5Ki", 0, 512},
      {"0.3Ki", 0, 308},  // 307.2 rounds up
      {"007", 0, 7},
      {"1.000", 3, 1000},
      {"129e6", 0, 129000000},
      {" 250m ", 3, 250},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> got = ParseQuantityScaled(c.text, c.scale);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text << " scale " << c.scale;
  }
}

TEST(QuantityTest, CpuAndMemoryHelpers) {
  EXPECT_EQ(*ParseCpuMillicores("250m"), 250);
  EXPECT_EQ(*ParseCpuMillicores("2"), 2000);
  EXPECT_EQ(*ParseMemoryBytes("64Mi"), 64 << 20);
  EXPECT_EQ(*ParseMemoryBytes("1e3"), 1000);
}

TEST(QuantityTest, RejectsMalformed) {
  for (const char* bad : {"", "m", "abc", "1x", "1.2.3", "1mi", "1KI", "1e", "1e+", "1e3.5", "--1",
                          "1 Gi", "Gi", ".", "1ee3", "1e99999", "-1", "-500m"}) {
    absl::StatusOr<int64_t> got = ParseCpuMillicores(bad);
    EXPECT_FALSE(got.ok()) << "'" << bad << "' gave " << (got.ok() ? *got : 0);
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(QuantityTest, NegativeZeroIsZero) { EXPECT_EQ(*ParseCpuMillicores("-0"), 0); }

TEST(QuantityTest, OutOfRange) {
  EXPECT_EQ(ParseCpuMillicores("10E").status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ParseMemoryBytes("100Ei").status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ParseMemoryBytes("1e300").status().code(), absl::StatusCode::kOutOfRange);
  // Tiny values round up to one unit instead of failing.
  EXPECT_EQ(*ParseCpuMillicores("1e-100"), 1);
}

}  // namespace
}  // namespace clients::kube
