#include "predictor/synthetic.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace predictor {

Series SyntheticLoad(int n) {
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Series s;
  s.start = absl::FromUnixSeconds(1700006400);
  s.step = absl::Minutes(5);
  double ar = 0;
  for (int i = 0; i < n; ++i) {
    ar = 0.8 * ar + noise(rng);
    const double day = std::sin(2 * M_PI * i / 288.0);
    const double week = 1 + 0.1 * std::sin(2 * M_PI * i / 2016.0);
    s.values.push_back(std::max(0.0, 40 * week + 15 * day + 2 * ar + (u(rng) < 0.01 ? 30 : 0)));
  }
  s.gap.assign(n, 0);
  return s;
}

}  // namespace predictor
