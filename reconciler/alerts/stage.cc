#include "reconciler/alerts/stage.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace reconciler::alerts {
namespace {

namespace an = predictor::anomaly;

void Keep(std::deque<predictor::Sample>& h, absl::Time t, double v, absl::Duration span) {
  if (!h.empty() && t <= h.back().time) return;  // a repeated or late reading
  h.push_back({t, v});
  while (h.size() > 2 && h[1].time <= t - span) h.pop_front();  // one sample before the span
}

// InvalidArgument naming the first sample that is not after the one before it.
absl::Status CheckOrder(const std::vector<predictor::Sample>& history) {
  for (size_t i = 1; i < history.size(); ++i) {
    if (history[i].time <= history[i - 1].time) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history is not in time order: sample ", i, " (", absl::FormatTime(history[i].time),
          ") is not after sample ", i - 1));
    }
  }
  return absl::OkStatus();
}

}  // namespace

AnomalyStage::AnomalyStage(AlertManager* alerts, StageOptions options)
    : alerts_(alerts), options_(std::move(options)) {}

void AnomalyStage::Forget(const std::string& ns, const std::string& name) {
  deployments_.erase({ns, name});
  queued_.erase({ns, name});  // its key in queue_order_ is skipped
}

void AnomalyStage::SeedSpike(an::SpikeDetector& spike,
                             const std::vector<predictor::Sample>& history) const {
  constexpr int kMaxCopies = 60;  // per bucket: 5-s readings of 5-minute buckets
  const absl::Duration every = options_.reading_interval;
  const absl::Time dense_from = history.back().time - options_.spike.recent_long;
  for (size_t i = 0; i < history.size(); ++i) {
    const predictor::Sample& s = history[i];
    spike.Update(s.time, s.value);
    // Never past the last bucket's start: a reading at or before the detector's last time
    // would be ignored.
    if (every <= absl::ZeroDuration() || s.time < dense_from || i + 1 == history.size()) continue;
    int copies = 0;
    for (absl::Time t = s.time + every; t < history[i + 1].time && copies < kMaxCopies;
         t += every, ++copies) {
      spike.Update(t, s.value);
    }
  }
}

absl::Status AnomalyStage::Seed(const std::string& ns, const std::string& name,
                                const std::vector<predictor::Sample>& history) {
  if (absl::Status s = CheckOrder(history); !s.ok()) return s;
  queued_.erase({ns, name});  // this history replaces a queued one (its key is skipped)
  SeedNow({ns, name}, history, {});
  return absl::OkStatus();
}

absl::Status AnomalyStage::QueueSeed(const std::string& ns, const std::string& name,
                                     std::vector<predictor::Sample> history) {
  if (absl::Status s = CheckOrder(history); !s.ok()) return s;
  if (history.empty()) return absl::OkStatus();
  auto [it, added] = queued_.try_emplace({ns, name});
  it->second.history = std::move(history);  // the held readings stay: later ones are replayed
  if (added) queue_order_.push_back(it->first);
  return absl::OkStatus();
}

int AnomalyStage::SeedQueued() {
  int seeded = 0;
  while (seeded < options_.seeds_per_cycle && !queue_order_.empty()) {
    const Key key = std::move(queue_order_.front());
    queue_order_.pop_front();
    auto it = queued_.find(key);
    if (it == queued_.end()) continue;  // forgotten or seeded directly since
    const Queued q = std::move(it->second);
    queued_.erase(it);
    SeedNow(key, q.history, q.held);
    ++seeded;
  }
  return seeded;
}

SeedProgress AnomalyStage::seed_progress() const {
  return {static_cast<int>(queued_.size()), seeded_};
}

void AnomalyStage::SeedNow(const Key& key, const std::vector<predictor::Sample>& history,
                           const std::vector<predictor::Sample>& held) {
  if (history.empty()) return;
  PerDeployment fresh(options_);
  // In order (checked by the callers): the tracker's own check cannot fail.
  fresh.pattern.Seed(history).IgnoreError();
  SeedSpike(fresh.spike, history);
  // The next bucket is the first one open to readings: those in the history's last bucket (or
  // before) are late, as they would be judged twice.
  fresh.bucket = absl::Floor(history.back().time - absl::UnixEpoch(), options_.pattern_bucket) +
                 absl::UnixEpoch() + options_.pattern_bucket;
  // The readings observed while queued, after the history (earlier ones are ignored by both):
  // what they found was reported when they were observed.
  for (const predictor::Sample& h : held) {
    fresh.spike.Update(h.time, h.value);
    Pattern(fresh, h.time, h.value);
  }
  ++seeded_;
  auto it = deployments_.find(key);
  if (it == deployments_.end()) {
    deployments_.emplace(key, std::move(fresh));
    return;
  }
  PerDeployment& old = it->second;
  fresh.spike_above = old.spike_above;  // an active spike is not resolved by the seed
  fresh.utilization = std::move(old.utilization);
  fresh.replicas = std::move(old.replicas);
  if (held.empty() && old.bucket >= fresh.bucket) {  // the open bucket of readings after it
    fresh.bucket = old.bucket;
    fresh.bucket_sum = old.bucket_sum;
    fresh.bucket_n = old.bucket_n;
  }
  old = std::move(fresh);
}

std::optional<an::Finding> AnomalyStage::Pattern(PerDeployment& d, absl::Time t,
                                                 double demand) const {
  const absl::Time bucket = absl::Floor(t - absl::UnixEpoch(), options_.pattern_bucket) +
                            absl::UnixEpoch();
  std::optional<an::Finding> out;
  if (bucket < d.bucket) return out;  // a late reading
  if (bucket > d.bucket && d.bucket_n > 0) {
    // The closed bucket, stamped at its start: one sample per step, as the predictor expects.
    absl::StatusOr<an::Finding> f = d.pattern.Update(d.bucket, d.bucket_sum / d.bucket_n);
    if (f.ok()) out = *f;
    d.bucket_sum = 0;
    d.bucket_n = 0;
  }
  d.bucket = bucket;
  d.bucket_sum += demand;
  ++d.bucket_n;
  return out;
}

std::vector<an::Finding> AnomalyStage::Observe(const DeploymentReading& r, bool is_leader) {
  auto it = deployments_.try_emplace({r.namespace_name, r.name}, options_).first;
  PerDeployment& d = it->second;
  std::vector<an::Finding> out;
  if (r.demand_millicores.has_value()) {
    if (auto q = queued_.find(it->first);
        q != queued_.end() && q->second.held.size() < kMaxHeldReadings) {
      q->second.held.push_back({r.time, *r.demand_millicores});
    }
    const an::SpikeScore s = d.spike.Update(r.time, *r.demand_millicores);
    an::Finding f;
    f.type = an::AnomalyType::kCpuSpike;
    f.value = *r.demand_millicores;
    if (s.has_baseline && s.score >= options_.spike.threshold) d.spike_above = r.time;
    // Held active for spike_resolve_after past the last score at the threshold.
    f.active = s.has_baseline && r.time - d.spike_above < std::max(options_.spike_resolve_after,
                                                                   absl::Nanoseconds(1));
    f.severity = s.score >= 0.99 ? an::Severity::kCritical : an::Severity::kWarning;
    f.since = r.time;  // the AlertManager keeps the first cycle's
    if (s.has_baseline) {
      // The evidence is what decided: the judged value (the reading, or a recent mean of the
      // demand, at this baseline and scale) and the band at which it scores the threshold.
      f.judged = an::SpikeBasisDescription(s.basis, options_.spike);
      f.value = s.baseline + s.judged * s.scale;
      if (std::isfinite(s.limit)) {
        f.low = s.baseline - s.limit * s.scale;
        f.high = s.baseline + s.limit * s.scale;
      }
    }
    f.values = {s.baseline, *r.demand_millicores};
    out.push_back(f);
    if (std::optional<an::Finding> p = Pattern(d, r.time, *r.demand_millicores)) {
      out.push_back(*p);
    }
  }
  if (r.utilization_percent.has_value()) {
    Keep(d.utilization, r.time, *r.utilization_percent, options_.persistent_high.sustained);
    absl::StatusOr<an::Finding> f = an::DetectPersistentHigh(
        std::vector<predictor::Sample>(d.utilization.begin(), d.utilization.end()),
        options_.persistent_high);
    if (f.ok()) out.push_back(*f);
  }
  if (r.current_replicas.has_value()) {
    Keep(d.replicas, r.time, *r.current_replicas, options_.thrashing.window);
    absl::StatusOr<an::Finding> f = an::DetectThrashing(
        std::vector<predictor::Sample>(d.replicas.begin(), d.replicas.end()), options_.thrashing);
    if (f.ok()) out.push_back(*f);
  }
  for (const an::Finding& f : out) alerts_->Observe(r.namespace_name, r.name, f, is_leader);
  return out;
}

}  // namespace reconciler::alerts
