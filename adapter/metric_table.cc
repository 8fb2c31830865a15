#include "adapter/metric_table.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "base/time_format.h"
#include "adapter/quantity.h"

namespace adapter {

MetricTable::MetricTable() : current_(std::make_shared<Snapshot>()) {}

std::string MetricTable::GroupKey(absl::string_view namespace_name, absl::string_view metric) {
  return absl::StrCat(namespace_name, absl::string_view("\0", 1), absl::AsciiStrToLower(metric));
}

void MetricTable::Replace(const std::vector<MetricPoint>& points, absl::Time now) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->has_data = true;
  snapshot->updated = now;
  std::map<std::string, bool> names;
  for (const MetricPoint& p : points) {
    absl::StatusOr<std::string> q = FormatQuantity(p.value);
    if (!q.ok()) {
      ++snapshot->skipped;
      continue;
    }
    Series s;
    s.metric = p.metric;
    s.deployment = p.deployment;
    s.labels = p.labels;
    if (!p.deployment.empty()) s.labels["deployment"] = p.deployment;
    s.value = p.value;
    s.quantity = *std::move(q);
    s.timestamp = p.timestamp;
    if (p.timestamp != snapshot::kTimeless) s.timestamp_text = base::FormatRfc3339(p.timestamp);
    s.window_seconds = absl::ToInt64Seconds(p.window);
    s.labels_json = base::JsonStringMapText(s.labels);
    names[absl::AsciiStrToLower(p.metric)] = true;
    snapshot->groups[GroupKey(p.namespace_name, p.metric)].series.push_back(std::move(s));
  }
  for (auto& [key, group] : snapshot->groups) {
    auto less = [](const Series& a, const Series& b) {
      return std::tie(a.deployment, a.labels) < std::tie(b.deployment, b.labels);
    };
    std::stable_sort(group.series.begin(), group.series.end(), less);
    // Duplicates (same deployment and labels): the last one fed in wins.
    std::vector<Series> unique;
    for (Series& s : group.series) {
      if (!unique.empty() && unique.back().deployment == s.deployment &&
          unique.back().labels == s.labels) {
        unique.back() = std::move(s);
      } else {
        unique.push_back(std::move(s));
      }
    }
    group.series = std::move(unique);
    for (uint32_t i = 0; i < group.series.size(); ++i) {
      group.by_deployment[group.series[i].deployment].push_back(i);
    }
    snapshot->size += group.series.size();
  }
  for (const auto& [name, unused] : names) snapshot->metric_names.push_back(name);
  absl::MutexLock lock(&mu_);
  current_ = std::move(snapshot);
}

std::shared_ptr<const MetricTable::Snapshot> MetricTable::Get() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace adapter
