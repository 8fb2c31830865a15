// CPU per authenticated request through the delegating authenticator (MakeAuthenticator):
// the aggregator's front-proxy certificate + X-Remote-* headers, and an ordinary client
// certificate (client CA), the same certificate on every request as the aggregator sends it.
// Argument: 1 = the client-certificate verification cache on (default 10 s), 0 = off (every
// request verifies the chain with OpenSSL, as before the cache).
//   bazel run -c opt //adapter/auth:auth_bench
#include "adapter/auth/auth.h"
#include "base/clock.h"
#include "benchmark/benchmark.h"
#include "tests/testing/test_certs.h"

namespace {

struct Setup {
  Setup() {
    proxy_ca = *tests::MakeCa("front-proxy-ca");
    client_ca = *tests::MakeCa("kubernetes-ca");
    config.requestheader_ca_pem = proxy_ca.cert_pem;
    config.requestheader_allowed_names = {"front-proxy-client"};
    config.client_ca_pem = client_ca.cert_pem;
    tests::LeafSpec proxy;
    proxy.common_name = "front-proxy-client";
    proxy_der = tests::MakeLeaf(proxy_ca, proxy)->cert_der;
    tests::LeafSpec client;
    client.common_name = "system:kube-aggregator";
    client.organizations = {"system:masters"};
    client_der = tests::MakeLeaf(client_ca, client)->cert_der;
  }
  tests::TestCert proxy_ca, client_ca;
  adapter::auth::AuthConfig config;
  std::string proxy_der, client_der;
};

void Run(benchmark::State& state, adapter::auth::Request r) {
  Setup s;
  adapter::auth::AuthCounters counters;
  if (state.range(0) == 0) s.config.cert_cache_ttl = absl::ZeroDuration();
  auto authn = *adapter::auth::MakeAuthenticator(s.config, nullptr, &base::RealClock(), &counters);
  if (r.peer_cert_der == "proxy") r.peer_cert_der = s.proxy_der;
  if (r.peer_cert_der == "client") r.peer_cert_der = s.client_der;
  for (auto _ : state) {
    absl::StatusOr<adapter::auth::UserInfo> u = authn->Authenticate(r);
    benchmark::DoNotOptimize(u);
    if (!u.ok()) state.SkipWithError("not authenticated");
  }
}

void Header(adapter::auth::Request* r, const std::string& name, const std::string& value) {
  r->headers.emplace(name, value);
  r->header_values.emplace(name, value);
}

// The aggregator: front-proxy certificate, user and groups from the headers.
void BM_FrontProxy(benchmark::State& state) {
  adapter::auth::Request r;
  r.method = "GET";
  r.path = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/smart_cpu_pressure";
  r.peer_cert_der = "proxy";
  Header(&r, "x-remote-user", "system:serviceaccount:kube-system:horizontal-pod-autoscaler");
  Header(&r, "x-remote-group", "system:serviceaccounts");
  Header(&r, "x-remote-group", "system:serviceaccounts:kube-system");
  Header(&r, "x-remote-group", "system:authenticated");
  Run(state, r);
}
BENCHMARK(BM_FrontProxy)->Arg(0)->Arg(1);

// A client-CA certificate (tried against the front-proxy CA first, as upstream does).
void BM_ClientCert(benchmark::State& state) {
  adapter::auth::Request r;
  r.method = "GET";
  r.path = "/apis/external.metrics.k8s.io/v1beta1";
  r.peer_cert_der = "client";
  Run(state, r);
}
BENCHMARK(BM_ClientCert)->Arg(0)->Arg(1);

}  // namespace
