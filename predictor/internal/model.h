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

// A series indexed from 0 of which only the most recent values may be kept: after
// KeepLast(k), indices below first() are gone and the storage stays within k + a small slack
// however many values are pushed (the oldest are dropped instead of growing).
class Tail {
 public:
  Tail() = default;
  explicit Tail(std::vector<double> v) : v_(std::move(v)) {}
  double operator[](size_t i) const { return v_[i - off_]; }
  double& operator[](size_t i) { return v_[i - off_]; }
  size_t size() const { return off_ + v_.size(); }
  bool empty() const { return size() == 0; }
  size_t first() const { return off_; }  // the oldest index still stored
  double back() const { return v_.back(); }
  void clear() {
    v_.clear();
    off_ = 0;
    keep_ = 0;
  }
  void assign(size_t n, double x) {
    clear();
    v_.assign(n, x);
  }
  template <typename It>
  void assign(It begin, It end) {
    clear();
    v_.assign(begin, end);
  }
  void reserve(size_t n) { v_.reserve(n); }
  void push_back(double x) {
    if (keep_ > 0 && v_.size() == v_.capacity() && v_.size() > keep_) {
      const size_t drop = v_.size() - keep_;
      v_.erase(v_.begin(), v_.begin() + drop);
      off_ += drop;
    }
    v_.push_back(x);
  }
  // From now on keeps only the last `keep` (at least 1) values.
  void KeepLast(size_t keep) {
    keep_ = keep < 1 ? 1 : keep;
    const size_t n = v_.size() < keep_ ? v_.size() : keep_;
    std::vector<double> v;
    v.reserve(keep_ + kSlack);
    v.assign(v_.end() - n, v_.end());
    off_ += v_.size() - n;
    v_.swap(v);
  }
  size_t bytes() const { return v_.capacity() * sizeof(double); }

 private:
  static constexpr size_t kSlack = 16;
  std::vector<double> v_;
  size_t off_ = 0, keep_ = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const char* Name() const = 0;
  // Fits on y. Returns false when the model cannot be used on this history (too short).
  virtual bool Fit(const Tail& y, const FitContext& ctx) = 0;
  // Writes the forecast for steps 1..h after origin o (0 <= o < y.size()) into out[0..h-1].
  // False when this origin cannot be forecast (not enough history before it). After
  // Compact(), only o == y.size() - 1 (the end of the history) is supported.
  virtual bool Predict(const Tail& y, int o, int h, double* out) const = 0;
  // Called after y.push_back(v) to advance internal state without refitting.
  virtual void Extend(const Tail& y) {}
  // Frees state that only the backtest (Predict at origins before the end) needs.
  virtual void Compact() {}
  // How many of the most recent values of y Predict at the end and Extend read (valid after
  // Fit; the history may drop older values).
  virtual int Lookback() const = 0;
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
