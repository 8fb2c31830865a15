// Byte layouts of the RocksDB store: keys, values and the series registry records.
//
//   std::string k = storage::internal::SampleKey(7, -1000);  // 1969-12-31T23:59:59Z
//   auto decoded = storage::internal::DecodeSampleKey(k);      // {7, -1000}
//
// Private to storage/: only store.cc and the tests include it. Every Decode* function takes
// bytes read from disk and so never trusts them: it returns an error status or nullopt on
// any size or format mismatch, never crashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/store.h"

namespace storage::internal {

// Samples and rollups: series id (8 bytes big-endian) + timestamp (8 bytes, see below).
inline constexpr size_t kSeriesPrefixSize = 8;
inline constexpr size_t kSeriesTimeKeySize = 16;
// Events: log kind (1 byte) + timestamp (8 bytes) + sequence (8 bytes big-endian).
inline constexpr size_t kEventKeySize = 17;
// IEEE-754 bits, big-endian: sign, exponent and high mantissa bytes (which repeat from one
// sample to the next) come first and sit next to the previous entry's constant bytes, which
// ZSTD matches better than the little-endian order (measured: ~3% fewer bytes per sample).
inline constexpr size_t kSampleValueSize = 8;
// count (uint64) + min + max + sum + sum_squares (doubles), all big-endian.
inline constexpr size_t kRollupValueSize = 40;

inline constexpr int64_t kMillisPerHour = 3600 * 1000;

// Sample times the store accepts: about +-146 million years around 1970, which keeps every
// hour start (rounded toward the past) inside int64 milliseconds.
inline constexpr int64_t kMinMillis = -(int64_t{1} << 62);
inline constexpr int64_t kMaxMillis = (int64_t{1} << 62) - 1;

void AppendBigEndian64(uint64_t v, std::string* dst);
// `p` must point at 8 readable bytes.
// Inline, one load and a byte swap: every key and value of a scan goes through here.
inline uint64_t ReadBigEndian64(const char* p) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap64(v);
#else
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
#endif
}

// Signed milliseconds -> unsigned with the sign bit flipped, so that big-endian byte order
// equals numeric order (negative times, i.e. before 1970, sort first).
inline uint64_t OrderedMillis(int64_t ms) {
  return static_cast<uint64_t>(ms) ^ (uint64_t{1} << 63);
}
inline int64_t MillisFromOrdered(uint64_t v) {
  return static_cast<int64_t>(v ^ (uint64_t{1} << 63));
}

// Milliseconds since the epoch, rounded toward the past / the future. Saturate at the int64
// limits (infinite times included).
int64_t FloorMillis(absl::Time t);
int64_t CeilMillis(absl::Time t);
// True when `t` is finite and FloorMillis(t) lies in [kMinMillis, kMaxMillis].
bool IsStorableTime(absl::Time t);
// Start of the UTC hour holding `ms` (rounded toward the past, also before 1970).
// Requires ms in [kMinMillis, kMaxMillis].
int64_t HourStartMillis(int64_t ms);

std::string SeriesPrefix(SeriesId id);
std::string SeriesTimeKey(SeriesId id, int64_t ms);

struct SeriesTimeKeyParts {
  SeriesId series = 0;
  int64_t ms = 0;
};
std::optional<SeriesTimeKeyParts> DecodeSeriesTimeKey(absl::string_view key);

std::string EventKey(uint8_t log, int64_t ms, uint64_t sequence);
struct EventKeyParts {
  uint8_t log = 0;
  int64_t ms = 0;
  uint64_t sequence = 0;
};
std::optional<EventKeyParts> DecodeEventKey(absl::string_view key);

// Key of the first entry at or after time `t` under `prefix`: prefix + ordered CeilMillis(t).
// Used for both bounds of a half-open range [from, to) over stored (whole-millisecond) times.
std::string TimeBoundKey(absl::string_view prefix, absl::Time t);
// The smallest key greater than every key starting with `prefix`; nullopt when none exists
// (prefix is all 0xff).
std::optional<std::string> PrefixSuccessor(absl::string_view prefix);

std::string EncodeDouble(double v);
std::optional<double> DecodeDouble(absl::string_view bytes);

// Rollup statistics without the start time (which lives in the key).
std::string EncodeRollupValue(const Rollup& r);
std::optional<Rollup> DecodeRollupValue(absl::string_view bytes);
// Combines two rollups of the same hour (count/sum/sum_squares add, min/max fold).
Rollup MergeRollups(const Rollup& a, const Rollup& b);

// Canonical bytes of a SeriesKey: every field as 4-byte big-endian length + bytes, in the
// order namespace, deployment, metric, label count, then (name, value) pairs sorted by name
// (std::map order). Equal keys give equal bytes, so the bytes can key the registry.
std::string EncodeSeriesKey(const SeriesKey& key);
// DataLoss when `bytes` is not exactly one canonical encoding.
absl::StatusOr<SeriesKey> DecodeSeriesKey(absl::string_view bytes);

}  // namespace storage::internal
