// The crash test's victim: opens the store, registers the workload's series and appends synced
// batches forever, starting at --start_batch. Protocol on stdout (one write(2) per line, so a
// line is either wholly in the pipe or not at all):
//   ready <id> <id> <id>   after opening and registering
//   ack <batch>            after Append(..., {.sync = true}) of that batch returned OK
// Any error goes to stderr and ends the process with a non-zero status; the parent treats an
// exit it did not cause as a failure.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "storage/store.h"
#include "tests/storage_crash/workload.h"

ABSL_FLAG(std::string, db, "", "Database directory.");
ABSL_FLAG(int64_t, start_batch, 0, "Number of the first batch to append.");

namespace {

void WriteLine(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(4);  // parent went away
    done += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) {
    std::fprintf(stderr, "--db is required\n");
    return 2;
  }
  auto store = storage::OpenRocksStore(crash::StoreOptions(db));
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 2;
  }
  std::vector<storage::SeriesId> ids;
  std::string ready = "ready";
  for (const storage::SeriesKey& key : crash::SeriesKeys()) {
    auto id = (*store)->RegisterSeries(key);
    if (!id.ok()) {
      std::fprintf(stderr, "register: %s\n", id.status().ToString().c_str());
      return 2;
    }
    ids.push_back(*id);
    absl::StrAppend(&ready, " ", *id);
  }
  WriteLine(ready + "\n");
  for (int64_t batch = absl::GetFlag(FLAGS_start_batch);; ++batch) {
    const absl::Status st = (*store)->Append(crash::MakeBatch(batch, ids), {.sync = true});
    if (!st.ok()) {
      std::fprintf(stderr, "append %lld: %s\n", static_cast<long long>(batch),
                   st.ToString().c_str());
      return 3;
    }
    WriteLine(absl::StrCat("ack ", batch, "\n"));
  }
}
