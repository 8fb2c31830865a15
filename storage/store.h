// storage: the reconciler's local RocksDB time-series store.
//
//   auto store = storage::OpenRocksStore({.path = "/data/tsdb"});
//   storage::SeriesId id = *(*store)->RegisterSeries({"default", "api", "cpu_cores", {}});
//   (*store)->Append({{id, {absl::Now(), 0.85}}}, {.sync = true});
//   auto day = (*store)->Scan(id, absl::Now() - absl::Hours(24), absl::Now());
//
// What it holds: derived history (samples per series), hourly rollups of every series, and
// append-only event logs (forecasts, decisions, anomalies as serialized records). Prometheus
// stays the system of record: this store can always be rebuilt from range queries.
//
// Layout (see store.cc for the reasons): raw samples keyed series id (8 bytes big-endian) +
// timestamp (8 bytes big-endian, sign bit flipped so times before 1970 sort first), so a range
// scan is one iterator; a fixed 8-byte prefix extractor with a bloom filter; separate column
// families for samples, rollups, event logs and metadata (series registry). Timestamps are
// stored with millisecond resolution (sub-millisecond parts are truncated toward the past).
//
// Retention: samples older than `retention` (default 30 days) and rollups older than
// `rollup_retention` (default 1 year) are invisible to every read at once and are dropped
// physically by a compaction filter, never by a full scan.
//
// Thread safety: one writer, many readers. All const methods may be called concurrently with
// each other and with one thread calling the non-const methods.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace storage {

using SeriesId = uint64_t;

// What a series measures. Two keys are the same series when all fields are equal.
struct SeriesKey {
  std::string namespace_name;
  std::string deployment;
  std::string metric;
  std::map<std::string, std::string> labels;

  bool operator==(const SeriesKey& o) const {
    return namespace_name == o.namespace_name && deployment == o.deployment &&
           metric == o.metric && labels == o.labels;
  }
};

struct Sample {
  absl::Time time;
  double value = 0;
  bool operator==(const Sample& o) const { return time == o.time && value == o.value; }
};

// One sample of one series, as appended in a batch.
struct SeriesSample {
  SeriesId series = 0;
  Sample sample;
};

// Aggregate of one series over one UTC hour [start, start + 1h). Count, min, max and sum
// (and so the mean) and the sum of squares (and so the standard deviation) merge exactly
// when samples of the same hour arrive in different batches.
struct Rollup {
  absl::Time start;
  uint64_t count = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  double sum_squares = 0;
  double mean() const { return count ? sum / count : 0; }
};

// Append-only logs of serialized records (proto/records.proto), keyed by time.
// kPodLifetimes holds PodLifetimeRecord: pod start/end times and requests, for costs.
enum class EventLog { kForecasts = 1, kDecisions = 2, kAnomalies = 3, kPodLifetimes = 4 };

struct Event {
  absl::Time time;
  std::string payload;
};

struct WriteOptions {
  // Sync the WAL before returning: a batch acknowledged with sync = true survives a crash
  // (SIGKILL or power loss) of the process.
  bool sync = false;
};

struct Stats {
  uint64_t series = 0;
  // RocksDB's estimate of the raw sample count (rocksdb.estimate-num-keys).
  uint64_t estimated_samples = 0;
  // Bytes of live SST files plus WAL, as on disk.
  uint64_t disk_bytes = 0;
  uint64_t memtable_bytes = 0;
};

struct Options {
  // Directory of the database; created when missing.
  std::string path;
  absl::Duration retention = absl::Hours(24 * 30);
  absl::Duration rollup_retention = absl::Hours(24 * 365);
  // Decides what "older than retention" means. Not owned; must outlive the store. Null
  // means the real clock.
  const base::Clock* clock = nullptr;
};

class Store {
 public:
  virtual ~Store() = default;

  // Returns the id of `key`, registering it first if it is new. Ids are dense, start at 1
  // and are never reused, even after DeleteSeries. InvalidArgument when the metric is empty.
  virtual absl::StatusOr<SeriesId> RegisterSeries(const SeriesKey& key) = 0;

  // NotFound when the key was never registered (or was deleted).
  virtual absl::StatusOr<SeriesId> LookupSeries(const SeriesKey& key) const = 0;
  virtual absl::StatusOr<SeriesKey> GetSeriesKey(SeriesId id) const = 0;
  virtual std::vector<std::pair<SeriesId, SeriesKey>> ListSeries() const = 0;

  // Writes the batch atomically (all or nothing) and updates the hourly rollups. A sample at
  // a time that already holds one overwrites it (the rollup then counts both: rollups are
  // statistics of what was appended). InvalidArgument, writing nothing, when any sample
  // names an unknown series or has a NaN or infinite value (or an infinite time, or one
  // more than ~146 million years from 1970); the message names the first bad entry by index.
  virtual absl::Status Append(const std::vector<SeriesSample>& batch,
                              const WriteOptions& options) = 0;

  // Samples of `id` with from <= time < to, oldest first, excluding those past retention.
  // NotFound for an unknown series; InvalidArgument when to < from (from == to is empty).
  virtual absl::StatusOr<std::vector<Sample>> Scan(SeriesId id, absl::Time from,
                                                   absl::Time to) const = 0;

  // The newest sample within retention. NotFound when the series is unknown or has none.
  virtual absl::StatusOr<Sample> Latest(SeriesId id) const = 0;

  // Hourly rollups whose start lies in [from, to), oldest first. Errors as for Scan.
  virtual absl::StatusOr<std::vector<Rollup>> ScanRollups(SeriesId id, absl::Time from,
                                                          absl::Time to) const = 0;

  // Removes the series' samples, rollups and registry entry (a range deletion, not a scan).
  // NotFound when unknown.
  virtual absl::Status DeleteSeries(SeriesId id) = 0;

  // Event logs. AppendEvent keeps every event, even several at the same time; events at one
  // millisecond come back in append order. InvalidArgument for a log outside EventLog or a
  // time Append would reject; ScanEvents (from <= time < to) as Scan for a reversed range.
  virtual absl::Status AppendEvent(EventLog log, absl::Time time, absl::string_view payload,
                                   const WriteOptions& options) = 0;
  virtual absl::StatusOr<std::vector<Event>> ScanEvents(EventLog log, absl::Time from,
                                                        absl::Time to) const = 0;
  // The same events handed to `fn` one at a time, oldest first, without a copy: `payload` is
  // valid only during the call. For reading a whole log (no vector of every record). Errors as
  // ScanEvents; on an error after some events, those were already handed over.
  virtual absl::Status ForEachEvent(
      EventLog log, absl::Time from, absl::Time to,
      const std::function<void(absl::Time time, absl::string_view payload)>& fn) const = 0;

  // Writes a consistent backup into `backup_dir` (RocksDB BackupEngine; incremental when the
  // directory already holds earlier backups). Flushes memtables first; never deletes older
  // backups.
  virtual absl::Status Backup(const std::string& backup_dir) = 0;

  virtual absl::StatusOr<Stats> GetStats() const = 0;

  // Flushes memtables and compacts every column family (applies retention physically).
  virtual absl::Status CompactAll() = 0;

  // Resizes the shared block cache (32 MiB at open) to `bytes`, evicting unpinned blocks at
  // once; the memory guard shrinks it under pressure and restores it afterwards.
  // InvalidArgument for bytes < 0.
  virtual absl::Status SetBlockCacheCapacity(int64_t bytes) = 0;
  static constexpr int64_t kDefaultBlockCacheBytes = 32 << 20;
};

// Opens (creating if missing) the RocksDB store at options.path. The returned store has
// recovered everything acknowledged with sync = true before a crash. InvalidArgument for
// bad options; Internal/IOError-derived codes (Unavailable when another process holds the
// lock, DataLoss on corruption) with RocksDB's message otherwise.
absl::StatusOr<std::unique_ptr<Store>> OpenRocksStore(const Options& options);

// Restores the newest backup in `backup_dir` into `db_path` (which must not be open).
// NotFound when there is no backup; Unavailable when a store is open at `db_path` (its LOCK
// is held), in which case nothing is touched.
absl::Status RestoreLatestBackup(const std::string& backup_dir, const std::string& db_path);

// Deletes all but the newest `keep` backups in `backup_dir` (with their unshared files) and
// returns how many remain. InvalidArgument for keep < 1; RocksDB's error otherwise.
absl::StatusOr<int> PurgeOldBackups(const std::string& backup_dir, int keep);

}  // namespace storage
