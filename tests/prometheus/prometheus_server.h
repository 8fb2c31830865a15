// A real Prometheus server for tests: Debian's `prometheus` over a TSDB that Debian's
// `promtool tsdb create-blocks-from openmetrics` builds from OpenMetrics text, on a free
// loopback port. Not a fake: queries run through Prometheus' own engine.
//
//   auto prom = testing_util::PrometheusServer::Start(openmetrics_text, TempDir());
//   ASSERT_TRUE(prom.ok()) << prom.status();
//   std::string url = (*prom)->url();   // http://127.0.0.1:PORT
//
// Samples must carry explicit Unix-second timestamps and the text must end with "# EOF".
// Blocks are backfilled, so data older than two hours is fine. The server is stopped (SIGTERM,
// then SIGKILL) by Stop() or the destructor. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace testing_util {

class PrometheusServer {
 public:
  // Builds the TSDB under `workdir` (created if missing) and starts the server; waits up to
  // 60 s for /-/ready. FailedPrecondition when promtool or prometheus is not installed.
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> Start(const std::string& openmetrics,
                                                                 const std::string& workdir);
  ~PrometheusServer();

  std::string url() const;
  int port() const { return port_; }

  // Kills the server (SIGKILL), as an outage. Idempotent.
  void Kill();
  // Starts it again on the same port and data; waits for readiness.
  absl::Status Restart();
  void Stop();

 private:
  PrometheusServer() = default;
  absl::Status Launch();

  std::string workdir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound, read and released; good enough for tests).
int PickFreePort();

// Sends "GET path" to 127.0.0.1:port and returns the HTTP status code, or -1 when the
// connection fails. A tiny client so test fixtures need no HTTP library.
int HttpGetStatus(int port, const std::string& path);

}  // namespace testing_util
