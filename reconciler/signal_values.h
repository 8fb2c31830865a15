// signal_values: one cycle's Prometheus readings, keyed for the in-memory join. Plain data, so
// the reading (reading.h) and the backtest use it without the Prometheus client.
//
//   reconciler::Signals s;                       // filled by GatherSignals (signals.h)
//   absl::optional<double> cpu = s.Get(s.pod_cpu_10m, "shop/api-5d9f-x2b7q");  // millicores
//
// A query that did not answer leaves its *_ok false: every pod or node reads as unknown
// (nullopt), never zero.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/optional.h"

namespace reconciler {

struct Signals {
  // Key "namespace/pod" -> millicores / bytes; node name -> millicores.
  absl::flat_hash_map<std::string, double> pod_cpu_10m, pod_cpu_5m, pod_cpu_1m, pod_memory;
  absl::flat_hash_map<std::string, double> node_cpu_10m, node_cpu_5m;
  // Whether each query answered (an answer without a pod's series means no data for that pod).
  bool pod_cpu_10m_ok = false, pod_cpu_5m_ok = false, pod_cpu_1m_ok = false, pod_memory_ok = false;
  bool node_cpu_10m_ok = false, node_cpu_5m_ok = false;
  int queries = 0;
  int failures = 0;
  std::vector<std::string> errors;  // "pod_cpu_10m: Unavailable: ..." per failed query

  // The value under `key`, or nullopt when the map has none.
  absl::optional<double> Get(const absl::flat_hash_map<std::string, double>& m,
                             const std::string& key) const {
    auto it = m.find(key);
    if (it == m.end()) return absl::nullopt;
    return it->second;
  }
};

}  // namespace reconciler
