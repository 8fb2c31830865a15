// Persistence, seasonal-naive, Holt-Winters and ARIMA models, and the Nelder-Mead optimiser
// they share.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "predictor/internal/model.h"

namespace predictor {
namespace internal {
namespace {

double Logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// ---------------------------------------------------------------------------------------------
class Persistence : public Model {
 public:
  const char* Name() const override { return "persistence"; }
  bool Fit(const Tail& y, const FitContext&) override { return !y.empty(); }
  bool Predict(const Tail& y, int o, int h, double* out) const override {
    std::fill(out, out + h, y[o]);
    return true;
  }
  int Lookback() const override { return 1; }
};

// ---------------------------------------------------------------------------------------------
class SeasonalNaive : public Model {
 public:
  explicit SeasonalNaive(bool weekly) : weekly_(weekly) {}
  const char* Name() const override {
    return weekly_ ? "seasonal_naive_weekly" : "seasonal_naive_daily";
  }
  bool Fit(const Tail& y, const FitContext& ctx) override {
    period_ = weekly_ ? ctx.steps_per_week : ctx.steps_per_day;
    return period_ > 0 && static_cast<int>(y.size()) >= period_;
  }
  bool Predict(const Tail& y, int o, int h, double* out) const override {
    if (period_ <= 0) return false;
    for (int k = 1; k <= h; ++k) {
      // Steps further ahead than one period repeat the last period again.
      int idx = o + k - period_ * ((k + period_ - 1) / period_);
      if (idx < 0) return false;
      out[k - 1] = y[idx];
    }
    return true;
  }
  // The oldest value read is one period before the step after the origin.
  int Lookback() const override { return std::max(period_, 1); }

 private:
  bool weekly_;
  int period_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Seasonal mean: the same time of day averaged over the last D days, a seasonal-naive forecast
// with one day's noise averaged out (periodic jobs that recur daily keep their shape; a
// one-off burst yesterday counts 1/D). D is the same for every origin: as many days (at most
// max_days, at least 2) as the first backtest origin has before it. Written as the value D..1
// days ago plus mean differences, so a constant series stays exactly constant.
class SeasonalMean : public Model {
 public:
  explicit SeasonalMean(int max_days) : max_days_(max_days) {}
  const char* Name() const override { return "seasonal_mean_daily"; }
  bool Fit(const Tail& y, const FitContext& ctx) override {
    period_ = ctx.steps_per_day;
    if (period_ <= 0 || y.empty()) return false;
    const int first = std::min<int>(ctx.holdout_start, static_cast<int>(y.size()) - 1);
    days_ = std::min(max_days_, (first + 1) / period_);
    return days_ >= 2;
  }
  bool Predict(const Tail& y, int o, int h, double* out) const override {
    if (days_ < 2) return false;
    for (int k = 1; k <= h; ++k) {
      const int last = o + k - period_ * ((k + period_ - 1) / period_);  // one period back
      const int oldest = last - (days_ - 1) * period_;
      if (oldest < 0) return false;
      double sum = 0;
      for (int idx = oldest; idx < last; idx += period_) sum += y[idx] - y[last];
      out[k - 1] = y[last] + sum / days_;
    }
    return true;
  }
  int Lookback() const override { return std::max(days_ * period_, 1); }

 private:
  int max_days_;
  int period_ = 0;
  int days_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Additive Holt-Winters with a damped trend, in error-correction form so that a constant
// series stays exactly constant. Parameters minimise the one-step squared error.
class HoltWinters : public Model {
 public:
  const char* Name() const override { return "holt_winters"; }

  bool Fit(const Tail& y, const FitContext& ctx) override {
    const int n = static_cast<int>(y.size());
    m_ = ctx.daily_season;
    if (m_ > 0 && n < 2 * m_ + 2) m_ = 0;
    if (n < 8) return false;
    // Initial states from the first seasons (or the first points without a season).
    const int init_len = m_ > 0 ? m_ : std::min(n, 12);
    level0_ = 0;
    for (int i = 0; i < init_len; ++i) level0_ += y[i];
    level0_ /= init_len;
    trend0_ = 0;
    season0_.assign(m_, 0.0);
    if (m_ > 0) {
      const int seasons = std::min(n / m_, 4);
      for (int s = 0; s < seasons; ++s) {
        double mean = 0;
        for (int j = 0; j < m_; ++j) mean += y[s * m_ + j];
        mean /= m_;
        for (int j = 0; j < m_; ++j) season0_[j] += (y[s * m_ + j] - mean) / seasons;
      }
    }
    // Parameters through logistic transforms: alpha, beta (share of alpha), gamma, phi.
    // Huber loss on the one-step errors (threshold: 3 robust standard deviations of the
    // one-step changes) so that isolated spikes do not choose the parameters.
    {
      std::vector<double> d;
      for (int i = 1; i < n; ++i) d.push_back(std::abs(y[i] - y[i - 1]));
      std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
      huber_ = 3.0 * 1.4826 * d[d.size() / 2];
    }
    std::vector<double> x = {0.0, -2.0, -2.0, 1.5};
    // Parameters come from the history before the backtest window only, so the backtest
    // errors that weigh the ensemble are out of sample for the parameters too.
    const int fit_end = std::max(std::min(n, 2 * m_ + 2 + 8), std::min(n, ctx.holdout_start + 1));
    auto sse = [&](const std::vector<double>& p) {
      SetParams(p);
      return Filter(y, /*store=*/false, fit_end);
    };
    NelderMead(sse, x, 1.0, 120);
    SetParams(x);
    Filter(y, /*store=*/true, n);
    return true;
  }

  bool Predict(const Tail& y, int o, int h, double* out) const override {
    if (o >= static_cast<int>(level_.size()) || o < static_cast<int>(level_.first())) return false;
    const double l = level_[o], b = trend_[o];
    double damp = 0, phik = 1;
    for (int k = 1; k <= h; ++k) {
      phik *= phi_;
      damp += phik;
      double s = 0;
      if (m_ > 0) {
        int idx = o + k - m_ * ((k + m_ - 1) / m_);  // the latest season estimate for that phase
        s = SeasonAt(idx);
      }
      out[k - 1] = l + damp * b + s;
    }
    return true;
  }

  void Extend(const Tail& y) override { Step(y, static_cast<int>(y.size()) - 1); }
  // Predict at the end reads the last level and trend and the last season; Step the same.
  void Compact() override {
    level_.KeepLast(1);
    trend_.KeepLast(1);
    season_.KeepLast(std::max(m_, 1));
    std::vector<double>().swap(season0_);
  }
  int Lookback() const override { return 1; }

 private:
  void SetParams(const std::vector<double>& p) {
    alpha_ = 0.001 + 0.998 * Logistic(p[0]);
    beta_ = alpha_ * 0.5 * Logistic(p[1]);
    gamma_ = 0.001 + 0.998 * Logistic(p[2]) * (1 - alpha_);
    phi_ = 0.8 + 0.18 * Logistic(p[3]);
  }
  double SeasonAt(int idx) const { return m_ > 0 ? season_[idx + m_] : 0.0; }

  // Runs the recursions over all of y; returns the one-step SSE. With store, keeps the states.
  double Filter(const Tail& y, bool store, int n) {
    level_.clear();
    trend_.clear();
    season_.assign(season0_.begin(), season0_.end());
    if (store) {
      level_.reserve(n);
      trend_.reserve(n);
      season_.reserve(n + m_);
    }
    double l = level0_, b = trend0_, sse = 0;
    // Seasonal states for t < 0 live in season_[0..m-1]; season_[t + m] is s_t.
    std::vector<double> ring;  // when not storing, a rolling buffer of the last m seasons
    if (!store) ring = season0_;
    for (int t = 0; t < n; ++t) {
      double s_prev = 0;
      if (m_ > 0) s_prev = store ? season_[t] : ring[t % m_];
      const double pred = l + phi_ * b + s_prev;
      const double e = y[t] - pred;
      if (t > 0) {
        const double a = std::abs(e);
        sse += (huber_ <= 0 || a <= huber_) ? e * e : huber_ * (2 * a - huber_);
      }
      const double l_new = l + phi_ * b + alpha_ * e;
      b = phi_ * b + beta_ * e;
      l = l_new;
      if (m_ > 0) {
        const double s_new = s_prev + gamma_ * e;
        if (store) {
          season_.push_back(s_new);
        } else {
          ring[t % m_] = s_new;
        }
      }
      if (store) {
        level_.push_back(l);
        trend_.push_back(b);
      }
      if (!std::isfinite(sse)) return std::numeric_limits<double>::max();
    }
    return sse;
  }

  void Step(const Tail& y, int t) {
    const double l = level_.back(), b = trend_.back();
    const double s_prev = m_ > 0 ? season_[t] : 0.0;
    const double e = y[t] - (l + phi_ * b + s_prev);
    level_.push_back(l + phi_ * b + alpha_ * e);
    trend_.push_back(phi_ * b + beta_ * e);
    if (m_ > 0) season_.push_back(s_prev + gamma_ * e);
  }

  int m_ = 0;
  double huber_ = 0;
  double alpha_ = 0.5, beta_ = 0.05, gamma_ = 0.1, phi_ = 0.95;
  double level0_ = 0, trend0_ = 0;
  std::vector<double> season0_;
  Tail level_, trend_, season_;  // level_[t], trend_[t] after y[t]; season_[t + m_] is s_t
};

// ---------------------------------------------------------------------------------------------
// ARIMA(p,d,q) with a constant on the (optionally daily-seasonally) differenced series, fitted
// by conditional sum of squares over the recent history; the order minimises AIC.
class Arima : public Model {
 public:
  const char* Name() const override { return "arima"; }

  bool Fit(const Tail& y, const FitContext& ctx) override {
    const int n = static_cast<int>(y.size());
    D_ = ctx.daily_season;
    // Enough history for two seasonal differences plus a day of backtest origins.
    begin_ = std::max(0, n - std::max(ctx.arima_history_steps, 4 * D_ + 4 * ctx.horizon + 64));
    if (D_ > 0 && n - begin_ < 2 * D_ + 50) D_ = 0;
    if (n - begin_ < 30) return false;
    double best_aic = std::numeric_limits<double>::infinity();
    Order best;
    // Orders and coefficients come from the history before the backtest window only.
    fit_end_ = std::max(std::min(n, begin_ + 2 * D_ + 50), std::min(n, ctx.holdout_start + 1));
    for (int d = 0; d <= 1; ++d) {
      if (D_ == 0 && d == 0) continue;  // without a seasonal difference, always difference once
      for (int p = 0; p <= 2; ++p) {
        for (int q = 0; q <= 1; ++q) {
          Order o{p, d, q};
          FitOrder(y, &o);
          if (o.aic < best_aic) {
            best_aic = o.aic;
            best = o;
          }
        }
      }
    }
    order_ = best;
    fit_end_ = n;
    Residuals(y, order_, /*store=*/true);
    return true;
  }

  bool Predict(const Tail& y, int o, int h, double* out) const override {
    const int p = order_.p, d = order_.d, q = order_.q;
    const int lookback = D_ + d + p + q + 2;
    const int first = o - lookback + 1;
    if (first < begin_ + D_ + d || o >= static_cast<int>(e_.size())) return false;
    const int len = lookback + h;
    std::vector<double> buf_y_(len, 0), buf_z_(len, 0), buf_w_(len, 0), buf_e_(len, 0);
    for (int i = 0; i < lookback; ++i) {
      const int t = first + i;
      buf_y_[i] = y[t];
      buf_z_[i] = D_ > 0 ? y[t] - y[t - D_] : y[t];
      buf_w_[i] = d > 0 ? buf_z_[i] - (D_ > 0 ? y[t - 1] - y[t - 1 - D_] : y[t - 1]) : buf_z_[i];
      // Only the last q innovations are read below (the rest stay 0, unused).
      if (t > o - q) buf_e_[i] = e_[t];
    }
    for (int k = 0; k < h; ++k) {
      const int i = lookback + k;
      double w = order_.c;
      for (int j = 0; j < p; ++j) w += order_.phi[j] * buf_w_[i - 1 - j];
      for (int j = 0; j < q; ++j) w += order_.theta[j] * buf_e_[i - 1 - j];
      buf_w_[i] = w;
      buf_z_[i] = d > 0 ? buf_z_[i - 1] + w : w;
      buf_y_[i] = D_ > 0 ? buf_y_[i - D_] + buf_z_[i] : buf_z_[i];
      out[k] = buf_y_[i];
    }
    return true;
  }

  void Extend(const Tail& y) override {
    const int t = static_cast<int>(y.size()) - 1;
    e_.push_back(0);
    w_.push_back(W(y, t, order_.d));
    if (t >= begin_ + D_ + order_.d + std::max(order_.p, order_.q)) e_[t] = Innovation(t, order_);
  }
  // Extend reads the last p values of w and q of e, Predict the last q of e.
  void Compact() override {
    const size_t keep = std::max(order_.p, order_.q) + 1;
    w_.KeepLast(keep);
    e_.KeepLast(keep);
  }
  // Predict reads y back to the lookback window's first differences, seasonal lag included.
  int Lookback() const override { return 2 * D_ + order_.d + order_.p + order_.q + 3; }

 private:
  struct Order {
    int p = 0, d = 1, q = 0;
    double c = 0;
    std::vector<double> phi, theta;
    double aic = std::numeric_limits<double>::infinity();
  };

  double W(const Tail& y, int t, int d) const {
    auto z = [&](int i) { return D_ > 0 ? y[i] - y[i - D_] : y[i]; };
    if (t < begin_ + D_ + d) return 0;
    return d > 0 ? z(t) - z(t - 1) : z(t);
  }
  double Innovation(int t, const Order& o) const {
    double pred = o.c;
    for (int j = 0; j < o.p; ++j) pred += o.phi[j] * w_[t - 1 - j];
    for (int j = 0; j < o.q; ++j) pred += o.theta[j] * e_[t - 1 - j];
    return w_[t] - pred;
  }
  // Computes w_ and e_ over the fit window; returns the conditional sum of squares.
  double Residuals(const Tail& y, const Order& o, bool store) {
    const int n = static_cast<int>(y.size());
    const int end = fit_end_;
    if (store || static_cast<int>(w_.size()) != n || w_d_ != o.d) FillW(y, o.d);
    e_.assign(n, 0);
    const int t0 = begin_ + D_ + o.d + std::max(o.p, o.q);
    double css = 0;
    for (int t = t0; t < end; ++t) {
      e_[t] = Innovation(t, o);
      css += e_[t] * e_[t];
    }
    return css;
  }
  void FillW(const Tail& y, int d) {
    const int n = static_cast<int>(y.size());
    w_.assign(n, 0);
    for (int t = 0; t < n; ++t) w_[t] = W(y, t, d);
    w_d_ = d;
  }
  void FitOrder(const Tail& y, Order* o) {
    const int n = static_cast<int>(y.size());
    if (static_cast<int>(w_.size()) != n || w_d_ != o->d) FillW(y, o->d);
    const int t0 = begin_ + D_ + o->d + std::max(o->p, o->q);
    const int m = fit_end_ - t0;
    if (m < 10 + o->p + o->q) return;
    // Start from the least-squares AR fit (Eigen), then refine with MA terms by Nelder-Mead.
    Eigen::MatrixXd X(m, 1 + o->p);
    Eigen::VectorXd target(m);
    for (int t = t0; t < fit_end_; ++t) {
      X(t - t0, 0) = 1.0;
      for (int j = 0; j < o->p; ++j) X(t - t0, 1 + j) = w_[t - 1 - j];
      target(t - t0) = w_[t];
    }
    Eigen::VectorXd beta = X.colPivHouseholderQr().solve(target);
    o->c = beta(0);
    o->phi.assign(o->p, 0);
    for (int j = 0; j < o->p; ++j) o->phi[j] = std::clamp(beta(1 + j), -0.99, 0.99);
    o->theta.assign(o->q, 0);
    double css;
    if (o->q > 0) {
      std::vector<double> x = {o->c};
      for (double v : o->phi) x.push_back(v);
      x.push_back(0.0);  // atanh(theta)
      auto f = [&](const std::vector<double>& v) {
        Order t = *o;
        t.c = v[0];
        for (int j = 0; j < t.p; ++j) t.phi[j] = v[1 + j];
        t.theta[0] = 0.98 * std::tanh(v[1 + t.p]);
        double pen = 0;
        for (double ph : t.phi) pen += std::max(0.0, std::abs(ph) - 0.99) * 1e6;
        return Residuals(y, t, false) * (1 + pen);
      };
      NelderMead(f, x, 0.1, 40 + 10 * o->p);
      o->c = x[0];
      for (int j = 0; j < o->p; ++j) o->phi[j] = x[1 + j];
      o->theta[0] = 0.98 * std::tanh(x[1 + o->p]);
    }
    css = Residuals(y, *o, false);
    double var = 0;
    for (int t = t0; t < fit_end_; ++t) var += w_[t] * w_[t];
    const double sigma2 = std::max(css / m, 1e-12 * (1 + var / m));
    o->aic = m * std::log(sigma2) + 2.0 * (1 + o->p + o->q);
  }

  int D_ = 0, begin_ = 0, w_d_ = -1, fit_end_ = 0;
  Order order_;
  Tail w_, e_;
};

}  // namespace

double NelderMead(const std::function<double(const std::vector<double>&)>& f,
                  std::vector<double>& x, double initial_step, int max_evals) {
  const int d = static_cast<int>(x.size());
  std::vector<std::vector<double>> pts(d + 1, x);
  std::vector<double> val(d + 1);
  for (int i = 0; i < d; ++i) pts[i + 1][i] += initial_step;
  int evals = 0;
  auto eval = [&](const std::vector<double>& p) {
    ++evals;
    const double v = f(p);
    return std::isfinite(v) ? v : std::numeric_limits<double>::max();
  };
  for (int i = 0; i <= d; ++i) val[i] = eval(pts[i]);
  std::vector<int> idx(d + 1);
  while (evals < max_evals) {
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](int a, int b) { return val[a] < val[b]; });
    const int best = idx[0], worst = idx[d], second = idx[d - 1];
    if (std::abs(val[worst] - val[best]) <= 1e-10 * (std::abs(val[best]) + 1e-12)) break;
    std::vector<double> c(d, 0.0);
    for (int i = 0; i <= d; ++i) {
      if (i == worst) continue;
      for (int j = 0; j < d; ++j) c[j] += pts[i][j] / d;
    }
    auto along = [&](double t) {
      std::vector<double> p(d);
      for (int j = 0; j < d; ++j) p[j] = c[j] + t * (pts[worst][j] - c[j]);
      return p;
    };
    std::vector<double> r = along(-1.0);
    const double fr = eval(r);
    if (fr < val[best]) {
      std::vector<double> e = along(-2.0);
      const double fe = eval(e);
      if (fe < fr) {
        pts[worst] = e;
        val[worst] = fe;
      } else {
        pts[worst] = r;
        val[worst] = fr;
      }
    } else if (fr < val[second]) {
      pts[worst] = r;
      val[worst] = fr;
    } else {
      std::vector<double> k = along(fr < val[worst] ? -0.5 : 0.5);
      const double fk = eval(k);
      if (fk < std::min(fr, val[worst])) {
        pts[worst] = k;
        val[worst] = fk;
      } else {
        for (int i = 0; i <= d; ++i) {
          if (i == best) continue;
          for (int j = 0; j < d; ++j) pts[i][j] = pts[best][j] + 0.5 * (pts[i][j] - pts[best][j]);
          val[i] = eval(pts[i]);
        }
      }
    }
  }
  int b = 0;
  for (int i = 1; i <= d; ++i) {
    if (val[i] < val[b]) b = i;
  }
  x = pts[b];
  return val[b];
}

std::unique_ptr<Model> NewPersistence() { return std::make_unique<Persistence>(); }
std::unique_ptr<Model> NewSeasonalNaive(bool weekly) {
  return std::make_unique<SeasonalNaive>(weekly);
}
std::unique_ptr<Model> NewSeasonalMean(int max_days) {
  return std::make_unique<SeasonalMean>(max_days);
}
std::unique_ptr<Model> NewHoltWinters() { return std::make_unique<HoltWinters>(); }
std::unique_ptr<Model> NewArima() { return std::make_unique<Arima>(); }

}  // namespace internal
}  // namespace predictor
