// Children of a labelled prometheus-cpp family, created on first use and then kept: the hot
// path reads one atomic pointer by a small integer index instead of hashing a label map under
// the family's mutex.
//
//   base::MetricChildren<prometheus::Counter> by_code(&requests_family, kCodes);
//   by_code.Get(i, [&] { return prometheus::Labels{{"code", kCodeNames[i]}}; }).Increment();
//   base::LatencyBuckets()  // request-duration histogram buckets, in seconds
//
// Thread-safe. Two threads that race on the first use of an index both call Family::Add with the
// same labels, which returns the same child, so nothing is counted twice or lost.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

#include "glog/logging.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/labels.h"

namespace base {

template <class Metric>
class MetricChildren {
 public:
  MetricChildren(prometheus::Family<Metric>* family, size_t size)
      : family_(family), size_(size), slots_(new std::atomic<Metric*>[size]) {
    for (size_t i = 0; i < size; ++i) slots_[i].store(nullptr, std::memory_order_relaxed);
  }

  // The child at `index` (< size); the first call for an index creates it with labels()
  // and `args` (e.g. a histogram's bucket boundaries).
  template <class LabelsFn, class... Args>
  Metric& Get(size_t index, const LabelsFn& labels, Args&&... args) {
    CHECK_LT(index, size_);
    Metric* m = slots_[index].load(std::memory_order_acquire);
    if (m == nullptr) {
      m = &family_->Add(labels(), std::forward<Args>(args)...);
      slots_[index].store(m, std::memory_order_release);
    }
    return *m;
  }

  prometheus::Family<Metric>* family() const { return family_; }

 private:
  prometheus::Family<Metric>* family_;
  size_t size_;
  std::unique_ptr<std::atomic<Metric*>[]> slots_;
};

}  // namespace base

namespace base {

// Latency buckets in seconds (.0005 ... 10) for request-duration histograms.
inline prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace base
