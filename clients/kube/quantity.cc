#include "clients/kube/quantity.h"

#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace clients::kube {
namespace {

using u128 = unsigned __int128;

constexpr u128 kU128Max = ~static_cast<u128>(0);

// a * b, false on overflow of 128 bits.
bool MulOk(u128 a, u128 b, u128* out) {
  if (a != 0 && b > kU128Max / a) return false;
  *out = a * b;
  return true;
}

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad quantity \"", absl::CEscape(text), "\": ", why));
}

}  // namespace

absl::StatusOr<int64_t> ParseQuantityScaled(absl::string_view text, int scale) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s.empty()) return Bad(text, "empty");
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') {
    negative = s[i] == '-';
    ++i;
  }
  std::string digits;  // integer and fraction digits, leading zeros dropped
  int frac_digits = 0;
  bool any_digit = false;
  while (i < s.size() && absl::ascii_isdigit(s[i])) {
    any_digit = true;
    if (!(digits.empty() && s[i] == '0')) digits.push_back(s[i]);
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) {
      any_digit = true;
      if (!(digits.empty() && s[i] == '0')) digits.push_back(s[i]);
      ++frac_digits;
      ++i;
    }
  }
  if (!any_digit) return Bad(text, "no digits");
  absl::string_view suffix = s.substr(i);
  int exp10 = -frac_digits;
  int exp2 = 0;
  if (suffix.empty()) {
  } else if (suffix == "Ki") {
    exp2 = 10;
  } else if (suffix == "Mi") {
    exp2 = 20;
  } else if (suffix == "Gi") {
    exp2 = 30;
  } else if (suffix == "Ti") {
    exp2 = 40;
  } else if (suffix == "Pi") {
    exp2 = 50;
  } else if (suffix == "Ei") {
    exp2 = 60;
  } else if (suffix == "n") {
    exp10 -= 9;
  } else if (suffix == "u") {
    exp10 -= 6;
  } else if (suffix == "m") {
    exp10 -= 3;
  } else if (suffix == "k") {
    exp10 += 3;
  } else if (suffix == "M") {
    exp10 += 6;
  } else if (suffix == "G") {
    exp10 += 9;
  } else if (suffix == "T") {
    exp10 += 12;
  } else if (suffix == "P") {
    exp10 += 15;
  } else if (suffix == "E") {
    exp10 += 18;
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    absl::string_view e = suffix.substr(1);
    size_t j = 0;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) j = 1;
    if (j >= e.size()) return Bad(text, "exponent without digits");
    for (size_t k = j; k < e.size(); ++k) {
      if (!absl::ascii_isdigit(e[k])) return Bad(text, "malformed exponent");
    }
    int exponent = 0;
    if (e.size() - j > 4 || !absl::SimpleAtoi(e, &exponent)) return Bad(text, "exponent too large");
    exp10 += exponent;
  } else {
    return Bad(text, absl::StrCat("unknown suffix \"", absl::CEscape(suffix), "\""));
  }
  if (digits.empty()) return 0;  // zero in any unit
  if (negative) return Bad(text, "negative");
  if (digits.size() > 36) {
    return absl::OutOfRangeError(absl::StrCat("quantity \"", text, "\" has too many digits"));
  }
  u128 mantissa = 0;
  for (char c : digits) mantissa = mantissa * 10 + static_cast<u128>(c - '0');
  const absl::Status too_big =
      absl::OutOfRangeError(absl::StrCat("quantity \"", absl::CEscape(text), "\" is too large"));
  u128 num = mantissa;
  if (!MulOk(num, static_cast<u128>(1) << exp2, &num)) return too_big;
  int e = exp10 + scale;
  if (e >= 0) {
    for (int k = 0; k < e; ++k) {
      if (!MulOk(num, 10, &num)) return too_big;
    }
  } else {
    // Divide by 10^-e, rounding up. Past 38 digits the quotient of a nonzero value is < 1.
    if (-e > 38) {
      num = 1;
    } else {
      u128 den = 1;
      for (int k = 0; k < -e; ++k) den *= 10;
      num = num / den + (num % den != 0 ? 1 : 0);
    }
  }
  if (num > static_cast<u128>(std::numeric_limits<int64_t>::max())) return too_big;
  return static_cast<int64_t>(num);
}

absl::StatusOr<int64_t> ParseCpuMillicores(absl::string_view text) {
  return ParseQuantityScaled(text, 3);
}

absl::StatusOr<int64_t> ParseMemoryBytes(absl::string_view text) {
  return ParseQuantityScaled(text, 0);
}

}  // namespace clients::kube
