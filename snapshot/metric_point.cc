#include "snapshot/metric_point.h"

#include "absl/strings/str_cat.h"

namespace snapshot {

std::string SeriesKey(absl::string_view namespace_name, absl::string_view metric,
                      absl::string_view deployment,
                      const std::map<std::string, std::string>& labels) {
  const absl::string_view nul("\0", 1);
  std::string key = absl::StrCat(namespace_name, nul, metric, nul, deployment);
  for (const auto& [k, v] : labels) absl::StrAppend(&key, nul, k, "=", v);
  return key;
}

std::string SeriesKey(const MetricPoint& point) {
  return SeriesKey(point.namespace_name, point.metric, point.deployment, point.labels);
}

}  // namespace snapshot
