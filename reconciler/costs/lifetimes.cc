// PodLifetimeTracker: pod lifetimes from the pods seen each cycle.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "reconciler/costs/costs.h"

namespace costs {

std::vector<std::pair<std::string, PodLifetime>> PodLifetimeTracker::Observe(
    absl::Time now, const std::vector<ObservedPod>& pods) {
  std::vector<std::pair<std::string, PodLifetime>> changed;
  std::set<std::string> seen;
  for (const ObservedPod& p : pods) {
    std::string key = absl::StrCat(p.namespace_name, "/", p.pod);
    seen.insert(key);
    auto [it, fresh] = pods_.try_emplace(key);
    Entry& e = it->second;
    if (fresh || e.life.end != absl::InfiniteFuture()) {
      // New, or a pod of the same name back after it ended (a StatefulSet-style restart).
      e.deployment_key = absl::StrCat(p.namespace_name, "/", p.deployment);
      e.life = PodLifetime{};
      e.life.pod = p.pod;
      // A creation time after the first sighting is a clock skew; trust the sighting.
      e.life.start = std::min(p.created, now);
      fresh = true;
    }
    e.life.cpu_request_millicores = p.cpu_request_millicores;
    e.life.memory_request_bytes = p.memory_request_bytes;
    e.life.node = p.node;
    e.life.pool = p.pool;
    e.last_seen = now;
    if (fresh) changed.emplace_back(e.deployment_key, e.life);
  }
  for (auto& [key, e] : pods_) {
    if (e.life.end != absl::InfiniteFuture() || seen.count(key)) continue;
    e.life.end = e.last_seen + (now - e.last_seen) / 2;
    changed.emplace_back(e.deployment_key, e.life);
  }
  return changed;
}

std::vector<PodLifetime> PodLifetimeTracker::Lifetimes(absl::string_view deployment_key) const {
  std::vector<PodLifetime> out;
  for (const auto& [key, e] : pods_) {
    if (e.deployment_key == deployment_key) out.push_back(e.life);
  }
  return out;
}

void PodLifetimeTracker::Forget(absl::Time before) {
  for (auto it = pods_.begin(); it != pods_.end();) {
    if (it->second.life.end < before) {
      it = pods_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace costs
