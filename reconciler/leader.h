// leader: leader election on a coordination.k8s.io/v1 Lease, like client-go's leaderelection.
//
//   reconciler::LeaderElector elector(&leases, &env, {.namespace_name = "autoscaler-system",
//                                                        .name = "smart-autoscaler-reconciler",
//                                                        .identity = pod_name});
//   elector.Run(&stop, [&](bool leading) { patches_enabled = leading; });
//
// Every retry period (2 s) it tries to acquire or renew: it takes the Lease when nobody holds
// it or when the holder has not renewed it for lease_duration (15 s) as seen by the local clock
// since the holder's record last changed (clock skew between replicas does not matter), and
// renews it while leading. A leader that cannot renew for renew_deadline (10 s) steps down,
// before anyone else may take over at 15 s. Writes use the Lease's resourceVersion, so two
// candidates never both win (409 -> kAborted -> not leader this round). Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/kube/lease_client.h"

namespace reconciler {

struct LeaderElectionOptions {
  std::string namespace_name = "autoscaler-system";
  std::string name = "smart-autoscaler-reconciler";
  std::string identity;  // unique per replica: the Pod name (hostname)
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
};

class LeaderElector {
 public:
  // `leases` and `env` must outlive the elector. `env` gives the time every decision uses and
  // the waits between attempts in Run().
  LeaderElector(clients::kube::LeaseClient* leases, base::Env* env, LeaderElectionOptions options);

  // One attempt to acquire or renew; returns whether this replica leads now.
  bool TryAcquireOrRenew();

  // Calls TryAcquireOrRenew every retry period (waiting on the Env in slices of at most 50 ms,
  // so *stop is seen quickly) until *stop; `on_change` runs on this thread
  // when leadership changes (and with false when Run ends while leading, after trying to
  // release the Lease so a standby takes over at once).
  void Run(const std::atomic<bool>* stop, const std::function<void(bool)>& on_change);

  bool IsLeader() const;
  std::string ObservedHolder() const;

 private:
  void Release();

  clients::kube::LeaseClient* const leases_;
  base::Env* const env_;
  const LeaderElectionOptions options_;
  mutable absl::Mutex mu_;
  bool leader_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_renew_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // our last success
  // The other holder's record as last seen, and when (local clock) it last changed.
  std::string observed_key_ ABSL_GUARDED_BY(mu_);
  std::string observed_holder_ ABSL_GUARDED_BY(mu_);
  absl::Time observed_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace reconciler
