// storage_bench: the RocksDB time-series store (//storage:store) against the original Python
// project's SQLite layout, side by side in one run, on the same generated workload.
//
//   bazel run //tests/bench:storage_bench -- --series=1000 --days=30      # full size (issue 2)
//   bazel run //tests/bench:storage_bench -- --series=20 --days=1 --reads=20  # smoke
//
// Workload: --series series, one sample per series per minute for --days days, values cycled
// through a real trace (the bundled NAB EC2 CPU trace) with a per-series offset and scale, so
// neither engine's compression is flattered by constants. Written in batches of --batch
// samples (default: one per series, i.e. one reconciler cycle per batch), in time order
// (--order=cycle) or series by series (--order=backfill).
//
// SQLite is set up as fast as is fair: WAL, synchronous=NORMAL (FULL with --sync), one
// prepared INSERT, one transaction per batch (the same batches), a --sqlite_cache_mb page
// cache, and the schema of the Python original: one table (timestamp, deployment, value), one
// row per sample, an index on (deployment, timestamp) created with the table (the online
// reconciler needs it while it writes). Timestamps are INTEGER Unix seconds (the smallest
// encoding SQLite offers). RocksDB appends with WriteOptions{.sync = --sync}; sync=false in
// RocksDB and synchronous=NORMAL in WAL mode give the same guarantee (survives a process
// crash, not a power loss).
//
// Measured per engine: ingest samples/s (the write loop only), then RocksDB CompactAll() /
// SQLite wal_checkpoint(TRUNCATE) (timed separately), bytes on disk per sample (every file in
// the engine's directory; SQLite is not VACUUMed: an append-only table has no free pages, the
// report prints freelist_count), and --reads full-range reads of random series (the same
// series for both engines) with p50/p99 latency. Every read is checked against the generated
// values; any mismatch fails the run (exit status 1).
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/trace_csv.h"
#include "storage/store.h"

ABSL_FLAG(int, series, 1000, "Number of series.");
ABSL_FLAG(int, days, 30, "Days of history, one sample per series per minute.");
ABSL_FLAG(int, batch, 0, "Samples per write batch / transaction; 0 means --series (one cycle).");
ABSL_FLAG(std::string, order, "cycle",
          "cycle: time order, a batch holds consecutive minutes of all series (the reconciler); "
          "backfill: series by series.");
ABSL_FLAG(int, reads, 200, "Number of full-range reads of random series per engine.");
ABSL_FLAG(std::string, engines, "rocksdb,sqlite", "Comma-separated engines to run, in order.");
ABSL_FLAG(bool, sync, false,
          "RocksDB WriteOptions.sync and SQLite synchronous=FULL (default: no fsync per batch "
          "for either: sync=false / synchronous=NORMAL).");
ABSL_FLAG(int, sqlite_cache_mb, 256, "SQLite page cache size in MiB.");
ABSL_FLAG(std::string, dir, "",
          "Parent directory for the databases; default a fresh directory under /tmp.");
ABSL_FLAG(bool, keep, false, "Keep the databases instead of deleting each after its run.");
ABSL_FLAG(std::string, trace, "", "timestamp,value CSV to cycle through; default the bundled "
                                  "data/traces/nab/ec2_cpu_utilization_5f5533.csv.");
ABSL_FLAG(uint64_t, seed, 1, "Seed for the choice of series to read.");

namespace {

namespace fs = std::filesystem;

constexpr char kDefaultTrace[] = "data/traces/nab/ec2_cpu_utilization_5f5533.csv";

// ---------------------------------------------------------------------------------------------
// Workload

class Workload {
 public:
  Workload(int series, int64_t minutes, std::vector<double> trace, bool backfill)
      : series_(series), minutes_(minutes), trace_(std::move(trace)), backfill_(backfill) {
    const int64_t n = static_cast<int64_t>(trace_.size());
    for (int s = 0; s < series_; ++s) {
      offset_.push_back((static_cast<int64_t>(s) * 7919) % n);
      scale_.push_back(0.5 + (s % 23) / 11.0);
      deployment_.push_back(absl::StrFormat("deploy-%04d", s));
    }
  }

  int series() const { return series_; }
  int64_t minutes() const { return minutes_; }
  int64_t total() const { return series_ * minutes_; }
  absl::Time start() const { return start_; }
  absl::Time end() const { return start_ + absl::Minutes(minutes_); }
  absl::Time Time(int64_t minute) const { return start_ + absl::Minutes(minute); }
  const std::string& Deployment(int s) const { return deployment_[s]; }

  double Value(int s, int64_t minute) const {
    return trace_[(minute + offset_[s]) % static_cast<int64_t>(trace_.size())] * scale_[s];
  }

  // The i-th sample written: (series, minute).
  void At(int64_t i, int* s, int64_t* minute) const {
    if (backfill_) {
      *s = static_cast<int>(i / minutes_);
      *minute = i % minutes_;
    } else {
      *s = static_cast<int>(i % series_);
      *minute = i / series_;
    }
  }

 private:
  const int series_;
  const int64_t minutes_;
  const std::vector<double> trace_;
  const bool backfill_;
  const absl::Time start_ = absl::FromCivil(absl::CivilDay(2024, 1, 1), absl::UTCTimeZone());
  std::vector<int64_t> offset_;
  std::vector<double> scale_;
  std::vector<std::string> deployment_;
};

// ---------------------------------------------------------------------------------------------
// Measurement helpers

struct Result {
  std::string engine;
  double ingest_seconds = 0;
  double ingest_rate = 0;  // samples/s
  double ingest_cpu_seconds = 0;  // process CPU time (all threads) during the write loop
  double finish_seconds = 0;  // CompactAll / checkpoint
  uint64_t disk_bytes = 0;
  double bytes_per_sample = 0;
  double read_p50_ms = 0;
  double read_p99_ms = 0;
  double read_mean_ms = 0;
  long peak_rss_mb = 0;
  std::string note;
};

uint64_t DirBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// User + system CPU seconds of the whole process (all threads, background compaction
// included): a figure that other load on the machine does not inflate the way it does wall time.
double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long PeakRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * v.size()));
  return v[std::max<size_t>(rank, 1) - 1];
}

class Progress {
 public:
  Progress(std::string what, int64_t total) : what_(std::move(what)), total_(total) {}
  void Update(int64_t done) {
    if (done * 10 / total_ == tenth_) return;
    tenth_ = done * 10 / total_;
    const double s = absl::ToDoubleSeconds(absl::Now() - start_);
    std::fprintf(stderr, "  %s: %3lld%%  %.0f s  %.0f samples/s\n", what_.c_str(),
                 static_cast<long long>(tenth_ * 10), s, done / std::max(s, 1e-9));
  }

 private:
  const std::string what_;
  const int64_t total_;
  int64_t tenth_ = 0;
  const absl::Time start_ = absl::Now();
};

std::vector<int> PickSeries(const Workload& w, int reads, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, w.series() - 1);
  std::vector<int> out;
  for (int i = 0; i < reads; ++i) out.push_back(pick(rng));
  return out;
}

// ---------------------------------------------------------------------------------------------
// RocksDB store

absl::StatusOr<Result> RunRocks(const Workload& w, const fs::path& dir, int batch_size,
                                bool sync, const std::vector<int>& reads) {
  Result r{.engine = "RocksDB store"};
  // Data ends "now", so all of it lies within retention.
  base::FakeClock clock(w.end());
  storage::Options options;
  options.path = (dir / "rocksdb").string();
  options.retention = absl::Minutes(w.minutes()) + absl::Hours(24);
  options.clock = &clock;
  auto opened = storage::OpenRocksStore(options);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<storage::Store> store = std::move(*opened);

  std::vector<storage::SeriesId> ids;
  for (int s = 0; s < w.series(); ++s) {
    auto id = store->RegisterSeries({"bench", w.Deployment(s), "cpu_cores", {}});
    if (!id.ok()) return id.status();
    ids.push_back(*id);
  }

  std::vector<storage::SeriesSample> batch;
  batch.reserve(batch_size);
  const storage::WriteOptions wo{.sync = sync};
  Progress progress("rocksdb ingest", w.total());
  const double cpu0 = ProcessCpuSeconds();
  const absl::Time t0 = absl::Now();
  for (int64_t i = 0; i < w.total(); ++i) {
    int s;
    int64_t m;
    w.At(i, &s, &m);
    batch.push_back({ids[s], {w.Time(m), w.Value(s, m)}});
    if (static_cast<int>(batch.size()) == batch_size || i + 1 == w.total()) {
      if (absl::Status st = store->Append(batch, wo); !st.ok()) return st;
      batch.clear();
      progress.Update(i + 1);
    }
  }
  r.ingest_seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  r.ingest_cpu_seconds = ProcessCpuSeconds() - cpu0;
  r.ingest_rate = w.total() / r.ingest_seconds;

  const absl::Time c0 = absl::Now();
  if (absl::Status st = store->CompactAll(); !st.ok()) return st;
  r.finish_seconds = absl::ToDoubleSeconds(absl::Now() - c0);
  r.disk_bytes = DirBytes(options.path);
  r.bytes_per_sample = static_cast<double>(r.disk_bytes) / w.total();
  if (auto stats = store->GetStats(); stats.ok()) {
    r.note = absl::StrFormat("Stats: disk_bytes=%d estimated_samples=%d memtable_bytes=%d",
                             stats->disk_bytes, stats->estimated_samples, stats->memtable_bytes);
  }

  std::vector<double> lat;
  for (int s : reads) {
    const absl::Time q0 = absl::Now();
    auto got = store->Scan(ids[s], w.start(), w.end());
    lat.push_back(absl::ToDoubleMilliseconds(absl::Now() - q0));
    if (!got.ok()) return got.status();
    if (static_cast<int64_t>(got->size()) != w.minutes()) {
      return absl::InternalError(absl::StrCat("rocksdb: series ", s, " returned ", got->size(),
                                              " samples, want ", w.minutes()));
    }
    for (int64_t m = 0; m < w.minutes(); ++m) {
      const storage::Sample& p = (*got)[m];
      if (p.time != w.Time(m) || p.value != w.Value(s, m)) {
        return absl::InternalError(absl::StrCat("rocksdb: series ", s, " minute ", m,
                                                " holds a wrong sample"));
      }
    }
  }
  r.read_p50_ms = Percentile(lat, 0.5);
  r.read_p99_ms = Percentile(lat, 0.99);
  double sum = 0;
  for (double x : lat) sum += x;
  r.read_mean_ms = lat.empty() ? 0 : sum / lat.size();
  r.peak_rss_mb = PeakRssMb();
  return r;
}

// ---------------------------------------------------------------------------------------------
// SQLite, the Python original's layout

class Sqlite {
 public:
  ~Sqlite() {
    for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
    if (db_) sqlite3_close(db_);
  }
  absl::Status Open(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) return Error("open");
    return absl::OkStatus();
  }
  absl::Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      return absl::InternalError(absl::StrCat("sqlite: ", sql, ": ", msg));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<sqlite3_stmt*> Prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      return Error("prepare " + sql);
    }
    stmts_.push_back(s);
    return s;
  }
  absl::StatusOr<int64_t> QueryInt(const std::string& sql) {
    auto s = Prepare(sql);
    if (!s.ok()) return s.status();
    if (sqlite3_step(*s) != SQLITE_ROW) return Error(sql);
    return sqlite3_column_int64(*s, 0);
  }
  absl::Status Error(const std::string& what) {
    return absl::InternalError(absl::StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db_)));
  }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> stmts_;
};

absl::StatusOr<Result> RunSqlite(const Workload& w, const fs::path& dir, int batch_size,
                                 bool sync, int cache_mb, const std::vector<int>& reads) {
  Result r{.engine = "SQLite (WAL)"};
  fs::create_directories(dir / "sqlite");
  Sqlite db;
  if (absl::Status st = db.Open((dir / "sqlite" / "samples.db").string()); !st.ok()) return st;
  for (const std::string& sql : {
           std::string("PRAGMA journal_mode=WAL"),
           absl::StrCat("PRAGMA synchronous=", sync ? "FULL" : "NORMAL"),
           absl::StrCat("PRAGMA cache_size=-", cache_mb * 1024),
           std::string("PRAGMA temp_store=MEMORY"),
           std::string("CREATE TABLE samples (timestamp INTEGER NOT NULL, "
                       "deployment TEXT NOT NULL, value REAL NOT NULL)"),
           std::string("CREATE INDEX samples_deployment_timestamp "
                       "ON samples (deployment, timestamp)"),
       }) {
    if (absl::Status st = db.Exec(sql); !st.ok()) return st;
  }
  auto insert = db.Prepare("INSERT INTO samples (timestamp, deployment, value) VALUES (?1, ?2, ?3)");
  auto begin = db.Prepare("BEGIN");
  auto commit = db.Prepare("COMMIT");
  if (!insert.ok()) return insert.status();
  if (!begin.ok()) return begin.status();
  if (!commit.ok()) return commit.status();
  auto step_done = [&](sqlite3_stmt* s) -> absl::Status {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db.Error("step");
    return absl::OkStatus();
  };

  Progress progress("sqlite ingest", w.total());
  const double cpu0 = ProcessCpuSeconds();
  const absl::Time t0 = absl::Now();
  int in_batch = 0;
  for (int64_t i = 0; i < w.total(); ++i) {
    if (in_batch == 0) {
      if (absl::Status st = step_done(*begin); !st.ok()) return st;
    }
    int s;
    int64_t m;
    w.At(i, &s, &m);
    sqlite3_bind_int64(*insert, 1, absl::ToUnixSeconds(w.Time(m)));
    const std::string& dep = w.Deployment(s);
    sqlite3_bind_text(*insert, 2, dep.data(), static_cast<int>(dep.size()), SQLITE_STATIC);
    sqlite3_bind_double(*insert, 3, w.Value(s, m));
    if (absl::Status st = step_done(*insert); !st.ok()) return st;
    if (++in_batch == batch_size || i + 1 == w.total()) {
      if (absl::Status st = step_done(*commit); !st.ok()) return st;
      in_batch = 0;
      progress.Update(i + 1);
    }
  }
  r.ingest_seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  r.ingest_cpu_seconds = ProcessCpuSeconds() - cpu0;
  r.ingest_rate = w.total() / r.ingest_seconds;

  const absl::Time c0 = absl::Now();
  if (absl::Status st = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !st.ok()) return st;
  r.finish_seconds = absl::ToDoubleSeconds(absl::Now() - c0);
  r.disk_bytes = DirBytes(dir / "sqlite");
  r.bytes_per_sample = static_cast<double>(r.disk_bytes) / w.total();
  auto freelist = db.QueryInt("PRAGMA freelist_count");
  auto pages = db.QueryInt("PRAGMA page_count");
  auto page_size = db.QueryInt("PRAGMA page_size");
  if (freelist.ok() && pages.ok() && page_size.ok()) {
    r.note = absl::StrFormat("page_size=%d page_count=%d freelist_count=%d (no VACUUM)",
                             *page_size, *pages, *freelist);
  }

  auto select = db.Prepare(
      "SELECT timestamp, value FROM samples WHERE deployment = ?1 AND timestamp >= ?2 AND "
      "timestamp < ?3 ORDER BY timestamp");
  if (!select.ok()) return select.status();
  std::vector<double> lat;
  std::vector<std::pair<int64_t, double>> got;
  for (int s : reads) {
    got.clear();
    const absl::Time q0 = absl::Now();
    const std::string& dep = w.Deployment(s);
    sqlite3_bind_text(*select, 1, dep.data(), static_cast<int>(dep.size()), SQLITE_STATIC);
    sqlite3_bind_int64(*select, 2, absl::ToUnixSeconds(w.start()));
    sqlite3_bind_int64(*select, 3, absl::ToUnixSeconds(w.end()));
    int rc;
    while ((rc = sqlite3_step(*select)) == SQLITE_ROW) {
      got.emplace_back(sqlite3_column_int64(*select, 0), sqlite3_column_double(*select, 1));
    }
    sqlite3_reset(*select);
    lat.push_back(absl::ToDoubleMilliseconds(absl::Now() - q0));
    if (rc != SQLITE_DONE) return db.Error("select");
    if (static_cast<int64_t>(got.size()) != w.minutes()) {
      return absl::InternalError(absl::StrCat("sqlite: series ", s, " returned ", got.size(),
                                              " rows, want ", w.minutes()));
    }
    for (int64_t m = 0; m < w.minutes(); ++m) {
      if (got[m].first != absl::ToUnixSeconds(w.Time(m)) || got[m].second != w.Value(s, m)) {
        return absl::InternalError(
            absl::StrCat("sqlite: series ", s, " minute ", m, " holds a wrong row"));
      }
    }
  }
  r.read_p50_ms = Percentile(lat, 0.5);
  r.read_p99_ms = Percentile(lat, 0.99);
  double sum = 0;
  for (double x : lat) sum += x;
  r.read_mean_ms = lat.empty() ? 0 : sum / lat.size();
  r.peak_rss_mb = PeakRssMb();
  return r;
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::vector<double>> LoadTrace(const std::string& flag, const char* argv0) {
  std::vector<std::string> candidates;
  if (!flag.empty()) {
    candidates.push_back(flag);
  } else {
    for (const char* env : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
      if (const char* v = std::getenv(env)) {
        candidates.push_back(absl::StrCat(v, "/smart_autoscaler/", kDefaultTrace));
      }
    }
    candidates.push_back(absl::StrCat(argv0, ".runfiles/smart_autoscaler/", kDefaultTrace));
    candidates.push_back(kDefaultTrace);
    if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
      candidates.push_back(absl::StrCat(ws, "/", kDefaultTrace));
    }
  }
  for (const std::string& path : candidates) {
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;
    auto points = base::ReadTraceCsv(path);
    if (!points.ok()) return points.status();
    std::vector<double> values;
    for (const base::Point& p : *points) values.push_back(p.value);
    if (values.empty()) return absl::InvalidArgumentError(path + ": empty trace");
    return values;
  }
  return absl::NotFoundError("trace not found; pass --trace");
}

std::string Fmt(double v) {
  if (v >= 100) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2f", v);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("RocksDB store vs SQLite: ingest, range reads, bytes per sample.");
  absl::ParseCommandLine(argc, argv);
  const int series = absl::GetFlag(FLAGS_series);
  const int days = absl::GetFlag(FLAGS_days);
  const int batch = absl::GetFlag(FLAGS_batch) > 0 ? absl::GetFlag(FLAGS_batch) : series;
  const std::string order = absl::GetFlag(FLAGS_order);
  if (series <= 0 || days <= 0 || (order != "cycle" && order != "backfill")) {
    std::fprintf(stderr, "need --series > 0, --days > 0, --order=cycle|backfill\n");
    return 2;
  }
  auto trace = LoadTrace(absl::GetFlag(FLAGS_trace), argv[0]);
  if (!trace.ok()) {
    std::fprintf(stderr, "%s\n", trace.status().ToString().c_str());
    return 2;
  }
  const Workload w(series, int64_t{days} * 24 * 60, std::move(*trace), order == "backfill");
  const std::vector<int> reads = PickSeries(w, absl::GetFlag(FLAGS_reads), absl::GetFlag(FLAGS_seed));

  fs::path dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    char tmpl[] = "/tmp/storage_bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 2;
    }
    dir = tmpl;
  } else {
    fs::create_directories(dir);
  }
  std::printf("storage_bench: %d series x %d days at 1/min = %lld samples, batches of %d (%s "
              "order), sync=%s, %d reads; data in %s\n",
              series, days, static_cast<long long>(w.total()), batch, order.c_str(),
              absl::GetFlag(FLAGS_sync) ? "true" : "false", absl::GetFlag(FLAGS_reads),
              dir.c_str());
  std::fflush(stdout);

  std::vector<Result> results;
  for (absl::string_view engine : absl::StrSplit(absl::GetFlag(FLAGS_engines), ',',
                                                 absl::SkipEmpty())) {
    absl::StatusOr<Result> r;
    fs::path sub;
    if (engine == "rocksdb") {
      r = RunRocks(w, dir, batch, absl::GetFlag(FLAGS_sync), reads);
      sub = dir / "rocksdb";
    } else if (engine == "sqlite") {
      r = RunSqlite(w, dir, batch, absl::GetFlag(FLAGS_sync), absl::GetFlag(FLAGS_sqlite_cache_mb),
                    reads);
      sub = dir / "sqlite";
    } else {
      std::fprintf(stderr, "unknown engine '%s'\n", std::string(engine).c_str());
      return 2;
    }
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %s\n", std::string(engine).c_str(), r.status().ToString().c_str());
      return 1;
    }
    std::printf(
        "RESULT engine=%s samples=%lld ingest_s=%.2f ingest_samples_per_s=%.0f ingest_cpu_s=%.2f "
        "ingest_samples_per_cpu_s=%.0f finish_s=%.2f "
        "disk_bytes=%llu bytes_per_sample=%.3f read_p50_ms=%.3f read_p99_ms=%.3f "
        "read_mean_ms=%.3f peak_rss_mb=%ld\n  %s\n",
        std::string(engine).c_str(), static_cast<long long>(w.total()), r->ingest_seconds,
        r->ingest_rate, r->ingest_cpu_seconds, w.total() / std::max(r->ingest_cpu_seconds, 1e-9),
        r->finish_seconds, static_cast<unsigned long long>(r->disk_bytes),
        r->bytes_per_sample, r->read_p50_ms, r->read_p99_ms, r->read_mean_ms, r->peak_rss_mb,
        r->note.c_str());
    std::fflush(stdout);
    results.push_back(*r);
    if (!absl::GetFlag(FLAGS_keep)) {
      std::error_code ec;
      fs::remove_all(sub, ec);
    }
  }
  if (!absl::GetFlag(FLAGS_keep) && absl::GetFlag(FLAGS_dir).empty()) {
    std::error_code ec;
    fs::remove(dir, ec);
  }

  std::printf("\n| metric |");
  for (const Result& r : results) std::printf(" %s |", r.engine.c_str());
  // The ratio is how many times better the first engine is (faster, or smaller on disk).
  if (results.size() == 2) std::printf(" %s advantage |", results[0].engine.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < results.size(); ++i) std::printf("---|");
  if (results.size() == 2) std::printf("---|");
  auto row = [&](const char* name, double (*get)(const Result&), bool higher_better) {
    std::printf("\n| %s |", name);
    for (const Result& r : results) std::printf(" %s |", Fmt(get(r)).c_str());
    if (results.size() == 2) {
      const double a = get(results[0]), b = get(results[1]);
      const double ratio = higher_better ? a / b : b / a;
      std::printf(" %sx |", Fmt(ratio).c_str());
    }
  };
  row("ingest, samples/s", [](const Result& r) { return r.ingest_rate; }, true);
  row("ingest, samples per CPU-second", [](const Result& r) {
    return r.ingest_rate * r.ingest_seconds / std::max(r.ingest_cpu_seconds, 1e-9);
  }, true);
  row("range read p50, ms", [](const Result& r) { return r.read_p50_ms; }, false);
  row("range read p99, ms", [](const Result& r) { return r.read_p99_ms; }, false);
  row("bytes on disk / sample", [](const Result& r) { return r.bytes_per_sample; }, false);
  std::printf("\n");
  return 0;
}
