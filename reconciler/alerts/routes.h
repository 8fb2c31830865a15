// The anomalies of one deployment on the JSON API, as the deployment sub-resource
// "anomalies": GET /api/deployment/<ns>/<name>/anomalies?hours=24 (the original's route) and
// /api/v1/deployments/<ns>/<name>/anomalies?hours=24.
//
//   reconciler::alerts::AddAnomalyRoutes(&view, &anomaly_log, clock);
//   reconciler::RegisterApi(&api_server, &view);
//
// `hours` (default 24) is a number of hours in (0, 720]: anomalies active at any time in the
// last `hours` are listed (AnomaliesJson), oldest start first. 400 for a bad `hours`, 503 when
// there is no store (log null) or it cannot be read. Unmanaged deployments get an empty list.
// Under /api/deployment/ the body is the original's list (OriginalAnomaliesJson).
#pragma once

#include "base/clock.h"
#include "reconciler/alerts/anomaly_log.h"
#include "reconciler/api.h"

namespace reconciler::alerts {

// Registers "anomalies" in view->deployment_resources (before RegisterApi). `log` may be null
// (no store: 503); it and `clock` must outlive the server.
void AddAnomalyRoutes(StatusView* view, const AnomalyLog* log, const base::Clock* clock);

}  // namespace reconciler::alerts
