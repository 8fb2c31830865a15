// Reading and writing `timestamp,value` CSV traces: the format of the bundled real traces,
// of `smart-autoscaler forecast --input`, and of every exported series.
//
//   absl::StatusOr<std::vector<base::Point>> points = base::ReadTraceCsv("cpu.csv");
//   if (!points.ok()) std::cerr << points.status() << "\n";  // names the line and the problem
//
// Accepted timestamps: `YYYY-MM-DD HH:MM:SS` (UTC, as in the bundled traces), ISO 8601
// (`2014-02-14T14:27:00Z`, with optional fractional seconds and a `+hh:mm` offset) and Unix
// seconds (integer or fractional). The first line must be a header whose first two columns are
// named `timestamp` and `value`. Nothing is silently dropped: an unparsable timestamp or value,
// a NaN or infinite value, a missing column, or a timestamp not after the previous good row's
// makes the whole parse an InvalidArgument error with one line per bad row,
// `source:line: problem` (the first 20 named, the rest counted), so one run shows everything
// to fix. Empty lines (and a trailing newline) are skipped. Pure functions; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace base {

struct Point {
  absl::Time time;
  double value = 0;
  bool operator==(const Point& o) const { return time == o.time && value == o.value; }
};

// Parses one timestamp in any accepted form. InvalidArgument on anything else.
absl::StatusOr<absl::Time> ParseTimestamp(absl::string_view text);

// Parses CSV text. `source` names the input in error messages (a file name).
absl::StatusOr<std::vector<Point>> ParseTraceCsv(absl::string_view text,
                                                 absl::string_view source = "input");

// Reads and parses a file. NotFound when it cannot be opened.
absl::StatusOr<std::vector<Point>> ReadTraceCsv(const std::string& path);

// Formats points as CSV with timestamps as `YYYY-MM-DD HH:MM:SS` (UTC).
std::string FormatTraceCsv(const std::vector<Point>& points);

// Reads a whole file into a string. NotFound / Internal with the path and errno text.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace base
