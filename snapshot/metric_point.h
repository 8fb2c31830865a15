// The snapshot stream's contract, in one place: one served value (MetricPoint), the identity
// of its series (SeriesKey), what its timestamp means, and the receiving end of a stream of
// whole tables (TableSink). The reconciler produces MetricPoints, the publisher streams them,
// the subscriber hands them to a TableSink (the adapter's table); none of these needs gRPC.
//
//   snapshot::MetricPoint p{.namespace_name = "prod", .metric = "smart_cpu_pressure",
//                           .deployment = "api", .value = 0.85, .timestamp = now,
//                           .window = absl::Minutes(10)};
//   std::string key = snapshot::SeriesKey(p);   // "prod\0smart_cpu_pressure\0api"
//
// Timestamps. `timestamp` is when the value was computed. absl::InfinitePast() (kTimeless)
// means the value is timeless: it has no age, never goes stale, and a server answers it with
// the time of each request. Only hand-written tables (the adapter's --static-metrics file for
// tests and the demo) hold timeless values. The stream never carries one: Publisher::Publish
// stamps a timeless point with its clock at publish time (as it does any time at or before the
// Unix epoch, which the wire cannot carry: 0 ms means "no timestamp" there), and a Subscriber
// stamps a value that arrives without a timestamp with its receipt time. So every streamed
// value ages, and goes stale once the stream stops.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace snapshot {

// The timestamp of a timeless value (see the file comment).
inline constexpr absl::Time kTimeless = absl::InfinitePast();

// One served value. Identity is (namespace_name, metric, deployment, labels); value,
// timestamp and window are its payload. A plain value type.
struct MetricPoint {
  std::string namespace_name;
  std::string metric;  // e.g. "smart_cpu_pressure"
  std::string deployment;
  std::map<std::string, std::string> labels;  // extra series labels (node_pool, ...)
  double value = 0;
  // When the value was computed; kTimeless = never stale. Streamed with millisecond precision.
  absl::Time timestamp = kTimeless;
  // The window the value covers (the metrics API's "window"). Streamed with millisecond
  // precision, served in whole seconds.
  absl::Duration window = absl::ZeroDuration();
};

// The identity of a series: namespace, metric, deployment and the labels in key order,
// NUL-separated. Two points are the same series exactly when their keys are equal (the
// comparison is exact: metric names are case-sensitive here).
std::string SeriesKey(const MetricPoint& point);
std::string SeriesKey(absl::string_view namespace_name, absl::string_view metric,
                      absl::string_view deployment,
                      const std::map<std::string, std::string>& labels);

// The receiving end of a stream of whole tables (the adapter's in-memory table).
// Implementations must be safe to call from the subscriber's thread while others read.
class TableSink {
 public:
  virtual ~TableSink() = default;
  // Replaces everything held with `points` (the whole table), received at `received`.
  virtual void Replace(const std::vector<MetricPoint>& points, absl::Time received) = 0;
};

}  // namespace snapshot
