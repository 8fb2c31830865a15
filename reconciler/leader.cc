#include "reconciler/leader.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace reconciler {

namespace kube = clients::kube;

LeaderElector::LeaderElector(kube::LeaseClient* leases, base::Env* env,
                             LeaderElectionOptions options)
    : leases_(leases), env_(env), options_(std::move(options)) {}

bool LeaderElector::IsLeader() const {
  absl::MutexLock lock(&mu_);
  return leader_;
}

std::string LeaderElector::ObservedHolder() const {
  absl::MutexLock lock(&mu_);
  return observed_holder_;
}

bool LeaderElector::TryAcquireOrRenew() {
  const absl::Time now = env_->Now();
  absl::MutexLock lock(&mu_);
  auto fail = [&](const absl::Status& s) {
    // A leader keeps leading through short API trouble, until the renew deadline.
    if (leader_ && now - last_renew_ >= options_.renew_deadline) {
      LOG(WARNING) << "leader election: could not renew the Lease for "
                   << absl::FormatDuration(now - last_renew_) << " (" << s.message()
                   << "): stepping down";
      leader_ = false;
    }
    return leader_;
  };
  kube::Lease lease;
  absl::StatusOr<kube::Lease> got = leases_->Get(options_.namespace_name, options_.name);
  if (got.status().code() == absl::StatusCode::kNotFound) {
    lease.metadata.namespace_name = options_.namespace_name;
    lease.metadata.name = options_.name;
    lease.holder_identity = options_.identity;
    lease.lease_duration_seconds = static_cast<int32_t>(absl::ToInt64Seconds(options_.lease_duration));
    lease.acquire_time = now;
    lease.renew_time = now;
    absl::StatusOr<kube::Lease> created = leases_->Create(lease);
    if (!created.ok()) return fail(created.status());
    if (!leader_) LOG(INFO) << "leader election: acquired new Lease " << options_.name;
    leader_ = true;
    last_renew_ = now;
    observed_holder_ = options_.identity;
    return true;
  }
  if (!got.ok()) return fail(got.status());
  lease = *got;
  // Track when the record last changed, by the local clock.
  std::string key = absl::StrCat(lease.holder_identity, "|", lease.metadata.resource_version);
  if (key != observed_key_) {
    observed_key_ = key;
    observed_at_ = now;
  }
  observed_holder_ = lease.holder_identity;
  const bool mine = lease.holder_identity == options_.identity;
  absl::Duration duration =
      lease.lease_duration_seconds ? absl::Seconds(*lease.lease_duration_seconds)
                                   : options_.lease_duration;
  if (!mine && !lease.holder_identity.empty() && now < observed_at_ + duration) {
    if (leader_) LOG(WARNING) << "leader election: " << lease.holder_identity << " holds the Lease";
    leader_ = false;
    return false;
  }
  if (!mine) {
    lease.holder_identity = options_.identity;
    lease.acquire_time = now;
    lease.lease_transitions += 1;
  }
  lease.lease_duration_seconds = static_cast<int32_t>(absl::ToInt64Seconds(options_.lease_duration));
  lease.renew_time = now;
  absl::StatusOr<kube::Lease> updated = leases_->Update(lease);
  if (!updated.ok()) {
    if (updated.status().code() == absl::StatusCode::kAborted && !mine) {
      leader_ = false;  // somebody else was faster
      return false;
    }
    return fail(updated.status());
  }
  if (!leader_) {
    LOG(INFO) << "leader election: " << options_.identity << " now leads (Lease "
              << options_.namespace_name << "/" << options_.name << ")";
  }
  leader_ = true;
  last_renew_ = now;
  observed_holder_ = options_.identity;
  observed_key_ = absl::StrCat(options_.identity, "|", updated->metadata.resource_version);
  observed_at_ = now;
  return true;
}

void LeaderElector::Release() {
  absl::StatusOr<kube::Lease> got = leases_->Get(options_.namespace_name, options_.name);
  if (!got.ok() || got->holder_identity != options_.identity) return;
  kube::Lease lease = *got;
  lease.holder_identity = "";
  lease.lease_duration_seconds = 1;
  lease.renew_time = env_->Now();
  absl::Status s = leases_->Update(lease).status();
  if (!s.ok()) LOG(WARNING) << "leader election: release failed: " << s.message();
}

void LeaderElector::Run(const std::atomic<bool>* stop,
                        const std::function<void(bool)>& on_change) {
  bool was = false;
  while (!stop->load()) {
    bool now_leader = TryAcquireOrRenew();
    if (now_leader != was) {
      was = now_leader;
      on_change(now_leader);
    }
    // Sleep in small slices so a stop request is seen quickly.
    const absl::Time until = env_->Now() + options_.retry_period;
    for (absl::Time now = env_->Now(); !stop->load() && now < until; now = env_->Now()) {
      env_->SleepFor(std::min(absl::Milliseconds(50), until - now));
    }
  }
  if (was) {
    Release();
    {
      absl::MutexLock lock(&mu_);
      leader_ = false;
    }
    on_change(false);
  }
}

}  // namespace reconciler
