// The crash test's workload: which series the child writes and what every batch holds, as
// pure functions of the batch number, so the parent can check any batch without a log.
//
//   std::vector<storage::SeriesSample> b = crash::MakeBatch(42, ids);  // always the same
//   int64_t batch; int k;
//   if (crash::DecodeTime(sample.time, &batch, &k)) { /* value must be SampleValue(...) */ }
//
// Batch `b` holds SamplesPerSeries(b) samples (1..8) for each of kSeries series, at times
// T0 + b * 64 s + k * 997 ms (millisecond grid, as the store keeps), with hash-derived values.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "storage/store.h"

namespace crash {

inline constexpr int kSeries = 3;
inline constexpr int kMaxSamplesPerSeries = 8;

// The series the child registers, in order.
std::vector<storage::SeriesKey> SeriesKeys();

// Store options shared by the child and the verifier: a fixed fake clock and a retention long
// enough that no sample of the test ever expires.
storage::Options StoreOptions(const std::string& path);

// Time of the first sample of batch 0. Aligned to a UTC hour.
absl::Time BaseTime();
// Width of one batch's time slot.
absl::Duration BatchSlot();

int SamplesPerSeries(int64_t batch);
absl::Time SampleTime(int64_t batch, int k);
double SampleValue(int64_t batch, int series_index, int k);

// All samples of `batch`; ids[i] is the id of SeriesKeys()[i].
std::vector<storage::SeriesSample> MakeBatch(int64_t batch,
                                             const std::vector<storage::SeriesId>& ids);

// Inverse of SampleTime. False when `t` is not a time any batch writes.
bool DecodeTime(absl::Time t, int64_t* batch, int* k);

}  // namespace crash
