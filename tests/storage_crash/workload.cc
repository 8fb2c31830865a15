#include "tests/storage_crash/workload.h"

#include "base/clock.h"

namespace crash {
namespace {

constexpr int64_t kSlotMs = 64'000;
constexpr int64_t kStepMs = 997;

uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<storage::SeriesKey> SeriesKeys() {
  return {
      {"crash", "api", "cpu_cores", {}},
      {"crash", "api", "memory_bytes", {}},
      {"crash", "worker", "cpu_cores", {{"container", "main"}, {"zone", "b"}}},
  };
}

absl::Time BaseTime() { return absl::FromCivil(absl::CivilHour(2024, 1, 1, 0), absl::UTCTimeZone()); }

absl::Duration BatchSlot() { return absl::Milliseconds(kSlotMs); }

storage::Options StoreOptions(const std::string& path) {
  // Never destroyed: the store may consult it until the process ends.
  static const base::FakeClock* const clock = new base::FakeClock(BaseTime() + absl::Hours(24));
  storage::Options options;
  options.path = path;
  options.retention = absl::Hours(24 * 3650);
  options.rollup_retention = absl::Hours(24 * 3650);
  options.clock = clock;
  return options;
}

int SamplesPerSeries(int64_t batch) { return 1 + static_cast<int>(batch % kMaxSamplesPerSeries); }

absl::Time SampleTime(int64_t batch, int k) {
  return BaseTime() + absl::Milliseconds(batch * kSlotMs + k * kStepMs);
}

double SampleValue(int64_t batch, int series_index, int k) {
  const uint64_t h = Mix(Mix(static_cast<uint64_t>(batch)) ^ (series_index * 131 + k));
  // 53 random mantissa bits scaled to [0, 100): values that do not compress to nothing.
  return static_cast<double>(h >> 11) * 0x1.0p-53 * 100.0;
}

std::vector<storage::SeriesSample> MakeBatch(int64_t batch,
                                             const std::vector<storage::SeriesId>& ids) {
  std::vector<storage::SeriesSample> out;
  const int n = SamplesPerSeries(batch);
  out.reserve(ids.size() * n);
  // Interleave series so the batch is not sorted by key: the store must not rely on it.
  for (int k = 0; k < n; ++k) {
    for (size_t s = 0; s < ids.size(); ++s) {
      out.push_back({ids[s], {SampleTime(batch, k), SampleValue(batch, static_cast<int>(s), k)}});
    }
  }
  return out;
}

bool DecodeTime(absl::Time t, int64_t* batch, int* k) {
  const int64_t ms = absl::ToInt64Milliseconds(t - BaseTime());
  if (ms < 0 || BaseTime() + absl::Milliseconds(ms) != t) return false;
  const int64_t b = ms / kSlotMs;
  const int64_t rest = ms % kSlotMs;
  if (rest % kStepMs != 0) return false;
  const int64_t kk = rest / kStepMs;
  if (kk >= SamplesPerSeries(b)) return false;
  *batch = b;
  *k = static_cast<int>(kk);
  return true;
}

}  // namespace crash
