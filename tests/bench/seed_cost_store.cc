// seed_cost_store: fills a reconciler RocksDB store with what `smart-autoscaler costs` reads,
// for the cost benchmark: per deployment, pods replaced every 2 days (--pods at a time, each
// 250m and 512 MB, written to the pod-lifetime log as the loop writes them: an open record at
// the start, an ended one at the end) and cpu_demand_cores / memory_working_set_bytes samples
// every --step (a daily sine around 1.2 cores and 2.5 GB).
//
//   seed_cost_store --db /tmp/cbench/tsdb --deployments 1000 --days 30 --step 5m
#include <algorithm>
#include <cmath>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "reconciler/costs/costs.h"
#include "storage/store.h"

ABSL_FLAG(std::string, db, "", "store directory");
ABSL_FLAG(int, deployments, 1000, "deployments");
ABSL_FLAG(int, pods, 8, "pods per deployment at a time");
ABSL_FLAG(int, days, 30, "days of history, ending now");
ABSL_FLAG(absl::Duration, step, absl::Minutes(5), "sample spacing");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto store = storage::OpenRocksStore({.path = absl::GetFlag(FLAGS_db)});
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) / 60 * 60);
  const absl::Time from = now - absl::Hours(24 * absl::GetFlag(FLAGS_days));
  const absl::Duration step = absl::GetFlag(FLAGS_step);
  uint64_t samples = 0, records = 0;
  for (int d = 0; d < absl::GetFlag(FLAGS_deployments); ++d) {
    const std::string name = absl::StrCat("app-", d);
    for (int slot = 0; slot < absl::GetFlag(FLAGS_pods); ++slot) {
      for (absl::Time t = from - absl::Hours(slot * 6); t < now; t += absl::Hours(48)) {
        costs::PodLifetime p{absl::StrCat(name, "-", slot, "-", absl::ToUnixSeconds(t)), t,
                             absl::InfiniteFuture(), 250, 512000000, "node", ""};
        auto put = [&](absl::Time at) {
          absl::Status s = (*store)->AppendEvent(storage::EventLog::kPodLifetimes, at,
                                                 costs::EncodePodLifetime("bench", name, p), {});
          if (!s.ok()) std::cerr << s << "\n";
          ++records;
        };
        put(std::max(t, from));
        if (t + absl::Hours(48) < now) {
          p.end = t + absl::Hours(48);
          put(p.end);
        }
      }
    }
    auto cpu = (*store)->RegisterSeries({"bench", name, costs::kCpuDemandMetric, {}});
    auto mem = (*store)->RegisterSeries({"bench", name, costs::kMemoryWorkingSetMetric, {}});
    if (!cpu.ok() || !mem.ok()) {
      std::cerr << "register failed\n";
      return 1;
    }
    std::vector<storage::SeriesSample> batch;
    for (absl::Time t = from; t <= now; t += step) {
      const double day = absl::ToDoubleHours(t - from) / 24 + d * 0.01;
      batch.push_back({*cpu, {t, 1.2 + 0.6 * std::sin(day * 6.283)}});
      batch.push_back({*mem, {t, 2.5e9 + 2e8 * std::sin(day * 6.283)}});
    }
    absl::Status s = (*store)->Append(batch, {});
    if (!s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
    samples += batch.size();
  }
  absl::Status s = (*store)->CompactAll();
  if (!s.ok()) std::cerr << s << "\n";
  std::cout << "seeded " << samples << " samples and " << records << " pod-lifetime records, "
            << absl::FormatTime(absl::RFC3339_sec, from, absl::UTCTimeZone()) << " to "
            << absl::FormatTime(absl::RFC3339_sec, now, absl::UTCTimeZone()) << "\n";
  return 0;
}
