#include "reconciler/alerts/metrics.h"

namespace reconciler::alerts {

namespace an = predictor::anomaly;

AlertMetrics::AlertMetrics(prometheus::Registry* registry)
    : anomalies_(prometheus::BuildCounter()
                     .Name("autoscaler_anomalies_total")
                     .Help("Anomalies started, by type.")
                     .Register(*registry)),
      active_(prometheus::BuildGauge()
                  .Name("autoscaler_anomaly_active")
                  .Help("1 while the anomaly is active, 0 once resolved.")
                  .Register(*registry)),
      sent_(prometheus::BuildCounter()
                .Name("autoscaler_alerts_sent_total")
                .Help("Alert notifications by channel and result.")
                .Register(*registry)),
      seeds_pending_(prometheus::BuildGauge()
                         .Name("autoscaler_anomaly_seeds_pending")
                         .Help("Loaded demand histories queued to seed the anomaly detectors.")
                         .Register(*registry)
                         .Add({})),
      seeded_(prometheus::BuildCounter()
                  .Name("autoscaler_anomaly_seeded_total")
                  .Help("Deployments whose anomaly detectors were seeded from their history.")
                  .Register(*registry)
                  .Add({})) {}

prometheus::Gauge& AlertMetrics::Active(const Transition& t) {
  return active_.Add({{"type", an::AnomalyTypeName(t.evidence.type)},
                      {"namespace", t.namespace_name},
                      {"deployment", t.deployment}});
}

void AlertMetrics::OnTransition(const Transition& t) {
  const bool started = t.end == absl::InfiniteFuture();
  if (started) anomalies_.Add({{"type", an::AnomalyTypeName(t.evidence.type)}}).Increment();
  Active(t).Set(started ? 1 : 0);
}

void AlertMetrics::Restored(const Transition& t) { Active(t).Set(1); }

void AlertMetrics::ExportDispatcher(const std::vector<clients::webhook::ChannelStats>& stats) {
  for (const clients::webhook::ChannelStats& c : stats) {
    const std::string channel = clients::webhook::ChannelName(c.channel);
    for (const auto& [result, value] : std::vector<std::pair<const char*, int64_t>>{
             {"sent", c.sent}, {"failed", c.failed}, {"dropped", c.dropped},
             {"skipped", c.skipped}, {"invalid", c.invalid}}) {
      int64_t& last = sent_seen_[{channel, result}];
      // Every result appears from the first export on (at 0), so rate() sees the first one.
      prometheus::Counter& counter = sent_.Add({{"channel", channel}, {"result", result}});
      if (value > last) {
        counter.Increment(static_cast<double>(value - last));
        last = value;
      }
    }
  }
}

void AlertMetrics::ExportSeeding(int pending, int64_t seeded) {
  seeds_pending_.Set(pending);
  if (seeded > seeded_seen_) {
    seeded_.Increment(static_cast<double>(seeded - seeded_seen_));
    seeded_seen_ = seeded;
  }
}

}  // namespace reconciler::alerts
