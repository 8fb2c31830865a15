// The reconciler's anomaly alerts, wired: the channels from the environment, their dispatcher
// over libcurl, the lifecycle and the per-cycle detectors, fed from the loop's statuses after
// every cycle and exported on /metrics (autoscaler_alerts_sent_total{channel,result},
// autoscaler_anomalies_total{type}, autoscaler_anomaly_active{type,namespace,deployment}).
//
//   absl::StatusOr<std::unique_ptr<cli::AlertRunner>> a = cli::MakeAlertRunner(&clock, &registry);
//   (*a)->AfterCycle(loop.Statuses(), leading.load());
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "clients/webhook/channels.h"
#include "prometheus/registry.h"
#include "reconciler/loop.h"

namespace cli {

class AlertRunner {
 public:
  virtual ~AlertRunner() = default;
  // Runs the detectors over this cycle's statuses; only the leader notifies.
  virtual void AfterCycle(const std::vector<reconciler::DeploymentStatus>& statuses,
                          bool is_leader) = 0;
  // Queues `alert` (a report) on every configured channel; never blocks on the network.
  virtual void Notify(const clients::webhook::Alert& alert) = 0;
};

// InvalidArgument listing every channel-configuration problem (no secret values). The metrics
// are registered in `registry`, which must outlive the runner.
absl::StatusOr<std::unique_ptr<AlertRunner>> MakeAlertRunner(const base::Clock* clock,
                                                             prometheus::Registry* registry);

}  // namespace cli
