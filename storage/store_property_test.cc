// Randomized model check: thousands of seeded operations (register, append with overwrites
// and invalid batches, delete, scans, latest, rollups, clock moves past retention,
// compaction, reopen) run against the store and against an in-memory std::map model; every
// read must agree exactly (sums of rollups up to floating-point reassociation).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "storage/store.h"

namespace storage {
namespace {

constexpr int64_t kMsPerHour = 3600 * 1000;
const absl::Duration kRetention = absl::Hours(4);
const absl::Duration kRollupRetention = absl::Hours(9);

int64_t HourStart(int64_t ms) {
  int64_t h = ms / kMsPerHour;
  if (ms % kMsPerHour < 0) --h;
  return h * kMsPerHour;
}

struct Model {
  std::map<SeriesId, SeriesKey> series;
  std::map<SeriesId, std::map<int64_t, double>> samples;
  std::map<SeriesId, std::map<int64_t, Rollup>> rollups;  // By hour start in ms.
  SeriesId next_id = 1;

  std::optional<SeriesId> Find(const SeriesKey& key) const {
    for (const auto& [id, k] : series) {
      if (k == key) return id;
    }
    return std::nullopt;
  }
};

class StorePropertyTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    dir_ = std::string(std::getenv("TEST_TMPDIR")) + "/property_" + std::to_string(GetParam());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void Open() {
    auto s = OpenRocksStore({.path = dir_,
                             .retention = kRetention,
                             .rollup_retention = kRollupRetention,
                             .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }

  int64_t NowMs() const { return absl::ToUnixMillis(clock_.Now()); }

  // A series id to read or write: usually a live one, sometimes deleted or never seen.
  SeriesId PickId() {
    const int r = Rand(0, 9);
    if (r == 0 || model_.series.empty()) return model_.next_id + Rand(0, 3);
    if (r == 1 && model_.next_id > 1) return Rand(1, model_.next_id - 1);  // Maybe deleted.
    auto it = model_.series.begin();
    std::advance(it, Rand(0, model_.series.size() - 1));
    return it->first;
  }

  int64_t Rand(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  // A time around now, sometimes with a sub-millisecond part, sometimes infinite.
  absl::Time RandomTime() {
    const int r = Rand(0, 19);
    if (r == 0) return absl::InfinitePast();
    if (r == 1) return absl::InfiniteFuture();
    absl::Time t = absl::FromUnixMillis(NowMs() + Rand(-10 * kMsPerHour, 2 * kMsPerHour));
    if (r < 5) t += absl::Microseconds(Rand(0, 999));
    return t;
  }

  bool SampleVisible(int64_t ms) const {
    return absl::FromUnixMillis(ms) >= clock_.Now() - kRetention;
  }
  bool RollupVisible(int64_t start_ms) const {
    return absl::FromUnixMillis(start_ms) >= clock_.Now() - kRollupRetention;
  }

  void DoRegister() {
    SeriesKey key{"ns", absl::StrCat("d", Rand(0, 9)), Rand(0, 1) ? "cpu" : "mem", {}};
    if (Rand(0, 1)) key.labels["pool"] = absl::StrCat("p", Rand(0, 1));
    auto got = store_->RegisterSeries(key);
    ASSERT_TRUE(got.ok()) << got.status();
    if (std::optional<SeriesId> existing = model_.Find(key)) {
      EXPECT_EQ(*got, *existing);
    } else {
      EXPECT_EQ(*got, model_.next_id);
      model_.series[model_.next_id++] = key;
    }
  }

  void DoAppend() {
    std::vector<SeriesSample> batch;
    bool valid = true;
    const int n = Rand(1, 25);
    for (int i = 0; i < n; ++i) {
      SeriesSample e;
      e.series = PickId();
      // Times on a coarse grid so that overwrites are common.
      e.sample.time = absl::FromUnixMillis(NowMs() - Rand(-30, 300) * 60 * 1000 + Rand(0, 2));
      e.sample.value = std::uniform_real_distribution<double>(-100, 100)(rng_);
      if (Rand(0, 99) == 0) e.sample.value = std::nan("");
      if (Rand(0, 199) == 0) e.sample.value = -std::numeric_limits<double>::infinity();
      if (!std::isfinite(e.sample.value) || model_.series.count(e.series) == 0) valid = false;
      batch.push_back(e);
    }
    absl::Status s = store_->Append(batch, {.sync = Rand(0, 9) == 0});
    if (!valid) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      return;
    }
    ASSERT_TRUE(s.ok()) << s;
    for (const SeriesSample& e : batch) {
      const int64_t ms = absl::ToUnixMillis(e.sample.time);
      const double v = e.sample.value;
      model_.samples[e.series][ms] = v;
      auto [it, inserted] = model_.rollups[e.series].try_emplace(HourStart(ms));
      Rollup& r = it->second;
      if (inserted) {
        r = Rollup{absl::FromUnixMillis(HourStart(ms)), 1, v, v, v, v * v};
      } else {
        ++r.count;
        r.min = std::min(r.min, v);
        r.max = std::max(r.max, v);
        r.sum += v;
        r.sum_squares += v * v;
      }
    }
  }

  void DoDelete() {
    const SeriesId id = PickId();
    absl::Status s = store_->DeleteSeries(id);
    if (model_.series.count(id) == 0) {
      EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
      return;
    }
    ASSERT_TRUE(s.ok()) << s;
    model_.series.erase(id);
    model_.samples.erase(id);
    model_.rollups.erase(id);
  }

  void DoScan() {
    const SeriesId id = PickId();
    const absl::Time from = RandomTime();
    const absl::Time to = Rand(0, 9) == 0 ? RandomTime() : from + absl::Minutes(Rand(0, 600));
    auto got = store_->Scan(id, from, to);
    if (to < from) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      return;
    }
    if (model_.series.count(id) == 0) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound) << got.status();
      return;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    std::vector<Sample> want;
    for (const auto& [ms, v] : model_.samples[id]) {
      const absl::Time t = absl::FromUnixMillis(ms);
      if (t >= from && t < to && SampleVisible(ms)) want.push_back({t, v});
    }
    ASSERT_EQ(got->size(), want.size()) << "series " << id << " [" << from << ", " << to << ")";
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ((*got)[i].time, want[i].time);
      EXPECT_EQ((*got)[i].value, want[i].value);
    }
  }

  void DoLatest() {
    const SeriesId id = PickId();
    auto got = store_->Latest(id);
    const Sample* want = nullptr;
    Sample candidate;
    if (model_.series.count(id) != 0) {
      const auto& m = model_.samples[id];
      if (!m.empty() && SampleVisible(m.rbegin()->first)) {
        candidate = {absl::FromUnixMillis(m.rbegin()->first), m.rbegin()->second};
        want = &candidate;
      }
    }
    if (want == nullptr) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound) << got.status();
      return;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, *want);
  }

  void DoScanRollups() {
    const SeriesId id = PickId();
    const absl::Time from = RandomTime();
    const absl::Time to = from + absl::Hours(Rand(0, 12));
    auto got = store_->ScanRollups(id, from, to);
    if (model_.series.count(id) == 0) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound) << got.status();
      return;
    }
    ASSERT_TRUE(got.ok()) << got.status();
    std::vector<Rollup> want;
    for (const auto& [start_ms, r] : model_.rollups[id]) {
      if (r.start >= from && r.start < to && RollupVisible(start_ms)) want.push_back(r);
    }
    ASSERT_EQ(got->size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const Rollup& g = (*got)[i];
      EXPECT_EQ(g.start, want[i].start);
      EXPECT_EQ(g.count, want[i].count);
      EXPECT_EQ(g.min, want[i].min);
      EXPECT_EQ(g.max, want[i].max);
      EXPECT_NEAR(g.sum, want[i].sum, 1e-9 * (1 + std::abs(want[i].sum_squares)));
      EXPECT_NEAR(g.sum_squares, want[i].sum_squares, 1e-9 * (1 + want[i].sum_squares));
    }
  }

  void DoListSeries() {
    auto got = store_->ListSeries();
    ASSERT_EQ(got.size(), model_.series.size());
    auto it = model_.series.begin();
    for (const auto& [id, key] : got) {
      EXPECT_EQ(id, it->first);
      EXPECT_TRUE(key == it->second);
      ++it;
    }
  }

  base::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::mt19937_64 rng_{GetParam()};
  std::string dir_;
  std::unique_ptr<Store> store_;
  Model model_;
};

TEST_P(StorePropertyTest, AgreesWithInMemoryModel) {
  constexpr int kOps = 2500;
  int compactions = 0, reopens = 0;
  for (int op = 0; op < kOps; ++op) {
    const int r = Rand(0, 99);
    if (r < 6) {
      DoRegister();
    } else if (r < 40) {
      DoAppend();
    } else if (r < 43) {
      DoDelete();
    } else if (r < 70) {
      DoScan();
    } else if (r < 80) {
      DoLatest();
    } else if (r < 90) {
      DoScanRollups();
    } else if (r < 93) {
      DoListSeries();
    } else if (r < 97) {
      clock_.Advance(absl::Milliseconds(Rand(0, 40 * 60 * 1000)));
    } else if (r < 99) {
      ASSERT_TRUE(store_->CompactAll().ok());
      ++compactions;
    } else {
      store_.reset();
      Open();
      ++reopens;
    }
    if (HasFatalFailure() || HasFailure()) {
      FAIL() << "diverged at op " << op << " (seed " << GetParam() << ")";
    }
  }
  // The run really exercised the interesting paths.
  EXPECT_GT(compactions, 0);
  EXPECT_GT(reopens, 0);
  EXPECT_GT(model_.next_id, 5u);
  // A final full comparison after compaction and reopen.
  ASSERT_TRUE(store_->CompactAll().ok());
  store_.reset();
  Open();
  for (const auto& [id, key] : model_.series) {
    auto got = store_->Scan(id, absl::InfinitePast(), absl::InfiniteFuture());
    ASSERT_TRUE(got.ok());
    size_t visible = 0;
    for (const auto& [ms, v] : model_.samples[id]) visible += SampleVisible(ms);
    EXPECT_EQ(got->size(), visible) << "series " << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, StorePropertyTest, ::testing::Values(1, 2, 3, 20240601));

}  // namespace
}  // namespace storage
