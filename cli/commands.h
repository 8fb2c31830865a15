// The subcommands of the `smart-autoscaler` binary. Each takes the positional arguments left
// after flag parsing (the subcommand name removed) and returns the process exit code.
// Flags are Abseil flags defined in each subcommand's own .cc file; `smart-autoscaler SUB
// --help` lists exactly those.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

// Shared flags (cli/shared_flags.cc): --db, the store directory; --json, JSON output.
ABSL_DECLARE_FLAG(std::string, db);
ABSL_DECLARE_FLAG(bool, json);

namespace cli {

int VersionMain(const std::vector<std::string>& args);
int AdapterMain(const std::vector<std::string>& args);
int AnomaliesMain(const std::vector<std::string>& args);
int IngestMain(const std::vector<std::string>& args);
int ForecastMain(const std::vector<std::string>& args);
int ReconcilerMain(const std::vector<std::string>& args);
int CheckConfigMain(const std::vector<std::string>& args);
int DemoExporterMain(const std::vector<std::string>& args);
int CostsMain(const std::vector<std::string>& args);
int DoctorMain(const std::vector<std::string>& args);
int StoreMain(const std::vector<std::string>& args);
int BacktestMain(const std::vector<std::string>& args);
int ExplainMain(const std::vector<std::string>& args);

// Writes an error message to `out` with `command: ` before each of its lines (a parse error
// names every bad row on its own line).
inline void PrintError(std::ostream& out, absl::string_view command, absl::string_view message) {
  const std::string prefix = absl::StrCat(command, ": ");
  out << prefix << absl::StrReplaceAll(message, {{"\n", "\n" + prefix}}) << "\n";
}

// The bundled default trace (data/traces/nab/ec2_cpu_utilization_5f5533.csv), compiled in so
// the default run works from any directory.
extern const char kEmbeddedTraceName[];
extern const char kEmbeddedTrace[];

}  // namespace cli
