#include "base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace base::metrics {
namespace {

enum Type { kCounter = 0, kGauge = 1, kHistogram = 2 };
constexpr const char* kTypeNames[] = {"counter", "gauge", "histogram"};

// std::atomic<double>::fetch_add is C++20; a compare-exchange loop does the same.
void AtomicAdd(std::atomic<double>* a, double v) {
  double old = a->load(std::memory_order_relaxed);
  while (!a->compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

bool ValidMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok =
        absl::ascii_isalpha(c) || c == '_' || c == ':' || (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

bool ValidLabelName(absl::string_view name) {
  if (name.empty() || (name.size() >= 2 && name[0] == '_' && name[1] == '_')) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!(absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c)))) return false;
  }
  return true;
}

// HELP text: backslash and newline escaped. Label values additionally escape '"'.
void AppendEscaped(std::string* out, absl::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (quote && c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// name{k="v",...,extra_name="extra_value"} value\n
void AppendSample(std::string* out, absl::string_view name, absl::string_view suffix,
                  const Labels& labels, absl::string_view extra_name, absl::string_view extra_value,
                  absl::string_view value) {
  absl::StrAppend(out, name, suffix);
  if (!labels.empty() || !extra_name.empty()) {
    out->push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out->push_back(',');
      first = false;
      absl::StrAppend(out, k, "=\"");
      AppendEscaped(out, v, /*quote=*/true);
      out->push_back('"');
    }
    if (!extra_name.empty()) {
      if (!first) out->push_back(',');
      absl::StrAppend(out, extra_name, "=\"");
      AppendEscaped(out, extra_value, /*quote=*/true);
      out->push_back('"');
    }
    out->push_back('}');
  }
  absl::StrAppend(out, " ", value, "\n");
}

}  // namespace

std::string GaugeFamilyText(absl::string_view name, absl::string_view help,
                            const std::vector<GaugeSample>& samples) {
  std::string out = absl::StrCat("# HELP ", name, " ");
  AppendEscaped(&out, help, /*quote=*/false);
  absl::StrAppend(&out, "\n# TYPE ", name, " gauge\n");
  for (const GaugeSample& s : samples) {
    out.append(name.data(), name.size());
    if (!s.labels.empty()) {
      out.push_back('{');
      for (size_t i = 0; i < s.labels.size(); ++i) {
        if (i > 0) out.push_back(',');
        absl::StrAppend(&out, s.labels[i].first, "=\"");
        AppendEscaped(&out, s.labels[i].second, /*quote=*/true);
        out.push_back('"');
      }
      out.push_back('}');
    }
    absl::StrAppend(&out, " ", FormatValue(s.value), "\n");
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest round-trip digits in scientific form ("-1.2345e+06"), then laid out like Go's
  // strconv.FormatFloat(v, 'g', -1, 64), which the Prometheus client libraries use.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  CHECK(ec == std::errc());
  std::string sci(buf, end);
  std::string out;
  size_t pos = 0;
  if (sci[0] == '-') {
    out.push_back('-');
    pos = 1;
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t i = pos; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const int exp = std::atoi(sci.c_str() + e + 1);
  const int nd = static_cast<int>(digits.size());
  if (exp < -4 || exp >= 6) {  // Go's shortest %g switches to %e at these exponents
    out.push_back(digits[0]);
    if (nd > 1) absl::StrAppend(&out, ".", digits.substr(1));
    out.push_back('e');
    out.push_back(exp < 0 ? '-' : '+');
    const int a = std::abs(exp);
    if (a < 10) out.push_back('0');
    absl::StrAppend(&out, a);
    return out;
  }
  if (exp < 0) {
    absl::StrAppend(&out, "0.", std::string(-exp - 1, '0'), digits);
    return out;
  }
  if (nd <= exp + 1) {
    absl::StrAppend(&out, digits, std::string(exp + 1 - nd, '0'));
  } else {
    absl::StrAppend(&out, digits.substr(0, exp + 1), ".", digits.substr(exp + 1));
  }
  return out;
}

void Counter::Increment(double v) {
  if (!(v >= 0)) return;
  AtomicAdd(&value_, v);
}
double Counter::value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::Set(double v) { value_.store(v, std::memory_order_relaxed); }
void Gauge::Add(double v) { AtomicAdd(&value_, v); }
double Gauge::value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  // lower_bound: the first bound >= v, so a value equal to a bound counts in that bucket.
  // NaN compares false with everything, which lands it past the end (+Inf).
  size_t i = std::isnan(v) ? bounds_.size()
                           : std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  absl::MutexLock lock(&mu_);
  ++buckets_[i];
  ++count_;
  sum_ += v;
}

uint64_t Histogram::count() const {
  absl::MutexLock lock(&mu_);
  return count_;
}

double Histogram::sum() const {
  absl::MutexLock lock(&mu_);
  return sum_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  absl::MutexLock lock(&mu_);
  s.cumulative.reserve(buckets_.size());
  uint64_t running = 0;
  for (uint64_t b : buckets_) {
    running += b;
    s.cumulative.push_back(running);
  }
  s.count = count_;
  s.sum = sum_;
  return s;
}

struct Registry::Family {
  std::string name;
  std::string help;
  int type;
  std::vector<double> bounds;  // histograms
  std::map<Labels, std::unique_ptr<Counter>> counters;
  std::map<Labels, std::unique_ptr<Gauge>> gauges;
  std::map<Labels, std::unique_ptr<Histogram>> histograms;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family* Registry::GetFamily(absl::string_view name, absl::string_view help, int type,
                                      const Labels& labels) {
  CHECK(ValidMetricName(name)) << "invalid metric name '" << name << "'";
  for (const auto& [k, v] : labels) {
    CHECK(ValidLabelName(k)) << "invalid label name '" << k << "' for metric " << name;
    CHECK(type != kHistogram || k != "le") << "histogram " << name << " may not use label 'le'";
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<Family>();
    family->name = std::string(name);
    family->help = std::string(help);
    family->type = type;
    it = families_.emplace(family->name, std::move(family)).first;
  }
  CHECK_EQ(it->second->type, type)
      << "metric " << name << " registered as " << kTypeNames[it->second->type] << " and as "
      << kTypeNames[type];
  return it->second.get();
}

Counter* Registry::GetCounter(absl::string_view name, absl::string_view help,
                              const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family* f = GetFamily(name, help, kCounter, labels);
  std::unique_ptr<Counter>& c = f->counters[labels];
  if (c == nullptr) c = std::make_unique<Counter>();
  return c.get();
}

Gauge* Registry::GetGauge(absl::string_view name, absl::string_view help, const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family* f = GetFamily(name, help, kGauge, labels);
  std::unique_ptr<Gauge>& g = f->gauges[labels];
  if (g == nullptr) g = std::make_unique<Gauge>();
  return g.get();
}

Histogram* Registry::GetHistogram(absl::string_view name, absl::string_view help,
                                  std::vector<double> upper_bounds, const Labels& labels) {
  if (!upper_bounds.empty() && std::isinf(upper_bounds.back()) && upper_bounds.back() > 0) {
    upper_bounds.pop_back();
  }
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    CHECK(std::isfinite(upper_bounds[i]))
        << "histogram " << name << ": bucket bounds must be finite";
    CHECK(i == 0 || upper_bounds[i - 1] < upper_bounds[i])
        << "histogram " << name << ": bucket bounds must be strictly increasing";
  }
  absl::MutexLock lock(&mu_);
  Family* f = GetFamily(name, help, kHistogram, labels);
  if (f->histograms.empty()) {
    f->bounds = upper_bounds;
  } else {
    CHECK(f->bounds == upper_bounds) << "histogram " << name << " registered with other buckets";
  }
  std::unique_ptr<Histogram>& h = f->histograms[labels];
  if (h == nullptr) h = std::make_unique<Histogram>(std::move(upper_bounds));
  return h.get();
}

std::string Registry::ExpositionText() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, f] : families_) {
    out += "# HELP ";
    out += name;
    out.push_back(' ');
    AppendEscaped(&out, f->help, /*quote=*/false);
    absl::StrAppend(&out, "\n# TYPE ", name, " ", kTypeNames[f->type], "\n");
    switch (f->type) {
      case kCounter:
        for (const auto& [labels, c] : f->counters) {
          AppendSample(&out, name, "", labels, "", "", FormatValue(c->value()));
        }
        break;
      case kGauge:
        for (const auto& [labels, g] : f->gauges) {
          AppendSample(&out, name, "", labels, "", "", FormatValue(g->value()));
        }
        break;
      case kHistogram:
        for (const auto& [labels, h] : f->histograms) {
          const Histogram::Snapshot s = h->snapshot();
          for (size_t i = 0; i < f->bounds.size(); ++i) {
            AppendSample(&out, name, "_bucket", labels, "le", FormatValue(f->bounds[i]),
                         absl::StrCat(s.cumulative[i]));
          }
          AppendSample(&out, name, "_bucket", labels, "le", "+Inf", absl::StrCat(s.count));
          AppendSample(&out, name, "_sum", labels, "", "", FormatValue(s.sum));
          AppendSample(&out, name, "_count", labels, "", "", absl::StrCat(s.count));
        }
        break;
    }
  }
  return out;
}

Registry& DefaultRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace base::metrics
