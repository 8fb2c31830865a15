#include "cli/alerts_wiring.h"

#include <cstdlib>
#include <map>
#include <string>
#include <tuple>

#include "base/trace_csv.h"
#include "clients/http/curl_http_client.h"
#include "base/clock.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "clients/webhook/dispatcher.h"
#include "glog/logging.h"
#include "reconciler/alerts/alerts.h"
#include "reconciler/alerts/stage.h"

namespace cli {
namespace {

namespace an = predictor::anomaly;
namespace ra = reconciler::alerts;

class Runner : public AlertRunner {
 public:
  Runner(ra::ChannelSettings settings, const base::Clock* clock, prometheus::Registry* registry)
      : clock_(clock),
        anomalies_(prometheus::BuildCounter()
                       .Name("autoscaler_anomalies_total")
                       .Help("Anomalies started, by type.")
                       .Register(*registry)),
        active_gauge_(prometheus::BuildGauge()
                          .Name("autoscaler_anomaly_active")
                          .Help("1 while the anomaly is active.")
                          .Register(*registry)),
        sent_(prometheus::BuildCounter()
                  .Name("autoscaler_alerts_sent_total")
                  .Help("Alert notifications by channel and result.")
                  .Register(*registry)),
        http_(clients::http::MakeCurlHttpClient({})),
        dispatcher_(settings.channels, http_.get(), clock, &base::RealSleeper()),
        notifier_(&dispatcher_),
        alerts_(&notifier_, clock, settings.options),
        stage_(&alerts_) {
    LOG(INFO) << "alerts: " << settings.channels.size() << " channel(s) configured";
  }

  void AfterCycle(const std::vector<reconciler::DeploymentStatus>& statuses,
                  bool is_leader) override {
    const absl::Time now = clock_->Now();
    for (const reconciler::DeploymentStatus& s : statuses) {
      ra::DeploymentReading r;
      r.namespace_name = s.namespace_name;
      r.name = s.name;
      r.time = now;
      if (s.demand_cores.has_value()) r.demand_millicores = *s.demand_cores * 1000.0;
      if (s.blended_pct.has_value()) r.utilization_percent = *s.blended_pct;
      r.current_replicas = s.pods;  // the Deployment's pods as the informer sees them
      for (const an::Finding& f : stage_.Observe(r, is_leader)) {
        const std::string type = an::AnomalyTypeName(f.type);
        const auto key = std::make_tuple(type, s.namespace_name, s.name);
        if (f.active && !active_[key]) {
          anomalies_.Add({{"type", type}}).Increment();
        }
        active_[key] = f.active;
        active_gauge_
            .Add({{"type", type}, {"namespace", s.namespace_name}, {"deployment", s.name}})
            .Set(f.active ? 1 : 0);
      }
    }
    for (const clients::webhook::ChannelStats& c : dispatcher_.Stats()) {
      for (const auto& [result, value] : std::vector<std::pair<const char*, int64_t>>{
               {"sent", c.sent}, {"failed", c.failed}, {"dropped", c.dropped},
               {"skipped", c.skipped}, {"invalid", c.invalid}}) {
        // The dispatcher's totals since start; the counter takes what is new since last cycle.
        const std::string channel = clients::webhook::ChannelName(c.channel);
        int64_t& last = sent_seen_[{channel, result}];
        if (value > last) {
          sent_.Add({{"channel", channel}, {"result", result}})
              .Increment(static_cast<double>(value - last));
          last = value;
        }
      }
    }
  }

  void Notify(const clients::webhook::Alert& alert) override { dispatcher_.Enqueue(alert); }

 private:
  const base::Clock* const clock_;
  prometheus::Family<prometheus::Counter>& anomalies_;
  prometheus::Family<prometheus::Gauge>& active_gauge_;
  prometheus::Family<prometheus::Counter>& sent_;
  std::map<std::pair<std::string, std::string>, int64_t> sent_seen_;
  std::unique_ptr<clients::http::HttpClient> http_;
  clients::webhook::Dispatcher dispatcher_;
  ra::DispatcherNotifier notifier_;
  ra::AlertManager alerts_;
  ra::AnomalyStage stage_;
  std::map<std::tuple<std::string, std::string, std::string>, bool> active_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AlertRunner>> MakeAlertRunner(const base::Clock* clock,
                                                             prometheus::Registry* registry) {
  absl::StatusOr<ra::ChannelSettings> settings = ra::ChannelsFromEnvironment(
      [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (v == nullptr) return std::nullopt;
        return std::string(v);
      },
      [](const std::string& path) { return base::ReadFile(path); });
  if (!settings.ok()) return settings.status();
  return std::unique_ptr<AlertRunner>(new Runner(std::move(*settings), clock, registry));
}

}  // namespace cli
