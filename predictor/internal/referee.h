// The online referee of one series: recency-weighted absolute errors of the ensemble's
// combination and of persistence over the same origins, for the value at the horizon and for
// the running peak of every prefix of the path (the peak over a lead window of L steps is
// the peak of the first L steps). Where the combination is losing, the forecaster serves
// persistence: the whole path when it loses at the horizon, the first L steps when it loses
// on the peak over L steps. It keeps scoring the combination while persistence is served, so
// it hands back once the combination wins again.
//
//   internal::Referee r(/*horizon=*/12, /*half_life_steps=*/72, /*lose_ratio=*/1.0);
//   r.Score(o, path, y);       // a backtest origin: every target observed
//   r.Record(end, path, y);    // online: the path served from the end of y
//   r.Observe(y);              // after each new value: scores the origin h steps back
//   if (r.HorizonLoses()) ...; int lead = r.PersistenceSteps();
//
// Not part of the public contract. Thread-compatible.
#pragma once

#include <utility>
#include <vector>

#include "predictor/internal/model.h"

namespace predictor {
namespace internal {

class Referee {
 public:
  // horizon >= 1 steps; errors lose half their weight every half_life_steps (<= 0: never);
  // the combination loses where its error exceeds persistence's by lose_ratio. With
  // period >= 3 (steps per hour), errors are kept per phase of the period and a decision at
  // origin o reads the phases o-1, o, o+1 only: loads driven by schedules (jobs on the hour)
  // make the combination win at some minutes of the hour and lose at others.
  Referee(int horizon, double half_life_steps, double lose_ratio, int period = 0);

  // Forgets every score and pending path (a change point: only what follows counts).
  void Reset();
  // Scores origin o (y[o + horizon] observed) with the combination's path[0..horizon-1].
  // Origins must come in increasing order.
  void Score(int o, const double* path, const Tail& y);
  // Keeps the path served from the end of y, to score once its horizon is observed.
  void Record(const double* path, const Tail& y);
  // Scores the recorded origin whose horizon is the end of y, if any.
  void Observe(const Tail& y);

  // Whether the combination lost at the horizon step over the scored origins (in the phases
  // around origin o's).
  bool HorizonLoses(int o) const;
  // The largest L < horizon such that the combination's peak over its first L steps lost to
  // persistence's (the last value) around origin o's phase; 0 when none did.
  int PersistenceSteps(int o) const;
  // Scored origins since the last Reset, recency-weighted (in units of an origin scored
  // when the weights were last renormalised; only ratios of the sums are meaningful).
  double weight() const { return weight_; }
  // Steps between the first and the last origin scored since the last Reset (-1: none).
  int span() const { return any_ ? last_origin_ - first_origin_ : -1; }

 private:
  void Decay(int o);
  // Sums of the phases read at origin o: {ens, pers} at prefix l (l == h_: the horizon).
  std::pair<double, double> Sums(int o, int l) const;

  int h_;
  double decay_per_step_;
  double lose_ratio_;
  int first_origin_ = 0, last_origin_ = 0;
  bool any_ = false;
  double weight_ = 0;
  double scale_ = 1.0;  // the weight of a score at last_origin_ (see Decay)
  int period_;
  // Per phase p and slot l: [p * (h + 1) + l], l < h the peak over l + 1 steps, l == h the
  // value at the horizon.
  std::vector<double> ens_, pers_;
  // Online: the paths recorded at the last h origins (ring), their origins and last values.
  std::vector<double> pending_;
  std::vector<int> pending_origin_;
};

}  // namespace internal
}  // namespace predictor
