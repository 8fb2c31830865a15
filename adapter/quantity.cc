#include "adapter/quantity.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace adapter {
namespace {

// Suffix for a decimal exponent that is a multiple of 3 in [-9, 18].
const char* Suffix(int exp) {
  switch (exp) {
    case -9:
      return "n";
    case -6:
      return "u";
    case -3:
      return "m";
    case 0:
      return "";
    case 3:
      return "k";
    case 6:
      return "M";
    case 9:
      return "G";
    case 12:
      return "T";
    case 15:
      return "P";
    case 18:
      return "E";
  }
  return "";
}

}  // namespace

absl::StatusOr<std::string> FormatQuantity(double value) {
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat("value ", value, " is not a finite number"));
  }
  if (std::fabs(value) >= kMaxQuantity) {
    return absl::InvalidArgumentError(absl::StrCat("value ", value, " is out of range"));
  }
  if (value == 0) return std::string("0");
  // Finest exponent (nano at best) whose mantissa stays within 15 significant digits, which
  // a double holds exactly; anything finer is rounding noise.
  int exp = -9;
  double scaled = value * 1e9;
  while (std::fabs(scaled) >= 1e15 && exp < 0) {
    exp += 3;
    scaled /= 1000;
  }
  double rounded = std::nearbyint(scaled);
  // Round half-way noise to nearest, real sub-unit remainders up (the HPA rounds up too).
  // Go rounds away from zero when it drops precision; do the same for real remainders.
  if (std::fabs(scaled - rounded) > std::max(1e-9, std::fabs(scaled) * 4e-15)) {
    rounded = value > 0 ? std::ceil(scaled) : std::floor(scaled);
  }
  int64_t mantissa = static_cast<int64_t>(rounded);
  if (mantissa == 0) return std::string("0");
  while (mantissa % 1000 == 0 && exp < 18) {
    mantissa /= 1000;
    exp += 3;
  }
  return absl::StrCat(mantissa, Suffix(exp));
}

}  // namespace adapter
