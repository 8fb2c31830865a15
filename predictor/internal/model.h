// Internal model interface behind predictor::Forecaster. Not part of the public contract.
//
// A Model is fitted on a history y[0..n-1] and then answers "the path of H steps after
// origin o, using only y[0..o]" for any origin inside the history (the backtest) or at its
// end. The history vector is owned by the caller and only ever grows (Extend is called after
// each push_back).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace predictor {
namespace internal {

struct FitContext {
  int horizon = 12;       // steps
  int steps_per_day = 0;  // 0 when the step does not divide a day
  int steps_per_week = 0;
  int daily_season = 0;    // detected daily season in steps, or 0
  int weekly_season = 0;   // detected weekly season in steps, or 0
  int64_t start_unix = 0;  // time of y[0], Unix seconds
  int64_t step_seconds = 300;
  // The first backtest origin: models that learn from targets (trees) use only targets at or
  // before this index, so their backtest errors are out of sample.
  int holdout_start = 0;
  // Tuning knobs forwarded from predictor::Options.
  int max_tree_rows = 1500;
  int arima_history_steps = 864;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const char* Name() const = 0;
  // Fits on y. Returns false when the model cannot be used on this history (too short).
  virtual bool Fit(const std::vector<double>& y, const FitContext& ctx) = 0;
  // Writes the forecast for steps 1..h after origin o (0 <= o < y.size()) into out[0..h-1].
  // False when this origin cannot be forecast (not enough history before it).
  virtual bool Predict(const std::vector<double>& y, int o, int h, double* out) const = 0;
  // Called after y.push_back(v) to advance internal state without refitting.
  virtual void Extend(const std::vector<double>& y) {}
};

std::unique_ptr<Model> NewPersistence();
std::unique_ptr<Model> NewSeasonalNaive(bool weekly);
// The mean of the same phase of the day over the last (up to) `max_days` days.
std::unique_ptr<Model> NewSeasonalMean(int max_days = 5);
std::unique_ptr<Model> NewHoltWinters();
std::unique_ptr<Model> NewArima();
std::unique_ptr<Model> NewTreeModel(bool boosting);

// Nelder-Mead minimisation of f over R^d from x0 (in place). Returns the best value.
double NelderMead(const std::function<double(const std::vector<double>&)>& f,
                  std::vector<double>& x, double initial_step, int max_evals);

}  // namespace internal
}  // namespace predictor
