#include "base/trace_csv.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace base {
namespace {

// Bad rows named one by one in an error; the rest are counted.
constexpr int kMaxReportedProblems = 20;

}  // namespace

absl::StatusOr<absl::Time> ParseTimestamp(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return absl::InvalidArgumentError("empty timestamp");
  // Unix seconds: all digits, optional sign and fraction.
  bool numeric = true;
  for (char c : text) {
    if (!(absl::ascii_isdigit(c) || c == '.' || c == '-' || c == '+')) numeric = false;
  }
  if (numeric && text.find('-', 1) == absl::string_view::npos) {
    double secs;
    if (!absl::SimpleAtod(text, &secs) || !std::isfinite(secs)) {
      return absl::InvalidArgumentError(absl::StrCat("bad unix timestamp '", text, "'"));
    }
    return absl::FromUnixMicros(static_cast<int64_t>(std::llround(secs * 1e6)));
  }
  std::string err;
  absl::Time t;
  const std::string s(text);
  // absl::ParseTime's %E*S accepts fractional seconds; %Ez accepts Z / +hh:mm.
  static const char* kFormats[] = {"%Y-%m-%d %H:%M:%E*S", "%Y-%m-%dT%H:%M:%E*S%Ez",
                                   "%Y-%m-%dT%H:%M:%E*S", "%Y-%m-%d %H:%M:%E*S%Ez",
                                   "%Y-%m-%d %H:%M"};
  for (const char* f : kFormats) {
    if (absl::ParseTime(f, s, absl::UTCTimeZone(), &t, &err)) return t;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "bad timestamp '", text,
      "' (want 'YYYY-MM-DD HH:MM:SS', ISO 8601 or unix seconds)"));
}

absl::StatusOr<std::vector<Point>> ParseTraceCsv(absl::string_view text,
                                                 absl::string_view source) {
  std::vector<Point> points;
  std::vector<std::string> problems;  // one per bad row, all of them counted
  int bad_rows = 0;
  int line_no = 0;
  bool header_seen = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripSuffix(line, "\r");
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    auto bad = [&](absl::string_view what) {
      if (++bad_rows <= kMaxReportedProblems) {
        problems.push_back(absl::StrCat(source, ":", line_no, ": ", what));
      }
    };
    std::vector<absl::string_view> cols = absl::StrSplit(line, ',');
    if (!header_seen) {
      header_seen = true;
      if (cols.size() < 2 ||
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(cols[0])) != "timestamp" ||
          absl::AsciiStrToLower(absl::StripAsciiWhitespace(cols[1])) != "value") {
        // Without the header the columns mean nothing: one line, no row-by-row noise.
        return absl::InvalidArgumentError(absl::StrCat(
            source, ":", line_no, ": header must be 'timestamp,value', got '", line, "'"));
      }
      continue;
    }
    if (cols.size() < 2) {
      bad(absl::StrCat("want 2 columns 'timestamp,value', got '", line, "'"));
      continue;
    }
    absl::StatusOr<absl::Time> t = ParseTimestamp(cols[0]);
    if (!t.ok()) {
      bad(t.status().message());
      continue;
    }
    double v;
    absl::string_view vs = absl::StripAsciiWhitespace(cols[1]);
    if (!absl::SimpleAtod(vs, &v)) {
      bad(absl::StrCat("bad value '", vs, "'"));
      continue;
    }
    if (!std::isfinite(v)) {
      bad(absl::StrCat("value '", vs, "' is not a finite number"));
      continue;
    }
    // Against the last good row, so one bad timestamp does not condemn the rows after it.
    if (!points.empty() && *t <= points.back().time) {
      bad(absl::StrCat("timestamp ",
                       absl::FormatTime("%Y-%m-%d %H:%M:%S", *t, absl::UTCTimeZone()),
                       " is not after the previous row's; rows must be in increasing time order"));
      continue;
    }
    points.push_back({*t, v});
  }
  if (!header_seen) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": empty input, want a header"));
  }
  if (bad_rows > 0) {
    if (bad_rows > kMaxReportedProblems) {
      problems.push_back(absl::StrCat(source, ": ", bad_rows - kMaxReportedProblems,
                                      " more bad rows (", bad_rows, " in all)"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  }
  return points;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", path));
  return ss.str();
}

absl::StatusOr<std::vector<Point>> ReadTraceCsv(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseTraceCsv(*text, path);
}

std::string FormatTraceCsv(const std::vector<Point>& points) {
  std::string out = "timestamp,value\n";
  for (const Point& p : points) {
    absl::StrAppend(&out, absl::FormatTime("%Y-%m-%d %H:%M:%S", p.time, absl::UTCTimeZone()),
                    ",", p.value, "\n");
  }
  return out;
}

}  // namespace base
