// A load-like synthetic series for predictor tests and benchmarks: a daily cycle, a weekly
// modulation, AR(1) noise and occasional spikes, at a 5-minute step; deterministic (seed 42).
#pragma once

#include "predictor/series.h"

namespace predictor {

Series SyntheticLoad(int n);

}  // namespace predictor
