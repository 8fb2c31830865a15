// The reconciler's anomaly alerts, wired: the channels from the configuration's alert-channel
// variables, their dispatcher over libcurl, the lifecycle, the anomaly log in the store
// (restored after a restart) and the per-cycle detectors, fed from the loop's statuses after
// every cycle and exported on /metrics (autoscaler_alerts_sent_total{channel,result},
// autoscaler_anomalies_total{type}, autoscaler_anomaly_active{type,namespace,deployment}).
//
//   auto a = cli::MakeAlertRunner(config.alert_channel_vars, config.check_interval, &clock,
//                                 &registry, store.get());
//   (*a)->AddRoutes(&view);                                  // before RegisterApi
//   loop.SetHistoryObserver([&](auto& ns, auto& name, auto& week) {   // seeds the detectors
//     (*a)->SeedHistory(ns, name, week);
//   });
//   (*a)->AfterCycle(loop.Statuses(), leading.load());       // after every cycle
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/webhook/channels.h"
#include "prometheus/registry.h"
#include "reconciler/alerts/alerts.h"
#include "reconciler/api.h"
#include "reconciler/loop.h"
#include "storage/store.h"

namespace cli {

class AlertRunner {
 public:
  virtual ~AlertRunner() = default;
  // Runs the detectors over this cycle's statuses; only the leader notifies.
  virtual void AfterCycle(const std::vector<reconciler::DeploymentStatus>& statuses,
                          bool is_leader) = 0;
  // Seeds the deployment's spike and pattern detectors with its loaded demand history
  // (step start -> cores, oldest first: Reconciler::HistoryObserver), so they judge the next
  // cycle against the week instead of warming up after a start: queued, and seeded by the
  // next AfterCycle within its budget (50 per cycle: autoscaler_anomaly_seeds_pending counts
  // those still waiting, which warm up on readings meanwhile). Call on the cycle thread.
  virtual void SeedHistory(const std::string& namespace_name, const std::string& name,
                           const std::vector<std::pair<absl::Time, double>>& points) = 0;
  // Queues `alert` (a report) on every configured channel; never blocks on the network.
  virtual void Notify(const clients::webhook::Alert& alert) = 0;
  // Registers the deployment sub-resource "anomalies" (503 without a store).
  virtual void AddRoutes(reconciler::StatusView* view) const = 0;
  // Every anomaly active at some time since `from` (the overview's counts); Unavailable without
  // a store, the store's error otherwise.
  virtual absl::StatusOr<std::vector<reconciler::alerts::Transition>> ActiveSince(
      absl::Time from) const = 0;
};

// `channel_vars` are Config::alert_channel_vars (read at start; channel changes need a
// restart); `check_interval` is how often AfterCycle comes (the detectors' seeding replays the
// loaded week's last hours at it). InvalidArgument listing every channel-configuration problem
// (no secret values). The metrics are registered in `registry`; `store` may be null (anomalies
// are then not kept). Both must outlive the runner.
absl::StatusOr<std::unique_ptr<AlertRunner>> MakeAlertRunner(
    const std::map<std::string, std::string>& channel_vars, absl::Duration check_interval,
    const base::Clock* clock, prometheus::Registry* registry, storage::Store* store);

// check-config: the channel configuration's problems (InvalidArgument, one per line, naming
// variables and files, never a secret), reading the secret files as the reconciler would.
absl::Status CheckAlertChannels(const std::map<std::string, std::string>& channel_vars);

}  // namespace cli
