// The anomaly and alert families on /metrics, registered in the process registry:
//   autoscaler_anomalies_total{type}                         anomalies started (counter)
//   autoscaler_anomaly_active{type,namespace,deployment}    1 while active, 0 once resolved
//   autoscaler_alerts_sent_total{channel,result}             notifications by outcome (counter;
//                                                            result: sent, failed, dropped,
//                                                            skipped, invalid)
//   autoscaler_anomaly_seeds_pending                         loaded histories queued for the
//                                                            detectors, not seeded yet (gauge)
//   autoscaler_anomaly_seeded_total                          deployments seeded (counter)
//
//   reconciler::alerts::AlertMetrics metrics(&registry);
//   alert_manager.AddListener(&metrics);
//   metrics.Restored(t);                       // an anomaly restored after a restart
//   metrics.ExportDispatcher(dispatcher.Stats());   // after every cycle
//   metrics.ExportSeeding(pending, seeded);         // AnomalyStage::seed_progress()
//
// Thread-compatible (the loop's thread); the registry is read concurrently by the scrape.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "clients/webhook/dispatcher.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "reconciler/alerts/alerts.h"

namespace reconciler::alerts {

class AlertMetrics : public AnomalyListener {
 public:
  // `registry` must outlive this.
  explicit AlertMetrics(prometheus::Registry* registry);

  // A start counts in autoscaler_anomalies_total and sets the active gauge; a resolve clears it.
  void OnTransition(const Transition& transition) override;
  // An anomaly still open from before a restart: active again, not counted a second time.
  void Restored(const Transition& transition);
  // The dispatcher's totals since start; the counters take what is new since the last call.
  void ExportDispatcher(const std::vector<clients::webhook::ChannelStats>& stats);
  // The seeding progress: `pending` histories queued, `seeded` in total since start.
  void ExportSeeding(int pending, int64_t seeded);

 private:
  prometheus::Gauge& Active(const Transition& t);

  prometheus::Family<prometheus::Counter>& anomalies_;
  prometheus::Family<prometheus::Gauge>& active_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Gauge& seeds_pending_;
  prometheus::Counter& seeded_;
  int64_t seeded_seen_ = 0;
  std::map<std::pair<std::string, std::string>, int64_t> sent_seen_;
};

}  // namespace reconciler::alerts
