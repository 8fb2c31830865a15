#include "reconciler/maintenance.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace reconciler {

Maintenance::Maintenance(MaintenanceOptions options, const base::MemoryGuard* guard,
                         storage::Store* store, std::function<void(bool)> pause_refits,
                         const base::Clock* clock)
    : options_(std::move(options)),
      guard_(guard),
      store_(store),
      pause_refits_(std::move(pause_refits)),
      clock_(clock) {}

Maintenance::~Maintenance() { Stop(); }

void Maintenance::Tick() {
  const absl::Time now = clock_->Now();
  bool check = false, backup = false;
  {
    absl::MutexLock lock(&tick_mu_);
    if (next_memory_check_ == absl::InfinitePast() || now >= next_memory_check_) {
      next_memory_check_ = now + options_.memory_check_interval;
      check = true;
    }
    if (!options_.backup_dir.empty() && store_ != nullptr) {
      if (next_backup_ == absl::InfinitePast()) {
        next_backup_ = now + options_.backup_interval;
      } else if (now >= next_backup_) {
        next_backup_ = now + options_.backup_interval;
        backup = true;
      }
    }
  }
  if (check) CheckMemory();
  if (backup) BackupNow().IgnoreError();  // logged and counted inside
}

base::MemoryReading Maintenance::CheckMemory() {
  absl::MutexLock tick(&tick_mu_);
  const base::MemoryReading r = guard_->Check();
  base::MemoryLevel before;
  {
    absl::MutexLock lock(&stats_mu_);
    before = stats_.memory.level;
    const bool first = stats_.memory_checks == 0;
    ++stats_.memory_checks;
    if (!first && r.level != before) ++stats_.level_transitions;
    if (r.level == base::MemoryLevel::kWarning) ++stats_.warning_checks;
    if (r.level == base::MemoryLevel::kCritical) ++stats_.critical_checks;
    stats_.memory = r;
  }
  const std::string use = absl::StrCat(r.working_set_bytes.value_or(-1), " of ",
                                       r.limit_bytes.value_or(-1), " bytes (", r.source, ")");
  if (r.level != before) {
    LOG(INFO) << "memory " << base::MemoryLevelName(before) << " -> "
              << base::MemoryLevelName(r.level) << ": " << use;
  }
  if (r.level == base::MemoryLevel::kWarning) LOG(WARNING) << "memory warning: " << use;
  const bool critical = r.level == base::MemoryLevel::kCritical;
  if (critical != critical_) {
    critical_ = critical;
    if (pause_refits_) pause_refits_(critical);
    if (store_ != nullptr) {
      const int64_t bytes = critical ? options_.critical_block_cache_bytes
                                     : storage::Store::kDefaultBlockCacheBytes;
      if (absl::Status s = store_->SetBlockCacheCapacity(bytes); !s.ok()) {
        LOG(ERROR) << "resizing the block cache: " << s;
      }
    }
    LOG_IF(WARNING, critical) << "memory critical";
    LOG(INFO)
        << (critical ? "memory critical: model refits paused, block cache shrunk to "
                     : "memory recovered: model refits resumed, block cache back to ")
        << (critical ? options_.critical_block_cache_bytes
                     : storage::Store::kDefaultBlockCacheBytes)
        << " bytes; serving continues";
  }
  return r;
}

absl::Status Maintenance::BackupNow() {
  if (store_ == nullptr || options_.backup_dir.empty()) {
    return absl::FailedPreconditionError("backups need a store and BACKUP_DIR");
  }
  absl::MutexLock tick(&tick_mu_);
  const absl::Time start = clock_->Now();
  absl::Status s = store_->Backup(options_.backup_dir);
  absl::StatusOr<int> kept = absl::UnknownError("not purged");
  if (s.ok()) {
    kept = storage::PurgeOldBackups(options_.backup_dir, options_.backup_retention);
    if (!kept.ok()) s = kept.status();
  }
  absl::MutexLock lock(&stats_mu_);
  if (!s.ok()) {
    ++stats_.backup_failures;
    LOG(ERROR) << "backup into " << options_.backup_dir << " failed: " << s;
    return s;
  }
  ++stats_.backups;
  stats_.backups_kept = *kept;
  stats_.last_backup = start;
  LOG(INFO) << "backup into " << options_.backup_dir << " done in "
            << absl::FormatDuration(clock_->Now() - start) << "; " << *kept << " kept";
  return absl::OkStatus();
}

void Maintenance::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    do {
      Tick();
    } while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(1)));
  });
}

void Maintenance::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  thread_.join();
}

MaintenanceStats Maintenance::stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

}  // namespace reconciler
