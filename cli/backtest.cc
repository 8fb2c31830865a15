// `smart-autoscaler backtest`: would the smart metric have helped? Replays demand traces
// through the Kubernetes HPA with the native CPU metric, the reconciler's smart metric, a
// native HPA retuned to smart's replica-hours, and an oracle; prints a table per trace.
//
//   smart-autoscaler backtest --input data/traces/pools/cluster1.csv --plot cluster1.svg
//   smart-autoscaler backtest --input data/traces --json > all.jsonl
//   smart-autoscaler backtest --input a.csv,b.csv --p95-cores 16 --target 60 --series s.csv
//   smart-autoscaler backtest --prometheus http://prom:9090 --deployment shop/api --days 7
//
// The reconciler's settings (CHECK_INTERVAL, COST_PER_VCPU_HOUR, ENABLE_PREDICTIVE, ...) come
// from the environment as for `reconciler`; flags override them. A progress line per step
// goes to stderr.
#include "backtest/backtest.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "backtest/demand.h"
#include "backtest/prometheus_source.h"
#include "backtest/report.h"
#include "base/trace_csv.h"
#include "cli/commands.h"
#include "clients/http/curl_http_client.h"
#include "clients/prometheus/prometheus.h"
#include "glog/logging.h"
#include "reconciler/config.h"

// --input is shared with `ingest` and `forecast` (Abseil flags are process-wide).
ABSL_DECLARE_FLAG(std::string, input);
ABSL_FLAG(double, p95_cores, 8,
          "backtest: scale each trace so its 95th percentile is this many cores");
ABSL_FLAG(double, target, 70, "backtest: the native HPA's CPU utilisation target, %");
ABSL_FLAG(absl::Duration, startup, absl::Seconds(90),
          "backtest: time from a pod's creation to serving load");
ABSL_FLAG(int, min_replicas, 2, "backtest: the HPA's minReplicas");
ABSL_FLAG(int, max_replicas, 200, "backtest: the HPA's maxReplicas");
ABSL_FLAG(double, cost_per_vcpu_hour, -1,
          "backtest: price of a vCPU-hour (default: COST_PER_VCPU_HOUR of the config)");
ABSL_FLAG(double, cost_per_gb_hour, -1,
          "backtest: price of a GB-hour of memory, GB = 10^9 bytes (default: "
          "COST_PER_GB_MEMORY_HOUR of the config)");
ABSL_FLAG(int64_t, pod_memory_bytes, 0,
          "backtest: each pod's memory request in bytes, priced per replica-hour (0: unknown, "
          "memory is not priced)");
ABSL_FLAG(absl::Duration, smart_data_lag, absl::ZeroDuration(),
          "backtest: how old the Prometheus rates are when a reconciler cycle reads them (0: as "
          "they stand at the cycle; the value is then held for the cycle)");
ABSL_FLAG(std::string, prometheus, "",
          "backtest: replay a live deployment: the Prometheus base URL (instead of --input)");
ABSL_FLAG(std::string, deployment, "", "backtest --prometheus: the deployment, namespace/name");
ABSL_FLAG(double, days, 7, "backtest --prometheus: days to replay (after 7 days of history)");
ABSL_FLAG(int64_t, pod_cpu_millicores, 0,
          "backtest --prometheus: the pods' CPU request = limit (0: from kube-state-metrics)");
ABSL_FLAG(std::string, series_csv, "",
          "backtest: write one row per HPA sync to this CSV (given as --series on the command "
          "line); with several traces, the trace name is added before the extension");
ABSL_FLAG(std::string, plot, "",
          "backtest: write an SVG plot (demand, capacity per policy, served metric); with "
          "several traces, the trace name is added before the extension");

namespace cli {
namespace {

// Files named by --input: comma-separated files and directories (every *.csv below, sorted).
std::vector<std::string> InputFiles(const std::string& spec, std::string* error) {
  std::vector<std::string> files;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::error_code ec;
    const std::filesystem::path p{std::string(part)};
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = std::filesystem::recursive_directory_iterator(p, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".csv") {
          found.push_back(it->path().string());
        }
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(std::string(part));
    }
  }
  if (files.empty()) *error = absl::StrCat("no CSV file in --input '", spec, "'");
  return files;
}

// out.svg -> out.cluster1.svg when several traces run.
std::string PerTrace(const std::string& path, const std::string& trace, bool many) {
  if (!many || path.empty()) return path;
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return absl::StrCat(path, ".", trace);
  }
  return absl::StrCat(path.substr(0, dot), ".", trace, path.substr(dot));
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    std::cerr << "backtest: cannot write " << path << "\n";
    return false;
  }
  return true;
}

std::string TraceName(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

// The replay's options from the environment (the reconciler's settings) and the flags.
// False after printing every problem.
bool OptionsFromFlags(backtest::Options* out) {
  backtest::Options& o = *out;
  reconciler::ConfigResult cfg = reconciler::LoadConfig(reconciler::EnvironmentVariables());
  if (!cfg.problems.empty()) {
    for (const std::string& p : cfg.problems) std::cerr << "backtest: " << p << "\n";
    return false;
  }
  o.config = cfg.config;
  o.p95_cores = absl::GetFlag(FLAGS_p95_cores);
  o.target_pct = absl::GetFlag(FLAGS_target);
  o.hpa.startup = absl::GetFlag(FLAGS_startup);
  o.hpa.min_replicas = absl::GetFlag(FLAGS_min_replicas);
  o.hpa.max_replicas = absl::GetFlag(FLAGS_max_replicas);
  o.smart_data_lag = absl::GetFlag(FLAGS_smart_data_lag);
  if (absl::GetFlag(FLAGS_cost_per_vcpu_hour) >= 0) {
    o.config.cost_per_vcpu_hour = absl::GetFlag(FLAGS_cost_per_vcpu_hour);
  }
  if (absl::GetFlag(FLAGS_cost_per_gb_hour) >= 0) {
    o.config.cost_per_gb_memory_hour = absl::GetFlag(FLAGS_cost_per_gb_hour);
  }
  o.pod_memory_bytes = absl::GetFlag(FLAGS_pod_memory_bytes);
  std::vector<std::string> bad;
  if (o.pod_memory_bytes < 0) bad.push_back("--pod-memory-bytes must be >= 0");
  if (!(o.p95_cores > 0)) bad.push_back("--p95-cores must be > 0");
  if (!(o.target_pct >= 1 && o.target_pct <= 100)) bad.push_back("--target must be in 1-100");
  if (o.hpa.startup < absl::ZeroDuration() || o.hpa.startup > absl::Hours(1) ||
      o.hpa.startup % o.hpa.sync_period != absl::ZeroDuration()) {
    bad.push_back("--startup must be a multiple of 15s in 0-1h (pods become ready at syncs)");
  }
  if (o.hpa.min_replicas < 1 || o.hpa.max_replicas < o.hpa.min_replicas) {
    bad.push_back("--min-replicas must be >= 1 and <= --max-replicas");
  }
  if (o.smart_data_lag < absl::ZeroDuration() || o.smart_data_lag > absl::Minutes(10) ||
      o.smart_data_lag % o.hpa.sync_period != absl::ZeroDuration()) {
    bad.push_back("--smart-data-lag must be a multiple of 15s in 0-10m");
  }
  if (o.hpa.max_replicas > 10000) bad.push_back("--max-replicas must be <= 10000");
  for (const std::string& b : bad) std::cerr << "backtest: " << b << "\n";
  return bad.empty();
}

// One replay: a trace file, or a deployment read from Prometheus.
struct Job {
  std::string name;   // the trace's name in the outputs
  std::string label;  // for progress and error lines
  // The demand in cores; may set the options' pod CPU and replay length.
  std::function<absl::StatusOr<backtest::Demand>(backtest::Options*)> load;
};

absl::StatusOr<backtest::Demand> LoadPrometheus(const std::string& url, const std::string& ns,
                                                const std::string& name, backtest::Options* o) {
  auto http = clients::http::MakeCurlHttpClient({});
  auto prom = clients::prometheus::MakePrometheusClient({.base_url = url}, http.get());
  o->replay = absl::Hours(24) * absl::GetFlag(FLAGS_days);
  const absl::Time to = absl::Now();
  const absl::Time from = to - o->replay - o->history - absl::Hours(1);
  absl::StatusOr<backtest::PrometheusWorkload> w =
      backtest::LoadFromPrometheus(prom.get(), ns, name, from, to);
  if (!w.ok()) return w.status();
  const int64_t flag_m = absl::GetFlag(FLAGS_pod_cpu_millicores);
  if (flag_m > 0) {
    o->hpa.pod_cpu_millicores = flag_m;
  } else if (w->pod_cpu_request_millicores) {
    o->hpa.pod_cpu_millicores = *w->pod_cpu_request_millicores;
  } else {
    return absl::NotFoundError(absl::StrCat("no CPU request for the pods in Prometheus (",
                                            backtest::PodCpuRequestQuery(ns, name),
                                            "); pass --pod-cpu-millicores"));
  }
  std::cerr << "backtest: " << ns << "/" << name << ": " << w->demand.size()
            << " demand points from " << url << ", pod CPU " << o->hpa.pod_cpu_millicores << "m\n";
  return backtest::Demand::FromCores(w->demand);
}

// The jobs named by --input or --prometheus/--deployment. False after printing why not.
bool MakeJobs(std::vector<Job>* jobs) {
  const std::string input = absl::GetFlag(FLAGS_input);
  const std::string url = absl::GetFlag(FLAGS_prometheus);
  if (input.empty() == url.empty()) {
    std::cerr << "backtest: one of --input trace.csv (files or directories, comma-separated) "
                 "or --prometheus URL --deployment ns/name is required\n";
    return false;
  }
  if (!url.empty()) {
    const std::string dep = absl::GetFlag(FLAGS_deployment);
    const size_t slash = dep.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == dep.size() ||
        !(absl::GetFlag(FLAGS_days) > 0 && absl::GetFlag(FLAGS_days) <= 30)) {
      std::cerr << "backtest: --prometheus needs --deployment namespace/name and --days in "
                   "(0, 30]\n";
      return false;
    }
    const std::string ns = dep.substr(0, slash), name = dep.substr(slash + 1);
    jobs->push_back({dep, absl::StrCat(dep, " from ", url),
                     [=](backtest::Options* o) { return LoadPrometheus(url, ns, name, o); }});
    return true;
  }
  std::string error;
  for (const std::string& f : InputFiles(input, &error)) {
    jobs->push_back({TraceName(f), f, [f](backtest::Options* o) {
                       absl::StatusOr<std::vector<base::Point>> points = base::ReadTraceCsv(f);
                       if (!points.ok()) return absl::StatusOr<backtest::Demand>(points.status());
                       return backtest::Demand::FromTrace(*points, o->p95_cores);
                     }});
  }
  if (jobs->empty()) std::cerr << "backtest: " << error << "\n";
  return !jobs->empty();
}

}  // namespace

int BacktestMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "backtest: unexpected argument '" << args[0] << "'\n";
    return 2;
  }
  backtest::Options o;
  if (!OptionsFromFlags(&o)) return 2;
  std::vector<Job> jobs;
  if (!MakeJobs(&jobs)) return 2;
  const bool many = jobs.size() > 1;
  const std::string series_path = absl::GetFlag(FLAGS_series_csv);
  const std::string plot_path = absl::GetFlag(FLAGS_plot);
  o.keep_series = !series_path.empty() || !plot_path.empty();
  o.progress = [&](const std::string& line) { std::cerr << "backtest: " << line << "\n"; };
  // The reconciler logs every cycle at INFO; a replay runs thousands of them.
  FLAGS_minloglevel = std::max(FLAGS_minloglevel, 1);
  int failures = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    std::cerr << "backtest: [" << i + 1 << "/" << jobs.size() << "] " << jobs[i].label << "\n";
    backtest::Options job_options = o;
    absl::StatusOr<backtest::Demand> demand = jobs[i].load(&job_options);
    absl::StatusOr<backtest::TraceResult> r =
        demand.ok() ? backtest::RunTrace(jobs[i].name, *demand, job_options)
                    : absl::StatusOr<backtest::TraceResult>(demand.status());
    if (!r.ok()) {
      PrintError(std::cerr, "backtest", absl::StrCat(jobs[i].label, ": ", r.status().message()));
      ++failures;
      continue;
    }
    if (absl::GetFlag(FLAGS_json)) {
      std::cout << backtest::FormatJson(*r) << "\n";
    } else {
      std::cout << backtest::FormatTable(*r) << "\n";
    }
    std::cout.flush();
    const std::string file_name = absl::StrReplaceAll(jobs[i].name, {{"/", "_"}});
    if (!series_path.empty() &&
        !WriteFile(PerTrace(series_path, file_name, many), backtest::FormatSeriesCsv(*r))) {
      ++failures;
    }
    if (!plot_path.empty() &&
        !WriteFile(PerTrace(plot_path, file_name, many), backtest::FormatSvg(*r))) {
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace cli
