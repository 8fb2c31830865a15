#include "base/trace_csv.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace base {
namespace {

using ::testing::HasSubstr;

TEST(TraceCsvTest, ParsesAllTimestampForms) {
  const absl::Time want = absl::FromUnixSeconds(1392388020);  // 2014-02-14 14:27:00 UTC
  EXPECT_EQ(*ParseTimestamp("2014-02-14 14:27:00"), want);
  EXPECT_EQ(*ParseTimestamp("2014-02-14T14:27:00Z"), want);
  EXPECT_EQ(*ParseTimestamp("2014-02-14T15:27:00+01:00"), want);
  EXPECT_EQ(*ParseTimestamp("1392388020"), want);
  EXPECT_EQ(*ParseTimestamp("1392388020.5"), want + absl::Milliseconds(500));
  EXPECT_EQ(*ParseTimestamp("1969-12-31 23:59:00"), absl::FromUnixSeconds(-60));
}

TEST(TraceCsvTest, RejectsBadTimestamp) {
  EXPECT_FALSE(ParseTimestamp("yesterday").ok());
  EXPECT_FALSE(ParseTimestamp("2014-13-45 99:00:00").ok());
  EXPECT_FALSE(ParseTimestamp("").ok());
}

TEST(TraceCsvTest, ParsesFileWithCrlfAndTrailingNewline) {
  auto pts = ParseTraceCsv("timestamp,value\r\n2014-02-14 14:27:00,1.5\r\n1392388320,2\r\n\n");
  ASSERT_TRUE(pts.ok()) << pts.status();
  ASSERT_EQ(pts->size(), 2u);
  EXPECT_EQ((*pts)[1].time, absl::FromUnixSeconds(1392388320));
  EXPECT_EQ((*pts)[1].value, 2.0);
}

TEST(TraceCsvTest, NamesTheLineOfEachProblem) {
  auto bad_value = ParseTraceCsv("timestamp,value\n1,1\n2,abc\n", "f.csv");
  EXPECT_EQ(bad_value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_value.status().message(), HasSubstr("f.csv:3: bad value 'abc'"));

  auto nan = ParseTraceCsv("timestamp,value\n1,nan\n", "f.csv");
  EXPECT_THAT(nan.status().message(), HasSubstr("f.csv:2: value 'nan' is not a finite"));

  auto order = ParseTraceCsv("timestamp,value\n5,1\n5,2\n", "f.csv");
  EXPECT_THAT(order.status().message(), HasSubstr("f.csv:3:"));
  EXPECT_THAT(order.status().message(), HasSubstr("not after the previous"));

  auto header = ParseTraceCsv("time,v\n1,2\n", "f.csv");
  EXPECT_THAT(header.status().message(), HasSubstr("f.csv:1: header"));

  auto cols = ParseTraceCsv("timestamp,value\n1\n", "f.csv");
  EXPECT_THAT(cols.status().message(), HasSubstr("f.csv:2: want 2 columns"));

  EXPECT_FALSE(ParseTraceCsv("").ok());
}

TEST(TraceCsvTest, ReportsEveryBadRowOneLineEach) {
  // Rows 3, 4 and 6 are bad; row 5 is compared with row 2 (the last good one), not with the
  // bad timestamp of row 4, so it stands.
  auto r = ParseTraceCsv("timestamp,value\n10,1\n20,x\nfoo,3\n30,4\n30,5\n", "f.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> lines = absl::StrSplit(r.status().message(), '\n');
  ASSERT_EQ(lines.size(), 3u) << r.status().message();
  EXPECT_THAT(lines[0], HasSubstr("f.csv:3: bad value 'x'"));
  EXPECT_THAT(lines[1], HasSubstr("f.csv:4: "));
  EXPECT_THAT(lines[2], HasSubstr("f.csv:6: timestamp"));

  // Past 20, the rest are counted on one line.
  std::string many = "timestamp,value\n";
  for (int i = 0; i < 50; ++i) absl::StrAppend(&many, i + 1, ",bad\n");
  auto m = ParseTraceCsv(many, "m.csv");
  const std::vector<std::string> mlines = absl::StrSplit(m.status().message(), '\n');
  ASSERT_EQ(mlines.size(), 21u);
  EXPECT_THAT(mlines[19], HasSubstr("m.csv:21: bad value 'bad'"));
  EXPECT_THAT(mlines[20], HasSubstr("m.csv: 30 more bad rows (50 in all)"));
}

TEST(TraceCsvTest, FormatRoundTrips) {
  std::vector<Point> pts = {{absl::FromUnixSeconds(0), 1.25}, {absl::FromUnixSeconds(300), -3}};
  auto back = ParseTraceCsv(FormatTraceCsv(pts));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, pts);
}

TEST(TraceCsvTest, ReadsBundledTrace) {
  auto pts = ReadTraceCsv("data/traces/nab/ec2_cpu_utilization_5f5533.csv");
  ASSERT_TRUE(pts.ok()) << pts.status();
  EXPECT_EQ(pts->size(), 4032u);
  EXPECT_EQ(pts->front().time, *ParseTimestamp("2014-02-14 14:27:00"));
  EXPECT_EQ(ReadTraceCsv("/nonexistent.csv").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace base
