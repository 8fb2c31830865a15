// `smart-autoscaler store`: offline maintenance of a reconciler's RocksDB store.
//
//   smart-autoscaler store backup --db /data/tsdb --to /backup/tsdb   # incremental backup
//   smart-autoscaler store restore --from /backup/tsdb --db /tmp/restored
//   smart-autoscaler store verify --db /tmp/restored                  # opens, counts, checks
//
// backup writes a consistent RocksDB backup (incremental over the earlier ones in the same
// directory; a backup cut short by a crash is never the one restore picks). restore writes the
// newest complete backup into a directory that must be empty or missing (--force overwrites a
// store that is not open anywhere). verify opens the store, counts series, samples and events,
// and checks that every series' samples are in strictly increasing time order; it exits 1 on
// any problem, one line each. The store must not be open in a running reconciler for backup
// and verify (RocksDB's LOCK file says so with a clear error).
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "storage/store.h"

ABSL_FLAG(std::string, to, "", "store backup: the backup directory (created when missing)");
ABSL_FLAG(std::string, from, "", "store restore: the backup directory to restore from");
ABSL_FLAG(bool, force, false, "store restore: overwrite a non-empty --db directory");

namespace cli {
namespace {

namespace fs = std::filesystem;

// Opening a store keeps what it holds: verify and backup must not apply the default 30-day
// retention to an old copy.
constexpr absl::Duration kKeepEverything = absl::Hours(24 * 365 * 100);

bool IsEmptyOrMissing(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

absl::StatusOr<std::unique_ptr<storage::Store>> OpenExisting(const std::string& db) {
  std::error_code ec;
  if (db.empty()) return absl::InvalidArgumentError("--db is required");
  if (!fs::is_directory(db, ec) || fs::is_empty(db, ec)) {
    return absl::NotFoundError(absl::StrCat("no store at ", db));
  }
  return storage::OpenRocksStore(
      {.path = db, .retention = kKeepEverything, .rollup_retention = kKeepEverything});
}

int Backup() {
  const std::string to = absl::GetFlag(FLAGS_to);
  if (to.empty()) {
    std::cerr << "store backup: --to is required\n";
    return 2;
  }
  auto store = OpenExisting(absl::GetFlag(FLAGS_db));
  if (!store.ok()) {
    PrintError(std::cerr, "store backup", store.status().ToString());
    return 1;
  }
  absl::Status s = (*store)->Backup(to);
  if (!s.ok()) {
    PrintError(std::cerr, "store backup", s.ToString());
    return 1;
  }
  std::cout << "store backup: " << absl::GetFlag(FLAGS_db) << " -> " << to << "\n";
  return 0;
}

int Restore() {
  const std::string from = absl::GetFlag(FLAGS_from);
  const std::string db = absl::GetFlag(FLAGS_db);
  if (from.empty() || db.empty()) {
    std::cerr << "store restore: --from and --db are required\n";
    return 2;
  }
  if (!IsEmptyOrMissing(db) && !absl::GetFlag(FLAGS_force)) {
    std::cerr << "store restore: " << db
              << " is not empty; restore into an empty directory or pass --force\n";
    return 1;
  }
  absl::Status s = storage::RestoreLatestBackup(from, db);
  if (!s.ok()) {
    PrintError(std::cerr, "store restore", s.ToString());
    return 1;
  }
  std::cout << "store restore: " << from << " -> " << db << "\n";
  return 0;
}

// Counts samples of every series and checks their order; appends one line per problem.
int64_t CountSamples(const storage::Store& store, std::vector<std::string>* problems) {
  int64_t samples = 0;
  for (const auto& [id, key] : store.ListSeries()) {
    auto scan = store.Scan(id, absl::UnixEpoch(), absl::FromUnixSeconds(int64_t{1} << 32));
    if (!scan.ok()) {
      problems->push_back(absl::StrCat("series ", id, " (", key.namespace_name, "/",
                                       key.deployment, " ", key.metric, "): ",
                                       scan.status().ToString()));
      continue;
    }
    for (size_t i = 1; i < scan->size(); ++i) {
      if (!((*scan)[i - 1].time < (*scan)[i].time)) {
        problems->push_back(absl::StrCat("series ", id, " (", key.metric, "): sample ", i,
                                         " at ", absl::FormatTime((*scan)[i].time),
                                         " is not after the previous one"));
        break;
      }
    }
    samples += static_cast<int64_t>(scan->size());
  }
  return samples;
}

int Verify() {
  const std::string db = absl::GetFlag(FLAGS_db);
  auto store = OpenExisting(db);
  if (!store.ok()) {
    PrintError(std::cerr, "store verify", store.status().ToString());
    return 1;
  }
  std::vector<std::string> problems;
  const size_t series = (*store)->ListSeries().size();
  const int64_t samples = CountSamples(**store, &problems);
  int64_t events = 0;
  for (storage::EventLog log : {storage::EventLog::kForecasts, storage::EventLog::kDecisions,
                                storage::EventLog::kAnomalies}) {
    auto e = (*store)->ScanEvents(log, absl::UnixEpoch(), absl::FromUnixSeconds(int64_t{1} << 32));
    if (!e.ok()) {
      problems.push_back(absl::StrCat("event log ", static_cast<int>(log), ": ",
                                      e.status().ToString()));
      continue;
    }
    events += static_cast<int64_t>(e->size());
  }
  for (const std::string& p : problems) std::cerr << "store verify: " << p << "\n";
  std::cout << "store verify: " << db << ": " << series << " series, " << samples
            << " samples, " << events << " events, " << problems.size() << " problems\n";
  return problems.empty() ? 0 : 1;
}

}  // namespace

int StoreMain(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "store: expected one of backup, restore, verify (see 'smart-autoscaler store "
                 "--help')\n";
    return 2;
  }
  if (args[0] == "backup") return Backup();
  if (args[0] == "restore") return Restore();
  if (args[0] == "verify") return Verify();
  std::cerr << "store: unknown action '" << args[0] << "' (backup, restore, verify)\n";
  return 2;
}

}  // namespace cli
