// health: the checks behind /livez, /readyz and /api/health (web.h). Internal to
// reconciler/web.
//
//   std::vector<NamedResult> r = RunChecks(view, options, /*for_live=*/false);
//   base::HttpResponse probe = ProbeResponse("readyz", r, /*verbose=*/true);
#pragma once

#include <string>
#include <vector>

#include "reconciler/web/web.h"

namespace reconciler::web {

struct NamedResult {
  std::string name;
  CheckResult result;
  bool required = true;
};

// for_live: only "cycle" (wedged when no cycle completed for 3 check intervals). Otherwise
// "data" (stale when none completed for 2 intervals), "deployments", "leadership" and
// options->checks.
std::vector<NamedResult> RunChecks(const StatusView* view, const WebOptions* options,
                                   bool for_live);

// 200 "ok" when every required check passed (with the lines when `verbose`), else 503 with
// one line per check ("[+]name ok: detail" / "[-]name failed: detail") and
// "<probe> check failed".
base::HttpResponse ProbeResponse(const std::string& probe, const std::vector<NamedResult>& checks,
                                 bool verbose);

// /api/health: 200 {"status":"healthy",...}, 503 "unhealthy" when a required check fails.
base::HttpResponse HealthJson(const StatusView* view, const std::vector<NamedResult>& checks,
                              absl::Time now);

}  // namespace reconciler::web
