// Flags shared by several subcommands. Abseil flags are global, so each is defined once here:
//   --db    the RocksDB store directory (ingest, store, costs);
//   --json  print JSON instead of text (backtest, costs, doctor).
#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, db, "",
          "RocksDB store directory (ingest: empty means a fresh temporary directory, removed "
          "afterwards; store and costs: required)");
ABSL_FLAG(bool, json, false,
          "print JSON instead of text (backtest: one object per trace per line; costs: the "
          "cost route's fields; doctor: the checks)");
