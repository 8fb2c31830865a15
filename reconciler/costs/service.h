// service: the costs of the deployments a reconciler store knows, read from storage::Store. The
// cost routes, the /metrics cost gauges, the weekly report and `smart-autoscaler costs` share it.
//
//   costs::CostService svc(store, [&] { return prices; }, {});
//   absl::StatusOr<costs::DeploymentCosts> c =
//       svc.Deployment("shop", "api", absl::Now(), absl::Hours(24));
//   if (c.ok()) std::cout << c->cost.total_cost << " USD\n";
//
// Pod time and requests come from the pod-lifetime log (the newest record of each lifetime
// wins), indexed once and then read incrementally; usage from each deployment's
// cpu_demand_cores and memory_working_set_bytes series (raw samples up to 48 h, hourly rollups
// beyond); right-sizing from the last 8 days of raw samples. A pod whose lifetime is still open
// ran until its deployment's newest cpu_demand_cores sample (the last cycle that saw it); over
// rollups, until the window's end when the deployment has a rollup in the window's last hour
// (an error under one hour for a deployment that stopped in that hour with pods still open).
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "reconciler/costs/costs.h"
#include "storage/store.h"

namespace costs {

// One deployment's costs over a window.
struct DeploymentCosts {
  std::string namespace_name, deployment;
  CostReport cost;
  Rightsizing rightsizing;
  // The newest pod's requests (per pod) and pool: what right-sizing compares with.
  int64_t cpu_request_millicores = 0;
  int64_t memory_request_bytes = 0;
  std::string pool;
  // With `detail` only: the pod lifetimes (open ones ended at the last measurement) and the
  // usage spans that were priced.
  std::vector<PodLifetime> pods;
  std::vector<UsageSpan> usage;
};

struct ServiceOptions {
  // A usage sample stands for at most this long; a longer gap is unmeasured, not zero use.
  absl::Duration max_gap = absl::Minutes(10);
  // Windows up to this long read raw samples; longer ones the hourly rollups.
  absl::Duration raw_up_to = absl::Hours(48);
  // An ended pod's record is dated at its (midpoint) end, before the cycle that wrote it: each
  // incremental read of the lifetime log starts this far before the previous one ended.
  absl::Duration rescan_overlap = absl::Hours(2);
};

class CostService {
 public:
  // `store` may be null (every call is then Unavailable) and must outlive the service.
  // `prices` returns the prices in force (PRICING_FILE is hot-reloaded); called on the
  // caller's thread, must be thread-safe.
  CostService(const storage::Store* store, std::function<PriceTable()> prices,
              ServiceOptions options = {});

  // One deployment over [to - window, to). NotFound when the store holds no pod lifetime of
  // it; Unavailable when there is no store or the lifetime log cannot be read. A usage series
  // that cannot be read leaves the usage unmeasured (utilisation null), never zero.
  absl::StatusOr<DeploymentCosts> Deployment(absl::string_view namespace_name,
                                             absl::string_view deployment, absl::Time to,
                                             absl::Duration window, bool rightsizing = true,
                                             bool detail = false);
  // Every deployment with pod lifetimes, ordered by namespace then name. Errors as above.
  absl::StatusOr<std::vector<DeploymentCosts>> All(absl::Time to, absl::Duration window,
                                                   bool rightsizing);
  // The newest cpu_demand_cores sample of any deployment (InfinitePast when none);
  // Unavailable as above.
  absl::StatusOr<absl::Time> NewestCycle();
  // Lifetime records that did not decode (skipped), since the service was made.
  int bad_records() const;

 private:
  // (pod, start ms); hashed and compared as (string_view, ms) as well, so a lookup builds no
  // string.
  using PodKey = std::pair<std::string, int64_t>;
  struct PodKeyHash {
    using is_transparent = void;
    template <typename K>
    size_t operator()(const K& k) const {
      return absl::HashOf(absl::string_view(k.first), k.second);
    }
  };
  struct PodKeyEq {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.second == b.second && absl::string_view(a.first) == absl::string_view(b.first);
    }
  };
  struct Indexed {
    std::string ns, name;
    std::map<std::string, storage::SeriesId> series;  // metric -> id
    // -> the newest record. Unordered; Compute sorts by (pod, start).
    absl::flat_hash_map<PodKey, PodLifetime, PodKeyHash, PodKeyEq> pods;
  };
  // New series, then the lifetime records since the last read.
  void RefreshSeries() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Index(absl::Time time, absl::string_view payload, bool first)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Indexed& Entry(absl::string_view ns, absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  DeploymentCosts Compute(const Indexed& d, absl::Time to, absl::Duration window,
                          bool rightsizing, const PriceTable& prices, bool detail = false) const;

  const storage::Store* const store_;
  const std::function<PriceTable()> prices_;
  const ServiceOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, Indexed> index_ ABSL_GUARDED_BY(mu_);
  // "namespace\0name" -> its entry in index_ (std::map nodes stay put): one hash lookup per
  // lifetime record instead of a tree walk over string pairs.
  absl::flat_hash_map<std::string, Indexed*> by_key_ ABSL_GUARDED_BY(mu_);
  std::string key_scratch_ ABSL_GUARDED_BY(mu_);
  DecodedLifetime decoded_ ABSL_GUARDED_BY(mu_);
  absl::Time scanned_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int bad_ ABSL_GUARDED_BY(mu_) = 0;
};

// The `hours` query parameter: a number of hours in (0, max]. InvalidArgument naming the text
// ("hours=abc: not a number of hours", "hours=0: must be > 0", "hours=9000: more than the
// 720 h the store keeps") otherwise.
absl::StatusOr<absl::Duration> ParseWindowHours(absl::string_view text, absl::Duration max);

}  // namespace costs

namespace costs {

// The prices in force: the flat COST_PER_VCPU_HOUR / COST_PER_GB_MEMORY_HOUR and PRICING_FILE.
// Reload (each cycle) re-reads the file and re-parses it when its text or the flat prices
// changed, so an edited file applies within a cycle. Thread-safe.
class PriceSource {
 public:
  explicit PriceSource(Prices flat) : table_(PriceTable::Flat(flat)) {}
  // OK, or why the file could not be read or parsed; the table in force then stays.
  absl::Status Reload(Prices flat, const std::string& pricing_file);
  PriceTable Get() const;

 private:
  mutable absl::Mutex mu_;
  PriceTable table_ ABSL_GUARDED_BY(mu_);
  std::string last_text_ ABSL_GUARDED_BY(mu_);
  std::string last_path_ ABSL_GUARDED_BY(mu_);
  Prices last_flat_ ABSL_GUARDED_BY(mu_);
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace costs
