// `--static-metrics FILE`: feeds the metric table from a JSON file instead of the reconciler's
// stream, for tests and the demo.
//
//   {"metrics": [
//     {"namespace": "default", "metric": "smart_cpu_pressure", "deployment": "api-service",
//      "labels": {"node_pool": "general"}, "value": 0.85,
//      "timestamp": "2025-03-04T10:15:30Z", "windowSeconds": 60}
//   ]}
//
// `timestamp` is optional: without it the value never goes stale and is served with the
// request time. A top-level array of the same objects is accepted too.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapter/metric_table.h"

namespace adapter {

// Parses the JSON text. kInvalidArgument naming the entry and field on any error.
absl::StatusOr<std::vector<MetricPoint>> ParseStaticMetrics(const std::string& json);

// Reads and parses `path`. kNotFound when it cannot be read, else as ParseStaticMetrics.
absl::StatusOr<std::vector<MetricPoint>> LoadStaticMetrics(const std::string& path);

}  // namespace adapter
