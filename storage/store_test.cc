#include "storage/store.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/internal/key_codec.h"

namespace storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);  // 2023-11-14T22:13:20Z

// A fresh directory per test under Bazel's TEST_TMPDIR.
std::string TestDir(const std::string& suffix = "db") {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + suffix;
  std::filesystem::remove_all(dir);
  return dir;
}

SeriesKey Key(const std::string& deployment, const std::string& metric = "cpu_cores") {
  return SeriesKey{"default", deployment, metric, {{"node_pool", "a"}}};
}

// Opens plain RocksDB over a store directory (no store options), for planting or counting
// raw records. It has no merge operator, so close the store with its WAL flushed
// (CompactAll) before using it on a store that holds rollup merges.
struct RawDb {
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::Options(), path, descriptors, &handles, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  rocksdb::ColumnFamilyHandle* Cf(const std::string& name) {
    for (auto* h : handles) {
      if (h->GetName() == name) return h;
    }
    ADD_FAILURE() << "no column family " << name;
    return nullptr;
  }
  int Count(const std::string& cf) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), Cf(cf)));
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    EXPECT_TRUE(it->status().ok());
    return n;
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    Open();
  }
  void Open() {
    auto s = OpenRocksStore({.path = dir_, .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }
  void Reopen() {
    store_.reset();
    Open();
  }
  SeriesId Register(const std::string& deployment) {
    auto id = store_->RegisterSeries(Key(deployment));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(0);
  }
  std::vector<Sample> ScanAll(SeriesId id) {
    auto r = store_->Scan(id, absl::InfinitePast(), absl::InfiniteFuture());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(std::vector<Sample>{});
  }

  base::FakeClock clock_{kT0};
  std::string dir_;
  std::unique_ptr<Store> store_;
};

// ---- key layout ----

TEST(KeyCodecTest, TimestampKeysSortLikeTimeIncludingBefore1970AndFarFuture) {
  const std::vector<absl::Time> times = {
      absl::FromCivil(absl::CivilSecond(-50000, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(1900, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
      absl::FromUnixMillis(-1000),
      absl::FromUnixMillis(-1),
      absl::UnixEpoch(),
      absl::FromUnixMillis(1),
      kT0,
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(100000000, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
  };
  std::vector<std::string> keys;
  for (absl::Time t : times) {
    ASSERT_TRUE(internal::IsStorableTime(t)) << t;
    const int64_t ms = internal::FloorMillis(t);
    keys.push_back(internal::SeriesTimeKey(42, ms));
    auto parts = internal::DecodeSeriesTimeKey(keys.back());
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->series, 42u);
    EXPECT_EQ(parts->ms, ms);
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
  // Series id dominates time: series 41 at the far future sorts before series 42 in 1900.
  EXPECT_LT(internal::SeriesTimeKey(41, internal::kMaxMillis), keys[1]);
  // Exact bytes: id big-endian, then ms with the sign bit flipped.
  EXPECT_EQ(internal::SeriesTimeKey(1, 0), std::string("\0\0\0\0\0\0\0\1\x80\0\0\0\0\0\0\0", 16));
  EXPECT_EQ(internal::SeriesTimeKey(1, -1),
            std::string("\0\0\0\0\0\0\0\1\x7f\xff\xff\xff\xff\xff\xff\xff", 16));
}

TEST(KeyCodecTest, MillisecondRoundingAndHourStarts) {
  EXPECT_EQ(internal::FloorMillis(absl::FromUnixMicros(-1)), -1);
  EXPECT_EQ(internal::CeilMillis(absl::FromUnixMicros(-1)), 0);
  EXPECT_EQ(internal::FloorMillis(absl::FromUnixMicros(1500)), 1);
  EXPECT_EQ(internal::CeilMillis(absl::FromUnixMicros(1500)), 2);
  EXPECT_EQ(internal::CeilMillis(absl::FromUnixMillis(7)), 7);
  EXPECT_EQ(internal::HourStartMillis(-1), -internal::kMillisPerHour);
  EXPECT_EQ(internal::HourStartMillis(0), 0);
  EXPECT_EQ(internal::HourStartMillis(internal::kMillisPerHour + 5), internal::kMillisPerHour);
  EXPECT_FALSE(internal::IsStorableTime(absl::InfiniteFuture()));
  EXPECT_FALSE(internal::IsStorableTime(absl::InfinitePast()));
}

TEST(KeyCodecTest, SeriesKeyEncodingIsCanonicalAndRejectsGarbage) {
  SeriesKey a{"ns", "api", "cpu", {{"b", "2"}, {"a", "1"}}};
  SeriesKey b{"ns", "api", "cpu", {{"a", "1"}, {"b", "2"}}};
  EXPECT_EQ(internal::EncodeSeriesKey(a), internal::EncodeSeriesKey(b));
  // Length prefixes keep field boundaries: ("ab", "c") differs from ("a", "bc").
  EXPECT_NE(internal::EncodeSeriesKey({"ab", "c", "m", {}}),
            internal::EncodeSeriesKey({"a", "bc", "m", {}}));
  auto decoded = internal::DecodeSeriesKey(internal::EncodeSeriesKey(a));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(*decoded == a);

  const std::string good = internal::EncodeSeriesKey(a);
  EXPECT_EQ(internal::DecodeSeriesKey(good.substr(0, good.size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(internal::DecodeSeriesKey(good + "x").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(internal::DecodeSeriesKey("\xff\xff\xff\xff").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(internal::DecodeSeriesKey("").status().code(), absl::StatusCode::kDataLoss);
}

TEST(KeyCodecTest, RollupAndDoubleValuesRoundTrip) {
  Rollup r{absl::Time(), 3, -1.5, 7.25, 9.0, 60.5};
  auto back = internal::DecodeRollupValue(internal::EncodeRollupValue(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->count, 3u);
  EXPECT_EQ(back->min, -1.5);
  EXPECT_EQ(back->max, 7.25);
  EXPECT_EQ(back->sum, 9.0);
  EXPECT_EQ(back->sum_squares, 60.5);
  EXPECT_FALSE(internal::DecodeRollupValue("short").has_value());
  EXPECT_EQ(internal::DecodeDouble(internal::EncodeDouble(-0.125)), -0.125);
  EXPECT_FALSE(internal::DecodeDouble("1234567").has_value());
}

// ---- store ----

TEST_F(StoreTest, AppendsBatchAndScansHalfOpenRangeInTimeOrder) {
  const SeriesId a = Register("api");
  const SeriesId b = Register("web");
  ASSERT_EQ(a, 1u);
  ASSERT_EQ(b, 2u);
  ASSERT_TRUE(store_
                  ->Append({{a, {kT0 + absl::Seconds(120), 3.0}},
                            {b, {kT0 + absl::Seconds(60), 9.0}},
                            {a, {kT0, 1.0}},
                            {a, {kT0 + absl::Seconds(60), 2.0}}},
                           {.sync = true})
                  .ok());
  auto r = store_->Scan(a, kT0, kT0 + absl::Seconds(120));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(Sample{kT0, 1.0}, Sample{kT0 + absl::Seconds(60), 2.0}));
  EXPECT_THAT(ScanAll(b), ElementsAre(Sample{kT0 + absl::Seconds(60), 9.0}));
  auto empty = store_->Scan(a, kT0, kT0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(StoreTest, OverwriteKeepsLastValueAndSubMillisecondsTruncate) {
  const SeriesId a = Register("api");
  ASSERT_TRUE(store_->Append({{a, {kT0 + absl::Microseconds(1999), 1.0}}}, {}).ok());
  ASSERT_TRUE(store_->Append({{a, {kT0 + absl::Milliseconds(1), 5.0}}}, {}).ok());
  EXPECT_THAT(ScanAll(a), ElementsAre(Sample{kT0 + absl::Milliseconds(1), 5.0}));
  // [1.5ms, 2ms) holds no whole millisecond; [0.5ms, 1.5ms) holds 1ms.
  EXPECT_TRUE(
      store_->Scan(a, kT0 + absl::Microseconds(1500), kT0 + absl::Milliseconds(2))->empty());
  EXPECT_EQ(store_->Scan(a, kT0 + absl::Microseconds(500), kT0 + absl::Microseconds(1500))->size(),
            1u);
}

TEST_F(StoreTest, StoresTimesBefore1970AndFarFuture) {
  const SeriesId a = Register("api");
  const absl::Time past = absl::FromUnixSeconds(-86400 * 365);
  const absl::Time future =
      absl::FromCivil(absl::CivilSecond(9999, 6, 1, 0, 0, 0), absl::UTCTimeZone());
  // The default 30-day retention would hide 1969; keep everything instead.
  store_.reset();
  auto s = OpenRocksStore({.path = dir_, .retention = absl::InfiniteDuration(), .clock = &clock_});
  ASSERT_TRUE(s.ok()) << s.status();
  store_ = *std::move(s);
  ASSERT_TRUE(
      store_->Append({{a, {future, 3.0}}, {a, {past, 1.0}}, {a, {absl::UnixEpoch(), 2.0}}}, {})
          .ok());
  EXPECT_THAT(ScanAll(a),
              ElementsAre(Sample{past, 1.0}, Sample{absl::UnixEpoch(), 2.0}, Sample{future, 3.0}));
  auto latest = store_->Latest(a);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, (Sample{future, 3.0}));
  EXPECT_EQ(store_->Append({{a, {absl::InfiniteFuture(), 1.0}}}, {}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, ReversedRangeIsInvalidArgument) {
  const SeriesId a = Register("api");
  EXPECT_EQ(store_->Scan(a, kT0, kT0 - absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ScanRollups(a, kT0, kT0 - absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ScanEvents(EventLog::kDecisions, kT0, kT0 - absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, NanOrInfiniteValueRejectsWholeBatch) {
  const SeriesId a = Register("api");
  absl::Status s = store_->Append({{a, {kT0, 1.0}},
                                   {a, {kT0 + absl::Seconds(1), 2.0}},
                                   {a, {kT0 + absl::Seconds(2), std::nan("")}}},
                                  {.sync = true});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("batch[2]"));
  s = store_->Append({{a, {kT0, std::numeric_limits<double>::infinity()}}}, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("batch[0]"));
  EXPECT_TRUE(ScanAll(a).empty());
  EXPECT_TRUE(store_->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture())->empty());
  EXPECT_EQ(store_->Latest(a).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, UnknownSeriesIsRejected) {
  const SeriesId a = Register("api");
  absl::Status s = store_->Append({{a, {kT0, 1.0}}, {a + 7, {kT0, 1.0}}}, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("batch[1]"));
  EXPECT_TRUE(ScanAll(a).empty());
  EXPECT_EQ(store_->Scan(99, kT0, kT0 + absl::Hours(1)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Latest(99).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ScanRollups(99, kT0, kT0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteSeries(99).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetSeriesKey(99).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->LookupSeries(Key("nope")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, RegistryIsIdempotentDenseAndValidates) {
  EXPECT_EQ(store_->RegisterSeries({"ns", "d", "", {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const SeriesId a = Register("api");
  EXPECT_EQ(Register("api"), a);
  const SeriesId b = Register("web");
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(*store_->LookupSeries(Key("web")), b);
  EXPECT_TRUE(*store_->GetSeriesKey(a) == Key("api"));
  auto all = store_->ListSeries();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, a);
  EXPECT_EQ(all[1].first, b);
}

TEST_F(StoreTest, LatestReturnsNewestSampleWithinRetention) {
  const SeriesId a = Register("api");
  const SeriesId b = Register("web");
  EXPECT_EQ(store_->Latest(a).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_
                  ->Append({{a, {kT0 - absl::Minutes(2), 1.0}},
                            {a, {kT0 - absl::Minutes(1), 2.0}},
                            {b, {kT0 + absl::Minutes(5), 7.0}}},
                           {})
                  .ok());
  auto latest = store_->Latest(a);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(*latest, (Sample{kT0 - absl::Minutes(1), 2.0}));
  // Survives a flush into SST files, where the prefix bloom filter is in play.
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_EQ(*store_->Latest(a), (Sample{kT0 - absl::Minutes(1), 2.0}));
  EXPECT_EQ(*store_->Latest(b), (Sample{kT0 + absl::Minutes(5), 7.0}));
  clock_.Advance(absl::Hours(24 * 31));
  EXPECT_EQ(store_->Latest(a).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, RetentionHidesExpiredDataAndCompactionRemovesIt) {
  store_.reset();
  auto opened = OpenRocksStore({.path = dir_,
                                .retention = absl::Hours(2),
                                .rollup_retention = absl::Hours(5),
                                .clock = &clock_});
  ASSERT_TRUE(opened.ok()) << opened.status();
  store_ = *std::move(opened);
  const SeriesId a = Register("api");
  std::vector<SeriesSample> batch;
  for (int m = 0; m < 6 * 60; m += 10) {
    batch.push_back({a, {kT0 + absl::Minutes(m), static_cast<double>(m)}});
  }
  ASSERT_TRUE(store_->Append(batch, {}).ok());
  ASSERT_EQ(ScanAll(a).size(), 36u);

  clock_.Set(kT0 + absl::Hours(6));  // Samples before kT0 + 4h are now past retention.
  std::vector<Sample> visible = ScanAll(a);
  ASSERT_EQ(visible.size(), 12u);
  EXPECT_EQ(visible.front().time, kT0 + absl::Hours(4));
  auto rollups = store_->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_TRUE(rollups.ok());
  // kT0 is 22:13:20, so hour starts are 22:00 (partial) .. 03:00; cutoff is 23:13:20.
  ASSERT_FALSE(rollups->empty());
  EXPECT_GE(rollups->front().start, kT0 + absl::Hours(1));
  const size_t visible_rollups = rollups->size();

  auto before = store_->GetStats();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->estimated_samples, 36u);
  ASSERT_TRUE(store_->CompactAll().ok());
  auto after = store_->GetStats();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->estimated_samples, 12u);
  EXPECT_EQ(ScanAll(a).size(), 12u);
  EXPECT_EQ(store_->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture())->size(),
            visible_rollups);

  // Physically gone: plain RocksDB, which knows nothing of retention, counts what is left.
  store_.reset();
  RawDb raw(dir_);
  EXPECT_EQ(raw.Count("samples"), 12);
}

TEST_F(StoreTest, RollupsAcrossBatchesEqualDirectComputation) {
  const SeriesId a = Register("api");
  const SeriesId b = Register("web");
  const absl::Time hour = absl::FromUnixSeconds(1700000000 / 3600 * 3600);
  std::vector<Sample> all;
  for (int i = 0; i < 300; ++i) {
    // 300 samples, one every 30 s from hour - 30 min: spans hours h-1 .. h+1 ..
    all.push_back({hour - absl::Minutes(30) + absl::Seconds(30 * i), std::sin(i) * 10 + i % 7});
  }
  for (size_t start = 0; start < all.size(); start += 37) {  // Uneven batches across hours.
    std::vector<SeriesSample> batch;
    for (size_t i = start; i < std::min(all.size(), start + 37); ++i) {
      batch.push_back({a, all[i]});
      batch.push_back({b, {all[i].time, 1.0}});
    }
    ASSERT_TRUE(store_->Append(batch, {}).ok());
    if (start == 37 * 4) {
      ASSERT_TRUE(store_->CompactAll().ok());  // Merge across levels too.
    }
  }
  auto rollups = store_->ScanRollups(a, hour - absl::Hours(1), hour + absl::Hours(3));
  ASSERT_TRUE(rollups.ok()) << rollups.status();
  ASSERT_EQ(rollups->size(), 3u);
  for (int h = 0; h < 3; ++h) {
    const absl::Time start = hour + absl::Hours(h - 1);
    Rollup want{start, 0, 1e300, -1e300, 0, 0};
    for (const Sample& s : all) {
      if (s.time < start || s.time >= start + absl::Hours(1)) continue;
      ++want.count;
      want.min = std::min(want.min, s.value);
      want.max = std::max(want.max, s.value);
      want.sum += s.value;
      want.sum_squares += s.value * s.value;
    }
    const Rollup& got = (*rollups)[h];
    EXPECT_EQ(got.start, start);
    EXPECT_EQ(got.count, want.count);
    EXPECT_EQ(got.min, want.min);
    EXPECT_EQ(got.max, want.max);
    EXPECT_NEAR(got.sum, want.sum, 1e-9);
    EXPECT_NEAR(got.sum_squares, want.sum_squares, 1e-7);
  }
  EXPECT_EQ((*rollups)[0].count, 60u);  // 30 minutes of 30-second samples.
  // Range selects by hour start: [hour, hour + 1h) is exactly one rollup.
  auto one = store_->ScanRollups(a, hour, hour + absl::Hours(1));
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].start, hour);
  EXPECT_EQ((*one)[0].count, 120u);
  // Series b counted independently.
  auto rb = store_->ScanRollups(b, hour, hour + absl::Hours(1));
  ASSERT_EQ(rb->size(), 1u);
  EXPECT_EQ((*rb)[0].count, 120u);
  EXPECT_EQ((*rb)[0].sum, 120.0);
  EXPECT_EQ((*rb)[0].mean(), 1.0);
}

TEST_F(StoreTest, OverwrittenSampleStillCountsInRollup) {
  const SeriesId a = Register("api");
  ASSERT_TRUE(store_->Append({{a, {kT0, 1.0}}}, {}).ok());
  ASSERT_TRUE(store_->Append({{a, {kT0, 3.0}}}, {}).ok());
  EXPECT_THAT(ScanAll(a), ElementsAre(Sample{kT0, 3.0}));
  auto r = store_->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].count, 2u);
  EXPECT_EQ((*r)[0].sum, 4.0);
}

TEST_F(StoreTest, DeleteSeriesRemovesDataAndNeverReusesId) {
  const SeriesId a = Register("api");
  const SeriesId b = Register("web");
  ASSERT_TRUE(store_->Append({{a, {kT0, 1.0}}, {b, {kT0, 2.0}}}, {}).ok());
  ASSERT_TRUE(store_->CompactAll().ok());  // Some data in SST files, some in the memtable.
  ASSERT_TRUE(store_->Append({{a, {kT0 + absl::Seconds(1), 1.5}}}, {}).ok());
  ASSERT_TRUE(store_->DeleteSeries(a).ok());
  EXPECT_EQ(store_->Scan(a, kT0, kT0 + absl::Hours(1)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->LookupSeries(Key("api")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteSeries(a).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ScanAll(b), ElementsAre(Sample{kT0, 2.0}));

  const SeriesId again = Register("api");
  EXPECT_EQ(again, b + 1);
  EXPECT_TRUE(ScanAll(again).empty());
  EXPECT_TRUE(store_->ScanRollups(again, absl::InfinitePast(), absl::InfiniteFuture())->empty());
  Reopen();
  EXPECT_EQ(store_->ListSeries().size(), 2u);
  EXPECT_EQ(Register("other"), again + 1);
  ASSERT_TRUE(store_->CompactAll().ok());
  store_.reset();
  RawDb raw(dir_);
  EXPECT_EQ(raw.Count("samples"), 1);
  EXPECT_EQ(raw.Count("rollups"), 1);
}

TEST_F(StoreTest, EventsKeepDuplicatesInTimeThenAppendOrder) {
  ASSERT_TRUE(store_->AppendEvent(EventLog::kDecisions, kT0, "second-at-t0", {}).ok());
  ASSERT_TRUE(store_->AppendEvent(EventLog::kDecisions, kT0 - absl::Seconds(1), "early", {}).ok());
  ASSERT_TRUE(store_->AppendEvent(EventLog::kDecisions, kT0, "third-at-t0", {}).ok());
  ASSERT_TRUE(store_->AppendEvent(EventLog::kAnomalies, kT0, "anomaly", {}).ok());
  ASSERT_TRUE(store_->AppendEvent(EventLog::kPodLifetimes, kT0, "pod", {}).ok());
  Reopen();  // The sequence counter must continue, not restart and overwrite.
  ASSERT_TRUE(store_->AppendEvent(EventLog::kDecisions, kT0, std::string("a\0b", 3), {}).ok());
  auto events =
      store_->ScanEvents(EventLog::kDecisions, kT0 - absl::Hours(1), kT0 + absl::Hours(1));
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> payloads;
  for (const Event& e : *events) payloads.push_back(e.payload);
  EXPECT_THAT(payloads,
              ElementsAre("early", "second-at-t0", "third-at-t0", std::string("a\0b", 3)));
  EXPECT_EQ((*events)[1].time, kT0);
  auto only_early = store_->ScanEvents(EventLog::kDecisions, absl::InfinitePast(), kT0);
  ASSERT_EQ(only_early->size(), 1u);
  EXPECT_EQ((*only_early)[0].payload, "early");
  auto anomalies =
      store_->ScanEvents(EventLog::kAnomalies, absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_EQ(anomalies->size(), 1u);
  auto pods = store_->ScanEvents(EventLog::kPodLifetimes, absl::InfinitePast(),
                                 absl::InfiniteFuture());
  ASSERT_EQ(pods->size(), 1u);
  EXPECT_EQ((*pods)[0].payload, "pod");
  EXPECT_TRUE(store_->ScanEvents(EventLog::kForecasts, absl::InfinitePast(), absl::InfiniteFuture())
                  ->empty());
  EXPECT_EQ(store_->AppendEvent(static_cast<EventLog>(9), kT0, "x", {}).code(),
            absl::StatusCode::kInvalidArgument);
  // ForEachEvent hands over the same events in the same order, and refuses what ScanEvents does.
  std::vector<std::pair<absl::Time, std::string>> seen;
  ASSERT_TRUE(store_
                  ->ForEachEvent(EventLog::kDecisions, kT0 - absl::Hours(1),
                                 kT0 + absl::Hours(1),
                                 [&](absl::Time t, absl::string_view payload) {
                                   seen.emplace_back(t, std::string(payload));
                                 })
                  .ok());
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], std::make_pair(kT0 - absl::Seconds(1), std::string("early")));
  EXPECT_EQ(seen[3], std::make_pair(kT0, std::string("a\0b", 3)));
  auto ignore = [](absl::Time, absl::string_view) {};
  EXPECT_EQ(store_->ForEachEvent(EventLog::kDecisions, kT0, kT0 - absl::Seconds(1), ignore).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->ForEachEvent(static_cast<EventLog>(9), kT0, kT0, ignore).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, ReopenKeepsSamplesRollupsRegistryAndEvents) {
  const SeriesId a = Register("api");
  ASSERT_TRUE(
      store_->Append({{a, {kT0, 1.25}}, {a, {kT0 + absl::Minutes(1), 2.5}}}, {.sync = true}).ok());
  ASSERT_TRUE(store_->AppendEvent(EventLog::kForecasts, kT0, "f", {.sync = true}).ok());
  Reopen();
  EXPECT_EQ(*store_->LookupSeries(Key("api")), a);
  EXPECT_THAT(ScanAll(a), ElementsAre(Sample{kT0, 1.25}, Sample{kT0 + absl::Minutes(1), 2.5}));
  auto r = store_->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].count, 2u);
  EXPECT_EQ(store_->ScanEvents(EventLog::kForecasts, kT0, kT0 + absl::Seconds(1))->size(), 1u);
  auto stats = store_->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->series, 1u);
  EXPECT_GT(stats->disk_bytes, 0u);
}

TEST_F(StoreTest, BackupRestoresIntoFreshDirectory) {
  const SeriesId a = Register("api");
  ASSERT_TRUE(store_->Append({{a, {kT0, 1.0}}}, {}).ok());
  ASSERT_TRUE(store_->AppendEvent(EventLog::kDecisions, kT0, "d1", {}).ok());
  const std::string backups = TestDir("backups");
  ASSERT_TRUE(store_->Backup(backups).ok());
  ASSERT_TRUE(store_->Append({{a, {kT0 + absl::Minutes(1), 2.0}}}, {}).ok());
  absl::Status second = store_->Backup(backups);  // Incremental.
  ASSERT_TRUE(second.ok()) << second;
  ASSERT_TRUE(store_->Append({{a, {kT0 + absl::Minutes(2), 3.0}}}, {}).ok());  // Not backed up.

  const std::string restored = TestDir("restored");
  absl::Status s = RestoreLatestBackup(backups, restored);
  ASSERT_TRUE(s.ok()) << s;
  auto copy = OpenRocksStore({.path = restored, .clock = &clock_});
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(*(*copy)->LookupSeries(Key("api")), a);
  auto samples = (*copy)->Scan(a, absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_TRUE(samples.ok());
  EXPECT_THAT(*samples, ElementsAre(Sample{kT0, 1.0}, Sample{kT0 + absl::Minutes(1), 2.0}));
  EXPECT_EQ((*copy)->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture())->at(0).count, 2u);
  EXPECT_EQ((*copy)->ScanEvents(EventLog::kDecisions, kT0, kT0 + absl::Seconds(1))->size(), 1u);
}

TEST_F(StoreTest, RestoreRefusesOpenDatabaseAndMissingBackup) {
  const SeriesId a = Register("api");
  ASSERT_TRUE(store_->Append({{a, {kT0, 1.0}}}, {}).ok());
  EXPECT_EQ(RestoreLatestBackup(TestDir("none"), TestDir("target")).code(),
            absl::StatusCode::kNotFound);
  const std::string backups = TestDir("backups");
  std::filesystem::create_directories(backups);
  EXPECT_EQ(RestoreLatestBackup(backups, TestDir("target")).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Backup(backups).ok());
  EXPECT_EQ(RestoreLatestBackup(backups, dir_).code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(ScanAll(a), ElementsAre(Sample{kT0, 1.0}));  // The open store is untouched.
}

TEST_F(StoreTest, SecondOpenOfSamePathIsUnavailable) {
  auto second = OpenRocksStore({.path = dir_, .clock = &clock_});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST_F(StoreTest, LockHeldByAnotherProcessIsUnavailable) {
  const std::string dir = TestDir("other");
  {
    auto s = OpenRocksStore({.path = dir, .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status();
  }
  // A child process takes the same POSIX record lock RocksDB uses on LOCK and holds it until
  // the parent has tried to open.
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = open((dir + "/LOCK").c_str(), O_RDWR);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    char c = (fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0) ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    (void)!read(done[0], &c, 1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto second = OpenRocksStore({.path = dir, .clock = &clock_});
  (void)!write(done[1], "x", 1);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  for (int fd : {ready[0], ready[1], done[0], done[1]}) close(fd);
}

TEST_F(StoreTest, ReadersRunConcurrentlyWithOneWriter) {
  const SeriesId a = Register("api");
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> reads{0};
  // Every sample i has value i at kT0 + i seconds, so any scan must return consecutive
  // values starting at 0, whatever prefix of the batches it sees.
  auto reader = [&] {
    while (!stop.load()) {
      auto r = store_->Scan(a, kT0, kT0 + absl::Hours(1));
      if (!r.ok()) {
        ++failures;
        continue;
      }
      for (size_t i = 0; i < r->size(); ++i) {
        if ((*r)[i].value != static_cast<double>(i) || (*r)[i].time != kT0 + absl::Seconds(i)) {
          ++failures;
          break;
        }
      }
      (void)store_->Latest(a);
      (void)store_->ListSeries();
      ++reads;
    }
  };
  std::thread r1(reader), r2(reader);
  for (int b = 0; b < 200; ++b) {
    std::vector<SeriesSample> batch;
    for (int i = b * 10; i < b * 10 + 10; ++i) {
      batch.push_back({a, {kT0 + absl::Seconds(i), static_cast<double>(i)}});
    }
    ASSERT_TRUE(store_->Append(batch, {}).ok());
    if (b % 50 == 0) {
      Register(absl::StrCat("extra", b));
      ASSERT_TRUE(store_->CompactAll().ok());
    }
  }
  stop = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(ScanAll(a).size(), 2000u);
}

TEST_F(StoreTest, BadOptionsAreInvalidArgument) {
  EXPECT_EQ(OpenRocksStore({.path = ""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      OpenRocksStore({.path = TestDir("x"), .retention = absl::ZeroDuration()}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, CorruptSampleValueIsDataLoss) {
  const SeriesId a = Register("api");
  ASSERT_TRUE(store_->Append({{a, {kT0, 1.0}}}, {}).ok());
  ASSERT_TRUE(store_->CompactAll().ok());
  store_.reset();
  {
    RawDb raw(dir_);
    ASSERT_TRUE(raw.db
                    ->Put(rocksdb::WriteOptions(), raw.Cf("samples"),
                          internal::SeriesTimeKey(a, internal::FloorMillis(kT0) + 1), "abc")
                    .ok());
  }
  Open();
  auto r = store_->Scan(a, absl::InfinitePast(), absl::InfiniteFuture());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_EQ(store_->Latest(a).status().code(), absl::StatusCode::kDataLoss);
  // Other ranges still read fine.
  EXPECT_THAT(*store_->Scan(a, kT0, kT0 + absl::Milliseconds(1)), ElementsAre(Sample{kT0, 1.0}));
}

TEST_F(StoreTest, CorruptRollupIsDataLossUntilTheHourIsRebuilt) {
  const SeriesId a = Register("api");
  const SeriesId b = Register("web");
  ASSERT_TRUE(store_->Append({{b, {kT0, 4.0}}}, {}).ok());
  // Leave no WAL behind: plain RocksDB has no merge operator to replay rollup merges with.
  ASSERT_TRUE(store_->CompactAll().ok());
  store_.reset();
  const int64_t hour = internal::HourStartMillis(internal::FloorMillis(kT0));
  {
    RawDb raw(dir_);
    ASSERT_TRUE(raw.db
                    ->Put(rocksdb::WriteOptions(), raw.Cf("rollups"),
                          internal::SeriesTimeKey(a, hour), "abc")
                    .ok());
  }
  Open();
  EXPECT_EQ(store_->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kDataLoss);
  // A new sample of that hour merges over the bad record, which is dropped, not fatal: the
  // store keeps accepting writes and compacting.
  ASSERT_TRUE(store_->Append({{a, {kT0, 2.0}}}, {}).ok());
  ASSERT_TRUE(store_->CompactAll().ok());
  ASSERT_TRUE(store_->Append({{a, {kT0 + absl::Seconds(1), 3.0}}}, {}).ok());
  auto r = store_->ScanRollups(a, absl::InfinitePast(), absl::InfiniteFuture());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].count, 2u);
  EXPECT_EQ((*r)[0].sum, 5.0);
  EXPECT_EQ(store_->ScanRollups(b, absl::InfinitePast(), absl::InfiniteFuture())->at(0).sum, 4.0);
}

TEST_F(StoreTest, CorruptRegistryRecordFailsOpenWithDataLoss) {
  Register("api");
  store_.reset();
  {
    RawDb raw(dir_);
    std::string key = "i/";
    internal::AppendBigEndian64(5, &key);
    ASSERT_TRUE(raw.db->Put(rocksdb::WriteOptions(), raw.Cf("meta"), key, "\x01\x02junk").ok());
  }
  auto s = OpenRocksStore({.path = dir_, .clock = &clock_});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
}

}  // namespace
}  // namespace storage
