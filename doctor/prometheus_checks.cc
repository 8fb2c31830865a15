// The Prometheus-side checks: reachable; the cAdvisor CPU series of each managed deployment's
// pods (container_cpu_usage_seconds_total{namespace,pod}); node_exporter's node CPU and the
// mapping of its labels to Node names (the "node" label, else "instance" without its port — the
// reconciler's rule).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/url.h"
#include "doctor/checks.h"

namespace doctor::internal {
namespace {

constexpr char kFixUrl[] =
    "check PROMETHEUS_URL (the chart's prometheus.url), PROMETHEUS_HEADERS / the token Secret, "
    "and that a NetworkPolicy lets this Pod reach Prometheus";

std::string NodeKey(const std::map<std::string, std::string>& labels) {
  auto node = labels.find("node");
  if (node != labels.end() && !node->second.empty()) return node->second;
  auto inst = labels.find("instance");
  if (inst == labels.end()) return "";
  std::string s = inst->second;
  size_t colon = s.rfind(':');
  return colon == std::string::npos ? s : s.substr(0, colon);
}

// Pod names of the Deployment `ns/name` (matchLabels of its selector).
absl::StatusOr<std::vector<std::string>> DeploymentPods(KubeReader& kube, const std::string& ns,
                                                        const std::string& name) {
  absl::StatusOr<rapidjson::Document> d =
      kube.Get(absl::StrCat("/apis/apps/v1/namespaces/", ns, "/deployments/", name));
  if (!d.ok()) return d.status();
  std::vector<std::string> terms;
  const rapidjson::Value* ml = Find(*d, {"spec", "selector", "matchLabels"});
  if (ml != nullptr && ml->IsObject()) {
    for (const auto& kv : ml->GetObject()) {
      if (kv.value.IsString())
        terms.push_back(absl::StrCat(kv.name.GetString(), "=", kv.value.GetString()));
    }
  }
  absl::StatusOr<rapidjson::Document> pods =
      kube.Get(absl::StrCat("/api/v1/namespaces/", ns,
                            "/pods?labelSelector=", base::UrlEncode(absl::StrJoin(terms, ","))));
  if (!pods.ok()) return pods.status();
  std::vector<std::string> out;
  for (const rapidjson::Value& p : Array(Find(*pods, {"items"})).GetArray()) {
    out.push_back(Str(p, {"metadata", "name"}));
  }
  return out;
}

void CheckPodSeries(KubeReader& kube, clients::prometheus::PrometheusClient* prom, absl::Time now,
                    const std::vector<SmartHpa>& hpas, std::vector<Check>* out) {
  std::set<std::pair<std::string, std::string>> managed;
  for (const SmartHpa& h : hpas) {
    if (h.target_kind == "Deployment") managed.insert({h.namespace_name, h.target_name});
  }
  std::map<std::string, absl::StatusOr<std::set<std::string>>> by_namespace;  // pods with series
  for (const auto& [ns, name] : managed) {
    const std::string id = absl::StrCat("prometheus/pod-cpu/", ns, "/", name);
    const std::string title = absl::StrCat("container_cpu_usage_seconds_total for ", ns, "/", name);
    if (!by_namespace.count(ns)) {
      auto r = prom->Query(
          absl::StrCat("count by (namespace, pod) (container_cpu_usage_seconds_total{namespace=\"",
                       ns, "\",container!=\"\",container!=\"POD\"})"),
          now);
      std::set<std::string> pods;
      if (r.ok())
        for (const auto& s : *r) pods.insert(s.labels.count("pod") ? s.labels.at("pod") : "");
      by_namespace.emplace(ns, r.ok() ? absl::StatusOr<std::set<std::string>>(pods) : r.status());
    }
    const auto& series = by_namespace.at(ns);
    absl::StatusOr<std::vector<std::string>> pods = DeploymentPods(kube, ns, name);
    if (!series.ok() || !pods.ok()) {
      out->push_back(Fail(id, title,
                          std::string((!series.ok() ? series.status() : pods.status()).message()),
                          !series.ok() ? kFixUrl : "the Deployment or its pods cannot be read"));
      continue;
    }
    int with = 0;
    for (const std::string& p : *pods) with += series->count(p);
    if (with > 0) {
      out->push_back(
          Pass(id, title, absl::StrCat(with, " of ", pods->size(), " pods have series")));
    } else {
      out->push_back(Fail(id, title,
                          pods->empty() ? "the Deployment has no pods"
                                        : absl::StrCat("no series for any of its ", pods->size(),
                                                       " pods (e.g. pod=\"", (*pods)[0], "\")"),
                          "scrape the kubelet's cAdvisor endpoint (/metrics/cadvisor) and keep "
                          "its namespace and pod labels (no relabeling to other names)"));
    }
  }
}

void CheckNodeCpu(KubeReader& kube, clients::prometheus::PrometheusClient* prom, absl::Time now,
                  std::vector<Check>* out) {
  const std::string id = "prometheus/node-cpu";
  const std::string title = "node_cpu_seconds_total exists and its labels name the Nodes";
  auto r = prom->Query("count by (instance, node) (node_cpu_seconds_total{mode!=\"idle\"})", now);
  if (!r.ok() || r->empty()) {
    out->push_back(Fail(
        id, title, r.ok() ? "no node_cpu_seconds_total series" : std::string(r.status().message()),
        "scrape node_exporter on every node (node pressure is unknown without it)"));
    return;
  }
  std::set<std::string> keys;
  for (const auto& s : *r) keys.insert(NodeKey(s.labels));
  absl::StatusOr<rapidjson::Document> nodes = kube.Get("/api/v1/nodes");
  if (!nodes.ok()) {
    out->push_back(Fail(id, title, absl::StrCat("cannot list Nodes: ", nodes.status().message()),
                        "the kubeconfig's user must be able to list nodes"));
    return;
  }
  std::vector<std::string> unmatched;
  int total = 0;
  for (const rapidjson::Value& n : Array(Find(*nodes, {"items"})).GetArray()) {
    ++total;
    std::string name = Str(n, {"metadata", "name"});
    if (!keys.count(name)) unmatched.push_back(name);
  }
  if (unmatched.empty()) {
    out->push_back(Pass(id, title, absl::StrCat("all ", total, " Nodes have node CPU series")));
    return;
  }
  out->push_back(Fail(id, title,
                      absl::StrCat("node label mapping: ", unmatched.size(), " of ", total,
                                   " Nodes have no series (Nodes: ", absl::StrJoin(unmatched, ", "),
                                   "; series name: ", absl::StrJoin(keys, ", "), ")"),
                      "give node_exporter's series a node label with the Node name (relabel "
                      "__meta_kubernetes_pod_node_name or __meta_kubernetes_node_name to node)"));
}

}  // namespace

void CheckPrometheus(KubeReader& kube, clients::prometheus::PrometheusClient* prom, absl::Time now,
                     const std::vector<SmartHpa>& hpas, std::vector<Check>* out) {
  const std::string id = "prometheus";
  const std::string title = "Prometheus answers queries";
  if (prom == nullptr) {
    out->push_back(
        Fail(id, title, "no Prometheus URL given", "--prometheus-url URL (PROMETHEUS_URL)"));
    return;
  }
  auto r = prom->Query("vector(1)", now);
  if (!r.ok()) {
    out->push_back(Fail(id, title, absl::StrCat("unreachable: ", r.status().message()), kFixUrl));
    return;
  }
  out->push_back(Pass(id, title, "vector(1) answered"));
  CheckPodSeries(kube, prom, now, hpas, out);
  CheckNodeCpu(kube, prom, now, out);
}

}  // namespace doctor::internal
