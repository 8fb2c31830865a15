// The adapter's own metrics (prometheus-cpp): requests by resource, verb and code, request
// latency, stale answers, snapshot age, served series and the auth caches' lookups. Children
// of the request families are created on first use and kept, so counting a request reads a few
// atomic pointers (no label map is built or hashed on the hot path).
//
//   prometheus::Registry registry;
//   adapter::HandlerMetrics metrics(&registry);
//   metrics.CountRequest("externalmetrics", "list", 200, absl::Microseconds(40));
//   std::string text = metrics.Exposition();  // the whole registry, text format 0.0.4
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapter/auth/auth.h"
#include "base/metric_children.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace adapter {

class HandlerMetrics {
 public:
  // `registry` must outlive this; it is also what Exposition() renders.
  explicit HandlerMetrics(prometheus::Registry* registry);

  // One answered request: adapter_requests_total{resource,verb,code} and
  // adapter_request_duration_seconds{resource} (`elapsed` in the histogram's seconds).
  void CountRequest(absl::string_view resource, absl::string_view verb, int code,
                    absl::Duration elapsed);
  // A metric request answered 503 because values were stale or absent.
  void CountStale() { stale_->Increment(); }
  // Requests counted so far (all labels).
  uint64_t requests() const;

  // Scrape-time values: seconds since the table's last update (+Inf: none yet), its series,
  // and the auth stack's cache counters (null: not exported). Then the registry as text.
  std::string Scrape(double snapshot_age_seconds, size_t series,
                     const auth::AuthCounters* auth_counters);

 private:
  prometheus::Registry* registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  base::MetricChildren<prometheus::Counter> request_children_;     // resource x verb x code
  base::MetricChildren<prometheus::Histogram> duration_children_;  // resource
  prometheus::Family<prometheus::Histogram>* durations_;
  prometheus::Counter* stale_;
  prometheus::Family<prometheus::Gauge>* age_;
  prometheus::Family<prometheus::Gauge>* series_;
  prometheus::Family<prometheus::Counter>* auth_lookups_;
  absl::Mutex scrape_mu_;  // one scrape at a time brings the scrape-time values up to date
};

}  // namespace adapter
