// A TableSink for tests: keeps the last table handed over by a Subscriber, as it was handed
// over (no indexing, no formatting), so a test can compare it with what was published.
//
//   snapshot::RecordingSink sink;
//   snapshot::Subscriber subscriber(&sink, &base::RealClock(), {.address = address});
//   subscriber.Start();  ...  EXPECT_EQ(sink.size(), 3u);
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "snapshot/metric_point.h"

namespace snapshot {

class RecordingSink : public TableSink {
 public:
  void Replace(const std::vector<MetricPoint>& points, absl::Time received) override {
    absl::MutexLock lock(&mu_);
    points_ = points;
    received_ = received;
    has_data_ = true;
  }

  // Whether a table was ever handed over.
  bool has_data() const {
    absl::MutexLock lock(&mu_);
    return has_data_;
  }
  // The number of points in the last table (0 before the first).
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return points_.size();
  }
  // The receipt time of the last table (InfinitePast before the first).
  absl::Time received() const {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  std::vector<MetricPoint> points() const {
    absl::MutexLock lock(&mu_);
    return points_;
  }
  // The first point of the last table with this namespace, metric and deployment (whatever
  // its labels); nullopt if there is none.
  std::optional<MetricPoint> Find(const std::string& namespace_name, const std::string& metric,
                                  const std::string& deployment) const {
    absl::MutexLock lock(&mu_);
    for (const MetricPoint& p : points_) {
      if (p.namespace_name == namespace_name && p.metric == metric && p.deployment == deployment) {
        return p;
      }
    }
    return std::nullopt;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<MetricPoint> points_ ABSL_GUARDED_BY(mu_);
  absl::Time received_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool has_data_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace snapshot
