#include "base/memory_guard.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace base {
namespace {

// A cgroup file system of the test's own: one directory, files written as the kernel would.
class FakeCgroup {
 public:
  FakeCgroup() {
    root_ = std::filesystem::path(testing::TempDir()) /
            ("cgroup-" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "memory");
  }
  ~FakeCgroup() { std::filesystem::remove_all(root_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name) << text;
  }
  std::string root() const { return root_.string(); }

 private:
  std::filesystem::path root_;
};

MemoryGuard Guard(const FakeCgroup& cg, int64_t override_bytes = 0) {
  return MemoryGuard({.warning = 0.75, .critical = 0.90, .cgroup_root = cg.root(),
                      .limit_override_bytes = override_bytes});
}

TEST(MemoryGuardTest, V2WorkingSetExcludesInactiveFileCache) {
  FakeCgroup cg;
  cg.Write("memory.current", "800000000\n");
  cg.Write("memory.max", "1000000000\n");
  cg.Write("memory.stat", "anon 500000000\nfile 300000000\ninactive_file 100000000\n");
  MemoryReading r = Guard(cg).Check();
  EXPECT_EQ(r.source, "cgroup v2");
  EXPECT_EQ(*r.working_set_bytes, 700000000);
  EXPECT_EQ(*r.limit_bytes, 1000000000);
  EXPECT_DOUBLE_EQ(r.fraction, 0.7);
  EXPECT_EQ(r.level, MemoryLevel::kOk);
}

TEST(MemoryGuardTest, ClassifiesWarningAndCriticalAtTheThresholds) {
  FakeCgroup cg;
  cg.Write("memory.max", "1000\n");
  cg.Write("memory.current", "750\n");
  EXPECT_EQ(Guard(cg).Check().level, MemoryLevel::kWarning);
  cg.Write("memory.current", "899\n");
  EXPECT_EQ(Guard(cg).Check().level, MemoryLevel::kWarning);
  cg.Write("memory.current", "900\n");
  EXPECT_EQ(Guard(cg).Check().level, MemoryLevel::kCritical);
  cg.Write("memory.current", "2000\n");  // over the limit (swap, or a racy read)
  EXPECT_EQ(Guard(cg).Check().level, MemoryLevel::kCritical);
}

TEST(MemoryGuardTest, NoLimitIsUnknownNeverPressure) {
  FakeCgroup cg;
  cg.Write("memory.current", "123456789\n");
  cg.Write("memory.max", "max\n");
  MemoryReading r = Guard(cg).Check();
  EXPECT_EQ(r.level, MemoryLevel::kUnknown);
  EXPECT_EQ(*r.working_set_bytes, 123456789);
  EXPECT_FALSE(r.limit_bytes.has_value());
  // MEMORY_LIMIT_MB gives the limit the cgroup does not.
  MemoryReading o = Guard(cg, 130000000).Check();
  EXPECT_EQ(o.level, MemoryLevel::kCritical);
  EXPECT_EQ(*o.limit_bytes, 130000000);
}

TEST(MemoryGuardTest, FallsBackToCgroupV1) {
  FakeCgroup cg;
  cg.Write("memory/memory.usage_in_bytes", "600\n");
  cg.Write("memory/memory.limit_in_bytes", "1000\n");
  cg.Write("memory/memory.stat", "cache 100\ntotal_inactive_file 50\n");
  MemoryReading r = Guard(cg).Check();
  EXPECT_EQ(r.source, "cgroup v1");
  EXPECT_EQ(*r.working_set_bytes, 550);
  EXPECT_EQ(r.level, MemoryLevel::kOk);
  // v1 without a limit writes a page-rounded LONG_MAX.
  cg.Write("memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(Guard(cg).Check().level, MemoryLevel::kUnknown);
}

TEST(MemoryGuardTest, UnreadableOrMalformedFilesAreUnknown) {
  FakeCgroup cg;
  MemoryReading none = Guard(cg).Check();
  EXPECT_EQ(none.level, MemoryLevel::kUnknown);
  EXPECT_FALSE(none.working_set_bytes.has_value());
  EXPECT_NE(none.source.find("no readable cgroup"), std::string::npos);
  cg.Write("memory.current", "lots\n");
  EXPECT_EQ(Guard(cg).Check().level, MemoryLevel::kUnknown);
  EXPECT_EQ(MemoryLevelName(MemoryLevel::kCritical), std::string("critical"));
}

}  // namespace
}  // namespace base
