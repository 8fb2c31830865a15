// seed_store: fills a reconciler RocksDB store with `--days` of per-deployment CPU demand
// history (cpu_demand_cores, one sample per --step) for the benchmark workload
// (demo::ScaledDeployments), under the same series keys the reconciler writes, so that a
// reconciler started on this store backfills from it instead of from Prometheus.
//
//   seed_store --db /tmp/rbench/tsdb --deployments 1000 --days 30 --traces-dir data/traces
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "demo/workload.h"
#include "storage/store.h"

ABSL_FLAG(std::string, db, "", "store directory");
ABSL_FLAG(int, deployments, 1000, "deployments (demo::ScaledDeployments)");
ABSL_FLAG(int, pods, 10, "pods per deployment");
ABSL_FLAG(int, days, 30, "days of history");
ABSL_FLAG(absl::Duration, step, absl::Minutes(5), "sample spacing");
ABSL_FLAG(std::string, traces_dir, "data/traces", "the repository's data/traces");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<demo::Trace> traces;
  for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
           {"google2019_cpu_300s", "cluster/google2019_cpu_300s.csv"},
           {"ec2_cpu_utilization_5f5533", "nab/ec2_cpu_utilization_5f5533.csv"},
           {"rds_cpu_utilization_cc0c53", "nab/rds_cpu_utilization_cc0c53.csv"}}) {
    auto t = demo::LoadTrace(name, absl::StrCat(absl::GetFlag(FLAGS_traces_dir), "/", file));
    if (!t.ok()) {
      std::cerr << t.status() << "\n";
      return 1;
    }
    traces.push_back(*t);
  }
  const absl::Time now = absl::Now();
  const absl::Time from = now - absl::Hours(24 * absl::GetFlag(FLAGS_days));
  auto w = demo::Workload::Create(
      demo::ScaledDeployments(absl::GetFlag(FLAGS_deployments), absl::GetFlag(FLAGS_pods)),
      demo::ScaledNodes(1), traces, from);
  if (!w.ok()) {
    std::cerr << w.status() << "\n";
    return 1;
  }
  auto store = storage::OpenRocksStore({.path = absl::GetFlag(FLAGS_db)});
  if (!store.ok()) {
    std::cerr << store.status() << "\n";
    return 1;
  }
  const absl::Time t0 = absl::Now();
  uint64_t n = 0;
  for (size_t d = 0; d < w->deployments().size(); ++d) {
    const demo::DeploymentSpec& s = w->deployments()[d];
    auto id = (*store)->RegisterSeries({s.namespace_name, s.name, "cpu_demand_cores", {}});
    if (!id.ok()) {
      std::cerr << id.status() << "\n";
      return 1;
    }
    std::vector<storage::SeriesSample> batch;
    for (absl::Time t = from; t < now; t += absl::GetFlag(FLAGS_step)) {
      batch.push_back({*id, {t, w->DemandCores(static_cast<int>(d), t)}});
    }
    n += batch.size();
    if (absl::Status st = (*store)->Append(batch, {}); !st.ok()) {
      std::cerr << st << "\n";
      return 1;
    }
  }
  if (absl::Status st = (*store)->CompactAll(); !st.ok()) std::cerr << st << "\n";
  std::cout << "seed_store: " << n << " samples for " << w->deployments().size()
            << " deployments in " << absl::FormatDuration(absl::Now() - t0) << "\n";
  return 0;
}
