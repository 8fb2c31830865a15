// doctor: checks an installed smart-autoscaler end to end and says, per check, what is wrong
// and how to fix it — the "why is my APIService FailedDiscoveryCheck / my HPA <unknown>?"
// questions in one call. Backs `smart-autoscaler doctor`.
//
//   doctor::Dependencies deps{kube_http.get(), &cluster, prom.get(), certs.get(), &clock};
//   doctor::Report report = doctor::RunDoctor(doctor::Options{}, deps);
//   std::cout << doctor::FormatText(report);   // one ✔/✘ line per check; exit 1 if !report.ok()
//
// The checks, in order: each APIService exists, is Available and (if not) why; no other
// APIService claims our groups; the Service has ready endpoints; the serving certificate
// (fetched over TLS) verifies against the caBundle for the Service's DNS name; RBAC of the
// service account (SubjectAccessReview, or SelfSubjectAccessReview when running as it) and the
// extension-apiserver-authentication ConfigMap; Prometheus reachable, the CPU series of every
// managed deployment, node CPU and its node label mapping; every HPA using a smart_* metric
// (its target and selector name a Deployment, the metric is served, fresh and non-empty, and
// its ScalingActive/AbleToScale conditions). A check that cannot run (e.g. the API server
// refuses us) fails with that cause: nothing is reported as fine that was not seen.
// RunDoctor is thread-compatible; the dependencies must outlive the call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/http/http_client.h"
#include "clients/kube/cluster_config.h"
#include "clients/prometheus/prometheus.h"

namespace doctor {

struct Check {
  std::string id;     // stable, for --json and tests: "apiservice/v1beta1.external.metrics.k8s.io"
  std::string title;  // what was checked, for people
  bool ok = false;
  std::string cause;  // ✘: the likely cause (with the cluster's own message); ✔: what was seen
  std::string fix;    // ✘: what to do; empty on ✔
};

struct Report {
  std::vector<Check> checks;
  bool ok() const;
  int failed() const;
};

struct Options {
  std::string namespace_name = "smart-autoscaler";  // of the Service, Deployment and account
  std::string service_name = "smart-autoscaler";
  std::string service_account = "smart-autoscaler";
  std::vector<std::string> api_services = {"v1beta1.external.metrics.k8s.io",
                                           "v1beta2.custom.metrics.k8s.io",
                                           "v1beta1.custom.metrics.k8s.io"};
  // Where to fetch the serving certificate, "host:port"; empty: <service>.<namespace>.svc:443
  // (reachable in-cluster; from outside use `kubectl port-forward` and 127.0.0.1:PORT).
  std::string serving_address;
  // true: SelfSubjectAccessReview (doctor runs as the service account, in-cluster);
  // false: SubjectAccessReview for system:serviceaccount:<namespace>:<service_account>.
  bool rbac_self = false;
  absl::Duration max_metric_age = absl::Minutes(5);  // older smart metric values are stale
  absl::Duration timeout = absl::Seconds(10);        // per request
};

// Fetches the certificate chain a TLS server presents, without verifying it (the doctor
// verifies it against the caBundle itself). Implementations are thread-safe.
class CertFetcher {
 public:
  virtual ~CertFetcher() = default;
  // PEM certificates, leaf first. `sni` is sent as the server name. kUnavailable when the
  // connection or handshake fails, kDeadlineExceeded on timeout.
  virtual absl::StatusOr<std::vector<std::string>> FetchChain(const std::string& host, int port,
                                                              const std::string& sni,
                                                              absl::Duration timeout) = 0;
};

// An OpenSSL client that connects over TCP.
std::unique_ptr<CertFetcher> MakeTlsCertFetcher();

struct Dependencies {
  clients::http::HttpClient* kube_http = nullptr;  // with the cluster's TLS settings
  const clients::kube::ClusterConfig* kube = nullptr;
  clients::prometheus::PrometheusClient* prometheus = nullptr;  // nullptr: Prometheus check ✘
  CertFetcher* certs = nullptr;
  const base::Clock* clock = nullptr;
};

// Runs every check. Never fails as a whole: an unreachable dependency is a failed check.
Report RunDoctor(const Options& options, const Dependencies& deps);

// "✔ title — cause" / "✘ title — cause\n    fix: ..." lines, then a summary line.
std::string FormatText(const Report& report);
// {"ok": bool, "failed": n, "checks": [{"id", "title", "ok", "cause", "fix"}]}.
std::string FormatJson(const Report& report);

}  // namespace doctor
