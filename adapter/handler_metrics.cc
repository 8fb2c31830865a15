#include "adapter/handler_metrics.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "prometheus/text_serializer.h"

namespace adapter {
namespace {

// Every `resource` label the handler produces (see ResourceLabel in handler.cc) and every
// `verb`; a value outside these lists is still counted, through the family's own lookup.
constexpr const char* kResources[] = {"unmatched",
                                      "/healthz",
                                      "/livez",
                                      "/readyz",
                                      "/version",
                                      "/metrics",
                                      "/apis",
                                      "/apis/custom.metrics.k8s.io",
                                      "/apis/external.metrics.k8s.io",
                                      "/apis/custom.metrics.k8s.io/v1beta1",
                                      "/apis/custom.metrics.k8s.io/v1beta2",
                                      "/apis/external.metrics.k8s.io/v1beta1",
                                      "/openapi/v2",
                                      "/openapi/v3",
                                      "externalmetrics",
                                      "deployments.apps",
                                      "deployments",
                                      "pods",
                                      "namespaces",
                                      "nodes",
                                      "metrics",
                                      "services",
                                      "statefulsets.apps",
                                      "jobs.batch",
                                      "other"};
constexpr const char* kVerbs[] = {
    "get",  "list", "watch", "create",  "update", "patch", "delete", "deletecollection",
    "head", "post", "put",   "options", "other"};
constexpr int kCodes[] = {200, 400, 401, 403, 404, 405, 406, 413, 431, 500, 503};
constexpr size_t kNumResources = sizeof(kResources) / sizeof(kResources[0]);
constexpr size_t kNumVerbs = sizeof(kVerbs) / sizeof(kVerbs[0]);
constexpr size_t kNumCodes = sizeof(kCodes) / sizeof(kCodes[0]);

template <size_t N>
int IndexOf(const char* const (&names)[N], absl::string_view value) {
  for (size_t i = 0; i < N; ++i) {
    if (value == names[i]) return static_cast<int>(i);
  }
  return -1;
}

int CodeIndex(int code) {
  for (size_t i = 0; i < kNumCodes; ++i) {
    if (kCodes[i] == code) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

HandlerMetrics::HandlerMetrics(prometheus::Registry* registry)
    : registry_(registry),
      requests_(&prometheus::BuildCounter()
                     .Name("adapter_requests_total")
                     .Help("Requests answered, by resource, verb and HTTP code.")
                     .Register(*registry)),
      request_children_(requests_, kNumResources * kNumVerbs * kNumCodes),
      duration_children_(&prometheus::BuildHistogram()
                              .Name("adapter_request_duration_seconds")
                              .Help("Time to compute a response (authentication included), in "
                                    "seconds.")
                              .Register(*registry),
                         kNumResources),
      durations_(duration_children_.family()),
      stale_(&prometheus::BuildCounter()
                  .Name("adapter_stale_responses_total")
                  .Help("Metric requests answered 503 because the values were stale or no "
                        "snapshot had arrived yet.")
                  .Register(*registry)
                  .Add({})),
      age_(&prometheus::BuildGauge()
                .Name("adapter_snapshot_age_seconds")
                .Help("Seconds since the metric table was last updated (+Inf before the first "
                      "snapshot, 0 for --static-metrics).")
                .Register(*registry)),
      series_(&prometheus::BuildGauge()
                   .Name("adapter_served_series")
                   .Help("Series in the metric table.")
                   .Register(*registry)),
      auth_lookups_(&prometheus::BuildCounter()
                         .Name("adapter_auth_cache_lookups_total")
                         .Help("Authentication/authorization cache lookups (token = TokenReview, "
                               "cert = client certificate verification, access = "
                               "SubjectAccessReview).")
                         .Register(*registry)) {}

void HandlerMetrics::CountRequest(absl::string_view resource, absl::string_view verb, int code,
                                  absl::Duration elapsed) {
  const int r = IndexOf(kResources, resource), v = IndexOf(kVerbs, verb), c = CodeIndex(code);
  auto request_labels = [&] {
    return prometheus::Labels{{"resource", std::string(resource)},
                              {"verb", std::string(verb)},
                              {"code", absl::StrCat(code)}};
  };
  auto resource_labels = [&] { return prometheus::Labels{{"resource", std::string(resource)}}; };
  if (r >= 0 && v >= 0 && c >= 0) {
    request_children_.Get((r * kNumVerbs + v) * kNumCodes + c, request_labels).Increment();
  } else {
    requests_->Add(request_labels()).Increment();
  }
  const double seconds = absl::ToDoubleSeconds(elapsed);
  if (r >= 0) {
    duration_children_.Get(r, resource_labels, base::LatencyBuckets()).Observe(seconds);
  } else {
    durations_->Add(resource_labels(), base::LatencyBuckets()).Observe(seconds);
  }
}

uint64_t HandlerMetrics::requests() const {
  double total = 0;
  for (const prometheus::MetricFamily& f : requests_->Collect()) {
    for (const prometheus::ClientMetric& m : f.metric) total += m.counter.value;
  }
  return static_cast<uint64_t>(total);
}

std::string HandlerMetrics::Scrape(double snapshot_age_seconds, size_t series,
                                   const auth::AuthCounters* a) {
  absl::MutexLock lock(&scrape_mu_);
  age_->Add({}).Set(snapshot_age_seconds);
  series_->Add({}).Set(static_cast<double>(series));
  if (a != nullptr) {
    // The auth stack keeps plain atomics; bring the exported counters up to them.
    auto sync = [this](const char* cache, const char* result, int64_t value) {
      prometheus::Counter& c = auth_lookups_->Add({{"cache", cache}, {"result", result}});
      c.Increment(static_cast<double>(value) - c.Value());
    };
    sync("token", "hit", a->token_cache_hits);
    sync("token", "miss", a->token_reviews);
    sync("cert", "hit", a->cert_cache_hits);
    sync("cert", "miss", a->cert_verifications);
    sync("access", "hit", a->access_cache_hits);
    sync("access", "miss", a->access_reviews);
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace adapter
