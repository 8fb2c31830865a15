// backfill: the cold start's background loader. A week of per-deployment CPU demand fetched
// with grouped range queries (one per namespace and time chunk, `sum by (namespace, pod)`),
// joined to deployments in memory by pod name, on its own thread under its own token bucket
// (BACKFILL_QUERIES_PER_SECOND), handed to the cycle thread through TakeLoaded, which never
// blocks on Prometheus.
//
//   reconciler::Backfiller backfiller(prom, &clock, {.queries_per_second = 2});
//   backfiller.Start({{"shop", "api", /*pods=*/12}, ...}, now);
//   for (auto& h : backfiller.TakeLoaded()) tracker(h.namespace_name, h.name).LoadHistory(...);
//   reconciler::BackfillProgress p = backfiller.progress();   // loaded / pending / queries
//
// Thread-safe. A failed query is retried (each try charged to the bucket); a namespace whose
// chunk still fails has its deployments counted as failed, never loaded with zeros.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/http/rate_limiter.h"
#include "clients/prometheus/prometheus.h"

namespace reconciler {

struct BackfillOptions {
  double queries_per_second = 2;   // BACKFILL_QUERIES_PER_SECOND (> 0)
  // Points (series x steps) one answer may hold; chunks of time are cut to stay under it.
  int64_t max_points_per_query = 250000;
  absl::Duration window = absl::Hours(24 * 7);
  absl::Duration step = absl::Minutes(5);
  int tries = 3;                   // per chunk
};

// A deployment to load; `pods` (its current replica count, >= 1) sizes the chunks.
struct BackfillTarget {
  std::string namespace_name, name;
  int pods = 1;
};

// One grouped range query over [from, to] (inclusive, every step) for one namespace.
struct BackfillQuery {
  std::string namespace_name, promql;
  absl::Time from, to;
};

// The queries covering every target's namespace over the window before `now`, whole steps:
// one namespace per query, time cut so pods x steps <= max_points_per_query.
std::vector<BackfillQuery> PlanBackfill(const std::vector<BackfillTarget>& targets,
                                        absl::Time now, const BackfillOptions& options);

// The Deployment a pod name belongs to (<deployment>-<replicaset hash>-<pod hash>); "" when
// the name has fewer than three dash-separated parts.
std::string DeploymentOfPod(const std::string& pod);

struct LoadedHistory {
  std::string namespace_name, name;
  std::vector<std::pair<absl::Time, double>> points;  // step start -> cores, in order; may be
                                                      // empty (no samples: unknown, not zero)
};

struct BackfillProgress {
  int64_t loaded = 0, pending = 0, failed = 0;  // deployments
  int64_t queries = 0, query_errors = 0;        // range queries run / failed
  int64_t throttled = 0;                        // queries that waited for the bucket
  int64_t planned = 0;                          // range queries the plan holds (no retries)
  // When Start was called and when the last namespace finished (InfinitePast until then).
  absl::Time started = absl::InfinitePast(), finished = absl::InfinitePast();
};

class Backfiller {
 public:
  // `prom` (thread-safe) and `clock` must outlive the backfiller.
  Backfiller(clients::prometheus::PrometheusClient* prom, const base::Clock* clock,
             BackfillOptions options);
  ~Backfiller();  // stops the thread (an in-flight query is awaited) and joins it

  // Starts loading `targets` over the window before `now` on a new thread. Once only.
  void Start(std::vector<BackfillTarget> targets, absl::Time now);
  // Histories completed since the last call; never waits for a query.
  std::vector<LoadedHistory> TakeLoaded();
  BackfillProgress progress() const;
  // Blocks until every target is loaded or failed (progress().finished is set), or `timeout`
  // passes (tests, benches).
  bool WaitDone(absl::Duration timeout);

 private:
  void Run(std::vector<BackfillTarget> targets, std::vector<BackfillQuery> plan);
  bool RunChunk(const BackfillQuery& q,
                std::map<std::string, std::map<absl::Time, double>>* sums);

  clients::prometheus::PrometheusClient* const prom_;
  const base::Clock* const clock_;
  const BackfillOptions options_;
  clients::http::TokenBucket bucket_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<LoadedHistory> ready_ ABSL_GUARDED_BY(mu_);
  BackfillProgress progress_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace reconciler
