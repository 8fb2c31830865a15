// --json: machine-readable output, shared by the subcommands that offer it (backtest, costs,
// doctor). Abseil flags are global, so it is defined once here.
#include "absl/flags/flag.h"

ABSL_FLAG(bool, json, false,
          "print JSON instead of text (backtest: one object per trace and line; costs: the cost "
          "route's fields; doctor: the report)");
