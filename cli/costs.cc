// `smart-autoscaler costs`: what each deployment cost, wasted and should request, from a copy of
// the reconciler's store, offline (no Prometheus, no cluster).
//
//   smart-autoscaler costs --db /backup/tsdb                 # the last 168 h, as text
//   smart-autoscaler costs --db /backup/tsdb --hours 24 --json
//
// Pod time and requests come from the pod-lifetime log; usage from each deployment's
// cpu_demand_cores and memory_working_set_bytes series (raw samples up to 48 h, hourly rollups
// beyond); prices from COST_PER_VCPU_HOUR, COST_PER_GB_MEMORY_HOUR and PRICING_FILE in the
// environment. The window ends at the newest cycle in the store unless --until says otherwise.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "reconciler/config.h"
#include "reconciler/costs/costs.h"
#include "storage/store.h"

ABSL_FLAG(double, hours, 168, "costs: the window, hours back from its end (0 < hours <= 8760)");
ABSL_FLAG(std::string, until, "",
          "costs: end of the window (RFC 3339); default: the newest cycle in the store");
ABSL_FLAG(bool, rightsizing, true,
          "costs: also recommend requests (reads the last 8 days of raw samples)");
ABSL_FLAG(absl::Duration, max_gap, absl::Minutes(10),
          "costs: a usage sample stands for at most this long; longer gaps are unmeasured");

namespace cli {
namespace {

constexpr absl::Duration kRawUpTo = absl::Hours(48);
constexpr absl::Duration kRightsizingWindow = absl::Hours(24 * 8);

struct Deployment {
  std::string ns, name;
  std::map<std::string, storage::SeriesId> series;  // metric -> id
  std::vector<costs::PodLifetime> pods;
};

// Deployments of the store: their unlabelled series, and their pods from the lifetime log (the
// newest record of each pod lifetime wins). Undecodable records are counted in *bad.
absl::StatusOr<std::map<std::string, Deployment>> Index(const storage::Store& store, int* bad) {
  std::map<std::string, Deployment> out;
  for (const auto& [id, key] : store.ListSeries()) {
    if (!key.labels.empty()) continue;
    Deployment& d = out[absl::StrCat(key.namespace_name, "/", key.deployment)];
    d.ns = key.namespace_name;
    d.name = key.deployment;
    d.series[key.metric] = id;
  }
  auto events = store.ScanEvents(storage::EventLog::kPodLifetimes, absl::InfinitePast(),
                                 absl::InfiniteFuture());
  if (!events.ok()) return events.status();
  std::map<std::string, std::map<std::string, costs::PodLifetime>> lives;
  for (const storage::Event& e : *events) {
    auto d = costs::DecodePodLifetime(e.payload);
    if (!d.ok()) {
      ++*bad;
      continue;
    }
    const std::string key = absl::StrCat(d->namespace_name, "/", d->deployment);
    lives[key][absl::StrCat(d->life.pod, "@", absl::ToUnixMillis(d->life.start))] = d->life;
    Deployment& dep = out[key];
    dep.ns = d->namespace_name;
    dep.name = d->deployment;
  }
  for (auto& [key, pods] : lives) {
    for (auto& [k, life] : pods) out[key].pods.push_back(life);
  }
  return out;
}

absl::optional<storage::SeriesId> Find(const Deployment& d, const char* metric) {
  auto it = d.series.find(metric);
  if (it == d.series.end()) return absl::nullopt;
  return it->second;
}

// Measured usage over [from, to): raw samples for short windows, hourly rollups for long ones.
std::vector<costs::UsageSpan> ReadUsage(const storage::Store& store, const Deployment& d,
                                        absl::Time from, absl::Time to, absl::Duration max_gap) {
  auto cpu_id = Find(d, costs::kCpuDemandMetric);
  if (!cpu_id) return {};
  auto mem_id = Find(d, costs::kMemoryWorkingSetMetric);
  if (to - from > kRawUpTo) {
    auto cpu = store.ScanRollups(*cpu_id, from, to);
    if (!cpu.ok()) return {};
    std::map<absl::Time, double> mem;
    if (mem_id) {
      auto m = store.ScanRollups(*mem_id, from, to);
      if (m.ok()) for (const storage::Rollup& r : *m) mem[r.start] = r.mean();
    }
    std::vector<costs::UsageSpan> out;
    for (const storage::Rollup& r : *cpu) {
      auto it = mem.find(r.start);
      out.push_back({r.start, absl::Hours(1), r.mean(),
                     it == mem.end() ? absl::nullopt : absl::optional<double>(it->second)});
    }
    return out;
  }
  auto cpu = store.Scan(*cpu_id, from, to);
  if (!cpu.ok()) return {};
  std::map<absl::Time, double> mem;
  if (mem_id) {
    auto m = store.Scan(*mem_id, from, to);
    if (m.ok()) for (const storage::Sample& s : *m) mem[s.time] = s.value;
  }
  std::vector<costs::UsagePoint> points;
  for (const storage::Sample& s : *cpu) {
    auto it = mem.find(s.time);
    points.push_back({s.time, s.value,
                      it == mem.end() ? absl::nullopt : absl::optional<double>(it->second)});
  }
  return costs::SpansFromPoints(points, max_gap);
}

// Pods alive at a time, from the lifetimes.
class PodCounter {
 public:
  explicit PodCounter(const std::vector<costs::PodLifetime>& pods) {
    for (const auto& p : pods) {
      starts_.push_back(p.start);
      ends_.push_back(p.end);
    }
    std::sort(starts_.begin(), starts_.end());
    std::sort(ends_.begin(), ends_.end());
  }
  int At(absl::Time t) const {
    return static_cast<int>((std::upper_bound(starts_.begin(), starts_.end(), t) - starts_.begin()) -
                            (std::upper_bound(ends_.begin(), ends_.end(), t) - ends_.begin()));
  }

 private:
  std::vector<absl::Time> starts_, ends_;
};

// Right-sizing from the last 8 days of raw samples, per pod.
costs::Rightsizing Rightsize(const storage::Store& store, const Deployment& d, absl::Time to,
                             const costs::PodLifetime& newest, double average_pods,
                             const costs::Prices& prices) {
  costs::RightsizingInput in;
  in.now = to;
  in.cpu_request_millicores = newest.cpu_request_millicores;
  in.memory_request_bytes = newest.memory_request_bytes;
  in.average_pods = average_pods;
  in.prices = prices;
  const PodCounter pods(d.pods);
  const absl::Time from = to - kRightsizingWindow;
  std::map<absl::Time, bool> censored;
  if (auto id = Find(d, costs::kCpuCensoredMetric)) {
    auto c = store.Scan(*id, from, to + absl::Milliseconds(1));
    if (c.ok()) for (const storage::Sample& s : *c) censored[s.time] = s.value >= 0.5;
  }
  if (auto id = Find(d, costs::kCpuDemandMetric)) {
    auto s = store.Scan(*id, from, to + absl::Milliseconds(1));
    if (s.ok()) {
      for (const storage::Sample& x : *s) {
        const int n = pods.At(x.time);
        if (n > 0) in.cpu.push_back({x.time, x.value / n, censored[x.time]});
      }
    }
  }
  if (auto id = Find(d, costs::kMemoryWorkingSetMetric)) {
    auto s = store.Scan(*id, from, to + absl::Milliseconds(1));
    if (s.ok()) {
      for (const storage::Sample& x : *s) {
        const int n = pods.At(x.time);
        if (n > 0) in.memory.push_back({x.time, x.value / n});
      }
    }
  }
  return costs::RecommendRequests(in);
}

absl::StatusOr<costs::PriceTable> LoadPrices(const reconciler::Config& c) {
  const costs::Prices flat{c.cost_per_vcpu_hour, c.cost_per_gb_memory_hour};
  if (c.pricing_file.empty()) return costs::PriceTable::Flat(flat);
  std::ifstream in(c.pricing_file);
  if (!in) return absl::NotFoundError(absl::StrCat("PRICING_FILE ", c.pricing_file, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return costs::PriceTable::Parse(text.str(), flat);
}

std::string Money(double usd) { return absl::StrFormat("$%.2f", usd); }
std::string Pct(const absl::optional<double>& v) {
  return v ? absl::StrFormat("%.1f %%", *v) : std::string("unknown");
}

struct Row {
  const Deployment* d;
  costs::CostReport cost;
  costs::Rightsizing rs;
  costs::PodLifetime newest;
};

void PrintText(const std::vector<Row>& rows, absl::Time from, absl::Time to) {
  std::cout << "costs from " << absl::FormatTime("%Y-%m-%d %H:%M", from, absl::UTCTimeZone())
            << " to " << absl::FormatTime("%Y-%m-%d %H:%M UTC", to, absl::UTCTimeZone()) << " ("
            << absl::ToDoubleHours(to - from) << " h)\n";
  double total = 0, wasted = 0, monthly = 0, potential = 0;
  for (const Row& r : rows) {
    const costs::CostReport& c = r.cost;
    std::cout << r.d->ns << "/" << r.d->name << ": " << Money(c.total_cost) << " (cpu "
              << Money(c.cpu_cost) << ", memory " << Money(c.memory_cost) << "), allocated "
              << Money(c.allocated_total_cost) << ", wasted " << Money(c.total_wasted_cost)
              << absl::StrFormat(", %.1f pod-hours", c.pod_hours) << "\n  utilisation cpu "
              << Pct(c.cpu_utilization_percent) << ", memory " << Pct(c.memory_utilization_percent)
              << "; monthly " << Money(c.estimated_monthly_cost) << ", potential "
              << Money(c.optimization_potential) << "\n  " << c.recommendation << "\n";
    const costs::Rightsizing& rs = r.rs;
    if (rs.cpu.available || rs.memory.available) {
      std::cout << "  right-size (confidence " << rs.confidence_label
                << absl::StrFormat(", %.1f days):", rs.history_days);
      if (rs.cpu.available) {
        std::cout << " cpu " << r.newest.cpu_request_millicores << "m -> "
                  << (rs.cpu.at_least ? ">= " : "") << rs.cpu.value << "m ("
                  << Money(rs.cpu.monthly_saving) << "/month)";
      }
      if (rs.memory.available) {
        std::cout << absl::StrFormat(" memory %.3f GB -> %.3f GB (",
                                     r.newest.memory_request_bytes / costs::kBytesPerGb,
                                     rs.memory.value / costs::kBytesPerGb)
                  << Money(rs.memory.monthly_saving) << "/month)";
      }
      std::cout << "\n";
    }
    total += c.total_cost;
    wasted += c.total_wasted_cost;
    monthly += c.estimated_monthly_cost;
    potential += c.optimization_potential;
  }
  std::cout << "total: " << rows.size() << " deployment(s), " << Money(total) << ", wasted "
            << Money(wasted) << ", monthly " << Money(monthly) << ", potential "
            << Money(potential) << "\n";
}

void PrintJson(const std::vector<Row>& rows, absl::Time from, absl::Time to) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  double total = 0, wasted = 0, monthly = 0, potential = 0, allocated = 0;
  w.StartObject();
  w.Key("from");
  w.String(absl::FormatTime(absl::RFC3339_sec, from, absl::UTCTimeZone()).c_str());
  w.Key("to");
  w.String(absl::FormatTime(absl::RFC3339_sec, to, absl::UTCTimeZone()).c_str());
  w.Key("hours");
  w.Double(absl::ToDoubleHours(to - from));
  w.Key("deployments");
  w.StartArray();
  for (const Row& r : rows) {
    const std::string one = costs::CostJson(r.d->ns, r.d->name, r.cost, r.rs,
                                            r.newest.cpu_request_millicores,
                                            r.newest.memory_request_bytes);
    w.RawValue(one.data(), one.size(), rapidjson::kObjectType);
    total += r.cost.total_cost;
    allocated += r.cost.allocated_total_cost;
    wasted += r.cost.total_wasted_cost;
    monthly += r.cost.estimated_monthly_cost;
    potential += r.cost.optimization_potential;
  }
  w.EndArray();
  w.Key("totals");
  w.StartObject();
  w.Key("deployments");
  w.Int(static_cast<int>(rows.size()));
  for (auto [k, v] : {std::pair<const char*, double>{"total_cost", total},
                      {"allocated_total_cost", allocated}, {"total_wasted_cost", wasted},
                      {"estimated_monthly_cost", monthly}, {"optimization_potential", potential}}) {
    w.Key(k);
    w.Double(std::round(v * 1e6) / 1e6);
  }
  w.EndObject();
  w.EndObject();
  std::cout << buf.GetString() << "\n";
}

// The newest cycle in the store: the latest CPU demand sample of any deployment.
absl::Time NewestCycle(const storage::Store& store, const std::map<std::string, Deployment>& ds) {
  absl::Time newest = absl::InfinitePast();
  for (const auto& [key, d] : ds) {
    if (auto id = Find(d, costs::kCpuDemandMetric)) {
      auto s = store.Latest(*id);
      if (s.ok()) newest = std::max(newest, s->time);
    }
  }
  return newest;
}

}  // namespace

int CostsMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "costs: unexpected argument '" << args[0] << "'\n";
    return 2;
  }
  const std::string db = absl::GetFlag(FLAGS_db);
  const double hours = absl::GetFlag(FLAGS_hours);
  if (db.empty()) {
    std::cerr << "costs: --db DIR is required (a copy of the reconciler's store)\n";
    return 2;
  }
  if (!(hours > 0 && hours <= 8760)) {
    std::cerr << "costs: --hours=" << hours << " must be in (0, 8760]\n";
    return 2;
  }
  absl::Time until = absl::InfiniteFuture();
  if (const std::string u = absl::GetFlag(FLAGS_until); !u.empty()) {
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, u, &until, &err)) {
      std::cerr << "costs: --until=" << u << ": not an RFC 3339 time (" << err << ")\n";
      return 2;
    }
  }
  reconciler::ConfigResult cfg = reconciler::LoadConfig(reconciler::EnvironmentVariables());
  if (!cfg.problems.empty()) {
    for (const std::string& p : cfg.problems) std::cerr << "costs: config: " << p << "\n";
    return 2;
  }
  absl::StatusOr<costs::PriceTable> prices = LoadPrices(cfg.config);
  if (!prices.ok()) {
    PrintError(std::cerr, "costs", prices.status().message());
    return 2;
  }
  auto store = storage::OpenRocksStore({.path = db, .retention = cfg.config.retention});
  if (!store.ok()) {
    std::cerr << "costs: open " << db << ": " << store.status() << "\n";
    return 1;
  }
  int bad = 0;
  auto deployments = Index(**store, &bad);
  if (!deployments.ok()) {
    std::cerr << "costs: " << deployments.status() << "\n";
    return 1;
  }
  if (bad > 0) std::cerr << "costs: " << bad << " pod-lifetime record(s) did not decode; skipped\n";
  if (until == absl::InfiniteFuture()) until = NewestCycle(**store, *deployments);
  if (until == absl::InfinitePast()) {
    std::cerr << "costs: " << db << " holds no cpu_demand_cores samples: nothing to price\n";
    return 1;
  }
  const absl::Time to = until + absl::Milliseconds(1);  // the newest cycle is inside
  const absl::Time from = to - absl::Hours(hours);
  std::vector<Row> rows;
  for (const auto& [key, d] : *deployments) {
    if (d.pods.empty()) continue;  // nothing requested: nothing to price
    Row r{&d};
    r.newest = *std::max_element(d.pods.begin(), d.pods.end(),
                                 [](const auto& a, const auto& b) { return a.start < b.start; });
    std::vector<costs::PodLifetime> pods = d.pods;
    // A pod still open when the store was copied ran until the deployment's last cycle.
    absl::Time last = until;
    if (auto id = Find(d, costs::kCpuDemandMetric)) {
      if (auto s = (*store)->Latest(*id); s.ok()) last = s->time;
    }
    for (auto& p : pods) p.end = std::min(p.end, last);
    r.cost = costs::ComputeCost(pods, ReadUsage(**store, d, from, to, absl::GetFlag(FLAGS_max_gap)),
                                from, to, *prices);
    const double pods_avg = r.cost.pod_hours / hours;
    if (absl::GetFlag(FLAGS_rightsizing)) {
      r.rs = Rightsize(**store, d, until, r.newest, pods_avg, prices->For(r.newest.pool));
    } else {
      r.rs.cpu.note = r.rs.memory.note = "not computed (--rightsizing=false)";
    }
    rows.push_back(std::move(r));
  }
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(rows, from, to);
  } else {
    PrintText(rows, from, to);
  }
  return 0;
}

}  // namespace cli
