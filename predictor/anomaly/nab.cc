#include "predictor/anomaly/nab.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace predictor::anomaly {
namespace {

struct Bounds {
  int left = 0;
  int right = 0;
};

absl::Status CheckFile(const NabFile& file) {
  if (file.times.size() != file.scores.size()) {
    return absl::InvalidArgumentError(absl::StrCat(file.name, ": ", file.times.size(),
                                                   " timestamps but ", file.scores.size(),
                                                   " scores"));
  }
  for (size_t i = 1; i < file.times.size(); ++i) {
    if (file.times[i] <= file.times[i - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.name, ": row ", i, " is not after the row before it"));
    }
  }
  return absl::OkStatus();
}

int IndexOf(const std::vector<absl::Time>& times, absl::Time t) {
  auto it = std::lower_bound(times.begin(), times.end(), t);
  if (it == times.end() || *it != t) return -1;
  return static_cast<int>(it - times.begin());
}

absl::StatusOr<std::vector<Bounds>> WindowBounds(const NabFile& file) {
  std::vector<Bounds> out;
  for (const LabelWindow& w : file.windows) {
    Bounds b{IndexOf(file.times, w.start), IndexOf(file.times, w.end)};
    if (b.left < 0 || b.right < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          file.name, ": window ", absl::FormatTime(w.start), " - ", absl::FormatTime(w.end),
          " does not start and end on rows of the file"));
    }
    if (b.right < b.left || (!out.empty() && b.left <= out.back().right)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file.name, ": windows must be ordered and not overlap"));
    }
    out.push_back(b);
  }
  return out;
}

// Per-window best detection, false-positive sum and counts for one threshold.
struct Tally {
  std::vector<double> best;  // -fn_weight until detected; NaN for unscored windows
  double fp = 0;
  int fp_count = 0;
};

Tally Count(const std::vector<SweptRow>& rows, int num_windows, const CostMatrix& costs,
            double threshold) {
  Tally t;
  t.best.assign(num_windows, std::nan(""));
  for (const SweptRow& r : rows) {
    if (!r.probationary && r.window >= 0 && std::isnan(t.best[r.window])) {
      t.best[r.window] = -costs.fn_weight;
    }
  }
  for (const SweptRow& r : rows) {
    if (r.probationary || r.anomaly_score < threshold) continue;
    if (r.window >= 0) {
      t.best[r.window] = std::max(t.best[r.window], r.sweep_score);
    } else {
      t.fp += r.sweep_score;
      ++t.fp_count;
    }
  }
  return t;
}

}  // namespace

std::vector<NabProfile> NabProfiles() {
  return {{"standard", {1.0, 0.11, 1.0}},
          {"reward_low_FP_rate", {1.0, 0.22, 1.0}},
          {"reward_low_FN_rate", {1.0, 0.11, 2.0}}};
}

double ScaledSigmoid(double relative_position) {
  if (relative_position >= 3.0) return -1.0;
  return 2.0 / (1.0 + std::exp(5.0 * relative_position)) - 1.0;
}

absl::StatusOr<std::vector<SweptRow>> SweepFile(const NabFile& file, const CostMatrix& costs,
                                                double probation_percent) {
  if (absl::Status s = CheckFile(file); !s.ok()) return s;
  absl::StatusOr<std::vector<Bounds>> bounds = WindowBounds(file);
  if (!bounds.ok()) return bounds.status();
  const int n = static_cast<int>(file.times.size());
  const double probation =
      std::min(std::floor(probation_percent * n), probation_percent * 5000.0);
  const double max_tp = ScaledSigmoid(-1.0);
  std::vector<SweptRow> rows(n);
  size_t next = 0;       // the next window to enter
  int cur = -1;          // the window the row is in
  int prev_right = -1;   // the right edge of the last window left
  double prev_width = 0;
  for (int i = 0; i < n; ++i) {
    if (cur < 0 && next < bounds->size() && (*bounds)[next].left == i) cur = next++;
    SweptRow& r = rows[i];
    r.anomaly_score = file.scores[i];
    r.window = cur;
    r.probationary = i < probation;
    if (cur >= 0) {
      const Bounds& b = (*bounds)[cur];
      const double width = b.right - b.left + 1;
      r.sweep_score = ScaledSigmoid(-(b.right - i + 1) / width) * costs.tp_weight / max_tp;
      if (i == b.right) {
        prev_right = i;
        prev_width = width;
        cur = -1;
      }
    } else {
      // A one-row window has width 1: NAB divides by width - 1 = 0 (an infinite position,
      // the full penalty).
      const double position = prev_right < 0 ? 3.0
                              : prev_width > 1 ? std::abs(prev_right - i) / (prev_width - 1)
                                               : 3.0;
      r.sweep_score = ScaledSigmoid(position) * costs.fp_weight;
    }
  }
  return rows;
}

double RawScoreAt(const std::vector<SweptRow>& rows, int num_windows, const CostMatrix& costs,
                  double threshold) {
  Tally t = Count(rows, num_windows, costs, threshold);
  double total = t.fp;
  for (double b : t.best) {
    if (!std::isnan(b)) total += b;
  }
  return total;
}

absl::StatusOr<NabResult> ScoreCorpusAt(const std::vector<NabFile>& files,
                                        const NabProfile& profile, double threshold) {
  NabResult result;
  result.profile = profile.name;
  result.threshold = threshold;
  const CostMatrix& c = profile.costs;
  for (const NabFile& f : files) {
    absl::StatusOr<std::vector<SweptRow>> rows = SweepFile(f, c);
    if (!rows.ok()) return rows.status();
    const int nw = static_cast<int>(f.windows.size());
    Tally t = Count(*rows, nw, c, threshold);
    Tally none = Count(*rows, nw, c, INFINITY);
    FileScore fs;
    fs.name = f.name;
    fs.windows = nw;
    fs.false_positives = t.fp_count;
    fs.raw = t.fp;
    for (int w = 0; w < nw; ++w) {
      if (std::isnan(t.best[w])) continue;
      fs.raw += t.best[w];
      fs.null_raw += none.best[w];
      if (t.best[w] > 0) ++fs.detected_windows;
    }
    fs.perfect_raw = c.tp_weight * nw;
    const double span = fs.perfect_raw - fs.null_raw;
    fs.normalized = span > 0 ? 100.0 * (fs.raw - fs.null_raw) / span : 100.0;
    result.raw += fs.raw;
    result.null_raw += fs.null_raw;
    result.perfect_raw += fs.perfect_raw;
    result.files.push_back(std::move(fs));
  }
  const double span = result.perfect_raw - result.null_raw;
  result.normalized = span > 0 ? 100.0 * (result.raw - result.null_raw) / span : 100.0;
  return result;
}

absl::StatusOr<NabResult> ScoreCorpusOptimized(const std::vector<NabFile>& files,
                                               const NabProfile& profile) {
  const CostMatrix& c = profile.costs;
  // Every scored row of the corpus, with its window numbered across files.
  struct Row {
    double score;
    double sweep;
    int window;
  };
  std::vector<Row> all;
  std::vector<double> best;
  double total = 0;
  for (const NabFile& f : files) {
    absl::StatusOr<std::vector<SweptRow>> rows = SweepFile(f, c);
    if (!rows.ok()) return rows.status();
    const int base = static_cast<int>(best.size());
    best.resize(base + f.windows.size(), std::nan(""));
    for (const SweptRow& r : *rows) {
      if (r.probationary) continue;
      const int w = r.window < 0 ? -1 : base + r.window;
      if (w >= 0 && std::isnan(best[w])) {
        best[w] = -c.fn_weight;
        total -= c.fn_weight;
      }
      all.push_back({r.anomaly_score, r.sweep_score, w});
    }
  }
  std::sort(all.begin(), all.end(), [](const Row& a, const Row& b) { return a.score > b.score; });
  // Lowering the threshold past each distinct score adds that score's rows as detections.
  double best_total = total;
  double best_threshold = INFINITY;
  for (size_t i = 0; i < all.size();) {
    const double s = all[i].score;
    for (; i < all.size() && all[i].score == s; ++i) {
      const Row& r = all[i];
      if (r.window < 0) {
        total += r.sweep;
      } else if (r.sweep > best[r.window]) {
        total += r.sweep - best[r.window];
        best[r.window] = r.sweep;
      }
    }
    if (total > best_total + 1e-12) {
      best_total = total;
      best_threshold = s;
    }
  }
  return ScoreCorpusAt(files, profile, best_threshold);
}

}  // namespace predictor::anomaly
