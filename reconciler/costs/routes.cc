// The cost routes and gauges.
#include "reconciler/costs/routes.h"

#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "reconciler/costs/report.h"

namespace costs {
namespace {

constexpr absl::Duration kReportWindow = absl::Hours(168);

base::HttpResponse Json(std::string body) {
  base::HttpResponse r;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

base::HttpResponse Error(const absl::Status& s) {
  const int code = absl::IsInvalidArgument(s) ? 400 : absl::IsNotFound(s) ? 404 : 503;
  return reconciler::JsonError(code, std::string(s.message()));
}

absl::StatusOr<absl::Duration> Window(const base::HttpRequest& req, const CostRouteOptions& o) {
  auto it = req.query.find("hours");
  if (it == req.query.end()) return o.default_window;
  return ParseWindowHours(it->second, o.max_window);
}


// CostJson plus what the route adds: nulls and a note for what was not measured, whether the
// reconciler manages the deployment, and its cost guardrail.
std::string CostRouteJson(const DeploymentCosts& c, const reconciler::DeploymentStatus* status,
                          bool detail) {
  rapidjson::Document doc;
  doc.Parse(CostJson(c.namespace_name, c.deployment, c.cost, c.rightsizing,
                     c.cpu_request_millicores, c.memory_request_bytes)
                .c_str());
  auto& a = doc.GetAllocator();
  std::string note;
  if (c.cost.measured_hours <= 0) {
    for (const char* k : {"wasted_cpu_cost", "wasted_memory_cost", "total_wasted_cost",
                          "optimization_potential"}) {
      doc[k].SetNull();
    }
    note = "no usage was measured in the window: utilisation and waste are unknown (null)";
  } else if (!c.cost.memory_utilization_percent) {
    doc["wasted_memory_cost"].SetNull();
    note = "no memory working set was measured: memory waste is unknown (null)";
  }
  doc.AddMember("note", rapidjson::Value(note.c_str(), a), a);
  // The original's remaining names: the window's hours, the mean pod count over it (pod-hours
  // / hours) and the mean CPU utilisation (% of request; null when unmeasured).
  const double hours = absl::ToDoubleHours(c.cost.to - c.cost.from);
  doc.AddMember("runtime_hours", hours, a);
  doc.AddMember("avg_pod_count", hours > 0 ? std::round(c.cost.pod_hours / hours * 1e6) / 1e6 : 0,
                a);
  rapidjson::Value avg_utilization;  // null
  if (c.cost.cpu_utilization_percent) avg_utilization.SetDouble(*c.cost.cpu_utilization_percent);
  doc.AddMember("avg_utilization", avg_utilization, a);
  auto time = [&a](absl::Time t) {
    return rapidjson::Value(
        absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone()).c_str(), a);
  };
  doc.AddMember("from", time(c.cost.from), a);
  doc.AddMember("to", time(c.cost.to), a);
  if (detail) {
    rapidjson::Value pods(rapidjson::kArrayType), usage(rapidjson::kArrayType);
    for (const PodLifetime& p : c.pods) {
      rapidjson::Value v(rapidjson::kObjectType);
      v.AddMember("pod", rapidjson::Value(p.pod.c_str(), a), a);
      v.AddMember("start", time(p.start), a);
      v.AddMember("end", time(p.end), a);
      v.AddMember("cpu_request_millicores", p.cpu_request_millicores, a);
      v.AddMember("memory_request_bytes", p.memory_request_bytes, a);
      v.AddMember("pool", rapidjson::Value(p.pool.c_str(), a), a);
      pods.PushBack(v, a);
    }
    for (const UsageSpan& u : c.usage) {
      rapidjson::Value v(rapidjson::kObjectType);
      v.AddMember("start", time(u.start), a);
      v.AddMember("seconds", absl::ToDoubleSeconds(u.length), a);
      v.AddMember("cpu_cores", u.cpu_cores, a);
      if (u.memory_bytes) {
        v.AddMember("memory_bytes", *u.memory_bytes, a);
      } else {
        v.AddMember("memory_bytes", rapidjson::Value(), a);
      }
      usage.PushBack(v, a);
    }
    doc.AddMember("pods", pods, a);
    doc.AddMember("usage", usage, a);
  }
  doc.AddMember("managed", status != nullptr, a);
  rapidjson::Value g(rapidjson::kObjectType);
  if (status != nullptr) {
    if (status->monthly_budget) {
      g.AddMember("monthly_budget", *status->monthly_budget, a);
    } else {
      g.AddMember("monthly_budget", rapidjson::Value(), a);
    }
    g.AddMember("capped", status->budget_capped, a);
    g.AddMember("forecast_monthly_cost_change",
                std::round(status->forecast_monthly_cost_change * 1e6) / 1e6, a);
    g.AddMember("note", rapidjson::Value(status->guardrail_note.c_str(), a), a);
    g.AddMember("price_pool", rapidjson::Value(status->price_pool.c_str(), a), a);
    g.AddMember("pod_hourly_cost", std::round(status->pod_hourly_cost * 1e6) / 1e6, a);
    rapidjson::Value last(rapidjson::kObjectType);
    if (status->decision_monthly_cost_change) {
      last.AddMember("monthly_cost_change",
                     std::round(*status->decision_monthly_cost_change * 1e6) / 1e6, a);
      last.AddMember("at", time(status->decision_cost_at), a);
      last.AddMember("why", rapidjson::Value(status->decision_cost_why.c_str(), a), a);
      g.AddMember("last_decision", last, a);
    } else {
      g.AddMember("last_decision", rapidjson::Value(), a);
    }
    doc.AddMember("guardrail", g, a);
  } else {
    doc.AddMember("guardrail", rapidjson::Value(), a);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  doc.Accept(w);
  return buf.GetString();
}

// What the overview adds to the costs: the managed deployments and the anomaly log's counts.
struct OverviewExtras {
  absl::optional<int> managed;           // null without a reconciler
  absl::optional<double> mean_accuracy;  // 0-1, over managed deployments with validations
  absl::optional<std::map<std::string, AnomalyCounts>> anomalies;  // null: no log or unread
  std::string note;                                                // why a count is null
};

OverviewExtras Extras(const reconciler::StatusView* view, const AnomalyCountsFn& counts,
                      absl::Time now) {
  OverviewExtras x;
  if (view->reconciler != nullptr) {
    const std::vector<reconciler::DeploymentStatus> all = view->reconciler->Statuses();
    x.managed = static_cast<int>(all.size());
    double sum = 0;
    int n = 0;
    for (const reconciler::DeploymentStatus& s : all) {
      if (s.forecast_validated == 0) continue;
      sum += s.forecast_accuracy;
      ++n;
    }
    if (n > 0) x.mean_accuracy = sum / n;
  }
  if (!counts) {
    x.note = "no anomaly log (no store): anomaly counts are unknown";
  } else if (auto c = counts(now); c.ok()) {
    x.anomalies = std::move(*c);
  } else {
    x.note = absl::StrCat("anomaly log: ", c.status().message());
  }
  return x;
}

// The original's summary fields (names and meaning kept; see routes.h).
void WriteOriginalOverview(rapidjson::Writer<rapidjson::StringBuffer>& w, const WeeklyReport& r,
                           const OverviewExtras& x) {
  auto num = [&w](const char* k, absl::optional<double> v) {
    w.Key(k);
    if (v && std::isfinite(*v)) {
      w.Double(std::round(*v * 1e6) / 1e6);
    } else {
      w.Null();
    }
  };
  w.Key("total_deployments");
  w.Int(x.managed.value_or(static_cast<int>(r.deployments.size())));
  num("total_monthly_cost", r.estimated_monthly_cost);
  num("total_savings_potential", r.optimization_potential);
  w.Key("recent_anomalies_24h");
  if (x.anomalies) {
    int n = 0;
    for (const auto& [key, c] : *x.anomalies) n += c.started_24h;
    w.Int(n);
  } else {
    w.Null();
  }
  num("avg_prediction_confidence", x.mean_accuracy);
  num("efficiency_score",
      r.estimated_monthly_cost > 0
          ? absl::optional<double>(100 * (1 - r.optimization_potential / r.estimated_monthly_cost))
          : absl::nullopt);
  w.Key("anomalies_note");
  w.String(x.note.c_str());
  w.Key("anomalies_by_deployment");  // every deployment in the log, costed or not
  if (!x.anomalies) {
    w.Null();
    return;
  }
  w.StartObject();
  for (const auto& [key, c] : *x.anomalies) {
    w.Key(key.c_str());
    w.StartObject();
    w.Key("active");
    w.Int(c.active);
    w.Key("started_24h");
    w.Int(c.started_24h);
    w.EndObject();
  }
  w.EndObject();
}

std::string OverviewJson(const WeeklyReport& r, const OverviewExtras& x) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto num = [&w](const char* k, double v) {
    w.Key(k);
    w.Double(std::round(v * 1e6) / 1e6);
  };
  w.StartObject();
  w.Key("from");
  w.String(absl::FormatTime(absl::RFC3339_sec, r.from, absl::UTCTimeZone()).c_str());
  w.Key("to");
  w.String(absl::FormatTime(absl::RFC3339_sec, r.to, absl::UTCTimeZone()).c_str());
  num("hours", absl::ToDoubleHours(r.to - r.from));
  WriteReportTotals(w, r, "deployments_count");
  WriteOriginalOverview(w, r, x);
  w.Key("deployments");
  w.StartArray();
  for (const DeploymentCosts& d : r.deployments) {
    w.StartObject();
    w.Key("namespace");
    w.String(d.namespace_name.c_str());
    w.Key("deployment");
    w.String(d.deployment.c_str());
    num("total_cost", d.cost.total_cost);
    num("estimated_monthly_cost", d.cost.estimated_monthly_cost);
    w.Key("total_wasted_cost");
    if (d.cost.measured_hours > 0) {
      w.Double(std::round(d.cost.total_wasted_cost * 1e6) / 1e6);
    } else {
      w.Null();
    }
    w.Key("cpu_utilization_percent");
    if (d.cost.cpu_utilization_percent) {
      w.Double(std::round(*d.cost.cpu_utilization_percent * 1e6) / 1e6);
    } else {
      w.Null();
    }
    num("optimization_potential", d.cost.optimization_potential);
    w.Key("recommendation");
    w.String(d.cost.recommendation.c_str());
    w.Key("active_anomalies");
    if (x.anomalies) {
      auto it = x.anomalies->find(absl::StrCat(d.namespace_name, "/", d.deployment));
      w.Int(it == x.anomalies->end() ? 0 : it->second.active);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

}  // namespace

void AddCostRoutes(reconciler::StatusView* view, base::HttpServer* server, CostService* service,
                   const base::Clock* clock, CostRouteOptions options) {
  view->deployment_resources["cost"] = [view, service, clock, options](
                                           const std::string& ns, const std::string& name,
                                           const base::HttpRequest& req) {
    absl::StatusOr<absl::Duration> window = Window(req, options);
    if (!window.ok()) return Error(window.status());
    auto d = req.query.find("detail");
    const bool detail = d != req.query.end() && d->second == "usage";
    auto c = service->Deployment(ns, name, clock->Now(), *window, /*rightsizing=*/true, detail);
    if (!c.ok()) return Error(c.status());
    std::vector<reconciler::DeploymentStatus> statuses;
    if (view->reconciler != nullptr) statuses = view->reconciler->Statuses();
    const reconciler::DeploymentStatus* status = nullptr;
    for (const auto& s : statuses) {
      if (s.namespace_name == ns && s.name == name) status = &s;
    }
    return Json(CostRouteJson(*c, status, detail));
  };
  auto overview = [view, service, clock, options](const base::HttpRequest& req) {
    absl::StatusOr<absl::Duration> window = Window(req, options);
    if (!window.ok()) return Error(window.status());
    const absl::Time now = clock->Now();
    auto all = service->All(now, *window, /*rightsizing=*/false);
    if (!all.ok()) return Error(all.status());
    return Json(OverviewJson(BuildWeeklyReport(std::move(*all), now - *window, now),
                             Extras(view, options.anomaly_counts, now)));
  };
  server->Handle("/api/overview", overview);
  server->Handle("/api/v1/overview", overview);
  server->Handle("/api/v1/report/weekly", [service, clock](const base::HttpRequest& req) {
    auto f = req.query.find("format");
    const std::string format = f == req.query.end() ? "json" : f->second;
    if (format != "json" && format != "text") {
      return Error(absl::InvalidArgumentError(
          absl::StrCat("format=", format, ": want json or text")));
    }
    const absl::Time now = clock->Now();
    auto all = service->All(now, kReportWindow, /*rightsizing=*/true);
    if (!all.ok()) return Error(all.status());
    const WeeklyReport r = BuildWeeklyReport(std::move(*all), now - kReportWindow, now);
    if (format == "json") return Json(WeeklyReportJson(r));
    base::HttpResponse resp;
    resp.body = WeeklyReportText(r);
    return resp;
  });
}

CostMetrics::CostMetrics(prometheus::Registry* registry, absl::Duration refresh_every)
    : refresh_every_(refresh_every),
      monthly_(prometheus::BuildGauge()
                   .Name("autoscaler_monthly_cost_usd")
                   .Help("Projected monthly cost of the deployment's requests (the last 7 "
                         "days' rate x 730 h), USD.")
                   .Register(*registry)),
      wasted_pct_(prometheus::BuildGauge()
                      .Name("autoscaler_wasted_capacity_percent")
                      .Help("Requested CPU not used over the last 7 days, % of the request.")
                      .Register(*registry)),
      hourly_(prometheus::BuildGauge()
                  .Name("autoscaler_hourly_cost_usd")
                  .Help("Cost per hour of the deployment's requests over the last 7 days, "
                        "USD, by resource.")
                  .Register(*registry)),
      rightsizing_(prometheus::BuildGauge()
                       .Name("autoscaler_rightsizing_cpu_millicores")
                       .Help("Recommended CPU request per pod (VPA-style p90 + 15 %, step "
                             "bounded to 30 %), millicores.")
                       .Register(*registry)) {}

void CostMetrics::Set(const std::vector<DeploymentCosts>& costs) {
  absl::MutexLock lock(&mu_);
  std::map<prometheus::Gauge*, prometheus::Family<prometheus::Gauge>*> now;
  auto put = [&now](prometheus::Family<prometheus::Gauge>& f,
                    std::map<std::string, std::string> labels, double v) {
    prometheus::Gauge& g = f.Add(labels);
    g.Set(v);
    now[&g] = &f;
  };
  for (const DeploymentCosts& d : costs) {
    const std::map<std::string, std::string> l = {{"namespace", d.namespace_name},
                                                  {"deployment", d.deployment}};
    put(monthly_, l, d.cost.estimated_monthly_cost);
    if (d.cost.wasted_capacity_percent) put(wasted_pct_, l, *d.cost.wasted_capacity_percent);
    auto with = [&l](const char* resource) {
      auto m = l;
      m["resource"] = resource;
      return m;
    };
    put(hourly_, with("cpu"), d.cost.hourly_cpu_cost);
    put(hourly_, with("memory"), d.cost.hourly_memory_cost);
    if (d.rightsizing.cpu.available) {
      put(rightsizing_, l, static_cast<double>(d.rightsizing.cpu.value));
    }
  }
  for (const auto& [g, f] : exported_) {
    if (!now.count(g)) f->Remove(g);
  }
  exported_ = std::move(now);
}

absl::Status CostMetrics::MaybeRefresh(CostService* service, absl::Time now) {
  {
    absl::MutexLock lock(&mu_);
    if (last_ != absl::InfinitePast() && now - last_ < refresh_every_) return absl::OkStatus();
    last_ = now;
  }
  auto all = service->All(now, kReportWindow, /*rightsizing=*/true);
  if (!all.ok()) return all.status();
  Set(*all);
  return absl::OkStatus();
}

}  // namespace costs
