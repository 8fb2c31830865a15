// `smart-autoscaler adapter`: the aggregated metrics API server (external.metrics.k8s.io,
// custom.metrics.k8s.io) that HPAs read. Values come from the reconciler's snapshot stream
// (--snapshot-address) or, for tests and the demo, from a JSON file (--static-metrics).
//
//   smart-autoscaler adapter --snapshot-address=unix:///run/smart-autoscaler/snapshots.sock
//   smart-autoscaler adapter --secure-port=0 --static-metrics=metrics.json
//       --client-ca-file=ca.pem --authentication-skip-lookup
//
// Runs until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "adapter/auth/auth.h"
#include "adapter/auth/flags.h"
#include "adapter/handler.h"
#include "adapter/metric_table.h"
#include "adapter/server.h"
#include "adapter/static_metrics.h"
#include "base/clock.h"
#include "cli/commands.h"
#include "cli/version.h"
#include "glog/logging.h"
#include "snapshot/subscriber.h"
#include "prometheus/registry.h"

ABSL_FLAG(int, secure_port, 6443, "HTTPS port to serve on (0 picks a free port, see --port-file)");
ABSL_FLAG(std::string, bind_address, "0.0.0.0", "IP address to listen on");
ABSL_FLAG(std::string, tls_cert_file, "",
          "serving certificate (PEM, with intermediates); re-read when it changes. Empty: a "
          "self-signed certificate for <service>.<namespace>.svc and localhost");
ABSL_FLAG(std::string, tls_private_key_file, "", "private key of --tls-cert-file (PEM)");
ABSL_FLAG(std::string, service_name, "smart-autoscaler",
          "Service name for the self-signed certificate's SAN");
ABSL_FLAG(std::string, service_namespace, "smart-autoscaler",
          "Service namespace for the self-signed certificate's SAN");
ABSL_FLAG(std::string, snapshot_address, "",
          "reconciler snapshot stream: unix:///path.sock or 127.0.0.1:port");
ABSL_FLAG(int, snapshot_max_message_bytes, 64 << 20,
          "largest snapshot message (bytes) accepted from --snapshot-address; gRPC's default "
          "of 4 MiB holds only ~30,000 values");
ABSL_FLAG(std::string, static_metrics, "",
          "serve values from this JSON file instead of the snapshot stream (tests, demo)");
ABSL_FLAG(absl::Duration, max_staleness, absl::Minutes(5),
          "values older than this are answered with 503 so the HPA holds still");
ABSL_FLAG(int, server_threads, 2, "threads serving HTTPS");
ABSL_FLAG(int, max_connections, 1024,
          "open HTTPS connections served; past it --probe-connection-reserve more serve only "
          "/healthz, /livez and /readyz, then new connections are closed (0: no limit)");
ABSL_FLAG(int, probe_connection_reserve, 32,
          "connections past --max-connections kept for health probes (others get 503)");
ABSL_FLAG(int, max_connections_per_client, 256,
          "open connections per client IP address, reserve included (0: no limit)");
ABSL_FLAG(absl::Duration, first_request_timeout, absl::Seconds(5),
          "deadline for a new connection's TLS handshake and first request, and for each "
          "request until one authenticates (health probes do not)");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(90),
          "keep-alive and request deadline of a connection after an authenticated request");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once serving (tests)");

// Authentication/authorization flags (--client-ca-file, --requestheader-*, --authentication-*,
// --authorization-*) are defined with the code that uses them, in adapter/auth/flags.cc.

namespace cli {

int AdapterMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "adapter: unexpected argument '" << args[0] << "'\n";
    return 2;
  }
  const std::string static_file = absl::GetFlag(FLAGS_static_metrics);
  const std::string snapshot_address = absl::GetFlag(FLAGS_snapshot_address);
  if (static_file.empty() == snapshot_address.empty()) {
    std::cerr << "adapter: give exactly one of --snapshot-address and --static-metrics\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_max_staleness) <= absl::ZeroDuration()) {
    std::cerr << "adapter: --max-staleness must be positive\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_max_connections) < 0 || absl::GetFlag(FLAGS_probe_connection_reserve) < 0 ||
      absl::GetFlag(FLAGS_max_connections_per_client) < 0) {
    std::cerr << "adapter: connection limits must be 0 or more\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_first_request_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_idle_timeout) <= absl::ZeroDuration()) {
    std::cerr << "adapter: --first-request-timeout and --idle-timeout must be positive\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_snapshot_max_message_bytes) <= 0) {
    std::cerr << "adapter: --snapshot-max-message-bytes must be positive\n";
    return 2;
  }

  // Block the stop signals before any thread starts so only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  base::Clock& clock = base::RealClock();
  // What GET /metrics serves: the handler's request metrics and the snapshot stream's state.
  prometheus::Registry registry;
  adapter::MetricTable table;
  std::unique_ptr<snapshot::Subscriber> stream;
  if (!static_file.empty()) {
    absl::StatusOr<std::vector<adapter::MetricPoint>> points =
        adapter::LoadStaticMetrics(static_file);
    if (!points.ok()) {
      std::cerr << "adapter: " << points.status().message() << "\n";
      return 1;
    }
    // Static tables never go stale as a whole (per-value timestamps still apply).
    table.Replace(*points, absl::InfiniteFuture());
    LOG(INFO) << "serving " << table.Get()->size << " static values from " << static_file;
  } else {
    snapshot::SubscriberOptions options;
    options.address = snapshot_address;
    options.max_receive_message_bytes = absl::GetFlag(FLAGS_snapshot_max_message_bytes);
    if (const char* pod = std::getenv("POD_NAME")) options.client_name = pod;
    options.metrics = &registry;
    stream = std::make_unique<snapshot::Subscriber>(&table, &clock, options);
    stream->Start();
  }

  // ---- Authentication / authorization (adapter/auth/) -------------------------------------------
  absl::StatusOr<std::unique_ptr<adapter::auth::AuthStack>> auth =
      adapter::auth::MakeAuthStackFromFlags(&clock);
  if (!auth.ok()) {
    std::cerr << "adapter: " << auth.status().message() << "\n";
    return 1;
  }
  (*auth)->StartRefresh();  // re-reads the CA files and the ConfigMap every minute
  // ---------------------------------------------------------------------------------------------

  adapter::HandlerOptions handler_options;
  handler_options.max_staleness = absl::GetFlag(FLAGS_max_staleness);
  handler_options.version = kVersion;
  handler_options.metrics = &registry;
  handler_options.auth_counters = &(*auth)->counters;  // adapter_auth_cache_lookups_total
  adapter::Handler handler(&table, (*auth)->authenticator.get(), (*auth)->authorizer.get(), &clock,
                           handler_options);

  adapter::ServerOptions server_options;
  server_options.bind_address = absl::GetFlag(FLAGS_bind_address);
  server_options.port = absl::GetFlag(FLAGS_secure_port);
  server_options.threads = absl::GetFlag(FLAGS_server_threads);
  server_options.max_connections = absl::GetFlag(FLAGS_max_connections);
  server_options.probe_reserve = absl::GetFlag(FLAGS_probe_connection_reserve);
  server_options.max_connections_per_client = absl::GetFlag(FLAGS_max_connections_per_client);
  server_options.first_request_timeout = absl::GetFlag(FLAGS_first_request_timeout);
  server_options.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  server_options.metrics = &registry;  // http_server_connections_* on the adapter's /metrics
  server_options.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  server_options.key_file = absl::GetFlag(FLAGS_tls_private_key_file);
  const std::string service = absl::GetFlag(FLAGS_service_name);
  const std::string ns = absl::GetFlag(FLAGS_service_namespace);
  server_options.self_signed_names = {service + "." + ns + ".svc", service + "." + ns,
                                      service + "." + ns + ".svc.cluster.local", "localhost",
                                      "127.0.0.1"};
  // No acceptable-CA list is sent: Go clients (kubectl, the aggregator) then always present
  // their certificate, and a CA rotated through the ConfigMap cannot hide it.
  absl::StatusOr<std::unique_ptr<adapter::Server>> server =
      adapter::Server::Start(&handler, server_options);
  if (!server.ok()) {
    std::cerr << "adapter: " << server.status().message() << "\n";
    return 1;
  }
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    FILE* f = std::fopen((port_file + ".tmp").c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%d\n", (*server)->port()) < 0 || std::fclose(f) != 0 ||
        std::rename((port_file + ".tmp").c_str(), port_file.c_str()) != 0) {
      std::cerr << "adapter: cannot write --port-file " << port_file << "\n";
      return 1;
    }
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LOG(INFO) << "adapter stopping on signal " << signal_number;
  (*server)->Stop();
  if (stream) stream->Stop();
  return 0;
}

}  // namespace cli
