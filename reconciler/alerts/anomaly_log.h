// The anomaly log: every start and resolve the AlertManager sees, kept in the store's anomaly
// event log (storage::EventLog::kAnomalies, one serialized proto Anomaly per transition), so
// a deployment's anomalies, with their evidence, survive a restart and are served by the API.
//
//   reconciler::alerts::AnomalyLog log(store.get(), &clock);
//   alert_manager.AddListener(&log);
//   absl::StatusOr<std::vector<Transition>> open = log.Open();   // after a restart
//   if (open.ok()) for (const Transition& t : *open) alert_manager.Restore(t);
//   auto day = log.ForDeployment("shop", "api", now - absl::Hours(24), now);
//
// Records are written on every replica (each has its own store), leader or not. A start is
// written at its start time, a resolve at its end; the newest record of one anomaly
// (namespace, deployment, type, start) wins. A failed write is logged and counted, never fatal.
// Thread-safe: OnTransition on the loop's thread, reads from any thread.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "reconciler/alerts/alerts.h"
#include "storage/store.h"

namespace reconciler::alerts {

struct AnomalyLogOptions {
  // How far back reads look for the start of an anomaly that is still open, or that
  // overlaps the window asked for (the store's retention by default).
  absl::Duration lookback = absl::Hours(24 * 30);
};

class AnomalyLog : public AnomalyListener {
 public:
  // `store` and `clock` must outlive the log.
  AnomalyLog(storage::Store* store, const base::Clock* clock, AnomalyLogOptions options = {});

  // Appends the transition (synced). A failure is logged and counted in write_errors().
  void OnTransition(const Transition& transition) override;

  // The anomalies of one deployment that were active at some time in [from, to), oldest
  // start first, each as its newest record (end = InfiniteFuture while still open).
  // InvalidArgument when to < from; the store's error (e.g. Unavailable) otherwise.
  absl::StatusOr<std::vector<Transition>> ForDeployment(const std::string& namespace_name,
                                                        const std::string& deployment,
                                                        absl::Time from, absl::Time to) const;
  // Every anomaly, of any deployment, with no resolve recorded: what to Restore after a restart.
  absl::StatusOr<std::vector<Transition>> Open() const;
  // Every anomaly, of any deployment, active at some time in [from, now] (the overview's
  // counts), oldest start first; the store's error otherwise.
  absl::StatusOr<std::vector<Transition>> ActiveSince(absl::Time from) const;

  int64_t write_errors() const { return write_errors_.load(); }
  int64_t read_errors() const { return read_errors_.load(); }  // records that did not parse

 private:
  absl::StatusOr<std::vector<Transition>> Latest(absl::Time from, absl::Time to) const;

  storage::Store* const store_;
  const base::Clock* const clock_;
  const AnomalyLogOptions options_;
  std::atomic<int64_t> write_errors_{0};
  mutable std::atomic<int64_t> read_errors_{0};
};

// {"namespace":..,"deployment":..,"hours":..,"anomalies":[{"type","severity","start","end",
// "active","evidence":{"value","judged","band":{"low","high"},"threshold","values":[..]}}]}:
// missing sides of a band and the end of an open anomaly are null. "threshold" is the line the
// values crossed (persistent high CPU: % of request; thrashing: replica changes), null for the
// band-judged types (spike, pattern deviation). "judged" says what "value" is where it is not
// the newest value (the spike: "the value" or "the mean of the last 2h", the band being the
// one that feature was judged against; values are then [baseline, reading]), else null.
std::string AnomaliesJson(const std::string& namespace_name, const std::string& deployment,
                          double hours, const std::vector<Transition>& anomalies);

// The original's form (GET /api/deployment/<ns>/<name>/anomalies): a list, newest first, of
// {"timestamp" (the start), "type", "severity", "description", "current" (the newest value),
// "expected" (the threshold crossed or the band's middle), "deviation" (% from expected; null
// when expected is 0 or absent), and our "start", "end", "active"}.
std::string OriginalAnomaliesJson(const std::vector<Transition>& anomalies);

}  // namespace reconciler::alerts
