// Microbenchmark of the adapter's request path without the network: routing, selector parsing,
// the per-deployment index lookup over 10,000 series and the JSON body, as Handler::Handle
// does it for every HPA request. bazel run -c opt //tests/adapter:handler_bench
#include "benchmark/benchmark.h"
#include "adapter/auth/flags.h"
#include "adapter/handler.h"
#include "tests/testing/test_certs.h"

namespace {

class AllowAuthn : public adapter::auth::Authenticator {
 public:
  absl::StatusOr<adapter::auth::UserInfo> Authenticate(const adapter::auth::Request&) override {
    return adapter::auth::UserInfo{"system:kube-aggregator", {"system:masters"}, {}};
  }
};
class AllowAuthz : public adapter::auth::Authorizer {
 public:
  absl::Status Authorize(const adapter::auth::UserInfo&, const adapter::auth::Attributes&) override {
    return absl::OkStatus();
  }
};

void BM_ExternalMetric(benchmark::State& state) {
  adapter::MetricTable table;
  std::vector<adapter::MetricPoint> points;
  for (int i = 0; i < 10000; ++i) {
    points.push_back({"default", "smart_cpu_pressure", "dep-" + std::to_string(i),
                      {{"node_pool", "pool-" + std::to_string(i % 7)}}, 0.5 + i / 10000.0,
                      absl::Now(), absl::Seconds(60)});
  }
  table.Replace(points, absl::Now());
  AllowAuthn authn;
  AllowAuthz authz;
  adapter::Handler handler(&table, &authn, &authz, &base::RealClock(), {});
  adapter::HttpRequest request;
  request.method = "GET";
  request.target =
      state.range(0) == 0
          ? "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure"
            "?labelSelector=deployment%3Ddep-4242"
          : "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure"
            "?labelSelector=node_pool+in+%28pool-3%29%2Cdeployment+notin+%28dep-3%29";
  request.headers = {{"accept", "application/json, */*"}, {"user-agent", "kube-controller-manager"},
                     {"x-remote-user", "system:kube-aggregator"}};
  for (auto _ : state) {
    adapter::HttpResponse r = handler.Handle(request);
    benchmark::DoNotOptimize(r);
    if (r.status != 200) state.SkipWithError("not 200");
  }
}
// 0: indexed (deployment=...), 1: scan of all 10,000 series with a set-based selector.
BENCHMARK(BM_ExternalMetric)->Arg(0)->Arg(1);

// The same indexed request through the real delegated auth stack (adapter/auth): a client
// certificate from --client-ca-file in group system:masters (no SubjectAccessReview needed).
void BM_ExternalMetricWithAuthStack(benchmark::State& state) {
  adapter::MetricTable table;
  std::vector<adapter::MetricPoint> points;
  for (int i = 0; i < 10000; ++i) {
    points.push_back({"default", "smart_cpu_pressure", "dep-" + std::to_string(i), {}, 0.5,
                      absl::Now(), absl::Seconds(60)});
  }
  table.Replace(points, absl::Now());
  auto ca = tests::MakeCa("bench-ca");
  tests::LeafSpec spec;
  spec.common_name = "hpa";
  spec.organizations = {"system:masters"};
  auto leaf = tests::MakeLeaf(*ca, spec);
  const std::string dir = tests::MakeTestDir("handler-bench");
  (void)tests::WriteTestFile(dir + "/ca.pem", ca->cert_pem);
  adapter::auth::AuthFlags flags;
  flags.client_ca_file = dir + "/ca.pem";
  flags.skip_lookup = true;
  auto stack = adapter::auth::MakeAuthStack(flags, &base::RealClock());
  if (!stack.ok()) {
    state.SkipWithError(std::string(stack.status().message()).c_str());
    return;
  }
  adapter::Handler handler(&table, (*stack)->authenticator.get(), (*stack)->authorizer.get(),
                           &base::RealClock(), {});
  adapter::HttpRequest request;
  request.method = "GET";
  request.target =
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure"
      "?labelSelector=deployment%3Ddep-4242";
  request.peer_cert_der = leaf->cert_der;
  for (auto _ : state) {
    adapter::HttpResponse r = handler.Handle(request);
    benchmark::DoNotOptimize(r);
    if (r.status != 200) state.SkipWithError("not 200");
  }
}
BENCHMARK(BM_ExternalMetricWithAuthStack);

}  // namespace
