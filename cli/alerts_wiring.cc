#include "cli/alerts_wiring.h"

#include <map>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/trace_csv.h"
#include "clients/http/curl_http_client.h"
#include "clients/webhook/dispatcher.h"
#include "glog/logging.h"
#include "prometheus/registry.h"
#include "reconciler/alerts/alerts.h"
#include "reconciler/alerts/anomaly_log.h"
#include "reconciler/alerts/metrics.h"
#include "reconciler/alerts/routes.h"
#include "reconciler/alerts/stage.h"

namespace cli {
namespace {

namespace ra = reconciler::alerts;

class Runner : public AlertRunner {
 public:
  Runner(ra::ChannelSettings settings, ra::StageOptions stage, const base::Clock* clock,
         prometheus::Registry* registry, storage::Store* store)
      : clock_(clock),
        metrics_(registry),
        http_(clients::http::MakeCurlHttpClient({})),
        dispatcher_(settings.channels, http_.get(), clock, &base::RealSleeper()),
        notifier_(&dispatcher_),
        alerts_(&notifier_, clock, settings.options),
        stage_(&alerts_, std::move(stage)) {
    LOG(INFO) << "alerts: " << settings.channels.size() << " channel(s) configured";
    alerts_.AddListener(&metrics_);
    if (store == nullptr) return;
    log_ = std::make_unique<ra::AnomalyLog>(store, clock);
    alerts_.AddListener(log_.get());
    absl::StatusOr<std::vector<ra::Transition>> open = log_->Open();
    if (!open.ok()) {
      LOG(ERROR) << "anomaly log: cannot read the open anomalies: " << open.status();
      return;
    }
    for (const ra::Transition& t : *open) {
      alerts_.Restore(t);
      metrics_.Restored(t);
    }
    LOG(INFO) << "anomaly log: " << open->size() << " open anomaly(ies) restored";
  }

  void AddRoutes(reconciler::StatusView* view) const override {
    ra::AddAnomalyRoutes(view, log_.get(), clock_);
  }

  absl::StatusOr<std::vector<ra::Transition>> ActiveSince(absl::Time from) const override {
    if (log_ == nullptr) return absl::UnavailableError("no local store: anomalies are not kept");
    return log_->ActiveSince(from);
  }

  void AfterCycle(const std::vector<reconciler::DeploymentStatus>& statuses,
                  bool is_leader) override {
    // The histories loaded this cycle or queued before, within the budget per cycle.
    if (const int n = stage_.SeedQueued(); n > 0) {
      VLOG(1) << "anomaly detectors of " << n << " deployment(s) seeded, "
              << stage_.seed_progress().pending << " still queued";
    }
    const absl::Time now = clock_->Now();
    for (const reconciler::DeploymentStatus& s : statuses) {
      ra::DeploymentReading r;
      r.namespace_name = s.namespace_name;
      r.name = s.name;
      r.time = now;
      if (s.demand_cores.has_value()) r.demand_millicores = *s.demand_cores * 1000.0;
      if (s.blended_pct.has_value()) r.utilization_percent = *s.blended_pct;
      if (s.hpa_current_replicas.has_value()) r.current_replicas = *s.hpa_current_replicas;
      stage_.Observe(r, is_leader);  // transitions reach the metrics and the anomaly log
    }
    metrics_.ExportDispatcher(dispatcher_.Stats());
    const ra::SeedProgress progress = stage_.seed_progress();
    metrics_.ExportSeeding(progress.pending, progress.seeded);
  }

  void SeedHistory(const std::string& ns, const std::string& name,
                   const std::vector<std::pair<absl::Time, double>>& points) override {
    std::vector<predictor::Sample> millicores;
    millicores.reserve(points.size());
    for (const auto& [t, cores] : points) millicores.push_back({t, cores * 1000.0});
    // Seeded by AfterCycle, a budget per cycle (StageOptions::seeds_per_cycle).
    if (absl::Status s = stage_.QueueSeed(ns, name, std::move(millicores)); !s.ok()) {
      LOG(WARNING) << "anomaly detectors of " << ns << "/" << name
                   << " not seeded from the loaded history: " << s.message();
      return;
    }
    VLOG(1) << "anomaly detectors of " << ns << "/" << name << " queued to seed with "
            << points.size() << " buckets of demand history";
  }

  void Notify(const clients::webhook::Alert& alert) override { dispatcher_.Enqueue(alert); }

 private:
  const base::Clock* const clock_;
  ra::AlertMetrics metrics_;
  std::unique_ptr<clients::http::HttpClient> http_;
  clients::webhook::Dispatcher dispatcher_;
  ra::DispatcherNotifier notifier_;
  ra::AlertManager alerts_;
  ra::AnomalyStage stage_;
  std::unique_ptr<ra::AnomalyLog> log_;
};

absl::StatusOr<ra::ChannelSettings> Channels(
    const std::map<std::string, std::string>& channel_vars) {
  return ra::ChannelsFromEnvironment(
      [&channel_vars](const std::string& name) -> std::optional<std::string> {
        auto it = channel_vars.find(name);
        if (it == channel_vars.end()) return std::nullopt;
        return it->second;
      },
      [](const std::string& path) { return base::ReadFile(path); });
}

}  // namespace

absl::Status CheckAlertChannels(const std::map<std::string, std::string>& channel_vars) {
  return Channels(channel_vars).status();
}

absl::StatusOr<std::unique_ptr<AlertRunner>> MakeAlertRunner(
    const std::map<std::string, std::string>& channel_vars, absl::Duration check_interval,
    const base::Clock* clock, prometheus::Registry* registry, storage::Store* store) {
  absl::StatusOr<ra::ChannelSettings> settings = Channels(channel_vars);
  if (!settings.ok()) return settings.status();
  ra::StageOptions stage;
  stage.reading_interval = check_interval;
  return std::unique_ptr<AlertRunner>(
      new Runner(std::move(*settings), stage, clock, registry, store));
}

}  // namespace cli
