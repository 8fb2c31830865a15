// `smart-autoscaler doctor`: checks an install end to end and prints one ✔/✘ line per check
// with the cause and the fix; exit 1 when any check fails (2 for bad flags / no cluster).
//
//   smart-autoscaler doctor --kubeconfig ~/.kube/config [--context prod] [--json]
//   smart-autoscaler doctor              # in a Pod: the service account, SelfSubjectAccessReview
//
// --kubeconfig/--context and --prometheus-url are the reconciler's flags (cli/reconciler.cc),
// --service-name/--service-namespace the adapter's (cli/adapter.cc): one meaning per flag in
// the binary; so is --json (cli/shared_flags.cc). Prometheus' URL, token and headers otherwise come
// from the environment (PROMETHEUS_URL, PROMETHEUS_BEARER_TOKEN, PROMETHEUS_HEADERS), as for the
// reconciler.
#include "doctor/doctor.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "base/clock.h"
#include "cli/commands.h"
#include "clients/http/curl_http_client.h"
#include "clients/kube/cluster_config.h"
#include "clients/prometheus/prometheus.h"
#include "reconciler/config.h"

ABSL_DECLARE_FLAG(std::string, kubeconfig);
ABSL_DECLARE_FLAG(std::string, context);
ABSL_DECLARE_FLAG(std::string, prometheus_url);
ABSL_DECLARE_FLAG(std::string, service_name);
ABSL_DECLARE_FLAG(std::string, service_namespace);

ABSL_FLAG(std::vector<std::string>, api_services,
          std::vector<std::string>({"v1beta1.external.metrics.k8s.io",
                                    "v1beta2.custom.metrics.k8s.io",
                                    "v1beta1.custom.metrics.k8s.io"}),
          "doctor: the APIServices this install registers (drop the ones another adapter owns, "
          "as with the chart's apiServices.*.enabled=false)");
ABSL_FLAG(std::string, serving_address, "",
          "doctor: HOST:PORT to fetch the serving certificate from (default: "
          "<service>.<namespace>.svc:443, reachable in-cluster; else kubectl port-forward)");
ABSL_FLAG(absl::Duration, max_metric_age, absl::Minutes(5),
          "doctor: smart metric values older than this are reported stale");
ABSL_FLAG(absl::Duration, request_timeout, absl::Seconds(10),
          "doctor: timeout of each Kubernetes / Prometheus / TLS request");

namespace cli {

int DoctorMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    PrintError(std::cerr, "doctor", "takes no positional arguments");
    return 2;
  }
  const std::string kubeconfig = absl::GetFlag(FLAGS_kubeconfig);
  absl::StatusOr<clients::kube::ClusterConfig> kc =
      kubeconfig.empty() ? clients::kube::InClusterConfig()
                         : clients::kube::LoadKubeconfig(kubeconfig, absl::GetFlag(FLAGS_context));
  if (!kc.ok()) {
    PrintError(std::cerr, "doctor",
               absl::StrCat("kubernetes: ", kc.status().message(),
                            "\n(not in a Pod? pass --kubeconfig FILE [--context NAME])"));
    return 2;
  }
  std::map<std::string, std::string> vars = reconciler::EnvironmentVariables();
  if (!absl::GetFlag(FLAGS_prometheus_url).empty()) {
    vars["PROMETHEUS_URL"] = absl::GetFlag(FLAGS_prometheus_url);
  }
  reconciler::ConfigResult config = reconciler::LoadConfig(vars);
  const absl::Duration timeout = absl::GetFlag(FLAGS_request_timeout);

  auto kube_http = clients::kube::MakeHttpClient(*kc);
  auto prom_http = clients::http::MakeCurlHttpClient({});
  clients::prometheus::ClientOptions po;
  po.base_url = config.config.prometheus_url;
  po.bearer_token = config.config.prometheus_bearer_token;
  po.headers = config.config.prometheus_headers;
  po.timeout = timeout;
  auto prom = clients::prometheus::MakePrometheusClient(po, prom_http.get());
  auto certs = doctor::MakeTlsCertFetcher();

  doctor::Options o;
  o.namespace_name = absl::GetFlag(FLAGS_service_namespace);
  o.service_name = absl::GetFlag(FLAGS_service_name);
  o.service_account = o.service_name;  // deploy/ and the chart name the account like the Service
  o.api_services = absl::GetFlag(FLAGS_api_services);
  o.serving_address = absl::GetFlag(FLAGS_serving_address);
  o.rbac_self = kubeconfig.empty();  // in the Pod: ask as the service account itself
  o.max_metric_age = absl::GetFlag(FLAGS_max_metric_age);
  o.timeout = timeout;
  doctor::Report report = doctor::RunDoctor(
      o, {kube_http.get(), &*kc, config.config.prometheus_url.empty() ? nullptr : prom.get(),
          certs.get(), &base::RealClock()});
  if (!config.problems.empty() && !absl::GetFlag(FLAGS_json)) {
    for (const std::string& p : config.problems) PrintError(std::cerr, "doctor: config", p);
  }
  std::cout << (absl::GetFlag(FLAGS_json) ? doctor::FormatJson(report)
                                          : doctor::FormatText(report));
  return report.ok() ? 0 : 1;
}

}  // namespace cli
