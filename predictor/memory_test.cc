// Memory of a fitted ensemble, and forecasts with and without the compaction after Fit
// (Options::compact_after_fit) on the bundled traces: they must be identical bit for bit.
#include <malloc.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/trace_csv.h"
#include "gtest/gtest.h"
#include "predictor/forecaster.h"
#include "predictor/synthetic.h"
#include "predictor/series.h"

namespace predictor {
namespace {

constexpr int kWeek = 7 * 288;
constexpr int kHorizon = 12;
// The bound the memory test enforces (bytes per fitted ensemble, heap in use).
constexpr double kMaxBytesPerEnsemble = 64 * 1024;  // measured 20-31 KB (2026-11-27)

const char* const kTraces[] = {
    "data/traces/nab/ec2_cpu_utilization_5f5533.csv",
    "data/traces/nab/rds_cpu_utilization_cc0c53.csv",
    "data/traces/cluster/google2019_cpu_300s.csv",
};

Series Load(const std::string& path) {
  absl::StatusOr<std::vector<base::Point>> points = base::ReadTraceCsv(path);
  EXPECT_TRUE(points.ok()) << points.status();
  std::vector<Sample> samples;
  if (points.ok()) {
    for (const base::Point& p : *points) samples.push_back({p.time, p.value});
  }
  absl::StatusOr<Series> s = Regularize(samples);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Series{};
}

// values[begin, begin + len) as a series of its own.
Series Window(const Series& s, int begin, int len) {
  Series w;
  w.start = s.TimeAt(begin);
  w.step = s.step;
  w.values.assign(s.values.begin() + begin, s.values.begin() + begin + len);
  w.gap.assign(len, 0);
  return w;
}

size_t HeapInUse() { return mallinfo2().uordblks; }

// Bytes in use per fitted ensemble: `count` ensembles on 7-day windows of `s` (one hour
// apart), each then appended `appends` new points and forecast (as the reconciler does
// between refits).
double BytesPerEnsemble(const Series& s, bool compact, int count, int appends) {
  Options options;
  options.compact_after_fit = compact;
  std::vector<std::unique_ptr<Forecaster>> fs;
  fs.reserve(count);
  const size_t before = HeapInUse();
  for (int i = 0; i < count; ++i) {
    const int begin = (i * 12) % (s.size() - kWeek - appends);
    auto f = NewEnsemble(options);
    {
      const Series w = Window(s, begin, kWeek);
      EXPECT_TRUE(f->Fit(w, kHorizon).ok());
    }
    for (int a = 0; a < appends; ++a) {
      EXPECT_TRUE(f->Append(s.values[begin + kWeek + a]).ok());
      EXPECT_EQ(f->Forecast(kHorizon).size(), kHorizon);
    }
    fs.push_back(std::move(f));
  }
  const size_t after = HeapInUse();
  return (static_cast<double>(after) - static_cast<double>(before)) / count;
}

// Writes every value (hex floats) to $PREDICTOR_FORECAST_DUMP when set, to compare builds.
class Dump {
 public:
  Dump() {
    const char* path = std::getenv("PREDICTOR_FORECAST_DUMP");
    if (path != nullptr) out_.open(path);
  }
  void Line(const std::string& label, const Forecaster& f) {
    if (!out_.is_open()) return;
    const Band b = f.Forecast(kHorizon);
    out_ << label;
    char buf[64];
    for (const std::vector<double>* v : {&b.p10, &b.p50, &b.p90}) {
      for (double x : *v) {
        std::snprintf(buf, sizeof buf, " %a", x);
        out_ << buf;
      }
    }
    std::snprintf(buf, sizeof buf, " c=%a", f.Confidence());
    out_ << buf;
    for (const auto& [name, w] : EnsembleWeights(f)) {
      std::snprintf(buf, sizeof buf, " %s=%a", name.c_str(), w);
      out_ << buf;
    }
    out_ << "\n";
  }

 private:
  std::ofstream out_;
};

void ExpectSame(const Forecaster& a, const Forecaster& b, const std::string& label) {
  for (int h : {kHorizon, 5, 1}) {
    const Band x = a.Forecast(h), y = b.Forecast(h);
    ASSERT_EQ(x.size(), y.size()) << label;
    for (int k = 0; k < x.size(); ++k) {
      // Bit for bit (no NaN can occur: EXPECT_EQ is exact).
      EXPECT_EQ(x.p10[k], y.p10[k]) << label << " h=" << h << " step " << k + 1;
      EXPECT_EQ(x.p50[k], y.p50[k]) << label << " h=" << h << " step " << k + 1;
      EXPECT_EQ(x.p90[k], y.p90[k]) << label << " h=" << h << " step " << k + 1;
    }
  }
  EXPECT_EQ(a.Confidence(), b.Confidence()) << label;
  EXPECT_EQ(EnsembleWeights(a), EnsembleWeights(b)) << label;
}

TEST(MemoryTest, CompactionLeavesForecastsIdenticalOnBundledTraces) {
  Dump dump;
  std::vector<ModelKind> kinds = AllModels();
  kinds.push_back(ModelKind::kEnsemble);
  Options compact, full;
  full.compact_after_fit = false;
  for (const char* path : kTraces) {
    const Series s = Load(path);
    ASSERT_GT(s.size(), kWeek + 3 * 288 + 48) << path;
    for (int len : {kWeek, 5 * 288, 3 * 288}) {
      for (int back : {48, 3 * 288 + 48}) {
        const int begin = s.size() - back - len;
        const Series w = Window(s, begin, len);
        for (ModelKind kind : kinds) {
          if (len == 3 * 288 && kind != ModelKind::kEnsemble) continue;
          const std::string label = std::string(path) + " begin=" + std::to_string(begin) +
                                    " len=" + std::to_string(len) + " " + ModelName(kind);
          auto a = NewForecaster(kind, full);
          auto b = NewForecaster(kind, compact);
          ASSERT_TRUE(a->Fit(w, kHorizon).ok()) << label;
          ASSERT_TRUE(b->Fit(w, kHorizon).ok()) << label;
          ExpectSame(*a, *b, label);
          dump.Line(label, *b);
          // Appends (more than a horizon, past the end of every fitted state).
          for (int i = 0; i < 30; ++i) {
            const double v = s.values[begin + len + i];
            ASSERT_TRUE(a->Append(v).ok());
            ASSERT_TRUE(b->Append(v).ok());
            ExpectSame(*a, *b, label + " +" + std::to_string(i + 1));
          }
          dump.Line(label + " +30", *b);
        }
      }
    }
  }
}

TEST(MemoryTest, FittedEnsembleIsSmall) {
  std::vector<std::pair<std::string, Series>> inputs;
  for (const char* path : kTraces) inputs.push_back({path, Load(path)});
  inputs.push_back({"synthetic daily cycle", SyntheticLoad(kWeek + 2000)});
  for (const auto& [name, s] : inputs) {
    ASSERT_GT(s.size(), kWeek + 100);
    const bool first = &name == &inputs.front().first;
    const double full = first ? BytesPerEnsemble(s, /*compact=*/false, 100, 0) : 0;
    const double fitted = BytesPerEnsemble(s, /*compact=*/true, 100, 0);
    const double appended = BytesPerEnsemble(s, /*compact=*/true, 100, 12);
    // Members with weight in the last window's fit, for the record.
    auto f = NewEnsemble();
    ASSERT_TRUE(f->Fit(Window(s, (99 * 12) % (s.size() - kWeek - 12), kWeek), kHorizon).ok());
    std::string members;
    for (const auto& [member, w] : EnsembleWeights(*f)) {
      if (w > 0) members += " " + member;
    }
    std::printf(
        "bytes per fitted ensemble (7 days, 5 min, h=12, %s): %s%.0f compacted, "
        "%.0f compacted + 12 appends; weighted members of one:%s\n",
        name.c_str(), first ? ("uncompacted " + std::to_string(full) + ", ").c_str() : "", fitted,
        appended, members.c_str());
    if (first) {
      RecordProperty("bytes_uncompacted", static_cast<int>(full));
      RecordProperty("bytes_compacted", static_cast<int>(fitted));
      RecordProperty("bytes_compacted_12_appends", static_cast<int>(appended));
    }
    EXPECT_LT(fitted, kMaxBytesPerEnsemble) << name;
    EXPECT_LT(appended, kMaxBytesPerEnsemble) << name;
  }
}

}  // namespace
}  // namespace predictor
