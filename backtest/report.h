// report: the backtest's outputs: the per-trace table, the JSON object, the per-sync CSV and
// the SVG plot.
//
//   std::cout << backtest::FormatTable(result);
//   std::cout << backtest::FormatJson(result) << "\n";
//   WriteFile("out.svg", backtest::FormatSvg(result));
//
// Pure functions of a TraceResult; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "backtest/backtest.h"

namespace backtest {

// A human-readable table: one line per policy, the window, the gap closed.
std::string FormatTable(const TraceResult& r);

// {"trace":…, "policies":[{"policy":…, "target_pct":…, "overloaded_minutes":…,
// "unserved_core_minutes":…, "replica_hours":…, "scale_events":…, "cost":…, "cpu_cost":…,
// "memory_cost":… (null when the pods' memory request is unknown)}]} on one line.
std::string FormatJson(const TraceResult& r);

// time,demand_cores,<policy>_ready_cores...,smart_cpu_pressure: one row per sync (times as
// YYYY-MM-DD HH:MM:SS UTC; an empty field where the smart metric was missing).
std::string FormatSeriesCsv(const TraceResult& r);

// A self-contained SVG: demand and each policy's ready capacity (cores) above, the served
// smart_cpu_pressure with the HPA's tolerance band below; at most about 2,000 points a line.
std::string FormatSvg(const TraceResult& r);

}  // namespace backtest
