#include "storage/internal/key_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace storage::internal {
namespace {

uint64_t DoubleBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return bits;
}

double BitsToDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof(d));
  return d;
}

void AppendLengthPrefixed(absl::string_view s, std::string* dst) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  char buf[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                 static_cast<char>(n)};
  dst->append(buf, 4);
  dst->append(s.data(), s.size());
}

// Reads a big-endian uint32 from the front of `in`, consuming it.
bool ConsumeUint32(absl::string_view* in, uint32_t* out) {
  if (in->size() < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in->data());
  *out = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  in->remove_prefix(4);
  return true;
}

bool ConsumeLengthPrefixed(absl::string_view* in, std::string* out) {
  uint32_t n;
  if (!ConsumeUint32(in, &n) || in->size() < n) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

void AppendBigEndian64(uint64_t v, std::string* dst) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  dst->append(buf, 8);
}

int64_t FloorMillis(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  // absl rounds toward negative infinity and saturates.
  return absl::ToUnixMillis(t);
}

int64_t CeilMillis(absl::Time t) {
  const int64_t floor = FloorMillis(t);
  if (floor == std::numeric_limits<int64_t>::max() ||
      floor == std::numeric_limits<int64_t>::min()) {
    return floor;
  }
  return absl::FromUnixMillis(floor) < t ? floor + 1 : floor;
}

bool IsStorableTime(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return false;
  const int64_t ms = FloorMillis(t);
  return ms >= kMinMillis && ms <= kMaxMillis;
}

int64_t HourStartMillis(int64_t ms) {
  int64_t hours = ms / kMillisPerHour;
  if (ms % kMillisPerHour < 0) --hours;  // C++ division truncates toward zero.
  return hours * kMillisPerHour;
}

std::string SeriesPrefix(SeriesId id) {
  std::string out;
  AppendBigEndian64(id, &out);
  return out;
}

std::string SeriesTimeKey(SeriesId id, int64_t ms) {
  std::string out;
  out.reserve(kSeriesTimeKeySize);
  AppendBigEndian64(id, &out);
  AppendBigEndian64(OrderedMillis(ms), &out);
  return out;
}

std::optional<SeriesTimeKeyParts> DecodeSeriesTimeKey(absl::string_view key) {
  if (key.size() != kSeriesTimeKeySize) return std::nullopt;
  return SeriesTimeKeyParts{ReadBigEndian64(key.data()),
                            MillisFromOrdered(ReadBigEndian64(key.data() + 8))};
}

std::string EventKey(uint8_t log, int64_t ms, uint64_t sequence) {
  std::string out;
  out.reserve(kEventKeySize);
  out.push_back(static_cast<char>(log));
  AppendBigEndian64(OrderedMillis(ms), &out);
  AppendBigEndian64(sequence, &out);
  return out;
}

std::optional<EventKeyParts> DecodeEventKey(absl::string_view key) {
  if (key.size() != kEventKeySize) return std::nullopt;
  return EventKeyParts{static_cast<uint8_t>(key[0]),
                       MillisFromOrdered(ReadBigEndian64(key.data() + 1)),
                       ReadBigEndian64(key.data() + 9)};
}

std::string TimeBoundKey(absl::string_view prefix, absl::Time t) {
  std::string out(prefix);
  AppendBigEndian64(OrderedMillis(CeilMillis(t)), &out);
  return out;
}

std::optional<std::string> PrefixSuccessor(absl::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xff) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return std::nullopt;
}

std::string EncodeDouble(double v) {
  std::string out;
  AppendBigEndian64(DoubleBits(v), &out);
  return out;
}

std::optional<double> DecodeDouble(absl::string_view bytes) {
  if (bytes.size() != kSampleValueSize) return std::nullopt;
  return BitsToDouble(ReadBigEndian64(bytes.data()));
}

std::string EncodeRollupValue(const Rollup& r) {
  std::string out;
  out.reserve(kRollupValueSize);
  AppendBigEndian64(r.count, &out);
  AppendBigEndian64(DoubleBits(r.min), &out);
  AppendBigEndian64(DoubleBits(r.max), &out);
  AppendBigEndian64(DoubleBits(r.sum), &out);
  AppendBigEndian64(DoubleBits(r.sum_squares), &out);
  return out;
}

std::optional<Rollup> DecodeRollupValue(absl::string_view bytes) {
  if (bytes.size() != kRollupValueSize) return std::nullopt;
  Rollup r;
  r.count = ReadBigEndian64(bytes.data());
  r.min = BitsToDouble(ReadBigEndian64(bytes.data() + 8));
  r.max = BitsToDouble(ReadBigEndian64(bytes.data() + 16));
  r.sum = BitsToDouble(ReadBigEndian64(bytes.data() + 24));
  r.sum_squares = BitsToDouble(ReadBigEndian64(bytes.data() + 32));
  return r;
}

Rollup MergeRollups(const Rollup& a, const Rollup& b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  Rollup out = a;
  out.count = a.count + b.count;
  out.min = std::min(a.min, b.min);
  out.max = std::max(a.max, b.max);
  out.sum = a.sum + b.sum;
  out.sum_squares = a.sum_squares + b.sum_squares;
  return out;
}

std::string EncodeSeriesKey(const SeriesKey& key) {
  std::string out;
  AppendLengthPrefixed(key.namespace_name, &out);
  AppendLengthPrefixed(key.deployment, &out);
  AppendLengthPrefixed(key.metric, &out);
  const uint32_t n = static_cast<uint32_t>(key.labels.size());
  char buf[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                 static_cast<char>(n)};
  out.append(buf, 4);
  for (const auto& [name, value] : key.labels) {
    AppendLengthPrefixed(name, &out);
    AppendLengthPrefixed(value, &out);
  }
  return out;
}

absl::StatusOr<SeriesKey> DecodeSeriesKey(absl::string_view bytes) {
  absl::string_view in = bytes;
  SeriesKey key;
  uint32_t labels = 0;
  if (!ConsumeLengthPrefixed(&in, &key.namespace_name) ||
      !ConsumeLengthPrefixed(&in, &key.deployment) || !ConsumeLengthPrefixed(&in, &key.metric) ||
      !ConsumeUint32(&in, &labels)) {
    return absl::DataLossError(
        absl::StrCat("series key record truncated (", bytes.size(), " bytes)"));
  }
  // Each label needs at least 8 bytes; checking first keeps a corrupt count from looping long.
  if (labels > in.size() / 8) {
    return absl::DataLossError(
        absl::StrCat("series key record claims ", labels, " labels in ", in.size(), " bytes"));
  }
  std::string prev_name;
  for (uint32_t i = 0; i < labels; ++i) {
    std::string name, value;
    if (!ConsumeLengthPrefixed(&in, &name) || !ConsumeLengthPrefixed(&in, &value)) {
      return absl::DataLossError(absl::StrCat("series key record truncated in label ", i));
    }
    if (i > 0 && name <= prev_name) {
      return absl::DataLossError("series key record has labels out of order");
    }
    prev_name = name;
    key.labels.emplace(std::move(name), std::move(value));
  }
  if (!in.empty()) {
    return absl::DataLossError(
        absl::StrCat("series key record has ", in.size(), " trailing bytes"));
  }
  return key;
}

}  // namespace storage::internal
