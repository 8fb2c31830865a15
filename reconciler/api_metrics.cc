#include "reconciler/api_metrics.h"

#include <array>
#include <cmath>
#include <functional>

#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace reconciler {
namespace {

using Getter = std::function<absl::optional<double>(const DeploymentStatus&)>;

struct GaugeSpec {
  const char* name;
  const char* help;
  Getter get;
};

const std::vector<GaugeSpec>& Specs() {
  static const auto* const specs = new std::vector<GaugeSpec>{
      {"smart_autoscaler_cpu_blended_percent", "Served smart_cpu_blended (% of CPU request).",
       [](const DeploymentStatus& s) { return s.served_blended_pct; }},
      {"smart_autoscaler_cpu_predicted_percent", "Served smart_cpu_predicted (% of CPU request).",
       [](const DeploymentStatus& s) { return s.served_predicted_pct; }},
      {"smart_autoscaler_cpu_pressure_ratio", "Served smart_cpu_pressure (predicted / target).",
       [](const DeploymentStatus& s) { return s.served_pressure; }},
      {"smart_autoscaler_cpu_target_percent", "Recommended HPA target (% of CPU request).",
       [](const DeploymentStatus& s) -> absl::optional<double> {
         if (!s.served_blended_pct) return absl::nullopt;
         return s.target_pct;
       }},
      {"smart_autoscaler_memory_blended_percent", "Served smart_memory_blended (% of request).",
       [](const DeploymentStatus& s) { return s.served_memory_pct; }},
      {"smart_autoscaler_cpu_demand_cores", "This cycle's blended CPU demand (cores).",
       [](const DeploymentStatus& s) { return s.demand_cores; }},
      {"smart_autoscaler_forecast_peak_p90_cores",
       "Forecast p90 peak demand over the lead window (cores).",
       [](const DeploymentStatus& s) { return s.forecast_peak_p90_cores; }},
      {"smart_autoscaler_forecast_trusted", "1 when the forecast passes the validation gates.",
       [](const DeploymentStatus& s) -> absl::optional<double> {
         return s.forecast_trusted ? 1.0 : 0.0;
       }},
      {"smart_autoscaler_forecast_accuracy_ratio", "Rolling share of forecasts within 15 %.",
       [](const DeploymentStatus& s) -> absl::optional<double> { return s.forecast_accuracy; }},
      {"smart_autoscaler_node_utilization_percent",
       "CPU utilization of the deployment's nodes (blended).",
       [](const DeploymentStatus& s) -> absl::optional<double> {
         if (s.pressure.level == PressureLevel::kUnknown) return absl::nullopt;
         return s.pressure.utilization_pct;
       }},
      {"smart_autoscaler_ready_pods", "Ready pods of the deployment.",
       [](const DeploymentStatus& s) -> absl::optional<double> { return s.ready_pods; }},
      {"smart_autoscaler_reading_confidence", "Confidence of this cycle's reading (0-1).",
       [](const DeploymentStatus& s) -> absl::optional<double> { return s.confidence; }},
  };
  return *specs;
}

constexpr PressureLevel kLevels[] = {PressureLevel::kUnknown, PressureLevel::kSafe,
                                     PressureLevel::kWarning, PressureLevel::kCritical};
constexpr char kLevelName[] = "smart_autoscaler_node_pressure";
constexpr char kLevelHelp[] = "Node pressure level, one series per level.";

// Label position in the exposition: namespace, deployment, level (then anything else).
int LabelRank(const std::string& name) {
  if (name == "namespace") return 0;
  if (name == "deployment") return 1;
  if (name == "level") return 2;
  return 3;
}

}  // namespace

struct CycleMetrics::Series {
  explicit Series(prometheus::Registry& r) {
    auto counter = [&r](const char* name, const char* help, const prometheus::Labels& labels = {}) {
      return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(labels);
    };
    auto gauge = [&r](const char* name, const char* help) {
      return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
    };
    cycles = counter("smart_autoscaler_cycles_total", "Reconcile cycles run.");
    wall = &prometheus::BuildHistogram()
                .Name("smart_autoscaler_cycle_duration_seconds")
                .Help("Wall time of a reconcile cycle.")
                .Register(r)
                .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                                 5, 10, 30});
    cpu =
        counter("smart_autoscaler_cycle_cpu_seconds_total", "CPU time spent in reconcile cycles.");
    const char* queries_help = "Prometheus queries sent by cycles (signals).";
    queries =
        counter("smart_autoscaler_prometheus_queries_total", queries_help, {{"kind", "signals"}});
    backfill =
        counter("smart_autoscaler_prometheus_queries_total", queries_help, {{"kind", "backfill"}});
    failures = counter("smart_autoscaler_prometheus_query_failures_total",
                       "Prometheus signal queries that failed.");
    deployments = gauge("smart_autoscaler_managed_deployments", "Deployments managed last cycle.");
    served = gauge("smart_autoscaler_served_deployments", "Deployments with served values.");
    held = counter("smart_autoscaler_held_values_total",
                   "Deployment-cycles whose previous values stood (no data or low confidence).");
    points = gauge("smart_autoscaler_served_points", "Size of the served table.");
    patches = counter("smart_autoscaler_hpa_patches_total",
                      "Legacy mode: HPA patches sent or logged (DRY_RUN).");
    last = gauge("smart_autoscaler_last_cycle_timestamp_seconds",
                 "Unix time of the last completed cycle.");
    errors = counter("smart_autoscaler_cycle_errors_total", "Errors reported by cycles.");
  }
  prometheus::Counter *cycles, *cpu, *queries, *backfill, *failures, *held, *patches, *errors;
  prometheus::Histogram* wall;
  prometheus::Gauge *deployments, *served, *points, *last;
};

CycleMetrics::CycleMetrics(prometheus::Registry* registry) : registry_(registry) {}
CycleMetrics::~CycleMetrics() = default;

void CycleMetrics::Record(const CycleReport& r) {
  absl::MutexLock lock(&mu_);
  if (series_ == nullptr) series_ = std::make_unique<Series>(*registry_);
  Series& s = *series_;
  s.cycles->Increment();
  s.wall->Observe(absl::ToDoubleSeconds(r.wall));
  s.cpu->Increment(absl::ToDoubleSeconds(r.cpu));
  s.queries->Increment(r.queries);
  s.backfill->Increment(r.backfill_queries);
  s.failures->Increment(r.query_failures);
  s.deployments->Set(r.deployments);
  s.served->Set(r.served);
  s.held->Increment(r.held);
  s.points->Set(r.points);
  s.patches->Increment(r.patches);
  s.last->Set(absl::ToDoubleSeconds(r.start - absl::UnixEpoch()));
  s.errors->Increment(static_cast<double>(r.errors.size()));
}

struct DeploymentGauges::Children {
  std::vector<prometheus::Gauge*> values;      // per Specs() entry; null while the value is absent
  std::array<prometheus::Gauge*, 4> levels{};  // per kLevels
  bool seen = false;
};

DeploymentGauges::DeploymentGauges() {
  for (const GaugeSpec& spec : Specs()) {
    families_.push_back(std::make_unique<prometheus::Family<prometheus::Gauge>>(
        spec.name, spec.help, prometheus::Labels{}));
  }
  families_.push_back(std::make_unique<prometheus::Family<prometheus::Gauge>>(
      kLevelName, kLevelHelp, prometheus::Labels{}));
}

DeploymentGauges::~DeploymentGauges() = default;

std::vector<prometheus::MetricFamily> DeploymentGauges::Collect(
    const std::vector<DeploymentStatus>& statuses) {
  const std::vector<GaugeSpec>& specs = Specs();
  prometheus::Family<prometheus::Gauge>& levels = *families_.back();
  absl::MutexLock lock(&mu_);
  for (auto& [key, c] : children_) c->seen = false;
  for (const DeploymentStatus& s : statuses) {
    std::unique_ptr<Children>& c = children_[{s.namespace_name, s.name}];
    const prometheus::Labels labels = {{"namespace", s.namespace_name}, {"deployment", s.name}};
    if (c == nullptr) {
      c = std::make_unique<Children>();
      c->values.assign(specs.size(), nullptr);
      for (size_t l = 0; l < 4; ++l) {
        prometheus::Labels with_level = labels;
        with_level["level"] = PressureLevelName(kLevels[l]);
        c->levels[l] = &levels.Add(with_level);
      }
    }
    c->seen = true;
    for (size_t i = 0; i < specs.size(); ++i) {
      absl::optional<double> v = specs[i].get(s);
      if (v && std::isfinite(*v)) {
        if (c->values[i] == nullptr) c->values[i] = &families_[i]->Add(labels);
        c->values[i]->Set(*v);
      } else if (c->values[i] != nullptr) {
        families_[i]->Remove(c->values[i]);
        c->values[i] = nullptr;
      }
    }
    for (size_t l = 0; l < 4; ++l) c->levels[l]->Set(s.pressure.level == kLevels[l] ? 1.0 : 0.0);
  }
  for (auto it = children_.begin(); it != children_.end();) {
    if (it->second->seen) {
      ++it;
      continue;
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      if (it->second->values[i] != nullptr) families_[i]->Remove(it->second->values[i]);
    }
    for (prometheus::Gauge* g : it->second->levels) levels.Remove(g);
    it = children_.erase(it);
  }
  std::vector<prometheus::MetricFamily> out;
  for (size_t i = 0; i < families_.size(); ++i) {
    std::vector<prometheus::MetricFamily> f = families_[i]->Collect();
    if (f.empty()) {  // an empty family still says what it is
      const bool is_levels = i == specs.size();
      f.push_back({is_levels ? kLevelName : specs[i].name,
                   is_levels ? kLevelHelp : specs[i].help,
                   prometheus::MetricType::Gauge,
                   {}});
    }
    for (prometheus::ClientMetric& m : f[0].metric) {
      std::stable_sort(m.label.begin(), m.label.end(), [](const auto& a, const auto& b) {
        return LabelRank(a.name) < LabelRank(b.name);
      });
    }
    out.push_back(std::move(f[0]));
  }
  return out;
}

}  // namespace reconciler
