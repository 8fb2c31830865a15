// The anomaly alert lifecycle: one notification when an anomaly starts, one when it resolves,
// a reminder every `renotify` while it lasts, never two for one state change, and only from
// the leader; plus the channel configuration from the environment.
//
//   reconciler::alerts::AlertManager m(&notifier, &clock, {});
//   m.Observe("default", "api", finding, /*is_leader=*/true);   // every cycle, every type
//
// The state of every (namespace, deployment, type) is tracked on every replica, leader or
// not, so a replica that takes over the lease mid-anomaly neither repeats the start the old
// leader sent nor misses the resolve. Thread-compatible (the reconciler loop owns it).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/webhook/channels.h"
#include "clients/webhook/dispatcher.h"
#include "predictor/anomaly/detectors.h"

namespace reconciler::alerts {

// Where notifications go (clients::webhook::Dispatcher in production, via DispatcherNotifier).
class Notifier {
 public:
  virtual ~Notifier() = default;
  // Must not block on the network.
  virtual void Notify(const clients::webhook::Alert& alert) = 0;
};

// The production Notifier: queues on every configured channel and returns at once.
class DispatcherNotifier : public Notifier {
 public:
  explicit DispatcherNotifier(clients::webhook::Dispatcher* dispatcher) : d_(dispatcher) {}
  void Notify(const clients::webhook::Alert& alert) override { d_->Enqueue(alert); }

 private:
  clients::webhook::Dispatcher* const d_;
};

// One start or resolve of an anomaly, as every replica sees it (leader or not).
struct Transition {
  std::string namespace_name;
  std::string deployment;
  predictor::anomaly::Finding evidence;  // the finding of the anomaly's first cycle
  absl::Time start;
  absl::Time end = absl::InfiniteFuture();  // while active
};

// Told of every start and resolve on every replica (the anomaly log, the metrics). Called on
// the loop's thread; must not block on the network.
class AnomalyListener {
 public:
  virtual ~AnomalyListener() = default;
  virtual void OnTransition(const Transition& transition) = 0;
};

struct AlertOptions {
  absl::Duration renotify = absl::Hours(4);  // 0: no reminders
};

struct AlertCounts {
  int64_t started = 0, resolved = 0, reminders = 0;
  int64_t suppressed_not_leader = 0;  // state changes seen while not the leader
};

class AlertManager {
 public:
  // `notifier` and `clock` must outlive the manager.
  AlertManager(Notifier* notifier, const base::Clock* clock, AlertOptions options = {});

  // Feeds this cycle's finding for one deployment and anomaly type.
  void Observe(const std::string& namespace_name, const std::string& deployment,
               const predictor::anomaly::Finding& finding, bool is_leader);
  // Adds a listener (not owned; must outlive the manager), told of every later transition.
  void AddListener(AnomalyListener* listener) { listeners_.push_back(listener); }
  // Takes up an anomaly that was active before a restart (from the anomaly log): no start is
  // sent again, a reminder follows `renotify` from now, and its resolve is sent (and told to
  // the listeners) as for any other. Ignored when that deployment and type is already active.
  void Restore(const Transition& active);
  // Number of active anomalies (all deployments, all types).
  int active() const;
  AlertCounts counts() const { return counts_; }

 private:
  struct State {
    absl::Time since;
    absl::Time last_notified = absl::InfinitePast();
    std::string key;
    predictor::anomaly::Finding first, last;
  };
  using Key = std::tuple<std::string, std::string, predictor::anomaly::AnomalyType>;
  clients::webhook::Alert Build(const Key& key, const State& state, bool resolved,
                                bool reminder) const;

  Notifier* const notifier_;
  const base::Clock* const clock_;
  const AlertOptions options_;
  void Tell(const Key& key, const State& state, absl::Time end) const;

  std::map<Key, State> active_;
  std::vector<AnomalyListener*> listeners_;
  AlertCounts counts_;
};

// Reads an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// Reads a whole file (a mounted Secret). NotFound / PermissionDenied etc.
using FileReader = std::function<absl::StatusOr<std::string>(const std::string&)>;

struct ChannelSettings {
  std::vector<clients::webhook::ChannelConfig> channels;
  AlertOptions options;
};

// The channels configured by the environment (variable names in the README's "Alert
// channels" section): SLACK_WEBHOOK, TEAMS_WEBHOOK, DISCORD_WEBHOOK, GENERIC_WEBHOOK (URLs, as
// the original; each also as <NAME>_FILE), PAGERDUTY_ROUTING_KEY_FILE, DATADOG_API_KEY_FILE,
// GRAFANA_URL + GRAFANA_TOKEN_FILE, JIRA_URL + JIRA_USER + JIRA_PROJECT + JIRA_TOKEN_FILE,
// SERVICENOW_URL + SERVICENOW_USER + SERVICENOW_PASSWORD_FILE, OPSGENIE_API_KEY_FILE,
// ELASTICSEARCH_URL (+ ELASTICSEARCH_INDEX, ELASTICSEARCH_API_KEY_FILE),
// ALERT_RENOTIFY_INTERVAL. Secrets come only from files; file contents are trimmed.
// InvalidArgument listing every problem, one per line, naming variables and files but never
// their contents.
absl::StatusOr<ChannelSettings> ChannelsFromEnvironment(const EnvLookup& env,
                                                        const FileReader& read_file);

}  // namespace reconciler::alerts
