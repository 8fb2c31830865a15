#include "demo/workload.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/time_format.h"
#include "base/trace_csv.h"

namespace demo {
namespace {

constexpr char kJob[] = "kubelet";


// A short deterministic lower-case hash for generated names.
std::string NameHash(const std::string& s, int len) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < len; ++i) {
    out.push_back(kAlphabet[h % 27]);
    h /= 27;
  }
  return out;
}

double Percentile95(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(0.95 * (v.size() - 1))];
}

}  // namespace

std::string Workload::PodLabels(int d, int p) const {
  return absl::StrFormat(R"({namespace="%s",pod="%s",container="app",node="%s",job="%s",instance="%s"})",
                         deployments_[d].namespace_name, PodName(d, p), NodeOf(d, p), kJob,
                         NodeOf(d, p));
}

std::vector<DeploymentSpec> DefaultDeployments() {
  return {
      {"shop", "api", 4, 500, int64_t{512} << 20, "google2019_cpu_300s", 0.8},
      {"shop", "checkout", 3, 250, int64_t{256} << 20, "ec2_cpu_utilization_5f5533", 0.75},
      {"batch", "reports", 2, 1000, int64_t{1} << 30, "rds_cpu_utilization_cc0c53", 0.7},
  };
}

std::vector<NodeSpec> DefaultNodes() {
  return {{"node-a", 4000, 0.25}, {"node-b", 4000, 0.25}, {"node-c", 4000, 0.25}};
}

std::vector<DeploymentSpec> ScaledDeployments(int deployments, int pods) {
  const char* traces[] = {"google2019_cpu_300s", "ec2_cpu_utilization_5f5533",
                          "rds_cpu_utilization_cc0c53"};
  std::vector<DeploymentSpec> out;
  for (int i = 0; i < deployments; ++i) {
    out.push_back({absl::StrCat("team-", i % 20), absl::StrCat("svc-", i), pods, 200,
                   int64_t{256} << 20, traces[i % 3], 0.6 + 0.02 * (i % 10)});
  }
  return out;
}

std::vector<NodeSpec> ScaledNodes(int nodes) {
  std::vector<NodeSpec> out;
  for (int i = 0; i < nodes; ++i) out.push_back({absl::StrCat("node-", i), 32000, 1.0});
  return out;
}

absl::StatusOr<Trace> LoadTrace(const std::string& name, const std::string& path) {
  auto points = base::ReadTraceCsv(path);
  if (!points.ok()) return points.status();
  if (points->size() < 2) return absl::InvalidArgumentError(absl::StrCat(path, ": too short"));
  Trace t;
  t.name = name;
  t.start = points->front().time;
  std::vector<absl::Duration> gaps;
  for (size_t i = 1; i < points->size(); ++i) gaps.push_back((*points)[i].time - (*points)[i - 1].time);
  std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
  t.step = gaps[gaps.size() / 2];
  for (const base::Point& p : *points) t.values.push_back(std::max(0.0, p.value));
  return t;
}

absl::StatusOr<Workload> Workload::Create(std::vector<DeploymentSpec> deployments,
                                          std::vector<NodeSpec> nodes, std::vector<Trace> traces,
                                          absl::Time anchor) {
  Workload w;
  w.deployments_ = std::move(deployments);
  w.nodes_ = std::move(nodes);
  w.traces_ = std::move(traces);
  w.anchor_ = anchor;
  if (w.nodes_.empty()) return absl::InvalidArgumentError("no nodes");
  for (const DeploymentSpec& d : w.deployments_) {
    const Trace* trace = nullptr;
    for (const Trace& t : w.traces_) {
      if (t.name == d.trace) trace = &t;
    }
    if (trace == nullptr || trace->values.empty() || trace->step <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(d.name, ": no trace named ", d.trace));
    }
    if (d.pods < 1) return absl::InvalidArgumentError(absl::StrCat(d.name, ": no pods"));
    Replay r;
    r.trace = trace;
    double p95 = Percentile95(trace->values);
    double capacity = d.pods * d.cpu_request_millicores / 1000.0;
    r.scale = p95 > 0 ? d.p95_utilization * capacity / p95 : 0;
    // The trace's time of day lines up with the wall clock's.
    absl::Time day = absl::UnixEpoch() + absl::Floor(trace->start - absl::UnixEpoch(), absl::Hours(24));
    // ... and its steps with the wall clock's (5-minute buckets start at :00, :05, ...).
    r.origin = anchor + absl::Floor(trace->start - day, trace->step);
    r.prefix.assign(trace->values.size() + 1, 0);
    double step_s = absl::ToDoubleSeconds(trace->step);
    for (size_t k = 0; k < trace->values.size(); ++k) {
      r.prefix[k + 1] = r.prefix[k] + trace->values[k] * step_s;
    }
    w.replays_.push_back(std::move(r));
  }
  int index = 0;
  w.node_pods_.assign(w.nodes_.size(), {});
  for (size_t d = 0; d < w.deployments_.size(); ++d) {
    w.first_pod_.push_back(index);
    for (int p = 0; p < w.deployments_[d].pods; ++p) {
      w.node_pods_[(index + p) % w.nodes_.size()].push_back({static_cast<int>(d), p});
    }
    index += w.deployments_[d].pods;
  }
  return w;
}

// Integral of the replayed trace from the anchor to t (the trace repeats).
double Workload::Integral(const Replay& r, absl::Time t) const {
  const double step_s = absl::ToDoubleSeconds(r.trace->step);
  const int64_t n = static_cast<int64_t>(r.trace->values.size());
  const double period_s = step_s * n;
  auto from_origin = [&](absl::Time at) {
    double s = absl::ToDoubleSeconds(at - r.origin);
    double cycles = std::floor(s / period_s);
    double rem = s - cycles * period_s;
    int64_t k = std::min<int64_t>(n - 1, static_cast<int64_t>(rem / step_s));
    return cycles * r.prefix[n] + r.prefix[k] + r.trace->values[k] * (rem - k * step_s);
  };
  return from_origin(t) - from_origin(anchor_);
}

double Workload::DemandCores(int d, absl::Time t) const {
  const Replay& r = replays_[d];
  const int64_t n = static_cast<int64_t>(r.trace->values.size());
  int64_t k = static_cast<int64_t>(std::floor((t - r.origin) / r.trace->step)) % n;
  if (k < 0) k += n;
  return r.trace->values[k] * r.scale;
}

// Weights around 1 that sum to the pod count: pods differ a little, like real ones.
double Workload::Weight(int d, int p) const {
  int pods = deployments_[d].pods;
  if (pods == 1) return 1;
  return 1 + 0.1 * (2.0 * p / (pods - 1) - 1);
}

double Workload::PodCores(int d, int p, absl::Time t) const {
  return DemandCores(d, t) * Weight(d, p) / deployments_[d].pods;
}

double Workload::PodCpuSeconds(int d, int p, absl::Time t) const {
  return Integral(replays_[d], t) * replays_[d].scale * Weight(d, p) / deployments_[d].pods;
}

double Workload::PodMemoryBytes(int d, int p, absl::Time t) const {
  const DeploymentSpec& s = deployments_[d];
  double util = PodCores(d, p, t) / (s.cpu_request_millicores / 1000.0);
  return s.memory_request_bytes * (0.35 + 0.25 * std::min(util, 1.5));
}

std::string Workload::PodName(int d, int p) const {
  const DeploymentSpec& s = deployments_[d];
  std::string rs = absl::StrCat(s.name, "-", NameHash(s.namespace_name + "/" + s.name, 9));
  return absl::StrCat(rs, "-", NameHash(absl::StrCat(rs, p), 5));
}

std::string Workload::NodeOf(int d, int p) const {
  return nodes_[(first_pod_[d] + p) % nodes_.size()].name;
}

double Workload::NodeBusySeconds(int n, absl::Time t) const {
  double busy = nodes_[n].system_cores * absl::ToDoubleSeconds(t - anchor_);
  for (const auto& [d, p] : node_pods_[n]) busy += PodCpuSeconds(d, p, t);
  return busy;
}

std::string Workload::ClusterJson() const {
  const absl::Time started = anchor_ - absl::Hours(24);
  std::vector<std::string> items;
  for (const NodeSpec& n : nodes_) {
    items.push_back(absl::StrFormat(
        R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s","node.kubernetes.io/instance-type":"demo-4cpu"},"creationTimestamp":"%s"},"spec":{},"status":{"capacity":{"cpu":"%dm","memory":"16Gi","pods":"110"},"allocatable":{"cpu":"%dm","memory":"15Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True"}]}})",
        n.name, n.name, base::FormatRfc3339(started), n.allocatable_millicores, n.allocatable_millicores));
  }
  for (size_t d = 0; d < deployments_.size(); ++d) {
    const DeploymentSpec& s = deployments_[d];
    std::string rs = absl::StrCat(s.name, "-", NameHash(s.namespace_name + "/" + s.name, 9));
    std::string resources = absl::StrFormat(
        R"("resources":{"requests":{"cpu":"%dm","memory":"%d"},"limits":{"memory":"%d"}})",
        s.cpu_request_millicores, s.memory_request_bytes, 2 * s.memory_request_bytes);
    std::string container = absl::StrFormat(
        R"({"name":"app","image":"registry.example/%s:1.0",%s})", s.name, resources);
    items.push_back(absl::StrFormat(
        R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s","namespace":"%s","uid":"dep-%s","labels":{"app":"%s"},"creationTimestamp":"%s"},"spec":{"replicas":%d,"selector":{"matchLabels":{"app":"%s"}},"template":{"metadata":{"labels":{"app":"%s"}},"spec":{"containers":[%s]}}},"status":{"replicas":%d,"readyReplicas":%d,"availableReplicas":%d}})",
        s.name, s.namespace_name, NameHash(s.name, 8), s.name, base::FormatRfc3339(started), s.pods, s.name,
        s.name, container, s.pods, s.pods, s.pods));
    items.push_back(absl::StrFormat(
        R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"%s","namespace":"%s","labels":{"app":"%s"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"%s","uid":"dep-%s","controller":true}]},"spec":{"replicas":%d,"selector":{"matchLabels":{"app":"%s"}}},"status":{"replicas":%d,"readyReplicas":%d}})",
        rs, s.namespace_name, s.name, s.name, NameHash(s.name, 8), s.pods, s.name, s.pods,
        s.pods));
    for (int p = 0; p < s.pods; ++p) {
      items.push_back(absl::StrFormat(
          R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s","labels":{"app":"%s"},"creationTimestamp":"%s","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"%s","uid":"rs-%s","controller":true}]},"spec":{"nodeName":"%s","containers":[%s]},"status":{"phase":"Running","startTime":"%s","conditions":[{"type":"Ready","status":"True"}]}})",
          PodName(static_cast<int>(d), p), s.namespace_name, s.name, base::FormatRfc3339(started), rs,
          NameHash(rs, 8), NodeOf(static_cast<int>(d), p), container, base::FormatRfc3339(started)));
    }
    items.push_back(absl::StrFormat(
        R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"%s","namespace":"%s"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"%s"},"minReplicas":%d,"maxReplicas":%d,"metrics":[{"type":"External","external":{"metric":{"name":"smart_cpu_pressure","selector":{"matchLabels":{"deployment":"%s"}}},"target":{"type":"Value","value":"1"}}}]},"status":{"currentReplicas":%d,"desiredReplicas":%d}})",
        s.name, s.namespace_name, s.name, s.pods, 4 * s.pods, s.name, s.pods, s.pods));
  }
  return absl::StrCat(R"({"apiVersion":"v1","kind":"List","metadata":{},"items":[)",
                      absl::StrJoin(items, ",\n"), "]}\n");
}

void Workload::WriteOpenMetrics(std::ostream& out, absl::Time from, absl::Time to,
                                absl::Duration step) const {
  auto times = [&](const auto& emit) {
    for (absl::Time t = from; t <= to; t += step) emit(t);
  };
  out << "# TYPE container_cpu_usage_seconds counter\n";
  for (size_t d = 0; d < deployments_.size(); ++d) {
    for (int p = 0; p < deployments_[d].pods; ++p) {
      const std::string labels = PodLabels(d, p);
      times([&](absl::Time t) {
        out << "container_cpu_usage_seconds_total" << labels << " "
            << absl::StrFormat("%.6f", PodCpuSeconds(d, p, t)) << " " << absl::ToUnixSeconds(t)
            << "\n";
      });
    }
  }
  out << "# TYPE container_memory_working_set_bytes gauge\n";
  for (size_t d = 0; d < deployments_.size(); ++d) {
    for (int p = 0; p < deployments_[d].pods; ++p) {
      const std::string labels = PodLabels(d, p);
      times([&](absl::Time t) {
        out << "container_memory_working_set_bytes" << labels << " "
            << absl::StrFormat("%.0f", PodMemoryBytes(d, p, t)) << " " << absl::ToUnixSeconds(t)
            << "\n";
      });
    }
  }
  out << "# TYPE node_cpu_seconds counter\n";
  for (size_t n = 0; n < nodes_.size(); ++n) {
    for (const char* mode : {"user", "idle"}) {
      std::string labels = absl::StrFormat(R"({cpu="total",mode="%s",job="node-exporter",instance="%s:9100"})",
                                           mode, nodes_[n].name);
      times([&](absl::Time t) {
        double busy = NodeBusySeconds(n, t);
        double total = nodes_[n].allocatable_millicores / 1000.0 * absl::ToDoubleSeconds(t - anchor_);
        double v = std::string(mode) == "user" ? busy : std::max(0.0, total - busy);
        out << "node_cpu_seconds_total" << labels << " " << absl::StrFormat("%.6f", v) << " "
            << absl::ToUnixSeconds(t) << "\n";
      });
    }
  }
  out << "# EOF\n";
}

std::string Workload::Exposition(absl::Time now) const {
  std::string out = "# TYPE container_cpu_usage_seconds_total counter\n";
  for (size_t d = 0; d < deployments_.size(); ++d) {
    for (int p = 0; p < deployments_[d].pods; ++p) {
      absl::StrAppendFormat(&out, "container_cpu_usage_seconds_total%s %.6f\n", PodLabels(d, p),
                            PodCpuSeconds(d, p, now));
    }
  }
  out += "# TYPE container_memory_working_set_bytes gauge\n";
  for (size_t d = 0; d < deployments_.size(); ++d) {
    for (int p = 0; p < deployments_[d].pods; ++p) {
      absl::StrAppendFormat(&out, "container_memory_working_set_bytes%s %.0f\n", PodLabels(d, p),
                            PodMemoryBytes(d, p, now));
    }
  }
  out += "# TYPE node_cpu_seconds_total counter\n";
  for (size_t n = 0; n < nodes_.size(); ++n) {
    double busy = NodeBusySeconds(n, now);
    double total = nodes_[n].allocatable_millicores / 1000.0 * absl::ToDoubleSeconds(now - anchor_);
    absl::StrAppendFormat(&out,
                          "node_cpu_seconds_total{cpu=\"total\",mode=\"user\",job=\"node-exporter\","
                          "instance=\"%s:9100\"} %.6f\n",
                          nodes_[n].name, busy);
    absl::StrAppendFormat(&out,
                          "node_cpu_seconds_total{cpu=\"total\",mode=\"idle\",job=\"node-exporter\","
                          "instance=\"%s:9100\"} %.6f\n",
                          nodes_[n].name, std::max(0.0, total - busy));
  }
  return out;
}

}  // namespace demo
