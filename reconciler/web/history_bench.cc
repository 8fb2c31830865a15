// The history route over a real RocksDB store (a temporary directory): D deployments, each
// with a week of forecast records (one every 5 minutes, 2-step paths, as the loop writes them)
// and, for the deployment asked for, a week of per-cycle demand samples (every 60 s). What
// GET .../history?range=1h|24h|7d costs at D = 10 and 100.
//
//   bazel run -c opt //reconciler/web:history_bench
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "proto/records.pb.h"
#include "reconciler/web/web.h"
#include "storage/store.h"

namespace reconciler::web {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1764000000);
constexpr absl::Duration kWeek = absl::Hours(24 * 7);
constexpr absl::Duration kStep = absl::Minutes(5);

struct Fixture {
  std::string dir;
  std::unique_ptr<base::FakeClock> clock;
  std::unique_ptr<storage::Store> store;
};

// Writes the store for `deployments` deployments once per process (per D).
const Fixture& StoreWith(int deployments) {
  static std::map<int, Fixture>* all = new std::map<int, Fixture>();
  auto it = all->find(deployments);
  if (it != all->end()) return it->second;
  if (all->empty()) {  // the stores are removed when the process exits
    std::atexit([] {
      for (const auto& [d, fixture] : *all) std::filesystem::remove_all(fixture.dir);
    });
  }
  Fixture& f = (*all)[deployments];
  f.dir = absl::StrCat("/tmp/history-bench-", getpid(), "-", deployments);
  std::filesystem::remove_all(f.dir);
  f.clock = std::make_unique<base::FakeClock>(kNow);
  auto store = storage::OpenRocksStore({.path = f.dir, .clock = f.clock.get()});
  CHECK(store.ok()) << store.status();
  f.store = std::move(*store);
  for (int d = 0; d < deployments; ++d) {
    auto id = f.store->RegisterSeries({"shop", absl::StrCat("d", d), "cpu_demand_cores", {}});
    CHECK(id.ok()) << id.status();
    if (d == 0) {  // the one the route reads: demand every 60 s
      std::vector<storage::SeriesSample> batch;
      for (absl::Time t = kNow - kWeek; t < kNow; t += absl::Seconds(60)) {
        batch.push_back({*id, {t, 1.0 + 0.5 * std::sin(absl::ToDoubleHours(t - kNow))}});
      }
      CHECK(f.store->Append(batch, {}).ok());
    }
    smartautoscaler::v1::Forecast fc;
    fc.set_series_id(*id);
    fc.set_model("ensemble");
    fc.set_step_ms(absl::ToInt64Milliseconds(kStep));
    fc.set_lead_ms(absl::ToInt64Milliseconds(2 * kStep));
    for (absl::Time o = kNow - kWeek; o < kNow; o += kStep) {
      fc.set_origin_ms(absl::ToUnixMillis(o));
      fc.clear_path();
      for (int k = 1; k <= 2; ++k) {
        auto* p = fc.add_path();
        p->set_timestamp_ms(absl::ToUnixMillis(o + k * kStep));
        p->set_p10(0.8);
        p->set_p50(1.0);
        p->set_p90(1.3);
      }
      fc.set_peak_lead_p50(1.0);
      fc.set_peak_lead_p90(1.3);
      CHECK(
          f.store->AppendEvent(storage::EventLog::kForecasts, o, fc.SerializeAsString(), {}).ok());
    }
  }
  return f;
}

void BM_History(benchmark::State& state, const char* range) {
  const Fixture& f = StoreWith(static_cast<int>(state.range(0)));
  base::HttpRequest req;
  req.query["range"] = range;
  size_t bytes = 0;
  for (auto _ : state) {
    base::HttpResponse r = HistoryResponse(f.store.get(), "shop", "d0", req, kNow);
    CHECK_EQ(r.status, 200) << r.body;
    bytes = r.body.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}

BENCHMARK_CAPTURE(BM_History, 1h, "1h")->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_History, 24h, "24h")->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_History, 7d, "7d")->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reconciler::web
