// libFuzzer target: FormatQuantity on any double either refuses (non-finite, out of range) or
// prints a canonical Quantity whose value is within rounding of the input (one unit of the
// last digit: 1n absolute, or 1e-12 relative since the mantissa keeps at least 13 digits).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "adapter/quantity.h"

namespace {

int Exponent(char suffix) {
  switch (suffix) {
    case 'n':
      return -9;
    case 'u':
      return -6;
    case 'm':
      return -3;
    case 'k':
      return 3;
    case 'M':
      return 6;
    case 'G':
      return 9;
    case 'T':
      return 12;
    case 'P':
      return 15;
    case 'E':
      return 18;
  }
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  double v;
  if (size < sizeof(v)) return 0;
  std::memcpy(&v, data, sizeof(v));
  absl::StatusOr<std::string> q = adapter::FormatQuantity(v);
  if (!q.ok()) {
    if (std::isfinite(v) && std::fabs(v) < adapter::kMaxQuantity) __builtin_trap();
    return 0;
  }
  const std::string& s = *q;
  if (s.empty()) __builtin_trap();
  if (s == "0") {
    if (std::fabs(v) > 1e-9) __builtin_trap();
    return 0;
  }
  size_t i = s[0] == '-' ? 1 : 0;
  if (i >= s.size() || s[i] < '1' || s[i] > '9') __builtin_trap();
  size_t end = i;
  while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
  int exp = 0;
  if (end < s.size()) {
    if (end + 1 != s.size()) __builtin_trap();
    exp = Exponent(s[end]);
  }
  const double mantissa = std::strtod(s.substr(0, end).c_str(), nullptr);
  const double parsed = mantissa * std::pow(10.0, exp);
  if (std::fabs(parsed - v) > std::max(1.1e-9, std::fabs(v) * 1.5e-12)) __builtin_trap();
  return 0;
}
