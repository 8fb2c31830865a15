#include "reconciler/alerts/routes.h"

#include <cmath>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace reconciler::alerts {

void AddAnomalyRoutes(StatusView* view, const AnomalyLog* log, const base::Clock* clock) {
  view->deployment_resources["anomalies"] = [log, clock](const std::string& ns,
                                                         const std::string& name,
                                                         const base::HttpRequest& req) {
    double hours = 24;
    if (auto it = req.query.find("hours"); it != req.query.end()) {
      if (!absl::SimpleAtod(it->second, &hours) || !std::isfinite(hours) || hours <= 0 ||
          hours > 720) {
        return JsonError(400, absl::StrCat("hours='", it->second,
                                           "': want a number of hours in (0, 720]"));
      }
    }
    if (log == nullptr) return JsonError(503, "no local store: anomalies are not kept");
    const absl::Time now = clock->Now();
    absl::StatusOr<std::vector<Transition>> found =
        log->ForDeployment(ns, name, now - absl::Hours(hours), now + absl::Milliseconds(1));
    if (!found.ok()) {
      return JsonError(503, absl::StrCat("anomaly log: ", found.status().message()));
    }
    base::HttpResponse r;
    r.content_type = "application/json";
    // The original's route answers in the original's form; /api/v1/... in ours.
    r.body = absl::StartsWith(req.path, "/api/deployment/")
                 ? OriginalAnomaliesJson(*found)
                 : AnomaliesJson(ns, name, hours, *found);
    return r;
  };
}

}  // namespace reconciler::alerts
