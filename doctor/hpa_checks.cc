// The HPA-side checks: every HPA that references a smart_* metric — its target and metric
// selector name a Deployment, the metric is served through the aggregation layer, fresh and
// non-empty, and the HPA controller's ScalingActive / AbleToScale conditions.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/url.h"
#include "doctor/checks.h"

namespace doctor::internal {
namespace {

SmartMetric ParseMetric(const rapidjson::Value& m) {
  SmartMetric out;
  out.type = Str(m, {"type"});
  const char* field = out.type == "External" ? "external"
                      : out.type == "Object" ? "object"
                      : out.type == "Pods"   ? "pods"
                                             : "resource";
  out.name = Str(m, {field, "metric", "name"});
  const rapidjson::Value* labels = Find(m, {field, "metric", "selector", "matchLabels"});
  if (labels != nullptr && labels->IsObject()) {
    for (const auto& kv : labels->GetObject()) {
      if (kv.value.IsString()) out.match_labels[kv.name.GetString()] = kv.value.GetString();
    }
  }
  out.object_kind = Str(m, {field, "describedObject", "kind"});
  out.object_name = Str(m, {field, "describedObject", "name"});
  return out;
}

std::string SelectorString(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> terms;
  for (const auto& [k, v] : labels) terms.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(terms, ",");
}

// The metric's API path through the aggregation layer.
std::string MetricPath(const SmartHpa& h, const SmartMetric& m) {
  if (m.type == "External") {
    std::string path = absl::StrCat("/apis/external.metrics.k8s.io/v1beta1/namespaces/",
                                    h.namespace_name, "/", m.name);
    if (!m.match_labels.empty()) {
      absl::StrAppend(&path, "?labelSelector=", base::UrlEncode(SelectorString(m.match_labels)));
    }
    return path;
  }
  return absl::StrCat("/apis/custom.metrics.k8s.io/v1beta2/namespaces/", h.namespace_name,
                      "/deployments.apps/", m.object_name, "/", m.name);
}

// "" when the metric is served, fresh and non-empty; else what is wrong.
std::string CheckServed(const Options& o, KubeReader& kube, absl::Time now, const SmartHpa& h,
                        const SmartMetric& m) {
  absl::StatusOr<rapidjson::Document> r = kube.Get(MetricPath(h, m));
  if (!r.ok()) return absl::StrCat("metric not served: ", m.name, ": ", r.status().message());
  const rapidjson::Value& items = Array(Find(*r, {"items"}));
  if (items.Empty()) {
    return absl::StrCat(
        "metric empty: ", m.name, " has no value for ", SelectorString(m.match_labels),
        " (the reconciler does not manage that deployment yet, or its data is missing)");
  }
  for (const rapidjson::Value& item : items.GetArray()) {
    absl::Time t;
    std::string err;
    std::string ts = Str(item, {"timestamp"});
    if (!absl::ParseTime(absl::RFC3339_full, ts, &t, &err)) {
      return absl::StrCat("metric ", m.name, " has a bad timestamp '", ts, "'");
    }
    if (now - t > o.max_metric_age) {
      return absl::StrCat("metric stale: ", m.name, " is ",
                          absl::FormatDuration(absl::Trunc(now - t, absl::Seconds(1))),
                          " old (limit ", absl::FormatDuration(o.max_metric_age), ")");
    }
  }
  return "";
}

// "" when `name` is a Deployment in `ns`; else what is wrong.
std::string DeploymentExists(KubeReader& kube, const std::string& ns, const std::string& name,
                             const std::string& what) {
  if (name.empty()) return absl::StrCat(what, " names no Deployment");
  absl::StatusOr<rapidjson::Document> d =
      kube.Get(absl::StrCat("/apis/apps/v1/namespaces/", ns, "/deployments/", name));
  if (absl::IsNotFound(d.status()))
    return absl::StrCat(what, " names Deployment ", name, ", which does not exist in ", ns);
  if (!d.ok())
    return absl::StrCat("cannot read Deployment ", ns, "/", name, ": ", d.status().message());
  return "";
}

std::vector<std::string> Problems(const Options& o, KubeReader& kube, absl::Time now,
                                  const SmartHpa& h) {
  std::vector<std::string> p;
  auto add = [&p](std::string s) {
    if (!s.empty()) p.push_back(std::move(s));
  };
  if (h.target_kind != "Deployment") {
    p.push_back(absl::StrCat("scaleTargetRef is a ", h.target_kind,
                             ": smart metrics are computed for Deployments"));
  } else {
    add(DeploymentExists(kube, h.namespace_name, h.target_name, "scaleTargetRef"));
  }
  for (const SmartMetric& m : h.metrics) {
    if (m.type == "External") {
      auto it = m.match_labels.find("deployment");
      add(DeploymentExists(kube, h.namespace_name, it == m.match_labels.end() ? "" : it->second,
                           absl::StrCat("selector of ", m.name, " (deployment=...)")));
    } else if (m.type == "Object") {
      if (m.object_kind != "Deployment") {
        p.push_back(
            absl::StrCat(m.name, ": describedObject is a ", m.object_kind, ", want Deployment"));
        continue;
      }
      add(DeploymentExists(kube, h.namespace_name, m.object_name,
                           absl::StrCat("describedObject of ", m.name)));
    } else {
      p.push_back(absl::StrCat(m.name, " is a ", m.type,
                               " metric: smart metrics are External or Object (deployments.apps)"));
      continue;
    }
    if (p.empty()) add(CheckServed(o, kube, now, h, m));
  }
  for (const auto& [type, c] :
       {std::pair<const char*, const Condition*>{"ScalingActive", &h.scaling_active},
        {"AbleToScale", &h.able_to_scale}}) {
    if (c->status == "True") continue;
    p.push_back(
        c->status.empty()
            ? absl::StrCat(type, " not reported yet (the HPA controller has not processed it)")
            : absl::StrCat(type, " ", c->status, ": ", c->reason, ": ", c->message));
  }
  return p;
}

}  // namespace

absl::StatusOr<std::vector<SmartHpa>> ListSmartHpas(KubeReader& kube) {
  absl::StatusOr<rapidjson::Document> list =
      kube.Get("/apis/autoscaling/v2/horizontalpodautoscalers");
  if (!list.ok()) return list.status();
  std::vector<SmartHpa> out;
  for (const rapidjson::Value& item : Array(Find(*list, {"items"})).GetArray()) {
    SmartHpa h;
    h.namespace_name = Str(item, {"metadata", "namespace"});
    h.name = Str(item, {"metadata", "name"});
    h.target_kind = Str(item, {"spec", "scaleTargetRef", "kind"});
    h.target_name = Str(item, {"spec", "scaleTargetRef", "name"});
    for (const rapidjson::Value& m : Array(Find(item, {"spec", "metrics"})).GetArray()) {
      SmartMetric sm = ParseMetric(m);
      if (absl::StartsWith(sm.name, "smart_")) h.metrics.push_back(std::move(sm));
    }
    if (h.metrics.empty()) continue;
    h.scaling_active = FindCondition(item, "ScalingActive");
    h.able_to_scale = FindCondition(item, "AbleToScale");
    out.push_back(std::move(h));
  }
  return out;
}

void CheckHpas(const Options& o, KubeReader& kube, absl::Time now,
               const std::vector<SmartHpa>& hpas, std::vector<Check>* out) {
  for (const SmartHpa& h : hpas) {
    const std::string id = absl::StrCat("hpa/", h.namespace_name, "/", h.name);
    const std::string title = absl::StrCat("HPA ", h.namespace_name, "/", h.name);
    std::vector<std::string> p = Problems(o, kube, now, h);
    if (p.empty()) {
      std::vector<std::string> names;
      for (const SmartMetric& m : h.metrics) names.push_back(m.name);
      out->push_back(Pass(id, title,
                          absl::StrCat(absl::StrJoin(names, ", "),
                                       " served and fresh; ScalingActive, AbleToScale")));
      continue;
    }
    out->push_back(Fail(id, title, absl::StrJoin(p, "; "),
                        absl::StrCat("kubectl -n ", h.namespace_name, " describe hpa ", h.name,
                                     "; the selector's deployment= must name the scaled "
                                     "Deployment; a stale or empty metric means the reconciler "
                                     "is not publishing it (its logs, /api/status)")));
  }
}

}  // namespace doctor::internal
