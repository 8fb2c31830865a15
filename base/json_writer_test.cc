#include "base/json_writer.h"

#include <cmath>

#include "gtest/gtest.h"

namespace base {
namespace {

TEST(JsonWriterTest, WritesFieldsNullsForMissingNumbersAndTimes) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  JsonField(w, "s", "a\"b\\c\n\x01");
  JsonIntField(w, "i", -42);
  JsonNumberField(w, "d", 2.5);
  JsonNumberField(w, "nan", std::nan(""));
  JsonNumberField(w, "none", absl::optional<double>());
  JsonTimeField(w, "t", absl::FromUnixSeconds(1741083330));
  JsonTimeField(w, "never", absl::InfinitePast());
  w.Key("m");
  JsonStringMap(w, {{"b", "2"}, {"a", "1"}});
  w.EndObject();
  EXPECT_EQ(JsonText(buf),
            R"({"s":"a\"b\\c\n\u0001","i":-42,"d":2.5,"nan":null,"none":null,)"
            R"("t":"2025-03-04T10:15:30Z","never":null,"m":{"a":"1","b":"2"}})");
}

TEST(JsonWriterTest, InvalidUtf8BecomesReplacementCharacterAndValidIsKept) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  JsonString(w, "x\xff\xfey \xc3\xa9");
  EXPECT_EQ(JsonText(buf), "\"x\xEF\xBF\xBD\xEF\xBF\xBDy \xc3\xa9\"");
  EXPECT_EQ(JsonStringMapText({{"deployment", "api"}}), R"({"deployment":"api"})");
}

}  // namespace
}  // namespace base
