#include "reconciler/web/web.h"

#include "absl/strings/match.h"
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

// The original's /api/deployments: a list, one object per managed deployment, with its fields
// ("key", "namespace", "deployment", "hpa_name") and ours.
base::HttpResponse DeploymentList(const StatusView* view) {
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartArray();
  for (const DeploymentStatus& s : view->reconciler->Statuses()) {
    w.StartObject();
    base::JsonField(w, "key", absl::StrCat(s.namespace_name, "/", s.name));
    base::JsonField(w, "namespace", s.namespace_name);
    base::JsonField(w, "deployment", s.name);
    w.Key("hpa_name");  // the HPA the reconciler found; null for env and annotation sources
    if (absl::StartsWith(s.source, "hpa/")) {
      w.String(s.source.substr(4).c_str());
    } else {
      w.Null();
    }
    base::JsonField(w, "name", s.name);
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
  base::HttpResponse r;
  r.content_type = "application/json";
  r.body = base::JsonText(buf);
  return r;
}

absl::optional<double> PerPod(absl::optional<double> total, int pods, double scale) {
  if (!total || pods <= 0) return absl::nullopt;
  return *total / pods * scale;
}

// The original's /api/deployment/<ns>/<name>[/current]: the last cycle under its field names.
// Its units: pod_cpu_usage cores per pod, memory_* MB (2^20 bytes) per pod. Values we do not
// have are null, never 0.
base::HttpResponse CurrentResponse(const StatusView* view, const std::string& ns,
                                   const std::string& name, const base::HttpRequest& req) {
  if (!req.query.empty()) {
    return JsonError(
        400, absl::StrCat("current takes no parameters (got \"", req.query.begin()->first, "\")"));
  }
  absl::optional<DeploymentStatus> s = Find(view, ns, name);
  if (!s) return JsonError(404, absl::StrCat("deployment ", ns, "/", name, " is not managed"));
  constexpr double kMb = 1.0 / (1 << 20);
  const int counted = s->pods - s->young_pods_excluded;
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonTimeField(w, "timestamp",
                      s->decision_inputs ? s->decision_inputs->at : absl::InfinitePast());
  base::JsonNumberField(w, "node_utilization",
                        s->pressure.level == PressureLevel::kUnknown ? absl::optional<double>()
                                                                     : s->pressure.utilization_pct);
  base::JsonIntField(w, "pod_count", s->pods);
  base::JsonNumberField(w, "pod_cpu_usage", PerPod(s->demand_cores, counted, 1));
  base::JsonNumberField(w, "memory_usage", PerPod(s->memory_working_set_bytes, counted, kMb));
  base::JsonNumberField(w, "hpa_target", s->target_pct);
  base::JsonNumberField(w, "confidence", s->confidence);
  base::JsonField(w, "action_taken",
                  s->decision_inputs ? (s->note.empty() ? "served" : "held") : "none");
  base::JsonIntField(w, "cpu_request", s->cpu_request_millicores);
  base::JsonNumberField(w, "memory_request", s->memory_request_bytes * kMb);
  base::JsonField(w, "pattern", "unknown");  // the original's value without a detected pattern
  w.Key("priority");
  w.Null();  // no priorities here
  base::JsonField(w, "note", s->note);
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
      "current", [v](const std::string& ns, const std::string& name, const base::HttpRequest& req) {
        return CurrentResponse(v, ns, name, req);
      });
  view->deployment_resources.emplace(
      "history",
      [options](const std::string& ns, const std::string& name, const base::HttpRequest& req) {
        return HistoryResponse(options->store, ns, name, req, options->clock->Now());
      });
  view->deployment_resources.emplace(
      "predictions",
      [v, options](const std::string& ns, const std::string& name, const base::HttpRequest& req) {
        absl::optional<DeploymentStatus> s = Find(v, ns, name);
        return PredictionsResponse(options->store, ns, name, req, options->clock->Now(),
                                   s ? &*s : nullptr);
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
