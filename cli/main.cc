// smart-autoscaler: one binary, several subcommands.
//
//   smart-autoscaler version
//   smart-autoscaler ingest --db /tmp/tsdb
//   smart-autoscaler ingest --help
//
// Flags may appear before or after the subcommand; every flag is an Abseil flag and may be
// given as --name=value or --name value. Unknown flags and unknown subcommands are errors
// (exit 2) with a hint.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "glog/logging.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  const char* usage;
  const char* source;  // the file(s) defining this command's flags, ','-separated
  int (*run)(const std::vector<std::string>&);
};

const Command kCommands[] = {
    {"adapter", "serve the external/custom metrics APIs (HTTPS) from the snapshot stream",
     "adapter [--secure-port 6443] [--snapshot-address ADDR | --static-metrics FILE]",
     "cli/adapter.cc,adapter/auth/flags.cc", cli::AdapterMain},
    {"anomalies", "detect CPU spikes in a CSV trace, or score the detector on NAB files",
     "anomalies --input trace.csv [--output detections.csv] | --nab-score DIR",
     "cli/anomalies.cc", cli::AnomaliesMain},
    {"backtest",
     "replay demand traces through the HPA: native CPU vs the smart metric, cost-matched, oracle",
     "backtest (--input trace.csv[,dir,...] [--p95-cores 8] | --prometheus URL --deployment "
     "ns/name [--days 7]) [--target 70] [--json] [--series out.csv] [--plot out.svg]",
     "cli/backtest.cc,cli/shared_flags.cc", cli::BacktestMain},
    {"check-config", "validate the reconciler's configuration (environment, --config-dir, flags)",
     "check-config [--config-dir DIR] [--list]", "cli/reconciler.cc", cli::CheckConfigMain},
    {"costs", "what each deployment cost, wasted and should request, offline from a store copy",
     "costs --db DIR [--hours 168] [--json] [--until RFC3339] [--max-gap 10m]",
     "cli/costs.cc,cli/shared_flags.cc",
     cli::CostsMain},
    {"demo-exporter",
     "write the demo's backfill and cluster files, then serve its live /metrics",
     "demo-exporter --out DIR [--traces-dir data/traces] [--listen 127.0.0.1:0]",
     "cli/demo.cc", cli::DemoExporterMain},
    {"doctor", "check an install: APIServices, endpoints, TLS, RBAC, Prometheus series, HPAs",
     "doctor [--kubeconfig FILE [--context NAME]] [--prometheus-url URL] [--json] "
     "[--serving-address HOST:PORT] [--api-services v1beta1.external.metrics.k8s.io,...]",
     "cli/doctor.cc,cli/shared_flags.cc", cli::DoctorMain},
    {"explain", "why this number: a running reconciler's inputs, rules and arithmetic for one "
     "deployment",
     "explain namespace/name [--api http://127.0.0.1:5000] [--json]",
     "cli/explain.cc,cli/shared_flags.cc", cli::ExplainMain},
    {"forecast", "forecast a CSV trace, or evaluate every model on it (--evaluate)",
     "forecast --input trace.csv [--horizon 60m] [--lead 10m] [--output out.csv] [--evaluate "
     "[--origin-step 60m] [--eval-days 2] [--train-days 7]]",
     "cli/forecast.cc", cli::ForecastMain},
    {"ingest", "store a CSV trace in the RocksDB store, read it back, print timings",
     "ingest [--input trace.csv] [--db DIR] [--series N]", "cli/ingest.cc,cli/shared_flags.cc",
     cli::IngestMain},
    {"reconciler",
     "run the loop: gather signals, decide, publish smart metrics to the adapters",
     "reconciler [--cluster-file cluster.json | --kubeconfig FILE] [--prometheus-url URL] "
     "[--config-dir DIR]",
     "cli/reconciler.cc", cli::ReconcilerMain},
    {"store", "back up, restore or verify a reconciler store (offline)",
     "store backup --db DIR --to BACKUP_DIR | store restore --from BACKUP_DIR --db DIR "
     "[--force] | store verify --db DIR",
     "cli/store.cc,cli/shared_flags.cc", cli::StoreMain},
    {"version", "print the version", "version", "cli/version.cc", cli::VersionMain},
};

void PrintTopHelp(std::ostream& out) {
  out << "smart-autoscaler: smart CPU metrics for Kubernetes HPAs.\n\n"
         "Usage: smart-autoscaler <command> [flags]\n\nCommands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(15 - std::strlen(c.name), ' ') << c.summary << "\n";
  }
  out << "\nRun 'smart-autoscaler <command> --help' for the command's flags.\n";
}

void PrintCommandHelp(const Command& c) {
  std::cout << "Usage: smart-autoscaler " << c.usage << "\n\n" << c.summary << "\n\nFlags:\n";
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    bool mine = false;
    for (absl::string_view source : absl::StrSplit(c.source, ',')) {
      mine = mine || absl::EndsWith(flag->Filename(), source);
    }
    if (!mine) continue;
    lines.push_back({std::string(name), absl::StrCat("  --", name, " (default: ", flag->DefaultValue(),
                                        ")\n      ", flag->Help(), "\n")});
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) std::cout << l.second;
}

}  // namespace

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  absl::SetProgramUsageMessage("smart-autoscaler <command> [flags]; see 'smart-autoscaler help'");

  // Find the subcommand (first non-flag argument) and any help request before Abseil parses,
  // so `--help` is per command rather than a dump of every flag in the binary.
  const Command* command = nullptr;
  bool help = false;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    // Accept --foo-bar for the Abseil flag --foo_bar (flag names cannot hold '-').
    if (std::strncmp(argv[i], "--", 2) == 0) {
      for (char* c = argv[i] + 2; *c != '\0' && *c != '='; ++c) {
        if (*c == '-') *c = '_';
      }
    }
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "-help" || arg == "--helpfull") {
      help = true;
      continue;
    }
    if (command == nullptr && !arg.empty() && arg[0] != '-') {
      if (arg == "help") {
        help = true;
        continue;
      }
      for (const Command& c : kCommands) {
        if (arg == c.name) command = &c;
      }
      if (command == nullptr) {
        std::cerr << "smart-autoscaler: unknown command '" << arg << "'\n\n";
        PrintTopHelp(std::cerr);
        return 2;
      }
      continue;
    }
    rest.push_back(argv[i]);
  }
  if (help || command == nullptr) {
    if (command != nullptr) {
      PrintCommandHelp(*command);
    } else {
      PrintTopHelp(help ? std::cout : std::cerr);
    }
    return help ? 0 : 2;
  }
  // `backtest --series FILE` is the flag series_csv (ingest's --series is a count).
  static char kSeriesCsv[] = "--series_csv";
  std::vector<std::string> renamed;
  renamed.reserve(rest.size());
  if (command->run == cli::BacktestMain) {
    for (char*& arg : rest) {
      if (std::strcmp(arg, "--series") == 0) {
        arg = kSeriesCsv;
      } else if (std::strncmp(arg, "--series=", 9) == 0) {
        renamed.push_back(std::string("--series_csv=") + (arg + 9));
        arg = renamed.back().data();
      }
    }
  }
  std::vector<char*> positional_raw = absl::ParseCommandLine(rest.size(), rest.data());
  std::vector<std::string> positional(positional_raw.begin() + 1, positional_raw.end());
  return command->run(positional);
}
