// The adapter's in-memory metric table: what every metrics request is answered from.
//
//   adapter::MetricTable table;
//   table.Replace({{.namespace_name = "prod", .metric = "smart_cpu_pressure",
//                   .deployment = "api", .value = 0.85, .timestamp = now}}, now);
//   std::shared_ptr<const adapter::MetricTable::Snapshot> s = table.Get();  // lock-free read
//
// Writers (the snapshot stream's Subscriber, through snapshot::TableSink, and the static file
// loader) build a complete immutable Snapshot and swap it in; readers take a shared_ptr copy
// and never block each other or the writer for longer than a pointer copy. Thread-safe.
//
// Points are snapshot::MetricPoints, with that header's timestamp meaning: a timeless point
// (snapshot::kTimeless) never goes stale and is served with the request time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "snapshot/metric_point.h"

namespace adapter {

// The served value, as the stream and the static file loader feed it in.
using MetricPoint = snapshot::MetricPoint;

class MetricTable : public snapshot::TableSink {
 public:
  // One series, ready to serve.
  struct Series {
    std::string metric;  // as fed in
    std::string deployment;
    std::map<std::string, std::string> labels;  // extra labels plus deployment=<name>
    double value = 0;
    std::string quantity;  // canonical Quantity string
    absl::Time timestamp;  // snapshot::kTimeless: never stale
    std::string timestamp_text;  // RFC 3339, pre-rendered; empty for snapshot::kTimeless
    int64_t window_seconds = 0;
    std::string labels_json;  // {"deployment":"api",...}, pre-rendered
  };
  // All series of one (namespace, lower-cased metric).
  struct Group {
    std::vector<Series> series;  // sorted by (deployment, labels)
    absl::flat_hash_map<std::string, std::vector<uint32_t>> by_deployment;
  };
  struct Snapshot {
    absl::flat_hash_map<std::string, Group> groups;  // key: GroupKey(ns, metric)
    std::vector<std::string> metric_names;           // distinct metric names (lower-cased), sorted
    bool has_data = false;                           // a snapshot was ever received/loaded
    absl::Time updated = absl::InfinitePast();       // when it was received
    size_t size = 0;                                 // number of series
    size_t skipped = 0;  // points dropped (non-finite or out-of-range values)
  };

  MetricTable();

  // Replaces the whole table with `points`, received at `now`. Points with non-finite or
  // out-of-range values are dropped (counted in Snapshot::skipped). Duplicates keep the last;
  // a duplicate here is a point with the same namespace, deployment and labels and the same
  // metric name compared case-insensitively (the metrics API looks names up that way), so two
  // SeriesKeys that differ only in the metric's case are served as one series.
  void Replace(const std::vector<MetricPoint>& points, absl::Time now) override;

  // The current snapshot; never null (an empty one with has_data=false before the first Replace).
  std::shared_ptr<const Snapshot> Get() const;

  static std::string GroupKey(absl::string_view namespace_name, absl::string_view metric);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adapter
