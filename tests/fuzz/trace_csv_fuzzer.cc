// libFuzzer target: the `timestamp,value` trace CSV parser must never crash; what it accepts
// is strictly time-ordered with finite values (its header's promise), and its own output format
// parses back to the same values at whole-second times.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "base/trace_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto points = base::ParseTraceCsv(text, "fuzz");
  if (!points.ok()) return 0;
  for (size_t i = 0; i < points->size(); ++i) {
    if (!std::isfinite((*points)[i].value)) __builtin_trap();
    if (i > 0 && !((*points)[i - 1].time < (*points)[i].time)) __builtin_trap();
  }
  // Whole-second times survive the writer (it prints seconds); values are printed with
  // enough digits to compare exactly? Not promised: compare the count and the times only.
  auto again = base::ParseTraceCsv(base::FormatTraceCsv(*points), "formatted");
  if (!again.ok()) {
    // Sub-second times that differ by less than a second collapse to one printed second,
    // which the parser rightly rejects as not after the previous row.
    for (size_t i = 1; i < points->size(); ++i) {
      if (absl::ToUnixSeconds((*points)[i].time) == absl::ToUnixSeconds((*points)[i - 1].time)) {
        return 0;
      }
    }
    __builtin_trap();
  }
  if (again->size() != points->size()) __builtin_trap();
  return 0;
}
