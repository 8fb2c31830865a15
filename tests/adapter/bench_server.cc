// Benchmark harness: the adapter's table, handler and HTTPS server exactly as
// `smart-autoscaler adapter` wires them, but with an authenticator that admits every request
// as the aggregator (front-proxy identity, group system:masters). wrk cannot present client
// certificates, so this stands in for "authentication already cached" and measures the serving
// path itself. Never deploy this binary.
//
//   bench_server --static-metrics=metrics.json --port-file=port [--threads=2]
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "adapter/handler.h"
#include "adapter/metric_table.h"
#include "adapter/server.h"
#include "adapter/static_metrics.h"
#include "base/clock.h"

ABSL_FLAG(std::string, static_metrics, "", "JSON metrics file");
ABSL_FLAG(std::string, port_file, "", "where to write the bound port");
ABSL_FLAG(int, threads, 2, "server threads");

namespace {

class AggregatorAuthenticator : public adapter::auth::Authenticator {
 public:
  absl::StatusOr<adapter::auth::UserInfo> Authenticate(const adapter::auth::Request&) override {
    return adapter::auth::UserInfo{
        "system:kube-aggregator", {"system:masters", "system:authenticated"}, {}};
  }
};

class AllowAuthorizer : public adapter::auth::Authorizer {
 public:
  absl::Status Authorize(const adapter::auth::UserInfo&,
                         const adapter::auth::Attributes&) override {
    return absl::OkStatus();
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  adapter::MetricTable table;
  auto points = adapter::LoadStaticMetrics(absl::GetFlag(FLAGS_static_metrics));
  if (!points.ok()) {
    std::cerr << points.status() << "\n";
    return 1;
  }
  table.Replace(*points, absl::InfiniteFuture());
  AggregatorAuthenticator authn;
  AllowAuthorizer authz;
  adapter::Handler handler(&table, &authn, &authz, &base::RealClock(), {});
  adapter::ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.threads = absl::GetFlag(FLAGS_threads);
  auto server = adapter::Server::Start(&handler, options);
  if (!server.ok()) {
    std::cerr << server.status() << "\n";
    return 1;
  }
  FILE* f = std::fopen(absl::GetFlag(FLAGS_port_file).c_str(), "w");
  std::fprintf(f, "%d\n", (*server)->port());
  std::fclose(f);
  int sig;
  sigwait(&stop, &sig);
  (*server)->Stop();
  return 0;
}
