// A small thread-safe Prometheus metrics registry (counters, gauges, histograms) that renders
// the text exposition format 0.0.4. No dependency beyond Abseil and glog; serve it over HTTP
// with base::MetricsHandler (base/http_server.h).
//
//   base::metrics::Counter* requests = base::metrics::DefaultRegistry().GetCounter(
//       "app_requests_total", "Requests served.", {{"code", "200"}});
//   requests->Increment();
//   std::string text = base::metrics::DefaultRegistry().ExpositionText();
//
// Metric objects are owned by their Registry and live as long as it does, so callers look a
// series up once and keep the pointer. Every class here is safe for concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace base::metrics {

using Labels = std::map<std::string, std::string>;

// A value that only goes up (resets only with the process). Thread-safe.
class Counter {
 public:
  // Adds `v`. Negative or NaN increments are ignored (a counter never decreases).
  void Increment(double v = 1);
  double value() const;

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down. Thread-safe.
class Gauge {
 public:
  void Set(double v);
  void Add(double v);
  double value() const;

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed buckets (upper bounds inclusive, as Prometheus' `le`) and
// keeps their sum. Thread-safe; a scrape sees a consistent count, sum and buckets.
class Histogram {
 public:
  // `upper_bounds` strictly increasing and finite (+Inf is implicit). Use Registry::GetHistogram.
  explicit Histogram(std::vector<double> upper_bounds);

  // Counts `v` in the first bucket whose bound is >= v (NaN lands in +Inf only).
  void Observe(double v);
  uint64_t count() const;
  double sum() const;

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per upper bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::vector<uint64_t> buckets_ ABSL_GUARDED_BY(mu_);  // non-cumulative; last is +Inf
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  double sum_ ABSL_GUARDED_BY(mu_) = 0;
};

// A set of metric families. Thread-safe; Get* may be called at any time from any thread.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Same name+labels -> same object; pointers stay valid for the Registry's lifetime. A name
  // registered as another type, or an invalid metric/label name, is a programming error (CHECK).
  // The help text of the first registration of a name is kept. Label names must match
  // [a-zA-Z_][a-zA-Z0-9_]* and not start with "__"; metric names [a-zA-Z_:][a-zA-Z0-9_:]*.
  Counter* GetCounter(absl::string_view name, absl::string_view help, const Labels& labels = {});
  Gauge* GetGauge(absl::string_view name, absl::string_view help, const Labels& labels = {});
  // `upper_bounds` must be finite and strictly increasing (a trailing +Inf is dropped), must
  // not use the label "le", and must be the same for every series of a family (CHECK).
  Histogram* GetHistogram(absl::string_view name, absl::string_view help,
                          std::vector<double> upper_bounds, const Labels& labels = {});

  // Families sorted by name, series by labels; # HELP / # TYPE lines; label values escaped;
  // histograms as _bucket{le=...} (cumulative, +Inf), _sum, _count; NaN/Inf as Prometheus writes
  // them.
  std::string ExpositionText() const;

 private:
  struct Family;
  Family* GetFamily(absl::string_view name, absl::string_view help, int type, const Labels& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

// Process-wide registry (never destroyed).
Registry& DefaultRegistry();

// Default latency buckets in seconds (.0005 ... 10).
std::vector<double> LatencyBuckets();

// Gauges rendered on demand rather than registered: per-object values that appear and vanish
// with their objects (a registered series would stay forever). Labels keep the given order.
struct GaugeSample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};
// "# HELP" and "# TYPE <name> gauge" lines, then one escaped line per sample.
std::string GaugeFamilyText(absl::string_view name, absl::string_view help,
                            const std::vector<GaugeSample>& samples);

// A sample value as Prometheus' Go client writes it: shortest round-trip digits, exponent form
// below 1e-4 and from 1e+06 ("1e+06", "0.0005", "2.5"), and "NaN", "+Inf", "-Inf".
std::string FormatValue(double v);

}  // namespace base::metrics
