// /livez, /readyz and /api/health: the component checks, kube-apiserver's text format for the
// probes and the original project's JSON for /api/health.
#include "reconciler/web/health.h"

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"

namespace reconciler::web {
namespace {

base::HttpResponse Text(int code, std::string body) {
  base::HttpResponse r;
  r.status = code;
  r.body = std::move(body);
  return r;
}

std::string Age(absl::Duration d) { return absl::FormatDuration(absl::Trunc(d, absl::Seconds(1))); }

const char* Health(const CheckResult& r) { return r.ok ? "healthy" : "unhealthy"; }

// The original's flat fields: "prometheus", "kubernetes", "database" (our store) as
// "healthy" / "unhealthy" / "unknown" (no such check), "degraded" (a check that is not required
// failed), "overall_status" and "components" ({name: {"status", "required", "detail"}}).
void WriteOriginalHealth(base::JsonWriter& w, const std::vector<NamedResult>& checks, bool ok,
                         bool degraded) {
  auto status_of = [&checks](const char* name) -> const char* {
    for (const NamedResult& c : checks) {
      if (c.name == name) return Health(c.result);
    }
    return "unknown";
  };
  base::JsonField(w, "prometheus", status_of("prometheus"));
  base::JsonField(w, "kubernetes", status_of("kubernetes"));
  base::JsonField(w, "database", status_of("store"));
  w.Key("degraded");
  w.Bool(ok && degraded);
  base::JsonField(w, "overall_status", !ok ? "unhealthy" : degraded ? "degraded" : "healthy");
  w.Key("components");
  w.StartObject();
  for (const NamedResult& c : checks) {
    w.Key(c.name.c_str());
    w.StartObject();
    base::JsonField(w, "status", Health(c.result));
    w.Key("required");
    w.Bool(c.required);
    base::JsonField(w, "detail", c.result.detail);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::vector<NamedResult> RunChecks(const StatusView* view, const WebOptions* options,
                                   bool for_live) {
  const absl::Time now = options->clock->Now();
  const CycleReport c = view->reconciler->LastCycle();
  std::vector<NamedResult> out;
  if (for_live) {
    // Wedged: a cycle stuck (none completed) for 3 intervals, or, before the first, 3 intervals
    // past the start-up grace.
    const absl::Duration limit = 3 * options->check_interval;
    NamedResult r{"cycle", {}, true};
    if (c.start != absl::InfinitePast()) {
      r.result.ok = now - c.start <= limit + c.wall;
      r.result.detail =
          absl::StrCat("last cycle started ", Age(now - c.start), " ago (limit ", Age(limit), ")");
    } else {
      r.result.ok = now - options->started <= limit + options->startup_grace;
      r.result.detail = absl::StrCat("no cycle yet, ", Age(now - options->started), " since start");
    }
    out.push_back(std::move(r));
    return out;
  }
  // Stale: no completed cycle within 2 intervals (the served values age out in the adapter).
  NamedResult data{"data", {}, true};
  if (c.start == absl::InfinitePast()) {
    data.result = {false, "no cycle completed yet"};
  } else {
    const absl::Duration age = now - c.start;
    data.result.ok = age <= 2 * options->check_interval + c.wall;
    data.result.detail = absl::StrCat("last cycle ", Age(age), " ago, ", c.deployments,
                                      " deployments, ", c.served, " served, ", c.held, " held");
  }
  out.push_back(std::move(data));
  NamedResult tracked{"deployments", {true, ""}, false};
  tracked.result.detail = absl::StrCat(view->reconciler->Statuses().size(), " tracked");
  out.push_back(std::move(tracked));
  NamedResult leader{"leadership", {true, ""}, false};
  leader.result.detail = !view->is_leader || view->is_leader() ? "leader" : "standby";
  out.push_back(std::move(leader));
  for (const HealthCheck& h : options->checks) {
    out.push_back({h.name, h.check ? h.check() : CheckResult{false, "no check"}, h.required});
  }
  return out;
}

base::HttpResponse ProbeResponse(const std::string& probe, const std::vector<NamedResult>& checks,
                                 bool verbose) {
  bool ok = true;
  std::string lines;
  for (const NamedResult& c : checks) {
    const bool failed = !c.result.ok && c.required;
    ok = ok && !failed;
    if (c.result.ok) {
      absl::StrAppend(&lines, "[+]", c.name, " ok", c.result.detail.empty() ? "" : ": ",
                      c.result.detail, "\n");
    } else {
      absl::StrAppend(&lines, "[-]", c.name, " failed", c.required ? "" : " (not required)", ": ",
                      c.result.detail, "\n");
    }
  }
  if (!verbose && ok) return Text(200, "ok");
  absl::StrAppend(&lines, probe, ok ? " check passed" : " check failed", "\n");
  return Text(ok ? 200 : 503, lines);
}

base::HttpResponse HealthJson(const StatusView* view, const std::vector<NamedResult>& checks,
                              absl::Time now) {
  bool ok = true, degraded = false;
  for (const NamedResult& c : checks) {
    ok = ok && (c.result.ok || !c.required);
    degraded = degraded || (!c.result.ok && !c.required);
  }
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "status", ok ? "healthy" : "unhealthy");
  WriteOriginalHealth(w, checks, ok, degraded);
  base::JsonTimeField(w, "timestamp", now);
  base::JsonField(w, "version", view->version);
  w.Key("leader");
  w.Bool(!view->is_leader || view->is_leader());
  base::JsonIntField(w, "deployments", static_cast<int64_t>(view->reconciler->Statuses().size()));
  w.Key("checks");
  w.StartObject();
  for (const NamedResult& c : checks) {
    w.Key(c.name.c_str());
    w.StartObject();
    base::JsonField(w, "status", c.result.ok ? "ok" : "failed");
    w.Key("required");
    w.Bool(c.required);
    base::JsonField(w, "detail", c.result.detail);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  base::HttpResponse r;
  r.status = ok ? 200 : 503;
  r.content_type = "application/json";
  r.body = base::JsonText(buf);
  return r;
}

}  // namespace reconciler::web
