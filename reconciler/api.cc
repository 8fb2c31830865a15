#include "reconciler/api.h"

#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "prometheus/text_serializer.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace reconciler {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}
void Num(Writer& w, const char* key, double v) {
  w.Key(key);
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}
void Int(Writer& w, const char* key, int64_t v) {
  w.Key(key);
  w.Int64(v);
}
void Opt(Writer& w, const char* key, const absl::optional<double>& v) {
  w.Key(key);
  if (v && std::isfinite(*v)) {
    w.Double(*v);
  } else {
    w.Null();
  }
}
void Time(Writer& w, const char* key, absl::Time t) {
  w.Key(key);
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    w.Null();
  } else {
    std::string s = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
    w.String(s.c_str());
  }
}

void WriteStatus(Writer& w, const DeploymentStatus& s) {
  w.StartObject();
  Str(w, "namespace", s.namespace_name);
  Str(w, "name", s.name);
  Str(w, "source", s.source);
  Int(w, "pods", s.pods);
  Int(w, "readyPods", s.ready_pods);
  Int(w, "youngPodsExcluded", s.young_pods_excluded);
  w.Key("allPodsYoung");
  w.Bool(s.all_pods_young);
  Int(w, "cpuRequestMillicores", s.cpu_request_millicores);
  Int(w, "memoryRequestBytes", s.memory_request_bytes);
  Opt(w, "blendedCpuPct", s.blended_pct);
  Opt(w, "demandCores", s.demand_cores);
  Opt(w, "memoryPct", s.memory_pct);
  Num(w, "confidence", s.confidence);
  w.Key("nodePressure");
  w.StartObject();
  Str(w, "level", PressureLevelName(s.pressure.level));
  Num(w, "utilizationPct", s.pressure.utilization_pct);
  Num(w, "schedulableFraction", s.pressure.schedulable_fraction);
  Int(w, "nodes", s.nodes);
  w.EndObject();
  Num(w, "targetPct", s.target_pct);
  Opt(w, "learnedTargetPct", s.learned_target_pct);
  Time(w, "lastTargetChange", s.last_target_change);
  w.Key("forecast");
  w.StartObject();
  Opt(w, "peakLeadP90Cores", s.forecast_peak_p90_cores);
  w.Key("trusted");
  w.Bool(s.forecast_trusted);
  Num(w, "accuracy", s.forecast_accuracy);
  Int(w, "validated", s.forecast_validated);
  Int(w, "historyPoints", s.history_points);
  Str(w, "note", s.forecast_note);
  w.EndObject();
  w.Key("served");
  w.StartObject();
  Opt(w, "smart_cpu_blended", s.served_blended_pct);
  Opt(w, "smart_cpu_predicted", s.served_predicted_pct);
  Opt(w, "smart_cpu_pressure", s.served_pressure);
  Opt(w, "smart_memory_blended", s.served_memory_pct);
  Time(w, "at", s.served_at);
  w.EndObject();
  Str(w, "note", s.note);
  w.EndObject();
}

base::HttpResponse Json(int status, std::string body) {
  base::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

base::HttpResponse NotFound(const std::string& what) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "kind", "Status");
  Str(w, "status", "Failure");
  Str(w, "message", what);
  Str(w, "reason", "NotFound");
  Int(w, "code", 404);
  w.EndObject();
  return Json(404, buf.GetString());
}

const char kPage[] = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smart-autoscaler</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em} table{border-collapse:collapse;width:100%}
th,td{padding:.35em .6em;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left} .muted{color:#777}
.safe{color:#1a7f37}.warning{color:#9a6700}.critical{color:#cf222e}.unknown{color:#777}
</style></head><body>
<h1>smart-autoscaler</h1>
<p id="status" class="muted">loading...</p>
<table><thead><tr><th>deployment</th><th>pods</th><th>blended %</th><th>predicted %</th>
<th>target %</th><th>pressure</th><th>nodes</th><th>memory %</th><th>forecast</th><th>note</th></tr>
</thead><tbody id="rows"></tbody></table>
<p class="muted">JSON: <a href="/api/v1/status">status</a> ·
<a href="/api/v1/deployments">deployments</a> · <a href="/api/v1/metrics">served metrics</a></p>
<script>
function f(v,d){return v===null||v===undefined?'–':v.toFixed(d===undefined?1:d)}
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]))}
async function load(){
  try{
    const st=await (await fetch('/api/v1/status')).json();
    const c=st.lastCycle||{};
    document.getElementById('status').textContent=(st.leader?'leader':'standby')+' · '+st.source+
      ' · last cycle '+(c.start||'never')+' · '+(c.deployments||0)+' deployments, '+
      (c.queries||0)+' queries, '+(c.queryFailures||0)+' failed';
    const ds=await (await fetch('/api/v1/deployments')).json();
    document.getElementById('rows').innerHTML=ds.items.map(d=>'<tr><td>'+esc(d.namespace+'/'+d.name)+
      '</td><td>'+d.readyPods+'/'+d.pods+'</td><td>'+f(d.served.smart_cpu_blended)+'</td><td>'+
      f(d.served.smart_cpu_predicted)+'</td><td>'+f(d.targetPct,0)+'</td><td>'+f(d.served.smart_cpu_pressure,2)+
      '</td><td class="'+d.nodePressure.level+'">'+d.nodePressure.level+' '+f(d.nodePressure.utilizationPct,0)+
      '%</td><td>'+f(d.served.smart_memory_blended)+'</td><td>'+(d.forecast.trusted?'trusted':'–')+
      '</td><td class="muted">'+esc(d.note||d.forecast.note)+'</td></tr>').join('');
  }catch(e){document.getElementById('status').textContent='error: '+e}
}
load();setInterval(load,5000);
</script></body></html>
)HTML";

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
  return buf.GetString();
}

std::string TableJson(const std::vector<MetricPoint>& table) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (const MetricPoint& p : table) {
    w.StartObject();
    Str(w, "namespace", p.namespace_name);
    Str(w, "metric", p.metric);
    Str(w, "deployment", p.deployment);
    Num(w, "value", p.value);
    Time(w, "timestamp", p.timestamp);
    Int(w, "windowSeconds", absl::ToInt64Seconds(p.window));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

void RegisterApi(base::HttpServer* server, const StatusView* view) {
  server->Handle("/", [](const base::HttpRequest&) {
    base::HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = kPage;
    return r;
  });
  server->Handle("/healthz", Ok);
  server->Handle("/readyz", [view](const base::HttpRequest&) {
    base::HttpResponse r;
    bool ready = view->reconciler->LastCycle().start != absl::InfinitePast();
    r.status = ready ? 200 : 503;
    r.body = ready ? "ok" : "no cycle completed yet";
    return r;
  });
  server->Handle("/api/v1/status", [view](const base::HttpRequest&) {
    CycleReport c = view->reconciler->LastCycle();
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    Str(w, "version", view->version);
    w.Key("leader");
    w.Bool(!view->is_leader || view->is_leader());
    Str(w, "source", view->describe ? view->describe() : "");
    w.Key("lastCycle");
    w.StartObject();
    Time(w, "start", c.start);
    Num(w, "wallSeconds", absl::ToDoubleSeconds(c.wall));
    Num(w, "cpuSeconds", absl::ToDoubleSeconds(c.cpu));
    Int(w, "deployments", c.deployments);
    Int(w, "served", c.served);
    Int(w, "held", c.held);
    Int(w, "queries", c.queries);
    Int(w, "backfillQueries", c.backfill_queries);
    Int(w, "historiesLoaded", c.histories_loaded);
    Int(w, "queryFailures", c.query_failures);
    Int(w, "points", c.points);
    w.Key("errors");
    w.StartArray();
    for (const std::string& e : c.errors) w.String(e.c_str());
    w.EndArray();
    w.EndObject();
    Str(w, "config", view->config_text ? view->config_text() : "");
    w.EndObject();
    return Json(200, buf.GetString());
  });
  server->Handle("/api/v1/deployments", [view](const base::HttpRequest&) {
    return Json(200, DeploymentsJson(view->reconciler->Statuses()));
  });
  server->HandlePrefix("/api/v1/deployments/", [view](const base::HttpRequest& req) {
    std::vector<std::string> parts =
        absl::StrSplit(req.path.substr(sizeof("/api/v1/deployments/") - 1), '/');
    if (parts.size() != 2) return NotFound("want /api/v1/deployments/<namespace>/<name>");
    for (const DeploymentStatus& s : view->reconciler->Statuses()) {
      if (s.namespace_name == parts[0] && s.name == parts[1]) {
        rapidjson::StringBuffer buf;
        Writer w(buf);
        WriteStatus(w, s);
        return Json(200, buf.GetString());
      }
    }
    return NotFound(absl::StrCat("deployment ", parts[0], "/", parts[1], " is not managed"));
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
