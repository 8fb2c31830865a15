#include "snapshot/metric_point.h"

#include <string>

#include "gtest/gtest.h"

namespace snapshot {
namespace {

TEST(SeriesKeyTest, JoinsIdentityWithNulAndLabelsInKeyOrder) {
  MetricPoint p;
  p.namespace_name = "prod";
  p.metric = "smart_cpu_pressure";
  p.deployment = "api";
  p.labels = {{"zone", "a"}, {"node_pool", "spot"}};
  EXPECT_EQ(SeriesKey(p),
            std::string("prod\0smart_cpu_pressure\0api\0node_pool=spot\0zone=a", 49));
  EXPECT_EQ(SeriesKey(p), SeriesKey("prod", "smart_cpu_pressure", "api", p.labels));
}

TEST(SeriesKeyTest, PayloadIsNotPartOfTheIdentity) {
  MetricPoint a;
  a.namespace_name = "prod";
  a.metric = "m";
  a.deployment = "api";
  MetricPoint b = a;
  b.value = 7;
  b.timestamp = absl::FromUnixSeconds(1741083330);
  b.window = absl::Minutes(1);
  EXPECT_EQ(SeriesKey(a), SeriesKey(b));
}

TEST(SeriesKeyTest, FieldsCannotRunIntoEachOther) {
  // Without a separator "ab"+"c" and "a"+"bc" would collide.
  EXPECT_NE(SeriesKey("ab", "c", "d", {}), SeriesKey("a", "bc", "d", {}));
  EXPECT_NE(SeriesKey("n", "m", "d", {{"k", "v"}}), SeriesKey("n", "m", "d", {}));
  EXPECT_NE(SeriesKey("n", "M", "d", {}), SeriesKey("n", "m", "d", {}));  // case-sensitive
}

TEST(MetricPointTest, DefaultTimestampIsTimeless) {
  EXPECT_EQ(MetricPoint{}.timestamp, kTimeless);
  EXPECT_EQ(kTimeless, absl::InfinitePast());
}

}  // namespace
}  // namespace snapshot
