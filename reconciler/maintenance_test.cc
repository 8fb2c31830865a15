#include "reconciler/maintenance.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace reconciler {
namespace {

namespace fs = std::filesystem;

class MaintenanceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(testing::TempDir()) / testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cgroup");
    Use(100);
    storage::Options so;
    so.path = (dir_ / "db").string();
    auto opened = storage::OpenRocksStore(so);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }
  // cgroup v2 files: `mb` of a 1000 MB limit in use.
  void Use(int64_t mb) {
    std::ofstream(dir_ / "cgroup/memory.current") << mb * 1000000 << "\n";
    std::ofstream(dir_ / "cgroup/memory.max") << "1000000000\n";
    std::ofstream(dir_ / "cgroup/memory.stat") << "inactive_file 0\n";
  }
  fs::path dir_;
  std::unique_ptr<storage::Store> store_;
  base::FakeClock clock_{absl::FromUnixSeconds(1764000000)};
};

TEST_F(MaintenanceTest, CriticalPausesRefitsUntilRecoveryAndCountsTransitions) {
  base::MemoryGuard guard({.warning = 0.75, .critical = 0.90, .cgroup_root = (dir_ / "cgroup").string()});
  std::vector<bool> pauses;
  MaintenanceOptions o;
  o.memory_check_interval = absl::Seconds(30);
  Maintenance m(o, &guard, store_.get(), [&](bool p) { pauses.push_back(p); }, &clock_);
  m.Tick();
  EXPECT_EQ(m.stats().memory.level, base::MemoryLevel::kOk);
  Use(800);
  m.Tick();  // not due yet
  EXPECT_EQ(m.stats().memory_checks, 1);
  clock_.Advance(absl::Seconds(30));
  m.Tick();
  EXPECT_EQ(m.stats().memory.level, base::MemoryLevel::kWarning);
  EXPECT_EQ(m.stats().warning_checks, 1);
  EXPECT_TRUE(pauses.empty()) << "warning only logs and counts";
  Use(950);
  EXPECT_EQ(m.CheckMemory().level, base::MemoryLevel::kCritical);
  EXPECT_EQ(m.CheckMemory().level, base::MemoryLevel::kCritical);
  EXPECT_EQ(pauses, std::vector<bool>({true})) << "paused once on entering critical";
  Use(500);
  EXPECT_EQ(m.CheckMemory().level, base::MemoryLevel::kOk);
  EXPECT_EQ(pauses, std::vector<bool>({true, false}));
  const MaintenanceStats s = m.stats();
  EXPECT_EQ(s.level_transitions, 3);  // ok->warning->critical->ok
  EXPECT_EQ(s.critical_checks, 2);
}

TEST_F(MaintenanceTest, NoLimitIsUnknownNeverCritical) {
  std::ofstream(dir_ / "cgroup/memory.max") << "max\n";
  base::MemoryGuard guard({.cgroup_root = (dir_ / "cgroup").string()});
  bool paused = false;
  Maintenance m({}, &guard, store_.get(), [&](bool p) { paused = p; }, &clock_);
  EXPECT_EQ(m.CheckMemory().level, base::MemoryLevel::kUnknown);
  EXPECT_FALSE(paused);
}

TEST_F(MaintenanceTest, PeriodicBackupsKeepTheNewestN) {
  base::MemoryGuard guard({.cgroup_root = (dir_ / "cgroup").string()});
  MaintenanceOptions o;
  o.backup_dir = (dir_ / "backups").string();
  o.backup_interval = absl::Minutes(10);
  o.backup_retention = 2;
  Maintenance m(o, &guard, store_.get(), nullptr, &clock_);
  auto id = store_->RegisterSeries({"shop", "api", "cpu", {}});
  ASSERT_TRUE(id.ok()) << id.status();
  m.Tick();
  EXPECT_EQ(m.stats().backups, 0) << "the first backup is one interval after start";
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Minutes(10));
    m.Tick();
  }
  MaintenanceStats s = m.stats();
  EXPECT_EQ(s.backups, 4);
  EXPECT_EQ(s.backup_failures, 0);
  EXPECT_EQ(s.backups_kept, 2);
  // The kept backup restores the series.
  store_.reset();
  const std::string restored = (dir_ / "restored").string();
  ASSERT_TRUE(storage::RestoreLatestBackup(o.backup_dir, restored).ok());
  storage::Options so;
  so.path = restored;
  auto back = storage::OpenRocksStore(so);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)->ListSeries().size(), 1u);
}

TEST_F(MaintenanceTest, AFailingBackupIsCountedNotFatal) {
  base::MemoryGuard guard({.cgroup_root = (dir_ / "cgroup").string()});
  std::ofstream(dir_ / "not-a-dir") << "x";
  MaintenanceOptions o;
  o.backup_dir = (dir_ / "not-a-dir").string();
  Maintenance m(o, &guard, store_.get(), nullptr, &clock_);
  EXPECT_FALSE(m.BackupNow().ok());
  EXPECT_EQ(m.stats().backup_failures, 1);
  EXPECT_FALSE(Maintenance({}, &guard, nullptr, nullptr, &clock_).BackupNow().ok());
}

}  // namespace
}  // namespace reconciler
