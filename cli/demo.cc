// `smart-autoscaler demo-exporter`: the data side of the demo (scripts/demo.sh) and of the
// end-to-end tests. Builds demo::Workload from the bundled traces, writes the promtool backfill
// (OpenMetrics), the cluster (a v1 List for --cluster-file or the test API server) and a
// Prometheus config, then serves the live values on /metrics until SIGTERM/SIGINT, so
// Prometheus keeps scraping "live" samples that continue the backfilled ones.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/http_server.h"
#include "cli/commands.h"
#include "demo/workload.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, traces_dir, "data/traces",
          "directory holding nab/ and cluster/ traces (the repository's data/traces)");
ABSL_FLAG(std::string, out, "", "directory for backfill.om, cluster.json and prometheus.yml");
ABSL_FLAG(std::string, listen, "127.0.0.1:0", "where to serve the live /metrics");
ABSL_FLAG(std::string, exporter_port_file, "",
          "write the bound port here once serving (after the files are written)");
ABSL_FLAG(int, history_days, 7, "days of backfilled history (1-14)");
ABSL_FLAG(bool, serve, true, "serve live /metrics after writing the files");
ABSL_FLAG(int, scale_deployments, 0,
          "benchmarks: this many generated deployments instead of the demo's three");
ABSL_FLAG(int, scale_pods, 10, "benchmarks: pods per generated deployment");
ABSL_FLAG(int, scale_nodes, 500, "benchmarks: generated 32-core nodes");
ABSL_FLAG(int, history_minutes, 0, "backfill this many minutes instead of --history-days");
ABSL_FLAG(int, future_minutes, 0,
          "benchmarks without scraping: also backfill this many minutes past now");
ABSL_FLAG(int, sample_seconds, 60, "backfill sample spacing (seconds)");

namespace cli {
namespace {
std::atomic<bool> g_demo_stop{false};
void OnDemoSignal(int) { g_demo_stop = true; }
}  // namespace

int DemoExporterMain(const std::vector<std::string>&) {
  const std::string out = absl::GetFlag(FLAGS_out);
  const int days = absl::GetFlag(FLAGS_history_days);
  if (out.empty() || days < 1 || days > 14) {
    std::cerr << "demo-exporter: --out DIR is required and --history-days must be 1-14\n";
    return 2;
  }
  const std::string dir = absl::GetFlag(FLAGS_traces_dir);
  std::vector<demo::Trace> traces;
  for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
           {"google2019_cpu_300s", "cluster/google2019_cpu_300s.csv"},
           {"ec2_cpu_utilization_5f5533", "nab/ec2_cpu_utilization_5f5533.csv"},
           {"rds_cpu_utilization_cc0c53", "nab/rds_cpu_utilization_cc0c53.csv"}}) {
    auto t = demo::LoadTrace(name, absl::StrCat(dir, "/", file));
    if (!t.ok()) {
      std::cerr << "demo-exporter: " << t.status().message()
                << " (run from the repository root or pass --traces-dir)\n";
      return 1;
    }
    traces.push_back(std::move(*t));
  }
  const absl::Time now = absl::Now();
  const int history_minutes = absl::GetFlag(FLAGS_history_minutes);
  const absl::Time anchor =
      history_minutes > 0
          ? absl::UnixEpoch() +
                absl::Floor(now - absl::UnixEpoch() - absl::Minutes(history_minutes), absl::Minutes(1))
          : absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch(), absl::Hours(24)) -
                absl::Hours(24 * days);
  const int scale = absl::GetFlag(FLAGS_scale_deployments);
  auto w = demo::Workload::Create(
      scale > 0 ? demo::ScaledDeployments(scale, absl::GetFlag(FLAGS_scale_pods))
                : demo::DefaultDeployments(),
      scale > 0 ? demo::ScaledNodes(absl::GetFlag(FLAGS_scale_nodes)) : demo::DefaultNodes(),
      std::move(traces), anchor);
  if (!w.ok()) {
    std::cerr << "demo-exporter: " << w.status().message() << "\n";
    return 1;
  }
  const absl::Time end =
      absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch() - absl::Seconds(30), absl::Minutes(1)) +
      absl::Minutes(absl::GetFlag(FLAGS_future_minutes));
  {
    std::ofstream om(out + "/backfill.om");
    w->WriteOpenMetrics(om, anchor, end, absl::Seconds(absl::GetFlag(FLAGS_sample_seconds)));
    std::ofstream cluster(out + "/cluster.json");
    cluster << w->ClusterJson();
    if (!om || !cluster) {
      std::cerr << "demo-exporter: cannot write into " << out << "\n";
      return 1;
    }
  }
  if (!absl::GetFlag(FLAGS_serve)) return 0;
  base::HttpServer server;
  const demo::Workload* workload = &*w;
  server.Handle("/metrics", [workload](const base::HttpRequest&) {
    base::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = workload->Exposition(absl::Now());
    return r;
  });
  if (absl::Status s = server.Start(absl::GetFlag(FLAGS_listen)); !s.ok()) {
    std::cerr << "demo-exporter: " << s.message() << "\n";
    return 1;
  }
  {
    std::ofstream cfg(out + "/prometheus.yml");
    cfg << "# Written by smart-autoscaler demo-exporter.\nglobal:\n  scrape_interval: 15s\n"
           "  evaluation_interval: 15s\nscrape_configs:\n- job_name: demo\n  honor_labels: true\n"
           "  static_configs:\n  - targets: ['127.0.0.1:"
        << server.port() << "']\n";
  }
  if (!absl::GetFlag(FLAGS_exporter_port_file).empty()) {
    std::ofstream(absl::GetFlag(FLAGS_exporter_port_file)) << server.port() << "\n";
  }
  LOG(INFO) << "demo-exporter: " << w->deployments().size() << " deployments, history from "
            << absl::FormatTime(anchor) << ", live /metrics on 127.0.0.1:" << server.port();
  struct sigaction sa = {};
  sa.sa_handler = OnDemoSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  while (!g_demo_stop) absl::SleepFor(absl::Milliseconds(200));
  server.Stop();
  return 0;
}

}  // namespace cli
