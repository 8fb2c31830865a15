#include "reconciler/web/web.h"

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "reconciler/explain/explain.h"
#include "reconciler/web/assets.h"
#include "reconciler/web/health.h"

namespace reconciler::web {
namespace {

absl::optional<DeploymentStatus> Find(const StatusView* view, const std::string& ns,
                                      const std::string& name) {
  for (DeploymentStatus& s : view->reconciler->Statuses()) {
    if (s.namespace_name == ns && s.name == name) return std::move(s);
  }
  return absl::nullopt;
}

base::HttpResponse ExplainResponse(const StatusView* view, const std::string& ns,
                                   const std::string& name, const base::HttpRequest& req) {
  auto format = req.query.find("format");
  const bool text = format != req.query.end() && format->second == "text";
  if (format != req.query.end() && !text && format->second != "json") {
    return JsonError(400, absl::StrCat("format \"", format->second, "\": want json or text"));
  }
  absl::optional<DeploymentStatus> s = Find(view, ns, name);
  if (!s) return JsonError(404, absl::StrCat("deployment ", ns, "/", name, " is not managed"));
  if (!s->decision_inputs) {
    return JsonError(503, absl::StrCat("no decision for ", ns, "/", name, " yet",
                                       s->note.empty() ? "" : ": " + s->note));
  }
  const Explanation e = Explain(*s->decision_inputs, *s);
  base::HttpResponse r;
  if (text) {
    r.body = ExplanationText(e);
  } else {
    r.content_type = "application/json";
    r.body = ExplanationJson(e);
  }
  return r;
}

// The original's /api/deployments: one object per managed deployment, its field names.
base::HttpResponse DeploymentList(const StatusView* view) {
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  const std::vector<DeploymentStatus> all = view->reconciler->Statuses();
  w.StartObject();
  w.Key("deployments");
  w.StartArray();
  for (const DeploymentStatus& s : all) {
    w.StartObject();
    base::JsonField(w, "namespace", s.namespace_name);
    base::JsonField(w, "name", s.name);
    base::JsonField(w, "deployment", s.name);
    base::JsonField(w, "source", s.source);
    base::JsonIntField(w, "replicas", s.pods);
    base::JsonIntField(w, "ready_replicas", s.ready_pods);
    base::JsonNumberField(w, "hpa_target", s.target_pct);
    base::JsonNumberField(w, "cpu_usage_percent", s.served_blended_pct);
    base::JsonNumberField(w, "predicted_cpu_percent", s.served_predicted_pct);
    base::JsonNumberField(w, "memory_usage_percent", s.served_memory_pct);
    base::JsonField(w, "node_pressure", PressureLevelName(s.pressure.level));
    base::JsonNumberField(w, "node_utilization_percent", s.pressure.utilization_pct);
    base::JsonNumberField(w, "confidence", s.confidence);
    w.EndObject();
  }
  w.EndArray();
  base::JsonIntField(w, "count", static_cast<int64_t>(all.size()));
  w.EndObject();
  base::HttpResponse r;
  r.content_type = "application/json";
  r.body = base::JsonText(buf);
  return r;
}

bool Verbose(const base::HttpRequest& req) { return req.query.count("verbose") > 0; }

}  // namespace

void AddDeploymentResources(StatusView* view, const WebOptions* options) {
  const StatusView* v = view;
  view->deployment_resources.emplace(
      "explain", [v](const std::string& ns, const std::string& name, const base::HttpRequest& req) {
        return ExplainResponse(v, ns, name, req);
      });
  view->deployment_resources.emplace(
      "history",
      [options](const std::string& ns, const std::string& name, const base::HttpRequest& req) {
        return HistoryResponse(options->store, ns, name, req, options->clock->Now());
      });
  view->deployment_resources.emplace(
      "predictions",
      [options](const std::string& ns, const std::string& name, const base::HttpRequest& req) {
        return PredictionsResponse(options->store, ns, name, req, options->clock->Now());
      });
}

void RegisterPage(base::HttpServer* server, const StatusView* view, const WebOptions* options) {
  for (const internal::Asset* a = internal::kAssets; a->path != nullptr; ++a) {
    std::string body(reinterpret_cast<const char*>(a->data), a->size);
    std::string type = a->content_type;
    auto handler = [body, type](const base::HttpRequest&) {
      base::HttpResponse r;
      r.content_type = type;
      r.body = body;
      r.headers.push_back({"Cache-Control", "no-cache"});
      return r;
    };
    server->Handle(a->path, handler);
    if (std::string(a->path) == "/index.html") server->Handle("/", handler);
  }
  server->Handle("/api/deployments",
                 [view](const base::HttpRequest&) { return DeploymentList(view); });
  server->Handle("/api/health", [view, options](const base::HttpRequest&) {
    return HealthJson(view, RunChecks(view, options, false), options->clock->Now());
  });
  server->Handle("/livez", [view, options](const base::HttpRequest& req) {
    return ProbeResponse("livez", RunChecks(view, options, true), Verbose(req));
  });
  server->Handle("/readyz", [view, options](const base::HttpRequest& req) {
    return ProbeResponse("readyz", RunChecks(view, options, false), Verbose(req));
  });
}

}  // namespace reconciler::web
