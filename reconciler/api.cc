#include "reconciler/api.h"

#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/json_writer.h"
#include "prometheus/text_serializer.h"

namespace reconciler {
namespace {

using base::JsonField;
using base::JsonIntField;
using base::JsonNumberField;
using base::JsonTimeField;
using Writer = base::JsonWriter;

void WriteStatus(Writer& w, const DeploymentStatus& s) {
  w.StartObject();
  JsonField(w, "namespace", s.namespace_name);
  JsonField(w, "name", s.name);
  JsonField(w, "source", s.source);
  JsonIntField(w, "pods", s.pods);
  JsonIntField(w, "readyPods", s.ready_pods);
  JsonIntField(w, "youngPodsExcluded", s.young_pods_excluded);
  w.Key("hpaCurrentReplicas");  // the HPA's status.currentReplicas; null before it reports
  if (s.hpa_current_replicas.has_value()) {
    w.Int(*s.hpa_current_replicas);
  } else {
    w.Null();
  }
  w.Key("allPodsYoung");
  w.Bool(s.all_pods_young);
  JsonIntField(w, "cpuRequestMillicores", s.cpu_request_millicores);
  JsonIntField(w, "memoryRequestBytes", s.memory_request_bytes);
  JsonNumberField(w, "blendedCpuPct", s.blended_pct);
  JsonNumberField(w, "demandCores", s.demand_cores);
  JsonNumberField(w, "memoryPct", s.memory_pct);
  JsonNumberField(w, "confidence", s.confidence);
  w.Key("nodePressure");
  w.StartObject();
  JsonField(w, "level", PressureLevelName(s.pressure.level));
  JsonNumberField(w, "utilizationPct", s.pressure.utilization_pct);
  JsonNumberField(w, "schedulableFraction", s.pressure.schedulable_fraction);
  JsonIntField(w, "nodes", s.nodes);
  w.EndObject();
  JsonNumberField(w, "targetPct", s.target_pct);
  JsonNumberField(w, "learnedTargetPct", s.learned_target_pct);
  JsonTimeField(w, "lastTargetChange", s.last_target_change);
  w.Key("forecast");
  w.StartObject();
  JsonNumberField(w, "peakLeadP90Cores", s.forecast_peak_p90_cores);
  w.Key("trusted");
  w.Bool(s.forecast_trusted);
  JsonNumberField(w, "accuracy", s.forecast_accuracy);
  JsonIntField(w, "validated", s.forecast_validated);
  // Persistence (the origin's bucket carried forward) over the same origins; null: none.
  JsonNumberField(w, "persistenceAccuracy", s.persistence_accuracy);
  JsonNumberField(w, "maeCores", s.forecast_mae_cores);
  JsonNumberField(w, "persistenceMaeCores", s.persistence_mae_cores);
  JsonIntField(w, "historyPoints", s.history_points);
  JsonField(w, "note", s.forecast_note);
  w.EndObject();
  w.Key("served");
  w.StartObject();
  JsonNumberField(w, "smart_cpu_blended", s.served_blended_pct);
  JsonNumberField(w, "smart_cpu_predicted", s.served_predicted_pct);
  JsonNumberField(w, "smart_cpu_pressure", s.served_pressure);
  JsonNumberField(w, "smart_memory_blended", s.served_memory_pct);
  JsonTimeField(w, "at", s.served_at);
  w.EndObject();
  JsonField(w, "note", s.note);
  w.EndObject();
}

base::HttpResponse Json(int status, std::string body) {
  base::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

const char* ReasonOf(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 404: return "NotFound";
    case 503: return "ServiceUnavailable";
    default: return code >= 500 ? "InternalError" : "BadRequest";
  }
}

base::HttpResponse NotFound(const std::string& what) { return JsonError(404, what); }

// /<prefix><ns>/<name>: the status; /<prefix><ns>/<name>/<resource>: a registered resource.
base::HttpResponse DeploymentRoute(const StatusView* view, const base::HttpRequest& req,
                                   absl::string_view prefix) {
  std::vector<std::string> parts = absl::StrSplit(req.path.substr(prefix.size()), '/');
  if (parts.size() == 3 && !parts[0].empty() && !parts[1].empty()) {
    auto it = view->deployment_resources.find(parts[2]);
    if (it != view->deployment_resources.end()) return it->second(parts[0], parts[1], req);
    return NotFound(absl::StrCat("no resource \"", parts[2], "\" for deployments"));
  }
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return NotFound(absl::StrCat("want ", prefix, "<namespace>/<name>[/<resource>]"));
  }
  // The original's /api/deployment/<ns>/<name> is its "current" state, when registered.
  if (prefix == "/api/deployment/") {
    auto it = view->deployment_resources.find("current");
    if (it != view->deployment_resources.end()) return it->second(parts[0], parts[1], req);
  }
  for (const DeploymentStatus& s : view->reconciler->Statuses()) {
    if (s.namespace_name == parts[0] && s.name == parts[1]) {
      rapidjson::StringBuffer buf;
      Writer w(buf);
      WriteStatus(w, s);
      return Json(200, base::JsonText(buf));
    }
  }
  return NotFound(absl::StrCat("deployment ", parts[0], "/", parts[1], " is not managed"));
}

base::HttpResponse Ok(const base::HttpRequest&) {
  base::HttpResponse r;
  r.body = "ok";
  return r;
}

}  // namespace

std::string DeploymentsJson(const std::vector<DeploymentStatus>& statuses) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (const DeploymentStatus& s : statuses) WriteStatus(w, s);
  w.EndArray();
  w.EndObject();
  return base::JsonText(buf);
}

base::HttpResponse JsonError(int code, const std::string& message) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  JsonField(w, "kind", "Status");
  JsonField(w, "apiVersion", "v1");
  JsonField(w, "status", "Failure");
  JsonField(w, "message", message);
  JsonField(w, "reason", ReasonOf(code));
  JsonIntField(w, "code", code);
  w.EndObject();
  return Json(code, base::JsonText(buf));
}

std::string TableJson(const std::vector<MetricPoint>& table) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (const MetricPoint& p : table) {
    w.StartObject();
    JsonField(w, "namespace", p.namespace_name);
    JsonField(w, "metric", p.metric);
    JsonField(w, "deployment", p.deployment);
    JsonNumberField(w, "value", p.value);
    JsonTimeField(w, "timestamp", p.timestamp);
    JsonIntField(w, "windowSeconds", absl::ToInt64Seconds(p.window));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return base::JsonText(buf);
}

namespace {

// "backfill":{"enabled":...,"pending":...} for /api/v1/status: deployments pending, done
// (loaded, possibly with no samples) and failed; range queries planned, run and failed.
void WriteBackfill(Writer& w, const Backfiller* backfiller) {
  w.Key("backfill");
  w.StartObject();
  w.Key("enabled");
  w.Bool(backfiller != nullptr);
  if (backfiller != nullptr) {
    const BackfillProgress p = backfiller->progress();
    JsonIntField(w, "pending", p.pending);
    JsonIntField(w, "done", p.loaded);
    JsonIntField(w, "failed", p.failed);
    JsonIntField(w, "plannedQueries", p.planned);
    JsonIntField(w, "queries", p.queries);
    JsonIntField(w, "queryErrors", p.query_errors);
    JsonIntField(w, "throttled", p.throttled);
    if (p.started != absl::InfinitePast()) JsonTimeField(w, "started", p.started);
    if (p.finished != absl::InfinitePast()) {
      JsonTimeField(w, "finished", p.finished);
      JsonNumberField(w, "seconds", absl::ToDoubleSeconds(p.finished - p.started));
    }
  }
  w.EndObject();
}

}  // namespace

void RegisterApi(base::HttpServer* server, const StatusView* view) {
  server->Handle("/healthz", Ok);
  server->Handle("/api/v1/status", [view](const base::HttpRequest&) {
    CycleReport c = view->reconciler->LastCycle();
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    JsonField(w, "version", view->version);
    w.Key("leader");
    w.Bool(!view->is_leader || view->is_leader());
    JsonField(w, "source", view->describe ? view->describe() : "");
    w.Key("lastCycle");
    w.StartObject();
    JsonTimeField(w, "start", c.start);
    JsonNumberField(w, "wallSeconds", absl::ToDoubleSeconds(c.wall));
    JsonNumberField(w, "cpuSeconds", absl::ToDoubleSeconds(c.cpu));
    JsonIntField(w, "deployments", c.deployments);
    JsonIntField(w, "served", c.served);
    JsonIntField(w, "held", c.held);
    JsonIntField(w, "queries", c.queries);
    JsonIntField(w, "backfillQueries", c.backfill_queries);
    JsonIntField(w, "historiesLoaded", c.histories_loaded);
    JsonIntField(w, "queryFailures", c.query_failures);
    JsonIntField(w, "points", c.points);
    w.Key("errors");
    w.StartArray();
    for (const std::string& e : c.errors) base::JsonString(w, e);
    w.EndArray();
    w.EndObject();
    WriteBackfill(w, view->backfiller);
    JsonField(w, "config", view->config_text ? view->config_text() : "");
    w.EndObject();
    return Json(200, base::JsonText(buf));
  });
  server->Handle("/api/v1/deployments", [view](const base::HttpRequest&) {
    return Json(200, DeploymentsJson(view->reconciler->Statuses()));
  });
  server->HandlePrefix("/api/v1/deployments/", [view](const base::HttpRequest& req) {
    return DeploymentRoute(view, req, "/api/v1/deployments/");
  });
  server->HandlePrefix("/api/deployment/", [view](const base::HttpRequest& req) {
    return DeploymentRoute(view, req, "/api/deployment/");
  });
  server->Handle("/api/v1/metrics", [view](const base::HttpRequest&) {
    return Json(200, TableJson(view->reconciler->Table()));
  });
}

void RegisterMetrics(base::HttpServer* server, const StatusView* view, bool with_healthz) {
  auto gauges = std::make_shared<DeploymentGauges>();
  server->Handle("/metrics", [view, gauges](const base::HttpRequest&) {
    std::vector<prometheus::MetricFamily> families;
    if (view->metrics != nullptr) families = view->metrics->Collect();
    for (prometheus::MetricFamily& f : gauges->Collect(view->reconciler->Statuses())) {
      families.push_back(std::move(f));
    }
    base::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = prometheus::TextSerializer().Serialize(families);
    return r;
  });
  if (with_healthz) server->Handle("/healthz", Ok);
}

}  // namespace reconciler
