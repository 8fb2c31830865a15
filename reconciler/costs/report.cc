// The weekly cost report and its schedule.
#include "reconciler/costs/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace costs {
namespace {

std::string Money(double usd) { return absl::StrFormat("$%.2f", usd); }
std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}
// Monday 1970-01-05 00:00 UTC.
const absl::Time kAnchor = absl::FromUnixSeconds(4 * 86400);

}  // namespace

WeeklyReport BuildWeeklyReport(std::vector<DeploymentCosts> deployments, absl::Time from,
                               absl::Time to) {
  WeeklyReport r;
  r.from = from;
  r.to = to;
  std::stable_sort(deployments.begin(), deployments.end(), [](const auto& a, const auto& b) {
    return a.cost.optimization_potential > b.cost.optimization_potential;
  });
  for (const DeploymentCosts& d : deployments) {
    r.total_cost += d.cost.total_cost;
    r.allocated_total_cost += d.cost.allocated_total_cost;
    r.total_wasted_cost += d.cost.total_wasted_cost;
    r.estimated_monthly_cost += d.cost.estimated_monthly_cost;
    r.optimization_potential += d.cost.optimization_potential;
    if (d.rightsizing.cpu.available) r.rightsizing_monthly_saving += d.rightsizing.cpu.monthly_saving;
    if (d.rightsizing.memory.available) {
      r.rightsizing_monthly_saving += d.rightsizing.memory.monthly_saving;
    }
    if (d.cost.measured_hours <= 0) ++r.unmeasured;
  }
  r.deployments = std::move(deployments);
  return r;
}

void WriteReportTotals(base::JsonWriter& w, const WeeklyReport& r, const char* count_key) {
  auto num = [&w](const char* k, double v) {
    w.Key(k);
    w.Double(std::round(v * 1e6) / 1e6);
  };
  w.Key(count_key);
  w.Int(static_cast<int>(r.deployments.size()));
  w.Key("unmeasured_deployments");
  w.Int(r.unmeasured);
  num("total_cost", r.total_cost);
  num("allocated_total_cost", r.allocated_total_cost);
  num("total_wasted_cost", r.total_wasted_cost);
  num("estimated_monthly_cost", r.estimated_monthly_cost);
  num("optimization_potential", r.optimization_potential);
}

std::string WeeklyReportJson(const WeeklyReport& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto num = [&w](const char* k, double v) {
    w.Key(k);
    w.Double(std::round(v * 1e6) / 1e6);
  };
  w.StartObject();
  w.Key("from");
  w.String(Rfc3339(r.from).c_str());
  w.Key("to");
  w.String(Rfc3339(r.to).c_str());
  num("hours", absl::ToDoubleHours(r.to - r.from));
  w.Key("totals");
  w.StartObject();
  WriteReportTotals(w, r, "deployments");
  num("rightsizing_monthly_saving", r.rightsizing_monthly_saving);
  w.EndObject();
  w.Key("deployments");
  w.StartArray();
  for (const DeploymentCosts& d : r.deployments) {
    const std::string one = CostJson(d.namespace_name, d.deployment, d.cost, d.rightsizing,
                                     d.cpu_request_millicores, d.memory_request_bytes);
    w.RawValue(one.data(), one.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string WeeklyReportText(const WeeklyReport& r, int top) {
  std::string s = absl::StrCat(
      "Cost report ", absl::FormatTime("%Y-%m-%d %H:%M", r.from, absl::UTCTimeZone()), " to ",
      absl::FormatTime("%Y-%m-%d %H:%M UTC", r.to, absl::UTCTimeZone()), "\n",
      r.deployments.size(), " deployment(s): ", Money(r.total_cost), " requested (allocated ",
      Money(r.allocated_total_cost), "), ", Money(r.total_wasted_cost), " wasted; ",
      Money(r.estimated_monthly_cost), "/month, ", Money(r.optimization_potential),
      "/month could be saved (right-sizing: ", Money(r.rightsizing_monthly_saving), "/month)\n");
  if (r.unmeasured > 0) {
    absl::StrAppend(&s, r.unmeasured,
                    " deployment(s) without usage data: waste and utilisation unknown\n");
  }
  int n = 0;
  for (const DeploymentCosts& d : r.deployments) {
    if (n++ >= top) {
      absl::StrAppend(&s, "... and ", r.deployments.size() - top, " more\n");
      break;
    }
    const CostReport& c = d.cost;
    absl::StrAppend(&s, "- ", d.namespace_name, "/", d.deployment, ": ", Money(c.total_cost),
                    ", wasted ",
                    c.measured_hours > 0 ? Money(c.total_wasted_cost) : std::string("unknown"),
                    ", cpu utilisation ",
                    c.cpu_utilization_percent
                        ? absl::StrFormat("%.1f %%", *c.cpu_utilization_percent)
                        : std::string("unknown"),
                    ", ", Money(c.estimated_monthly_cost), "/month. ", c.recommendation, "\n");
  }
  return s;
}

clients::webhook::Alert WeeklyReportAlert(const WeeklyReport& r) {
  clients::webhook::Alert a;
  a.key = absl::StrCat("cost_report/", Rfc3339(r.to));
  a.type = "cost_report";
  a.severity = "info";
  a.title = absl::StrCat("Weekly cost report: ", Money(r.estimated_monthly_cost),
                         "/month, ", Money(r.optimization_potential), "/month could be saved");
  a.text = WeeklyReportText(r, 10);
  a.time = r.to;
  a.fields = {{"deployments", absl::StrCat(r.deployments.size())},
              {"total_cost", Money(r.total_cost)},
              {"total_wasted_cost", Money(r.total_wasted_cost)},
              {"estimated_monthly_cost", Money(r.estimated_monthly_cost)},
              {"optimization_potential", Money(r.optimization_potential)}};
  return a;
}

absl::Time ReportSchedule::PeriodStart(absl::Time t) const {
  return kAnchor + absl::Floor(t - kAnchor, interval_);
}

bool ReportSchedule::Due(absl::Time now) {
  if (interval_ <= absl::ZeroDuration()) return false;
  const absl::Time period = PeriodStart(now);
  const bool first = armed_ == absl::InfinitePast();
  const bool due = !first && period > armed_;
  armed_ = std::max(armed_, period);
  return due;
}

absl::Status WeeklyReportSender::AfterCycle(absl::Time now, bool is_leader) {
  if (!schedule_.Due(now) || !is_leader) return absl::OkStatus();
  constexpr absl::Duration kWeek = absl::Hours(168);
  auto all = service_->All(now, kWeek, /*rightsizing=*/true);
  if (!all.ok()) return all.status();
  send_(WeeklyReportAlert(BuildWeeklyReport(std::move(*all), now - kWeek, now)));
  ++sent_;
  return absl::OkStatus();
}

}  // namespace costs
