// Diagnostics for tools (predictor/tools/): what an ensemble fit saw in its backtest. Not part
// of the public contract; the reconciler never needs it.
#pragma once

#include <string>
#include <vector>

#include "predictor/forecaster.h"

namespace predictor {
namespace internal {

struct MemberTrace {
  std::string name;
  std::vector<double> backtest;  // forecast at the horizon step from each backtest origin
  double forecast = 0;           // forecast at the horizon step from the end of the history
  double weight = 0;             // final weight
};

struct EnsembleTrace {
  std::vector<int> origins;  // backtest origins, indices into the fitted history
  std::vector<MemberTrace> members;
};

// Empty for anything that is not a fitted forecaster made by NewEnsemble/NewForecaster.
EnsembleTrace TraceEnsemble(const Forecaster& f);

}  // namespace internal
}  // namespace predictor
