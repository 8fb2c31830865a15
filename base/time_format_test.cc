#include "base/time_format.h"

#include "gtest/gtest.h"

namespace base {
namespace {

TEST(TimeFormatTest, WritesUtcSecondsAndMicros) {
  EXPECT_EQ(FormatRfc3339(absl::FromUnixSeconds(1741083330)), "2025-03-04T10:15:30Z");
  EXPECT_EQ(FormatRfc3339(absl::FromUnixMillis(1741083330999)), "2025-03-04T10:15:30Z");
  EXPECT_EQ(FormatRfc3339Micros(absl::FromUnixMicros(1741083330000001)),
            "2025-03-04T10:15:30.000001Z");
  EXPECT_EQ(FormatRfc3339Micros(absl::FromUnixSeconds(0)), "1970-01-01T00:00:00.000000Z");
}

}  // namespace
}  // namespace base
