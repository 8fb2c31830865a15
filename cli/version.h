#pragma once

namespace cli {
// Semantic version of the binary; bumped by hand at release.
inline constexpr char kVersion[] = "0.1.0";
}  // namespace cli
