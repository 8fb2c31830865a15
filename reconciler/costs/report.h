// report: the weekly cost report (sums over deployments, the biggest savings first) as JSON and
// text, and the schedule that sends it through the alert channels once per interval.
//
//   costs::WeeklyReport r = costs::BuildWeeklyReport(*service.All(now, absl::Hours(168), true),
//                                                    now - absl::Hours(168), now);
//   std::cout << costs::WeeklyReportText(r);
//   costs::ReportSchedule schedule(absl::Hours(168));
//   if (leader && schedule.Due(now)) send(costs::WeeklyReportAlert(r));
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "base/json_writer.h"
#include "clients/webhook/channels.h"
#include "reconciler/costs/service.h"

namespace costs {

struct WeeklyReport {
  absl::Time from, to;
  std::vector<DeploymentCosts> deployments;  // by optimisation potential, highest first
  // USD over the window / per month. Sums of what is known: a deployment without usage data
  // adds its requested cost, and is counted in `unmeasured`.
  double total_cost = 0, allocated_total_cost = 0, total_wasted_cost = 0;
  double estimated_monthly_cost = 0, optimization_potential = 0;
  double rightsizing_monthly_saving = 0;  // of the available right-sizing recommendations
  int unmeasured = 0;                     // deployments with no usage measured in the window
};

WeeklyReport BuildWeeklyReport(std::vector<DeploymentCosts> deployments, absl::Time from,
                               absl::Time to);
// {"from","to","hours","totals":{...},"deployments":[CostJson objects]}.
std::string WeeklyReportJson(const WeeklyReport& r);
// The window's totals as members of the object `w` is in: `count_key` (the number of
// deployments), unmeasured_deployments, total_cost, allocated_total_cost, total_wasted_cost,
// estimated_monthly_cost and optimization_potential, rounded to 1e-6 USD. Shared by the weekly
// report's "totals" and /api/overview.
void WriteReportTotals(base::JsonWriter& w, const WeeklyReport& r, const char* count_key);
// Plain text, one line per deployment (at most `top` of them, the highest potential first).
std::string WeeklyReportText(const WeeklyReport& r, int top = 20);
// The report as one alert (type "cost_report", severity "info", key "cost_report/<to>").
clients::webhook::Alert WeeklyReportAlert(const WeeklyReport& r);

// When the report is due: the first call at or after each boundary of `interval`, counted from
// Monday 1970-01-05 00:00 UTC (a weekly interval reports each Monday at 00:00 UTC). The first
// Due() after construction only arms the schedule (a restart does not resend). Interval zero:
// never. Not thread-safe (the cycle thread's).
class ReportSchedule {
 public:
  explicit ReportSchedule(absl::Duration interval) : interval_(interval) {}
  bool Due(absl::Time now);
  // The boundary at or before `t`.
  absl::Time PeriodStart(absl::Time t) const;

 private:
  absl::Duration interval_;
  absl::Time armed_ = absl::InfinitePast();  // the period last seen
};

// Sends the weekly report through the alert channels: after each cycle, when the schedule is due
// and this replica leads, the report over the last 168 h goes to `send` (the dispatcher's
// Enqueue, which never blocks). The schedule advances on every replica, so a new leader does not
// resend the period's report. Not thread-safe (the cycle thread's).
class WeeklyReportSender {
 public:
  // `service` must outlive this. Interval zero: never sends.
  WeeklyReportSender(CostService* service,
                     std::function<void(const clients::webhook::Alert&)> send,
                     absl::Duration interval)
      : service_(service), send_(std::move(send)), schedule_(interval) {}
  // OK when nothing was due or the report was sent; the store's error when it could not be
  // built (the period's report is then skipped, not retried every cycle).
  absl::Status AfterCycle(absl::Time now, bool is_leader);
  int sent() const { return sent_; }

 private:
  CostService* const service_;
  std::function<void(const clients::webhook::Alert&)> send_;
  ReportSchedule schedule_;
  int sent_ = 0;
};

}  // namespace costs
