// `smart-autoscaler ingest`: the first end-to-end job. Parses a CSV trace (the bundled NAB
// trace by default), stores it in the RocksDB store as one or more series, reads every series
// back, checks the values are identical, and prints what each step cost.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/trace_csv.h"
#include "cli/commands.h"
#include "storage/store.h"

ABSL_FLAG(std::string, input, "",
          "CSV trace 'timestamp,value' to ingest; empty means the bundled NAB trace");
ABSL_FLAG(int, series, 100, "copies of the trace to store as separate series (1-100000)");
ABSL_FLAG(int, batch, 1000, "samples per synced-off write batch (1-1000000)");

namespace cli {
namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string Rate(double n, double secs) {
  return absl::StrFormat("%.0f/s", secs > 0 ? n / secs : 0.0);
}

}  // namespace

int IngestMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "ingest: unexpected argument '" << args[0] << "'\n";
    return 2;
  }
  const int series = absl::GetFlag(FLAGS_series);
  const int batch = absl::GetFlag(FLAGS_batch);
  bool bad = false;
  if (series < 1 || series > 100000) {
    std::cerr << "ingest: --series=" << series << " out of range 1-100000\n";
    bad = true;
  }
  if (batch < 1 || batch > 1000000) {
    std::cerr << "ingest: --batch=" << batch << " out of range 1-1000000\n";
    bad = true;
  }
  if (bad) return 2;

  auto t0 = std::chrono::steady_clock::now();
  std::string source = absl::GetFlag(FLAGS_input);
  absl::StatusOr<std::vector<base::Point>> points =
      source.empty() ? base::ParseTraceCsv(kEmbeddedTrace, kEmbeddedTraceName)
                     : base::ReadTraceCsv(source);
  if (!points.ok()) {
    PrintError(std::cerr, "ingest", points.status().message());
    return 1;
  }
  if (source.empty()) source = absl::StrCat(kEmbeddedTraceName, " (bundled)");
  const double parse_s = Seconds(t0);
  if (points->empty()) {
    std::cerr << "ingest: " << source << " has no rows\n";
    return 1;
  }

  std::string db = absl::GetFlag(FLAGS_db);
  const bool temporary = db.empty();
  if (temporary) {
    char tmpl[] = "/tmp/smart-autoscaler-ingest-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("ingest: mkdtemp");
      return 1;
    }
    db = tmpl;
  }
  // Keep every sample of the trace visible: retention counts back from the newest sample.
  base::FakeClock clock(points->back().time);
  auto store = storage::OpenRocksStore({.path = db, .clock = &clock});
  if (!store.ok()) {
    std::cerr << "ingest: open " << db << ": " << store.status() << "\n";
    return 1;
  }
  const absl::Duration span = points->back().time - points->front().time;
  if (span > absl::Hours(24 * 30)) {
    std::cerr << "ingest: note: the trace spans " << absl::FormatDuration(span)
              << "; samples older than the 30-day retention are not read back\n";
  }

  std::printf("input      %s: %zu samples, %s to %s\n", source.c_str(), points->size(),
              absl::FormatTime("%Y-%m-%d %H:%M", points->front().time, absl::UTCTimeZone()).c_str(),
              absl::FormatTime("%Y-%m-%d %H:%M", points->back().time, absl::UTCTimeZone()).c_str());
  std::printf("parse      %.1f ms\n", parse_s * 1e3);

  std::vector<storage::SeriesId> ids;
  for (int s = 0; s < series; ++s) {
    auto id = (*store)->RegisterSeries(
        {"demo", absl::StrCat("trace-", s), "cpu_utilization_pct", {{"source", "ingest"}}});
    if (!id.ok()) {
      std::cerr << "ingest: register: " << id.status() << "\n";
      return 1;
    }
    ids.push_back(*id);
  }

  // Write the way the reconciler does: one sample per series per step, many series a batch.
  t0 = std::chrono::steady_clock::now();
  std::vector<storage::SeriesSample> pending;
  pending.reserve(batch);
  size_t written = 0;
  for (const base::Point& p : *points) {
    for (storage::SeriesId id : ids) {
      pending.push_back({id, {p.time, p.value}});
      if (pending.size() == static_cast<size_t>(batch)) {
        if (absl::Status st = (*store)->Append(pending, {}); !st.ok()) {
          std::cerr << "ingest: append: " << st << "\n";
          return 1;
        }
        written += pending.size();
        pending.clear();
      }
    }
  }
  if (!pending.empty()) {
    if (absl::Status st = (*store)->Append(pending, {.sync = true}); !st.ok()) {
      std::cerr << "ingest: append: " << st << "\n";
      return 1;
    }
    written += pending.size();
  }
  const double append_s = Seconds(t0);
  std::printf("append     %zu samples in %zu series in %.2f s (%s, batches of %d)\n", written,
              ids.size(), append_s, Rate(written, append_s).c_str(), batch);

  t0 = std::chrono::steady_clock::now();
  size_t read = 0, mismatches = 0;
  for (storage::SeriesId id : ids) {
    auto got = (*store)->Scan(id, points->front().time, points->back().time + absl::Seconds(1));
    if (!got.ok()) {
      std::cerr << "ingest: scan: " << got.status() << "\n";
      return 1;
    }
    read += got->size();
    if (got->size() != points->size()) {
      ++mismatches;
      continue;
    }
    for (size_t i = 0; i < got->size(); ++i) {
      if ((*got)[i].time != (*points)[i].time || (*got)[i].value != (*points)[i].value) {
        ++mismatches;
        break;
      }
    }
  }
  const double scan_s = Seconds(t0);
  std::printf("scan       %zu samples in %.2f s (%s, %.2f ms per %zu-point series)\n", read,
              scan_s, Rate(read, scan_s).c_str(), scan_s * 1e3 / ids.size(), points->size());

  auto rollups = (*store)->ScanRollups(ids[0], points->front().time - absl::Hours(1),
                                       points->back().time + absl::Hours(1));
  if (!rollups.ok()) {
    std::cerr << "ingest: rollups: " << rollups.status() << "\n";
    return 1;
  }
  double peak = 0;
  for (const storage::Rollup& r : *rollups) peak = std::max(peak, r.max);
  std::printf("rollups    %zu hourly rollups per series; busiest hour peaked at %.1f\n",
              rollups->size(), peak);

  t0 = std::chrono::steady_clock::now();
  if (absl::Status st = (*store)->CompactAll(); !st.ok()) {
    std::cerr << "ingest: compact: " << st << "\n";
    return 1;
  }
  const double compact_s = Seconds(t0);
  auto stats = (*store)->GetStats();
  if (stats.ok()) {
    std::printf("disk       %.2f MB after compaction (%.1f s), %.2f bytes per sample\n",
                stats->disk_bytes / 1e6, compact_s,
                written ? static_cast<double>(stats->disk_bytes) / written : 0.0);
  }
  store->reset();
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(db, ec);
  } else {
    std::printf("store      %s\n", db.c_str());
  }
  if (mismatches != 0) {
    std::printf("verify     FAILED: %zu of %zu series differ from the input\n", mismatches,
                ids.size());
    return 1;
  }
  std::printf("verify     OK: every sample read back equals the input\n");
  return 0;
}

}  // namespace cli
