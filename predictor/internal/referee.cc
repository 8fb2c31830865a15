#include "predictor/internal/referee.h"

#include <algorithm>
#include <cmath>

namespace predictor {
namespace internal {

Referee::Referee(int horizon, double half_life_steps, double lose_ratio, int period)
    : h_(std::max(1, horizon)),
      decay_per_step_(half_life_steps > 0 ? std::exp2(-1.0 / half_life_steps) : 1.0),
      lose_ratio_(lose_ratio),
      period_(period >= 3 ? period : 1) {
  Reset();
}

void Referee::Reset() {
  any_ = false;
  weight_ = 0;
  scale_ = 1.0;
  ens_.assign(static_cast<size_t>(period_) * (h_ + 1), 0.0);
  pers_.assign(ens_.size(), 0.0);
  pending_.assign(static_cast<size_t>(h_) * h_, 0.0);
  pending_origin_.assign(h_, -1);
}

void Referee::Decay(int o) {
  // Older scores lose weight relative to newer ones: instead of scaling every sum down at each
  // origin, new scores are scaled up (scale_), and everything is renormalised now and then.
  if (any_ && o > last_origin_ && decay_per_step_ < 1.0) {
    scale_ *= std::pow(decay_per_step_, -(o - last_origin_));
    if (scale_ > 1e100) {
      const double f = 1.0 / scale_;
      weight_ *= f;
      for (double& v : ens_) v *= f;
      for (double& v : pers_) v *= f;
      scale_ = 1.0;
    }
  }
  if (!any_) first_origin_ = o;
  if (!any_ || o > last_origin_) last_origin_ = o;
  any_ = true;
}

void Referee::Score(int o, const double* path, const Tail& y) {
  if (o < static_cast<int>(y.first()) || o + h_ >= static_cast<int>(y.size())) return;
  Decay(o);
  const double last = y[o];
  double* ens = &ens_[static_cast<size_t>(o % period_) * (h_ + 1)];
  double* pers = &pers_[static_cast<size_t>(o % period_) * (h_ + 1)];
  const double actual = y[o + h_];
  const double w = scale_;
  ens[h_] += w * std::abs(actual - path[h_ - 1]);
  pers[h_] += w * std::abs(actual - last);
  double peak_actual = -INFINITY, peak_ens = -INFINITY;
  for (int l = 0; l < h_; ++l) {
    peak_actual = std::max(peak_actual, y[o + l + 1]);
    peak_ens = std::max(peak_ens, path[l]);
    ens[l] += w * std::abs(peak_actual - peak_ens);
    pers[l] += w * std::abs(peak_actual - last);
  }
  weight_ += w;
}

std::pair<double, double> Referee::Sums(int o, int l) const {
  double e = 0, p = 0;
  const int phase = o % period_;
  for (int d = period_ >= 3 ? -1 : 0; d <= (period_ >= 3 ? 1 : 0); ++d) {
    const size_t at = static_cast<size_t>((phase + d + period_) % period_) * (h_ + 1) + l;
    e += ens_[at];
    p += pers_[at];
  }
  return {e, p};
}

void Referee::Record(const double* path, const Tail& y) {
  if (y.empty()) return;
  const int o = static_cast<int>(y.size()) - 1;
  const int slot = o % h_;
  std::copy(path, path + h_, pending_.begin() + static_cast<size_t>(slot) * h_);
  pending_origin_[slot] = o;
}

void Referee::Observe(const Tail& y) {
  const int o = static_cast<int>(y.size()) - 1 - h_;
  if (o < 0) return;
  const int slot = o % h_;
  if (pending_origin_[slot] != o) return;
  Score(o, &pending_[static_cast<size_t>(slot) * h_], y);
  pending_origin_[slot] = -1;
}

bool Referee::HorizonLoses(int o) const {
  const auto [e, p] = Sums(o, h_);
  return weight_ > 0 && e > lose_ratio_ * p;
}

int Referee::PersistenceSteps(int o) const {
  if (!(weight_ > 0)) return 0;
  for (int l = h_ - 1; l >= 1; --l) {
    const auto [e, p] = Sums(o, l - 1);
    if (e > lose_ratio_ * p) return l;
  }
  return 0;
}

}  // namespace internal
}  // namespace predictor
