// --db: the RocksDB store directory, shared by the subcommands that open a store (ingest,
// store). Abseil flags are global, so it is defined once here.
#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, db, "",
          "RocksDB store directory (ingest: empty means a fresh temporary directory, removed "
          "afterwards; store: required)");
