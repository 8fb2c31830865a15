// RocksDB implementation of storage::Store.
//
// Layout and why:
//
//   column family  key                                          value
//   samples        series id (8 BE) + ordered ms (8 BE)         double (IEEE-754 bits, 8 BE)
//   rollups        series id (8 BE) + ordered hour start (8 BE) count, min, max, sum, sum_sq
//                                                               (5 x 8 bytes BE, merged)
//   events         log kind (1) + ordered ms (8 BE) + seq (8 BE) payload bytes
//   meta           "k/" + canonical series key                  series id (8 BE)
//                  "i/" + series id (8 BE)                      canonical series key
//                  "c/next_series_id", "c/next_event_seq"       counters (8 BE)
//
// - "Ordered ms" is milliseconds since 1970 with the sign bit flipped, so big-endian bytes
//   sort like the signed number: times before 1970 sort first and far-future times last.
//   Series id first keeps one series contiguous, so every range read is one iterator with
//   iterate_lower_bound/iterate_upper_bound and prefix_same_as_start.
// - Samples and rollups use a fixed 8-byte prefix extractor (the series id) and a bloom
//   filter of 10 bits per prefix. whole_key_filtering is off: the store never does point
//   Gets on these families (Latest is a SeekForPrev), so whole-key entries would only cost
//   space. Bloom filters then let a Seek skip SST files that hold nothing of the series.
// - Space: the benchmark target is <= 1/3 of SQLite's bytes per sample (SQLite, WITHOUT
//   ROWID table on (series, ts): 22 bytes). Within a block RocksDB delta-encodes keys, so a
//   sample costs ~2-3 key bytes + the 8-byte internal sequence/type footer (zeroed at the
//   bottom level) + 8 value bytes before compression. Debian's librocksdb 7.8.3 links snappy,
//   zlib, bzip2, LZ4 and ZSTD. Measured with 100 series x 10k one-minute samples, after
//   CompactAll (samples + rollups + meta, per sample):
//     NAB CPU traces (3-decimal values):   ZSTD-3/16 KiB blocks ~8.4 B; chosen setup ~5.1 B
//     full-precision noisy doubles:        ZSTD-3/16 KiB ~11.5 B;       chosen setup ~9.3 B
//   The chosen setup: 128 KiB blocks with restart interval 128 (more similar entries per
//   compression unit; scans read whole blocks anyway) and, at the bottom level where all old
//   data lives, ZSTD level 9 with a 64 KiB dictionary trained per compaction. Levels 15-19
//   save another ~20% but cost 5-8x the compaction CPU, and because keys are series-major
//   every flush overlaps the whole bottom level, so that CPU is paid on every compaction.
//   Random full-precision values carry ~6.5 bytes of entropy each: no block compressor gets
//   those to 1/3 of SQLite; real metric values do.
// - Rollups: Append groups its batch by (series, hour) and issues one Merge per group, so a
//   batch of N samples writes N puts + (number of distinct series-hours) merges. The
//   associative merge operator adds count/sum/sum_squares and folds min/max, which is exact
//   however the samples of one hour are split over batches.
// - Ingest cost: every sample is one skip-list insert into the samples memtable and every
//   (series, hour) of a batch one merge into the rollups memtable, and because keys are
//   series-major every L0 flush overlaps the whole bottom level, so each L0 -> bottom
//   compaction rewrites (and ZSTD-9-recompresses) all of it. Hence 64 MiB sample memtables
//   and an L0 trigger of 8 files: ~8x fewer bottom rewrites than 16 MiB x 4 files. Measured
//   with tests/bench:storage_bench --series=1000 --days=3 --engines=rocksdb on a loaded
//   2-core machine (one run each): ingest 51k -> 72k samples/s, process CPU 61 s -> 43 s,
//   range read p50 2.1 -> 1.45 ms, same bytes per sample. Not used:
//   memtable_insert_with_hint_prefix_extractor
//   (Debian's assertion-enabled librocksdb 7.8.3 aborts in InlineSkipList::Insert with it,
//   and in ExtractUserKey) and the hash-skip-list memtable (also trips an assertion).
//   One entry per sample remains the layout (tests count raw sample records).
// - Retention: reads clamp their lower bound to Now() - retention, so expired data is
//   invisible at once; a compaction filter drops those keys physically (and periodic
//   compaction makes sure every file is revisited at least daily). Each compaction computes
//   its cutoff once from the injected clock, with the same rounding as the reads.
// - Events: the sequence number comes from a counter in meta written in the same batch as
//   the event, so it survives restarts and keeps several events at one millisecond apart.
// - The series registry lives in meta and is cached in memory (loaded at open, verified:
//   a record that does not decode fails Open with DataLoss). Registry writes are always
//   synced: they are rare, and an id must never be handed out twice.
// - Every rocksdb::Status becomes an absl::Status in FromRocks(), the only place that knows
//   RocksDB's error model.

#include "storage/store.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"
#include "rocksdb/cache.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/options.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/write_batch.h"
#include "storage/internal/key_codec.h"

namespace storage {
namespace {

using internal::AppendBigEndian64;
using internal::ReadBigEndian64;

constexpr char kSamplesCf[] = "samples";
constexpr char kRollupsCf[] = "rollups";
constexpr char kEventsCf[] = "events";
constexpr char kMetaCf[] = "meta";

constexpr absl::string_view kKeyToIdPrefix = "k/";
constexpr absl::string_view kIdToKeyPrefix = "i/";
constexpr absl::string_view kNextSeriesIdKey = "c/next_series_id";
constexpr absl::string_view kNextEventSeqKey = "c/next_event_seq";

// The single translation from RocksDB's error model to canonical codes.
absl::Status FromRocks(const rocksdb::Status& s, absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat(context, ": ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(msg);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(msg);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(msg);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(msg);
    case rocksdb::Status::kIOError:
      if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
      if (s.IsPathNotFound()) return absl::NotFoundError(msg);
      // RocksDB reports a held LOCK file as a plain IOError ("While lock file: ...:
      // Resource temporarily unavailable" from another process, "lock hold by current
      // process" from this one); only the message tells it apart.
      if (absl::StrContains(s.ToString(), "While lock file") ||
          absl::StrContains(s.ToString(), "lock hold by current process")) {
        return absl::UnavailableError(msg);
      }
      return absl::InternalError(msg);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kShutdownInProgress:
      return absl::UnavailableError(msg);
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kExpired:
      return absl::DeadlineExceededError(msg);
    case rocksdb::Status::kAborted:
    case rocksdb::Status::kIncomplete:
      return absl::AbortedError(msg);
    case rocksdb::Status::kCompactionTooLarge:
      return absl::ResourceExhaustedError(msg);
    case rocksdb::Status::kColumnFamilyDropped:
      return absl::FailedPreconditionError(msg);
    case rocksdb::Status::kMergeInProgress:
      return absl::InternalError(msg);
    default:
      return absl::UnknownError(msg);
  }
}

// Drops samples or rollups whose key time is older than the cutoff taken when the
// compaction starts. Keys that do not decode are kept: a compaction filter has no way to
// report them, and the reads report them as DataLoss.
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  explicit RetentionFilter(int64_t min_visible_ms) : min_visible_ms_(min_visible_ms) {}

  Decision FilterV2(int /*level*/, const rocksdb::Slice& key, ValueType type,
                    const rocksdb::Slice& /*existing_value*/, std::string* /*new_value*/,
                    std::string* /*skip_until*/) const override {
    if (type == kBlobIndex) return Decision::kKeep;
    const auto parts = internal::DecodeSeriesTimeKey(absl::string_view(key.data(), key.size()));
    if (!parts.has_value()) return Decision::kKeep;
    return parts->ms < min_visible_ms_ ? Decision::kRemove : Decision::kKeep;
  }

  const char* Name() const override { return "storage.RetentionFilter"; }

 private:
  const int64_t min_visible_ms_;
};

class RetentionFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  RetentionFilterFactory(const base::Clock* clock, absl::Duration retention)
      : clock_(clock), retention_(retention) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    // Same rounding as the reads: visible iff stored ms >= CeilMillis(cutoff).
    return std::make_unique<RetentionFilter>(internal::CeilMillis(clock_->Now() - retention_));
  }

  const char* Name() const override { return "storage.RetentionFilterFactory"; }

 private:
  const base::Clock* const clock_;
  const absl::Duration retention_;
};

// Adds rollup records of one (series, hour). A record that does not decode is dropped with
// an ERROR log instead of failing the merge: a failed merge inside a compaction puts RocksDB
// into a read-only background-error state, so one bad record would stop every write to the
// store, while a rollup is a derived statistic that the next samples of the hour rebuild.
// A corrupt record with no merge on top still reads as DataLoss (see ScanRollups).
class RollupMergeOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& key, const rocksdb::Slice* existing_value,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    Rollup acc;
    if (existing_value != nullptr) {
      acc = Decode(key, *existing_value).value_or(Rollup{});
    }
    acc = internal::MergeRollups(acc, Decode(key, value).value_or(Rollup{}));
    *new_value = internal::EncodeRollupValue(acc);
    return true;
  }

  const char* Name() const override { return "storage.RollupMergeOperator"; }

 private:
  static std::optional<Rollup> Decode(const rocksdb::Slice& key, const rocksdb::Slice& value) {
    auto r = internal::DecodeRollupValue(absl::string_view(value.data(), value.size()));
    if (!r.has_value()) {
      const auto parts = internal::DecodeSeriesTimeKey(absl::string_view(key.data(), key.size()));
      LOG(ERROR) << "dropping a " << value.size() << "-byte rollup record (want "
                 << internal::kRollupValueSize << ") of series "
                 << (parts.has_value() ? parts->series : 0) << " while merging";
    }
    return r;
  }
};

std::string MetaIdKey(SeriesId id) {
  std::string k(kIdToKeyPrefix);
  AppendBigEndian64(id, &k);
  return k;
}

std::string MetaKeyKey(const std::string& encoded_key) {
  return absl::StrCat(kKeyToIdPrefix, encoded_key);
}

std::string BigEndian(uint64_t v) {
  std::string out;
  AppendBigEndian64(v, &out);
  return out;
}

// End of a DeleteRange over one series: the next series' prefix. The last possible id has
// none, so use a key longer than every 16-byte key of the series instead.
std::string SeriesRangeEnd(SeriesId id) {
  if (id == std::numeric_limits<SeriesId>::max()) return std::string(17, '\xff');
  return internal::SeriesPrefix(id + 1);
}

absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

bool IsValidLog(EventLog log) {
  return log == EventLog::kForecasts || log == EventLog::kDecisions ||
         log == EventLog::kAnomalies || log == EventLog::kPodLifetimes;
}

rocksdb::BlockBasedTableOptions SeriesTableOptions(std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = std::move(cache);
  t.block_size = 128 * 1024;
  t.block_restart_interval = 128;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = false;
  t.format_version = 5;
  return t;
}

class RocksStore : public Store {
 public:
  RocksStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
             const Options& options, const base::Clock* clock,
             std::shared_ptr<rocksdb::Cache> block_cache)
      : db_(std::move(db)),
        handles_(std::move(handles)),
        samples_(handles_[1]),
        rollups_(handles_[2]),
        events_(handles_[3]),
        meta_(handles_[4]),
        retention_(options.retention),
        rollup_retention_(options.rollup_retention),
        clock_(clock),
        block_cache_(std::move(block_cache)) {}

  ~RocksStore() override {
    rocksdb::CancelAllBackgroundWork(db_.get(), /*wait=*/true);
    for (auto* h : handles_) {
      rocksdb::Status s = db_->DestroyColumnFamilyHandle(h);
      if (!s.ok()) LOG(WARNING) << "destroying column family handle: " << s.ToString();
    }
    rocksdb::Status s = db_->Close();
    if (!s.ok()) LOG(WARNING) << "closing store: " << s.ToString();
  }

  // Reads the registry and counters from meta into memory.
  absl::Status LoadRegistry() ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<SeriesId> RegisterSeries(const SeriesKey& key) override;
  absl::StatusOr<SeriesId> LookupSeries(const SeriesKey& key) const override;
  absl::StatusOr<SeriesKey> GetSeriesKey(SeriesId id) const override;
  std::vector<std::pair<SeriesId, SeriesKey>> ListSeries() const override;
  absl::Status Append(const std::vector<SeriesSample>& batch, const WriteOptions& options) override;
  absl::StatusOr<std::vector<Sample>> Scan(SeriesId id, absl::Time from,
                                           absl::Time to) const override;
  absl::StatusOr<Sample> Latest(SeriesId id) const override;
  absl::StatusOr<std::vector<Rollup>> ScanRollups(SeriesId id, absl::Time from,
                                                  absl::Time to) const override;
  absl::Status DeleteSeries(SeriesId id) override;
  absl::Status AppendEvent(EventLog log, absl::Time time, absl::string_view payload,
                           const WriteOptions& options) override;
  absl::StatusOr<std::vector<Event>> ScanEvents(EventLog log, absl::Time from,
                                                absl::Time to) const override;
  absl::Status ForEachEvent(
      EventLog log, absl::Time from, absl::Time to,
      const std::function<void(absl::Time, absl::string_view)>& fn) const override;
  absl::Status Backup(const std::string& backup_dir) override;
  absl::StatusOr<Stats> GetStats() const override;
  absl::Status CompactAll() override;
  absl::Status SetBlockCacheCapacity(int64_t bytes) override;

 private:
  template <typename Fn>
  absl::Status ForEach(rocksdb::ColumnFamilyHandle* cf, const std::string& lower,
                       const std::string* upper, bool prefix_mode, Fn fn) const;

  absl::Status CheckKnown(SeriesId id) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<uint64_t> ReadCounter(absl::string_view key) const;

  const std::unique_ptr<rocksdb::DB> db_;
  const std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* const samples_;
  rocksdb::ColumnFamilyHandle* const rollups_;
  rocksdb::ColumnFamilyHandle* const events_;
  rocksdb::ColumnFamilyHandle* const meta_;
  const absl::Duration retention_;
  const absl::Duration rollup_retention_;
  const base::Clock* const clock_;
  const std::shared_ptr<rocksdb::Cache> block_cache_;

  // Serializes the non-const methods that allocate ids or sequence numbers. The contract
  // already says "one writer"; this makes a second writer safe rather than corrupting.
  absl::Mutex write_mu_;
  SeriesId next_series_id_ ABSL_GUARDED_BY(write_mu_) = 1;
  uint64_t next_event_seq_ ABSL_GUARDED_BY(write_mu_) = 1;

  // Registry cache, read by every reader.
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, SeriesId> id_by_key_ ABSL_GUARDED_BY(mu_);
  std::map<SeriesId, SeriesKey> key_by_id_ ABSL_GUARDED_BY(mu_);
};

template <typename Fn>
absl::Status RocksStore::ForEach(rocksdb::ColumnFamilyHandle* cf, const std::string& lower,
                                 const std::string* upper, bool prefix_mode, Fn fn) const {
  rocksdb::ReadOptions ro;
  rocksdb::Slice lower_slice(lower);
  rocksdb::Slice upper_slice;
  ro.iterate_lower_bound = &lower_slice;
  if (upper != nullptr) {
    upper_slice = rocksdb::Slice(*upper);
    ro.iterate_upper_bound = &upper_slice;
  }
  // Ranges never leave one series, so the prefix bloom filters may prune files. With an upper
  // bound in the series the iterator stops there anyway: no prefix check per step.
  ro.prefix_same_as_start = prefix_mode && upper == nullptr;
  // RocksDB's per-thread perf counters (never read here) cost a thread-local lookup per step.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
  for (it->Seek(lower_slice); it->Valid(); it->Next()) {
    absl::Status s = fn(View(it->key()), View(it->value()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), absl::StrCat("iterating ", cf->GetName()));
}

absl::StatusOr<uint64_t> RocksStore::ReadCounter(absl::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return 1;
  if (!s.ok()) return FromRocks(s, absl::StrCat("reading ", key));
  if (value.size() != 8) {
    return absl::DataLossError(
        absl::StrCat("meta record ", key, " has ", value.size(), " bytes, want 8"));
  }
  return ReadBigEndian64(value.data());
}

absl::Status RocksStore::LoadRegistry() {
  absl::flat_hash_map<std::string, SeriesId> id_by_key;
  std::map<SeriesId, SeriesKey> key_by_id;
  SeriesId max_id = 0;

  const std::string id_lower(kIdToKeyPrefix);
  const std::string id_upper = *internal::PrefixSuccessor(kIdToKeyPrefix);
  absl::Status s = ForEach(
      meta_, id_lower, &id_upper, /*prefix_mode=*/false,
      [&](absl::string_view key, absl::string_view value) -> absl::Status {
        if (key.size() != kIdToKeyPrefix.size() + 8) {
          return absl::DataLossError(
              absl::StrCat("meta record i/ has a ", key.size(), "-byte key"));
        }
        const SeriesId id = ReadBigEndian64(key.data() + 2);
        absl::StatusOr<SeriesKey> series = internal::DecodeSeriesKey(value);
        if (!series.ok()) {
          return absl::DataLossError(
              absl::StrCat("meta record of series ", id, ": ", series.status().message()));
        }
        if (id == 0 || !id_by_key.emplace(std::string(value), id).second) {
          return absl::DataLossError(absl::StrCat("meta record of series ", id, " is a duplicate"));
        }
        key_by_id.emplace(id, *std::move(series));
        max_id = std::max(max_id, id);
        return absl::OkStatus();
      });
  if (!s.ok()) return s;

  // The key -> id direction must agree record for record.
  size_t forward = 0;
  const std::string key_lower(kKeyToIdPrefix);
  const std::string key_upper = *internal::PrefixSuccessor(kKeyToIdPrefix);
  s = ForEach(meta_, key_lower, &key_upper, /*prefix_mode=*/false,
              [&](absl::string_view key, absl::string_view value) -> absl::Status {
                ++forward;
                key.remove_prefix(kKeyToIdPrefix.size());
                auto it = id_by_key.find(key);
                if (value.size() != 8 || it == id_by_key.end() ||
                    it->second != ReadBigEndian64(value.data())) {
                  return absl::DataLossError(
                      "series registry is inconsistent: a k/ record has no matching i/ record");
                }
                return absl::OkStatus();
              });
  if (!s.ok()) return s;
  if (forward != id_by_key.size()) {
    return absl::DataLossError(absl::StrCat("series registry is inconsistent: ", forward,
                                            " k/ records, ", id_by_key.size(), " i/ records"));
  }

  absl::StatusOr<uint64_t> next_id = ReadCounter(kNextSeriesIdKey);
  if (!next_id.ok()) return next_id.status();
  absl::StatusOr<uint64_t> next_seq = ReadCounter(kNextEventSeqKey);
  if (!next_seq.ok()) return next_seq.status();

  absl::MutexLock w(&write_mu_);
  absl::MutexLock l(&mu_);
  id_by_key_ = std::move(id_by_key);
  key_by_id_ = std::move(key_by_id);
  next_series_id_ = std::max<uint64_t>(*next_id, max_id + 1);
  next_event_seq_ = *next_seq;
  return absl::OkStatus();
}

absl::Status RocksStore::CheckKnown(SeriesId id) const {
  absl::ReaderMutexLock l(&mu_);
  if (key_by_id_.count(id) == 0) return absl::NotFoundError(absl::StrCat("unknown series ", id));
  return absl::OkStatus();
}

absl::StatusOr<SeriesId> RocksStore::RegisterSeries(const SeriesKey& key) {
  if (key.metric.empty()) return absl::InvalidArgumentError("series key has an empty metric");
  const std::string encoded = internal::EncodeSeriesKey(key);
  absl::MutexLock w(&write_mu_);
  {
    absl::ReaderMutexLock l(&mu_);
    auto it = id_by_key_.find(encoded);
    if (it != id_by_key_.end()) return it->second;
  }
  const SeriesId id = next_series_id_;
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(meta_, MetaKeyKey(encoded), BigEndian(id));
  if (s.ok()) s = batch.Put(meta_, MetaIdKey(id), encoded);
  if (s.ok())
    s = batch.Put(meta_, rocksdb::Slice(kNextSeriesIdKey.data(), kNextSeriesIdKey.size()),
                  BigEndian(id + 1));
  rocksdb::WriteOptions wo;
  wo.sync = true;  // An id must never be handed out twice, even across a crash.
  if (s.ok()) s = db_->Write(wo, &batch);
  if (!s.ok()) return FromRocks(s, "registering series");
  next_series_id_ = id + 1;
  absl::MutexLock l(&mu_);
  id_by_key_.emplace(encoded, id);
  key_by_id_.emplace(id, key);
  return id;
}

absl::StatusOr<SeriesId> RocksStore::LookupSeries(const SeriesKey& key) const {
  const std::string encoded = internal::EncodeSeriesKey(key);
  absl::ReaderMutexLock l(&mu_);
  auto it = id_by_key_.find(encoded);
  if (it == id_by_key_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no series ", key.namespace_name, "/", key.deployment, "/", key.metric));
  }
  return it->second;
}

absl::StatusOr<SeriesKey> RocksStore::GetSeriesKey(SeriesId id) const {
  absl::ReaderMutexLock l(&mu_);
  auto it = key_by_id_.find(id);
  if (it == key_by_id_.end()) return absl::NotFoundError(absl::StrCat("unknown series ", id));
  return it->second;
}

std::vector<std::pair<SeriesId, SeriesKey>> RocksStore::ListSeries() const {
  absl::ReaderMutexLock l(&mu_);
  return std::vector<std::pair<SeriesId, SeriesKey>>(key_by_id_.begin(), key_by_id_.end());
}

absl::Status RocksStore::Append(const std::vector<SeriesSample>& batch,
                                const WriteOptions& options) {
  if (batch.empty()) return absl::OkStatus();
  {
    absl::ReaderMutexLock l(&mu_);
    for (size_t i = 0; i < batch.size(); ++i) {
      const SeriesSample& e = batch[i];
      if (key_by_id_.count(e.series) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("batch[", i, "]: unknown series ", e.series));
      }
      if (!std::isfinite(e.sample.value)) {
        return absl::InvalidArgumentError(absl::StrCat("batch[", i, "]: value ", e.sample.value,
                                                       " of series ", e.series, " is not finite"));
      }
      if (!internal::IsStorableTime(e.sample.time)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "batch[", i, "]: time ", absl::FormatTime(e.sample.time), " is out of range"));
      }
    }
  }

  rocksdb::WriteBatch wb;
  // One merge per (series, hour) keeps write amplification at one rollup record per group.
  std::map<std::pair<SeriesId, int64_t>, Rollup> rollups;
  for (const SeriesSample& e : batch) {
    const int64_t ms = internal::FloorMillis(e.sample.time);
    rocksdb::Status s = wb.Put(samples_, internal::SeriesTimeKey(e.series, ms),
                               internal::EncodeDouble(e.sample.value));
    if (!s.ok()) return FromRocks(s, "building batch");
    const double v = e.sample.value;
    Rollup& r = rollups[{e.series, internal::HourStartMillis(ms)}];
    r = internal::MergeRollups(r, Rollup{absl::Time(), 1, v, v, v, v * v});
  }
  for (const auto& [key, rollup] : rollups) {
    rocksdb::Status s = wb.Merge(rollups_, internal::SeriesTimeKey(key.first, key.second),
                                 internal::EncodeRollupValue(rollup));
    if (!s.ok()) return FromRocks(s, "building batch");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return FromRocks(db_->Write(wo, &wb), "appending samples");
}

absl::StatusOr<std::vector<Sample>> RocksStore::Scan(SeriesId id, absl::Time from,
                                                     absl::Time to) const {
  if (to < from) return absl::InvalidArgumentError("scan range ends before it starts");
  if (absl::Status s = CheckKnown(id); !s.ok()) return s;
  std::vector<Sample> out;
  from = std::max(from, clock_->Now() - retention_);
  if (from >= to) return out;
  const std::string prefix = internal::SeriesPrefix(id);
  const std::string lower = internal::TimeBoundKey(prefix, from);
  const std::string upper = internal::TimeBoundKey(prefix, to);
  absl::Status s = ForEach(samples_, lower, &upper, /*prefix_mode=*/true,
                           [&](absl::string_view key, absl::string_view value) -> absl::Status {
                             const auto parts = internal::DecodeSeriesTimeKey(key);
                             const auto v = internal::DecodeDouble(value);
                             if (!parts.has_value() || !v.has_value()) {
                               return absl::DataLossError(absl::StrCat(
                                   "sample record of series ", id, " has a ", key.size(),
                                   "-byte key and a ", value.size(), "-byte value, want 16 and 8"));
                             }
                             out.push_back(Sample{absl::FromUnixMillis(parts->ms), *v});
                             return absl::OkStatus();
                           });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Sample> RocksStore::Latest(SeriesId id) const {
  if (absl::Status s = CheckKnown(id); !s.ok()) return s;
  const std::string prefix = internal::SeriesPrefix(id);
  const std::string lower = internal::TimeBoundKey(prefix, clock_->Now() - retention_);
  const std::string last = prefix + std::string(8, '\xff');
  rocksdb::ReadOptions ro;
  rocksdb::Slice lower_slice(lower);
  ro.iterate_lower_bound = &lower_slice;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, samples_));
  it->SeekForPrev(last);
  if (!it->Valid()) {
    if (!it->status().ok()) return FromRocks(it->status(), "reading latest sample");
    return absl::NotFoundError(absl::StrCat("series ", id, " has no sample within retention"));
  }
  const auto parts = internal::DecodeSeriesTimeKey(View(it->key()));
  const auto v = internal::DecodeDouble(View(it->value()));
  if (!parts.has_value() || parts->series != id || !v.has_value()) {
    return absl::DataLossError(absl::StrCat("latest sample record of series ", id, " has a ",
                                            it->key().size(), "-byte key and a ",
                                            it->value().size(), "-byte value, want 16 and 8"));
  }
  return Sample{absl::FromUnixMillis(parts->ms), *v};
}

absl::StatusOr<std::vector<Rollup>> RocksStore::ScanRollups(SeriesId id, absl::Time from,
                                                            absl::Time to) const {
  if (to < from) return absl::InvalidArgumentError("rollup range ends before it starts");
  if (absl::Status s = CheckKnown(id); !s.ok()) return s;
  std::vector<Rollup> out;
  from = std::max(from, clock_->Now() - rollup_retention_);
  if (from >= to) return out;
  // At most one rollup per hour: one allocation for a bounded range.
  if (const double hours = absl::ToDoubleHours(to - from); hours < 24 * 400) {
    out.reserve(static_cast<size_t>(hours) + 1);
  }
  const std::string prefix = internal::SeriesPrefix(id);
  const std::string lower = internal::TimeBoundKey(prefix, from);
  const std::string upper = internal::TimeBoundKey(prefix, to);
  absl::Status s =
      ForEach(rollups_, lower, &upper, /*prefix_mode=*/true,
              [&](absl::string_view key, absl::string_view value) -> absl::Status {
                const auto parts = internal::DecodeSeriesTimeKey(key);
                auto r = internal::DecodeRollupValue(value);
                if (!parts.has_value() || !r.has_value()) {
                  return absl::DataLossError(absl::StrCat(
                      "rollup record of series ", id, " has a ", key.size(), "-byte key and a ",
                      value.size(), "-byte value, want 16 and 40"));
                }
                r->start = absl::FromUnixMillis(parts->ms);
                out.push_back(*r);
                return absl::OkStatus();
              });
  if (!s.ok()) return s;
  return out;
}

absl::Status RocksStore::DeleteSeries(SeriesId id) {
  absl::MutexLock w(&write_mu_);
  std::string encoded;
  {
    absl::ReaderMutexLock l(&mu_);
    auto it = key_by_id_.find(id);
    if (it == key_by_id_.end()) return absl::NotFoundError(absl::StrCat("unknown series ", id));
    encoded = internal::EncodeSeriesKey(it->second);
  }
  const std::string begin = internal::SeriesPrefix(id);
  const std::string end = SeriesRangeEnd(id);
  rocksdb::WriteBatch wb;
  rocksdb::Status s = wb.DeleteRange(samples_, begin, end);
  if (s.ok()) s = wb.DeleteRange(rollups_, begin, end);
  if (s.ok()) s = wb.Delete(meta_, MetaKeyKey(encoded));
  if (s.ok()) s = wb.Delete(meta_, MetaIdKey(id));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (s.ok()) s = db_->Write(wo, &wb);
  if (!s.ok()) return FromRocks(s, absl::StrCat("deleting series ", id));
  absl::MutexLock l(&mu_);
  id_by_key_.erase(encoded);
  key_by_id_.erase(id);
  return absl::OkStatus();
}

absl::Status RocksStore::AppendEvent(EventLog log, absl::Time time, absl::string_view payload,
                                     const WriteOptions& options) {
  if (!IsValidLog(log)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown event log ", static_cast<int>(log)));
  }
  if (!internal::IsStorableTime(time)) {
    return absl::InvalidArgumentError(
        absl::StrCat("event time ", absl::FormatTime(time), " is out of range"));
  }
  absl::MutexLock w(&write_mu_);
  const uint64_t seq = next_event_seq_;
  rocksdb::WriteBatch wb;
  rocksdb::Status s = wb.Put(
      events_, internal::EventKey(static_cast<uint8_t>(log), internal::FloorMillis(time), seq),
      rocksdb::Slice(payload.data(), payload.size()));
  if (s.ok()) {
    s = wb.Put(meta_, rocksdb::Slice(kNextEventSeqKey.data(), kNextEventSeqKey.size()),
               BigEndian(seq + 1));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  if (s.ok()) s = db_->Write(wo, &wb);
  if (!s.ok()) return FromRocks(s, "appending event");
  next_event_seq_ = seq + 1;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> RocksStore::ScanEvents(EventLog log, absl::Time from,
                                                          absl::Time to) const {
  std::vector<Event> out;
  absl::Status s = ForEachEvent(log, from, to, [&](absl::Time t, absl::string_view payload) {
    out.push_back(Event{t, std::string(payload)});
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status RocksStore::ForEachEvent(
    EventLog log, absl::Time from, absl::Time to,
    const std::function<void(absl::Time, absl::string_view)>& fn) const {
  if (!IsValidLog(log)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown event log ", static_cast<int>(log)));
  }
  if (to < from) return absl::InvalidArgumentError("event range ends before it starts");
  if (from == to) return absl::OkStatus();
  const std::string prefix(1, static_cast<char>(log));
  const std::string lower = internal::TimeBoundKey(prefix, from);
  const std::string upper = internal::TimeBoundKey(prefix, to);
  return ForEach(events_, lower, &upper, /*prefix_mode=*/false,
                 [&](absl::string_view key, absl::string_view value) -> absl::Status {
                   const auto parts = internal::DecodeEventKey(key);
                   if (!parts.has_value()) {
                     return absl::DataLossError(
                         absl::StrCat("event record has a ", key.size(), "-byte key, want 17"));
                   }
                   fn(absl::FromUnixMillis(parts->ms), value);
                   return absl::OkStatus();
                 });
}

absl::Status RocksStore::Backup(const std::string& backup_dir) {
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(backup_dir),
                                                    rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening backup engine in ", backup_dir));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  rocksdb::CreateBackupOptions cbo;
  cbo.flush_before_backup = true;  // The backup then holds no WAL to replay.
  return FromRocks(engine->CreateNewBackup(cbo, db_.get()),
                   absl::StrCat("backing up into ", backup_dir));
}

absl::StatusOr<Stats> RocksStore::GetStats() const {
  Stats stats;
  {
    absl::ReaderMutexLock l(&mu_);
    stats.series = key_by_id_.size();
  }
  uint64_t v = 0;
  if (db_->GetIntProperty(samples_, rocksdb::DB::Properties::kEstimateNumKeys, &v)) {
    stats.estimated_samples = v;
  }
  for (auto* cf : handles_) {
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kLiveSstFilesSize, &v)) {
      stats.disk_bytes += v;
    }
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) {
      stats.memtable_bytes += v;
    }
  }
  rocksdb::VectorLogPtr wal_files;
  rocksdb::Status s = db_->GetSortedWalFiles(wal_files);
  if (!s.ok()) return FromRocks(s, "listing WAL files");
  for (const auto& f : wal_files) stats.disk_bytes += f->SizeFileBytes();
  return stats;
}

absl::Status RocksStore::CompactAll() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo, handles_);
  if (!s.ok()) return FromRocks(s, "flushing");
  rocksdb::CompactRangeOptions cro;
  // Rewrite the bottom level too: that is where expired samples live.
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cf : handles_) {
    s = db_->CompactRange(cro, cf, nullptr, nullptr);
    if (!s.ok()) return FromRocks(s, absl::StrCat("compacting ", cf->GetName()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenRocksStore(const Options& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("store path is empty");
  if (options.retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retention must be positive");
  }
  if (options.rollup_retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("rollup_retention must be positive");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("creating store directory ", options.path, ": ", ec.message()));
  }
  const base::Clock* clock = options.clock != nullptr ? options.clock : &base::RealClock();

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  // Small, rarely written families (meta, events) would otherwise pin old WAL files. Both
  // limits hold the two 64 MiB sample memtables (see "Ingest cost" above).
  db_options.max_total_wal_size = 128 << 20;
  db_options.db_write_buffer_size = 128 << 20;
  db_options.keep_log_file_num = 3;
  db_options.max_log_file_size = 1 << 20;
  db_options.recycle_log_file_num = 0;

  auto cache = rocksdb::NewLRUCache(Store::kDefaultBlockCacheBytes);

  rocksdb::ColumnFamilyOptions samples;
  samples.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(internal::kSeriesPrefixSize));
  samples.table_factory.reset(rocksdb::NewBlockBasedTableFactory(SeriesTableOptions(cache)));
  samples.compression = rocksdb::kZSTD;
  samples.bottommost_compression = rocksdb::kZSTD;
  samples.bottommost_compression_opts.enabled = true;
  samples.bottommost_compression_opts.level = 9;
  samples.bottommost_compression_opts.max_dict_bytes = 64 << 10;
  samples.bottommost_compression_opts.zstd_max_train_bytes = 100 * (64 << 10);
  samples.level_compaction_dynamic_level_bytes = true;
  samples.write_buffer_size = 64 << 20;
  samples.level0_file_num_compaction_trigger = 8;
  // Revisit every file at least daily so the retention filter sees data that no ordinary
  // compaction would touch (old series that stopped receiving samples).
  samples.periodic_compaction_seconds = 24 * 3600;
  samples.compaction_filter_factory =
      std::make_shared<RetentionFilterFactory>(clock, options.retention);

  rocksdb::ColumnFamilyOptions rollups = samples;
  rollups.write_buffer_size = 4 << 20;
  rollups.merge_operator = std::make_shared<RollupMergeOperator>();
  rollups.compaction_filter_factory =
      std::make_shared<RetentionFilterFactory>(clock, options.rollup_retention);

  rocksdb::BlockBasedTableOptions plain_table;
  plain_table.block_cache = cache;
  plain_table.block_size = 16 * 1024;
  plain_table.format_version = 5;
  rocksdb::ColumnFamilyOptions events;
  events.table_factory.reset(rocksdb::NewBlockBasedTableFactory(plain_table));
  events.compression = rocksdb::kZSTD;
  events.write_buffer_size = 4 << 20;
  rocksdb::ColumnFamilyOptions meta;
  meta.table_factory.reset(rocksdb::NewBlockBasedTableFactory(plain_table));
  meta.compression = rocksdb::kLZ4Compression;
  meta.write_buffer_size = 1 << 20;

  // RocksDB requires "default"; the store never writes to it.
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, meta},
      {kSamplesCf, samples},
      {kRollupsCf, rollups},
      {kEventsCf, events},
      {kMetaCf, meta},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening store at ", options.path));

  auto store = std::make_unique<RocksStore>(std::unique_ptr<rocksdb::DB>(raw), std::move(handles),
                                            options, clock, cache);
  if (absl::Status load = store->LoadRegistry(); !load.ok()) return load;
  LOG(INFO) << "opened store at " << options.path << " with " << store->ListSeries().size()
            << " series";
  return store;
}

absl::Status RocksStore::SetBlockCacheCapacity(int64_t bytes) {
  if (bytes < 0) return absl::InvalidArgumentError(absl::StrCat("block cache capacity ", bytes));
  block_cache_->SetCapacity(static_cast<size_t>(bytes));  // evicts down to the new capacity
  return absl::OkStatus();
}

absl::Status RestoreLatestBackup(const std::string& backup_dir, const std::string& db_path) {
  if (backup_dir.empty() || db_path.empty()) {
    return absl::InvalidArgumentError("backup_dir and db_path must be set");
  }
  rocksdb::Env* env = rocksdb::Env::Default();
  if (!env->FileExists(backup_dir).ok()) {
    return absl::NotFoundError(absl::StrCat("no backup directory ", backup_dir));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus io =
      rocksdb::BackupEngineReadOnly::Open(rocksdb::BackupEngineOptions(backup_dir), env, &raw);
  if (!io.ok()) return FromRocks(io, absl::StrCat("opening backups in ", backup_dir));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  if (infos.empty()) return absl::NotFoundError(absl::StrCat("no backup in ", backup_dir));

  // Restoring deletes the files under db_path: take the database's own LOCK first so a
  // store that is open there (in this or another process) makes this fail, not corrupt it.
  std::error_code ec;
  std::filesystem::create_directories(db_path, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("creating ", db_path, ": ", ec.message()));
  }
  rocksdb::FileLock* lock = nullptr;
  rocksdb::Status s = env->LockFile(db_path + "/LOCK", &lock);
  if (!s.ok()) return FromRocks(s, absl::StrCat("locking ", db_path));
  io = engine->RestoreDBFromLatestBackup(rocksdb::RestoreOptions(), db_path, db_path);
  s = env->UnlockFile(lock);
  if (!io.ok()) return FromRocks(io, absl::StrCat("restoring into ", db_path));
  return FromRocks(s, absl::StrCat("unlocking ", db_path));
}

absl::StatusOr<int> PurgeOldBackups(const std::string& backup_dir, int keep) {
  if (keep < 1) return absl::InvalidArgumentError(absl::StrCat("keep ", keep, " must be >= 1"));
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(backup_dir),
                                                    rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening backup engine in ", backup_dir));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  s = engine->PurgeOldBackups(static_cast<uint32_t>(keep));
  if (!s.ok()) return FromRocks(s, absl::StrCat("purging backups in ", backup_dir));
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  return static_cast<int>(infos.size());
}

}  // namespace storage
