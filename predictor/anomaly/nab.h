// The Numenta Anomaly Benchmark (NAB) scorer: labelled windows, the scaled-sigmoid reward of
// the first detection in a window, false-positive penalties, the three application profiles,
// threshold optimisation over a corpus and normalisation (null detector 0, perfect 100).
//
//   predictor::anomaly::NabFile f{"ec2.csv", times, scores, windows};
//   predictor::anomaly::NabResult r =
//       predictor::anomaly::ScoreCorpus({f}, predictor::anomaly::NabProfiles()[0]);
//   // r.normalized: 0 = never detects, 100 = detects every window at its first point.
//
// The rules follow NAB's sweeper: the first 15 % of each file (at most 750 rows) is a
// probationary period that is not scored; a row inside a window scores
// tp_weight * S(-(right - i + 1) / width) / S(-1) where S(x) = 2 / (1 + e^(5x)) - 1, so a
// detection at the window's first row scores exactly tp_weight; a row outside every window
// scores fp_weight * S(|i - previous right edge| / (previous width - 1)) (S(3) = -1 before the
// first window or 3 widths past one). Only the best (earliest) detection of a window counts;
// a window without one costs -fn_weight; every detection outside the windows adds its
// (negative) row score. A row is a detection when its anomaly score is >= the threshold.
// Pure functions; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace predictor::anomaly {

struct CostMatrix {
  double tp_weight = 1.0;
  double fp_weight = 0.11;
  double fn_weight = 1.0;
};

struct NabProfile {
  std::string name;  // "standard", "reward_low_FP_rate", "reward_low_FN_rate"
  CostMatrix costs;
};

// NAB's three profiles with its published weights: standard (fp 0.11), reward_low_FP_rate
// (fp 0.22), reward_low_FN_rate (fn 2.0).
std::vector<NabProfile> NabProfiles();

// A labelled anomaly window; both ends are timestamps of rows of the file (inclusive).
struct LabelWindow {
  absl::Time start;
  absl::Time end;
};

// One data file with a detector's scores (in [0, 1], one per row, time-ordered rows).
struct NabFile {
  std::string name;
  std::vector<absl::Time> times;
  std::vector<double> scores;
  std::vector<LabelWindow> windows;
};

// NAB's scaled sigmoid of a relative position (-1 = a window's left edge, 0 its right edge,
// > 0 past it); -1 at 3 and beyond.
double ScaledSigmoid(double relative_position);

// A file's rows as NAB scores them.
struct SweptRow {
  double anomaly_score = 0;
  double sweep_score = 0;  // the weighted reward (in a window) or penalty (outside)
  int window = -1;         // index into NabFile::windows, or -1 outside every window
  bool probationary = false;
};

// Scores every row of `file` under `costs`. InvalidArgument when the sizes differ, the times
// are not strictly increasing, or a window's ends are not row timestamps (or out of order).
absl::StatusOr<std::vector<SweptRow>> SweepFile(const NabFile& file, const CostMatrix& costs,
                                                double probation_percent = 0.15);

// The raw (unnormalised) score of a swept file when every row with anomaly_score >= threshold
// is a detection. `num_windows` is file.windows.size(); windows that hold only probationary
// rows are not scored.
double RawScoreAt(const std::vector<SweptRow>& rows, int num_windows, const CostMatrix& costs,
                  double threshold);

struct FileScore {
  std::string name;
  double raw = 0;
  double null_raw = 0;     // the score of a detector that never fires
  double perfect_raw = 0;  // tp_weight per window
  double normalized = 0;   // 100 * (raw - null) / (perfect - null); 100 when perfect == null
  int windows = 0;
  int detected_windows = 0;
  int false_positives = 0;  // detections outside every window
};

struct NabResult {
  std::string profile;
  double threshold = 0;     // the threshold used
  double raw = 0;           // summed over files
  double null_raw = 0;
  double perfect_raw = 0;
  double normalized = 0;    // the corpus score, from the summed raw scores
  std::vector<FileScore> files;
};

// Scores a corpus at a fixed threshold. InvalidArgument as SweepFile.
absl::StatusOr<NabResult> ScoreCorpusAt(const std::vector<NabFile>& files,
                                        const NabProfile& profile, double threshold);

// NAB's protocol: the one threshold that maximises the summed raw score over the whole corpus
// for this profile (an exact sweep over every distinct anomaly score, where NAB approximates
// the same maximum by local search), then scores every file at it. InvalidArgument as
// SweepFile.
absl::StatusOr<NabResult> ScoreCorpusOptimized(const std::vector<NabFile>& files,
                                               const NabProfile& profile);

}  // namespace predictor::anomaly
