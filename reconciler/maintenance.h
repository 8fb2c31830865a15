// maintenance: the reconciler's housekeeping off the cycle thread — the memory guard (warning:
// logged and counted; critical: model refits paused and the store's block cache shrunk, both
// undone on recovery; serving continues) and periodic store backups with retention.
//
//   reconciler::Maintenance m(opts, &guard, store.get(),
//                             [&](bool p) { loop.SetRefitsPaused(p); }, &base::RealClock());
//   m.Start();            // a thread: Tick() once a second
//   ...
//   m.Stop();             // joins; a backup in progress finishes first
//
// Tick() does whatever is due at clock->Now(); tests call it directly with a FakeClock and a
// fake cgroup directory. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/memory_guard.h"
#include "storage/store.h"

namespace reconciler {

struct MaintenanceOptions {
  absl::Duration memory_check_interval = absl::Seconds(30);  // MEMORY_CHECK_INTERVAL
  std::string backup_dir;                                    // BACKUP_DIR; "": no backups
  absl::Duration backup_interval = absl::Hours(6);           // BACKUP_INTERVAL
  int backup_retention = 4;                                  // BACKUP_RETENTION (>= 1)
  // The block cache while memory is critical (restored to the default on recovery).
  int64_t critical_block_cache_bytes = 2 << 20;
};

struct MaintenanceStats {
  base::MemoryReading memory;      // the last check
  int64_t memory_checks = 0;
  int64_t level_transitions = 0;   // changes of memory level (unknown/ok/warning/critical)
  int64_t warning_checks = 0;      // checks at warning level
  int64_t critical_checks = 0;     // checks at critical level
  int64_t backups = 0;             // backups written
  int64_t backup_failures = 0;     // backups (or purges) that failed
  int backups_kept = 0;            // in backup_dir after the last purge
  absl::Time last_backup = absl::InfinitePast();
};

class Maintenance {
 public:
  // `guard` and `clock` are required; `store` may be null (no backups, no cache to shrink);
  // `pause_refits(true)` is called on entering critical, `(false)` on leaving it. All must
  // outlive this object.
  Maintenance(MaintenanceOptions options, const base::MemoryGuard* guard, storage::Store* store,
              std::function<void(bool)> pause_refits, const base::Clock* clock);
  ~Maintenance();  // Stop()

  // Runs what is due now: a memory check every memory_check_interval, a backup every
  // backup_interval (the first one interval after the first Tick).
  void Tick();
  // One memory check now (see the file comment for what each level does).
  base::MemoryReading CheckMemory();
  // One backup now into backup_dir, then purges to backup_retention. FailedPrecondition
  // without a store or a backup_dir; the store's or RocksDB's error otherwise (counted).
  absl::Status BackupNow();

  void Start();
  void Stop();
  MaintenanceStats stats() const;

 private:
  const MaintenanceOptions options_;
  const base::MemoryGuard* const guard_;
  storage::Store* const store_;
  const std::function<void(bool)> pause_refits_;
  const base::Clock* const clock_;

  absl::Mutex tick_mu_;  // one Tick/CheckMemory/BackupNow at a time
  absl::Time next_memory_check_ ABSL_GUARDED_BY(tick_mu_) = absl::InfinitePast();
  absl::Time next_backup_ ABSL_GUARDED_BY(tick_mu_) = absl::InfinitePast();
  bool critical_ ABSL_GUARDED_BY(tick_mu_) = false;

  mutable absl::Mutex stats_mu_;
  MaintenanceStats stats_ ABSL_GUARDED_BY(stats_mu_);

  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace reconciler
