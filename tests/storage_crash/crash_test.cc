// Crash test of the RocksDB store: a child process appends synced batches and reports each
// acknowledged batch; the test SIGKILLs it at a random moment, reopens the database and checks
// that it opens cleanly, that every acknowledged batch is there with exact values (samples and
// hourly rollups), and that the one batch in flight is all or nothing. The next round continues
// on the same directory, so data (and WAL recovery history) accumulates.
//
// Rounds: 20 by default; 100 with `--crash_rounds=100` (see the storage_crash_100_test target)
// or the environment variable CRASH_ROUNDS=100 (`bazel test --test_env=CRASH_ROUNDS=100 ...`).
// The kill delays come from a fixed seed (--crash_seed / CRASH_SEED), so the schedule is the
// same on every run; what differs between runs is only how far the child gets, and every
// outcome the store's contract allows passes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/storage_crash/workload.h"

namespace {

int g_rounds = 20;
uint64_t g_seed = 20240101;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string ReadSmallFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 && out.size() < 65536) out.append(buf, n);
  close(fd);
  return out;
}

struct ChildRun {
  std::optional<std::vector<storage::SeriesId>> ready_ids;
  std::vector<int64_t> acks;
  bool killed_by_us = false;  // false: it died on its own (a failure)
  int wait_status = 0;
  std::string stderr_text;
};

// Runs the child until `delay` has passed (counted from its "ready" line when `from_ready`,
// else from the fork), SIGKILLs it and collects every line it managed to write.
ChildRun RunChild(const std::string& binary, const std::string& db, int64_t start_batch,
                  absl::Duration delay, bool from_ready, const std::string& stderr_path) {
  ChildRun run;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return run;
  }
  const std::string db_flag = "--db=" + db;
  const std::string start_flag = absl::StrCat("--start_batch=", start_batch);
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    dup2(fds[1], STDOUT_FILENO);
    int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    char* const argv[] = {const_cast<char*>(binary.c_str()), const_cast<char*>(db_flag.c_str()),
                          const_cast<char*>(start_flag.c_str()), nullptr};
    execv(binary.c_str(), argv);
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return run;
  }
  const int rfd = fds[0];
  fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);

  std::string buffer;
  auto consume_lines = [&] {
    size_t pos;
    while ((pos = buffer.find('\n')) != std::string::npos) {
      const std::string line = buffer.substr(0, pos);
      buffer.erase(0, pos + 1);
      absl::string_view rest = line;
      if (absl::ConsumePrefix(&rest, "ack ")) {
        int64_t b;
        if (absl::SimpleAtoi(rest, &b)) {
          run.acks.push_back(b);
        } else {
          ADD_FAILURE() << "bad line from child: " << line;
        }
      } else if (absl::ConsumePrefix(&rest, "ready")) {
        std::vector<storage::SeriesId> ids;
        for (absl::string_view f : absl::StrSplit(rest, ' ', absl::SkipEmpty())) {
          uint64_t id;
          if (absl::SimpleAtoi(f, &id)) ids.push_back(id);
        }
        run.ready_ids = ids;
      } else {
        ADD_FAILURE() << "bad line from child: " << line;
      }
    }
  };
  bool eof = false;
  auto drain = [&](int timeout_ms) {
    pollfd p{rfd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return;
    char buf[8192];
    for (;;) {
      const ssize_t n = read(rfd, buf, sizeof buf);
      if (n > 0) {
        buffer.append(buf, n);
        continue;
      }
      if (n == 0) eof = true;
      break;
    }
    consume_lines();
  };

  const absl::Time spawned = absl::Now();
  absl::Time deadline = spawned + delay;
  bool exited_early = false;
  if (from_ready) {
    // Opening includes WAL recovery, which grows with the database; allow it plenty of time.
    const absl::Time ready_deadline = spawned + absl::Seconds(20);
    while (!run.ready_ids && !eof && absl::Now() < ready_deadline) drain(10);
    if (!run.ready_ids) ADD_FAILURE() << "child never became ready";
    deadline = absl::Now() + delay;
  }
  while (!eof && absl::Now() < deadline) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    drain(static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(left_ms, 10))));
  }
  // Did it die on its own?
  if (waitpid(pid, &run.wait_status, WNOHANG) == pid) {
    exited_early = true;
  } else {
    kill(pid, SIGKILL);
    waitpid(pid, &run.wait_status, 0);
  }
  // The pipe keeps whatever the child wrote before it died.
  fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) & ~O_NONBLOCK);
  char buf[8192];
  ssize_t n;
  while ((n = read(rfd, buf, sizeof buf)) > 0) buffer.append(buf, n);
  consume_lines();
  close(rfd);
  run.killed_by_us = !exited_early && WIFSIGNALED(run.wait_status) &&
                     WTERMSIG(run.wait_status) == SIGKILL;
  run.stderr_text = ReadSmallFile(stderr_path);
  return run;
}

std::string ChildPath() {
  const std::string rel = "smart_autoscaler/tests/storage_crash/storage_crash_child";
  std::string srcdir = Env("TEST_SRCDIR");
  return srcdir.empty() ? rel : srcdir + "/" + rel;
}

// Checks the reopened store. `window_start`: first batch whose data is checked sample by
// sample (earlier batches were checked in earlier rounds and are re-checked on full rounds).
// `acked_high`: highest acknowledged batch overall (-1: none).
void VerifyStore(const std::string& db, const std::optional<std::vector<storage::SeriesId>>& ids,
                 int64_t window_start, int64_t acked_high, int round) {
  SCOPED_TRACE(absl::StrCat("round ", round, ", acked through batch ", acked_high,
                            ", checking from batch ", window_start));
  auto opened = storage::OpenRocksStore(crash::StoreOptions(db));
  ASSERT_TRUE(opened.ok()) << "reopen after SIGKILL: " << opened.status();
  storage::Store& store = **opened;

  const std::vector<storage::SeriesKey> keys = crash::SeriesKeys();
  std::vector<storage::SeriesId> found(keys.size(), 0);
  for (size_t s = 0; s < keys.size(); ++s) {
    auto id = store.LookupSeries(keys[s]);
    if (acked_high >= 0) {
      // A synced batch syncs the WAL with everything written before it, registration included.
      ASSERT_TRUE(id.ok()) << "series " << s << " lost: " << id.status();
    }
    if (!id.ok()) {
      ASSERT_EQ(id.status().code(), absl::StatusCode::kNotFound) << id.status();
      continue;
    }
    if (ids) {
      ASSERT_EQ(*id, (*ids)[s]) << "series " << s << " changed id";
    }
    found[s] = *id;
  }
  if (acked_high < 0 && found[0] == 0) return;

  // Scan from the start of the hour holding the window's first batch, so every hourly rollup
  // returned covers only samples this scan sees.
  const absl::Time window_time = crash::SampleTime(window_start, 0);
  const absl::Time from =
      crash::BaseTime() + absl::Floor(window_time - crash::BaseTime(), absl::Hours(1));
  // First batch lying wholly at or after `from`.
  const int64_t first_full = (from - crash::BaseTime()) / crash::BatchSlot();
  const int64_t first_checked =
      crash::SampleTime(first_full, 0) >= from ? first_full : first_full + 1;
  const absl::Time to = crash::SampleTime(acked_high + 1000000, 0);

  std::map<int64_t, int> per_batch;  // batch -> samples seen across all series
  for (size_t s = 0; s < keys.size(); ++s) {
    if (found[s] == 0) continue;
    auto samples = store.Scan(found[s], from, to);
    ASSERT_TRUE(samples.ok()) << samples.status();
    std::map<absl::Time, std::pair<int, double>> hours;  // hour -> (count, min)
    std::map<absl::Time, double> hour_max;
    absl::Time prev = absl::InfinitePast();
    for (const storage::Sample& sample : *samples) {
      int64_t b;
      int k;
      ASSERT_TRUE(crash::DecodeTime(sample.time, &b, &k))
          << "series " << s << ": unexpected time " << sample.time;
      ASSERT_LT(prev, sample.time) << "series " << s << ": not strictly ascending";
      prev = sample.time;
      ASSERT_EQ(sample.value, crash::SampleValue(b, static_cast<int>(s), k))
          << "series " << s << " batch " << b << " sample " << k;
      ++per_batch[b];
      const absl::Time hour =
          crash::BaseTime() + absl::Floor(sample.time - crash::BaseTime(), absl::Hours(1));
      auto [it, fresh] = hours.try_emplace(hour, 0, sample.value);
      it->second.first++;
      it->second.second = std::min(it->second.second, sample.value);
      auto [mx, fresh_max] = hour_max.try_emplace(hour, sample.value);
      mx->second = std::max(mx->second, sample.value);
    }
    // Rollups are written in the same atomic batch: each hour counts at least the samples
    // present (a rewritten in-flight batch may be counted twice) and min/max agree exactly
    // (a rewrite repeats identical values).
    auto rollups = store.ScanRollups(found[s], from, to);
    ASSERT_TRUE(rollups.ok()) << rollups.status();
    std::map<absl::Time, const storage::Rollup*> by_hour;
    for (const storage::Rollup& r : *rollups) by_hour[r.start] = &r;
    for (const auto& [hour, count_min] : hours) {
      auto it = by_hour.find(hour);
      ASSERT_NE(it, by_hour.end()) << "series " << s << ": no rollup for hour " << hour;
      const storage::Rollup& r = *it->second;
      EXPECT_GE(r.count, static_cast<uint64_t>(count_min.first)) << "series " << s << " " << hour;
      EXPECT_EQ(r.min, count_min.second) << "series " << s << " hour " << hour;
      EXPECT_EQ(r.max, hour_max[hour]) << "series " << s << " hour " << hour;
    }
    for (const auto& [hour, r] : by_hour) {
      EXPECT_TRUE(hours.count(hour)) << "series " << s << ": rollup without samples " << hour;
    }
    // Latest is the newest sample (the scan reaches far beyond anything written).
    if (!samples->empty()) {
      auto latest = store.Latest(found[s]);
      ASSERT_TRUE(latest.ok()) << latest.status();
      EXPECT_EQ(*latest, samples->back()) << "series " << s;
    }
  }

  const int full = static_cast<int>(keys.size());
  for (int64_t b = first_checked; b <= acked_high; ++b) {
    auto it = per_batch.find(b);
    const int got = it == per_batch.end() ? 0 : it->second;
    ASSERT_EQ(got, full * crash::SamplesPerSeries(b)) << "acknowledged batch " << b;
  }
  for (const auto& [b, got] : per_batch) {
    if (b < first_checked) continue;
    if (b == acked_high + 1) {
      // The batch in flight at the kill: all or nothing.
      EXPECT_EQ(got, full * crash::SamplesPerSeries(b)) << "partial batch " << b;
    } else {
      EXPECT_LE(b, acked_high) << "batch " << b << " was never started before the kill";
    }
  }
}

TEST(StorageCrashTest, AcknowledgedBatchesSurviveSigkill) {
  const std::string tmp = Env("TEST_TMPDIR").empty() ? "/tmp" : Env("TEST_TMPDIR");
  const std::string db = tmp + "/crash_db";
  const std::string child = ChildPath();
  ASSERT_EQ(access(child.c_str(), X_OK), 0) << "child binary not found at " << child;

  std::mt19937_64 rng(g_seed);
  std::uniform_int_distribution<int> delay_ms(20, 300);
  std::optional<std::vector<storage::SeriesId>> ids;
  int64_t acked_high = -1;
  int64_t total_acks = 0;
  int64_t prev_round_start = 0;
  const absl::Time started = absl::Now();
  for (int round = 0; round < g_rounds; ++round) {
    const int64_t start_batch = acked_high + 1;
    const absl::Duration delay = absl::Milliseconds(delay_ms(rng));
    // Every fourth round counts the delay from the fork, so some kills land while the child
    // is still opening the database (WAL recovery) or registering series.
    const bool from_ready = round % 4 != 3;
    const ChildRun run = RunChild(child, db, start_batch, delay, from_ready,
                                  absl::StrCat(tmp, "/child_", round, ".stderr"));
    ASSERT_TRUE(run.killed_by_us) << "round " << round << ": child ended on its own (status "
                                  << run.wait_status << "): " << run.stderr_text;
    if (run.ready_ids) {
      ASSERT_EQ(run.ready_ids->size(), crash::SeriesKeys().size());
      if (ids) {
        ASSERT_EQ(*ids, *run.ready_ids) << "series ids changed between runs";
      }
      ids = run.ready_ids;
    }
    for (size_t i = 0; i < run.acks.size(); ++i) {
      ASSERT_EQ(run.acks[i], start_batch + static_cast<int64_t>(i)) << "acks out of order";
    }
    if (!run.acks.empty()) acked_high = run.acks.back();
    total_acks += static_cast<int64_t>(run.acks.size());

    // Full check every fifth round and at the end; otherwise from the previous round's start.
    const bool full = round % 5 == 4 || round == g_rounds - 1;
    VerifyStore(db, ids, full ? 0 : prev_round_start, acked_high, round);
    if (HasFatalFailure() || HasFailure()) return;
    prev_round_start = start_batch;
    std::printf("round %d: delay %lld ms (%s), %zu acks, acknowledged through batch %lld\n",
                round, static_cast<long long>(absl::ToInt64Milliseconds(delay)),
                from_ready ? "after ready" : "after fork", run.acks.size(),
                static_cast<long long>(acked_high));
  }
  std::printf("%d rounds, %lld acknowledged batches, %.1f s\n", g_rounds,
              static_cast<long long>(total_acks), absl::ToDoubleSeconds(absl::Now() - started));
  // The schedule gives the child hundreds of milliseconds in most rounds; zero progress means
  // the child could not append at all.
  EXPECT_GT(total_acks, 0);
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (std::string e = Env("CRASH_ROUNDS"); !e.empty()) {
    if (!absl::SimpleAtoi(e, &g_rounds)) g_rounds = 20;
  }
  if (std::string e = Env("CRASH_SEED"); !e.empty()) absl::SimpleAtoi(e, &g_seed);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--crash_rounds=")) {
      if (!absl::SimpleAtoi(arg, &g_rounds)) {
        std::fprintf(stderr, "bad --crash_rounds\n");
        return 2;
      }
    } else if (absl::ConsumePrefix(&arg, "--crash_seed=")) {
      if (!absl::SimpleAtoi(arg, &g_seed)) {
        std::fprintf(stderr, "bad --crash_seed\n");
        return 2;
      }
    }
  }
  return RUN_ALL_TESTS();
}
