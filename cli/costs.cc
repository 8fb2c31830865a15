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
#include "reconciler/costs/service.h"
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

using Row = costs::DeploymentCosts;

void PrintText(const std::vector<Row>& rows, absl::Time from, absl::Time to) {
  std::cout << "costs from " << absl::FormatTime("%Y-%m-%d %H:%M", from, absl::UTCTimeZone())
            << " to " << absl::FormatTime("%Y-%m-%d %H:%M UTC", to, absl::UTCTimeZone()) << " ("
            << absl::ToDoubleHours(to - from) << " h)\n";
  double total = 0, wasted = 0, monthly = 0, potential = 0;
  for (const Row& r : rows) {
    const costs::CostReport& c = r.cost;
    std::cout << r.namespace_name << "/" << r.deployment << ": " << Money(c.total_cost) << " (cpu "
              << Money(c.cpu_cost) << ", memory " << Money(c.memory_cost) << "), allocated "
              << Money(c.allocated_total_cost) << ", wasted " << Money(c.total_wasted_cost)
              << absl::StrFormat(", %.1f pod-hours", c.pod_hours) << "\n  utilisation cpu "
              << Pct(c.cpu_utilization_percent) << ", memory " << Pct(c.memory_utilization_percent)
              << "; monthly " << Money(c.estimated_monthly_cost) << ", potential "
              << Money(c.optimization_potential) << "\n  " << c.recommendation << "\n";
    const costs::Rightsizing& rs = r.rightsizing;
    if (rs.cpu.available || rs.memory.available) {
      std::cout << "  right-size (confidence " << rs.confidence_label
                << absl::StrFormat(", %.1f days):", rs.history_days);
      if (rs.cpu.available) {
        std::cout << " cpu " << r.cpu_request_millicores << "m -> "
                  << (rs.cpu.at_least ? ">= " : "") << rs.cpu.value << "m ("
                  << Money(rs.cpu.monthly_saving) << "/month)";
      }
      if (rs.memory.available) {
        std::cout << absl::StrFormat(" memory %.3f GB -> %.3f GB (",
                                     r.memory_request_bytes / costs::kBytesPerGb,
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
    const std::string one = costs::CostJson(r.namespace_name, r.deployment, r.cost, r.rightsizing,
                                            r.cpu_request_millicores,
                                            r.memory_request_bytes);
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
  costs::ServiceOptions so;
  so.max_gap = absl::GetFlag(FLAGS_max_gap);
  costs::CostService service(store->get(), [&] { return *prices; }, so);
  if (until == absl::InfiniteFuture()) {
    absl::StatusOr<absl::Time> newest = service.NewestCycle();
    if (!newest.ok()) {
      std::cerr << "costs: " << newest.status() << "\n";
      return 1;
    }
    until = *newest;
  }
  if (until == absl::InfinitePast()) {
    std::cerr << "costs: " << db << " holds no cpu_demand_cores samples: nothing to price\n";
    return 1;
  }
  const absl::Time to = until + absl::Milliseconds(1);  // the newest cycle is inside
  const absl::Time from = to - absl::Hours(hours);
  absl::StatusOr<std::vector<Row>> rows =
      service.All(to, absl::Hours(hours), absl::GetFlag(FLAGS_rightsizing));
  if (!rows.ok()) {
    std::cerr << "costs: " << rows.status() << "\n";
    return 1;
  }
  if (int bad = service.bad_records(); bad > 0) {
    std::cerr << "costs: " << bad << " pod-lifetime record(s) did not decode; skipped\n";
  }
  if (!absl::GetFlag(FLAGS_rightsizing)) {
    for (Row& r : *rows) {
      r.rightsizing.cpu.note = r.rightsizing.memory.note = "not computed (--rightsizing=false)";
    }
  }
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*rows, from, to);
  } else {
    PrintText(*rows, from, to);
  }
  return 0;
}

}  // namespace cli
