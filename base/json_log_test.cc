#include "base/json_log.h"

#include "gtest/gtest.h"

namespace base {
namespace {

TEST(JsonLogTest, OneEscapedObjectPerLine) {
  absl::Time t = absl::FromUnixMicros(1795816702631541);
  EXPECT_EQ(FormatJsonLogLine(t, "WARNING", "loop.cc", 321, "say \"hi\"\n\tto\x01 C:\\"),
            "{\"ts\":\"2026-11-27T21:58:22.631541Z\",\"level\":\"WARNING\",\"file\":\"loop.cc\","
            "\"line\":321,\"msg\":\"say \\\"hi\\\"\\n\\tto\\u0001 C:\\\\\"}\n");
}

}  // namespace
}  // namespace base
