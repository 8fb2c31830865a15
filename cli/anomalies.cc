// `smart-autoscaler anomalies`: runs the spike detector over a CSV trace exactly as the
// reconciler does (one value at a time, each against the values before it), or scores it on
// a directory of NAB files with NAB's scorer next to NAB's windowed-Gaussian baseline.
//
//   smart-autoscaler anomalies --input trace.csv --output detections.csv
//   smart-autoscaler anomalies --nab-score /path/to/nab   # *.csv + combined_windows.json
//
// detections.csv has one row per input row: timestamp,value,score,is_anomaly (is_anomaly = 1
// where a spike detection starts or, with --pattern, a pattern deviation against the forecast
// band begins; score is the spike score). The NAB run prints, per profile, every file's normalised score
// and the corpus total for: the detector's own detections (its default threshold and
// suppression, nothing fitted to the files), the detector's score with NAB's corpus-optimised
// threshold, and the windowed Gaussian with NAB's corpus-optimised threshold.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "base/trace_csv.h"
#include "cli/commands.h"
#include "predictor/anomaly/nab.h"
#include "predictor/anomaly/pattern.h"
#include "predictor/anomaly/spike.h"
#include "predictor/series.h"
#include "rapidjson/document.h"

ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_FLAG(std::string, nab_score, "",
          "score the detector on every NAB CSV in this directory (with combined_windows.json)");
ABSL_FLAG(std::string, nab_windows, "",
          "--nab-score: the windows file (default: DIR/combined_windows.json)");
ABSL_FLAG(bool, pattern, false,
          "also run the pattern-deviation detector (the forecast's p10-p90 band); its starts are "
          "detections too (off by default: on NAB it adds false positives, see BENCHMARKS.md)");
ABSL_FLAG(absl::Duration, spike_baseline, predictor::anomaly::SpikeOptions().baseline,
          "trailing window of the robust baseline (median, MAD)");
ABSL_FLAG(absl::Duration, spike_recent, predictor::anomaly::SpikeOptions().recent,
          "window of the recent mean deviation");
ABSL_FLAG(absl::Duration, spike_recent_long, predictor::anomaly::SpikeOptions().recent_long,
          "window of the longer recent mean deviation");
ABSL_FLAG(absl::Duration, spike_long_window, predictor::anomaly::SpikeOptions().long_window,
          "window of the deviation distribution the recent mean is judged against");
ABSL_FLAG(double, spike_threshold, predictor::anomaly::SpikeOptions().threshold,
          "score (0..1) at which a detection starts");
ABSL_FLAG(absl::Duration, spike_suppress, predictor::anomaly::SpikeOptions().suppress,
          "no new detection for this long after one");
ABSL_FLAG(int, spike_recurrence_days, predictor::anomaly::SpikeOptions().recurrence_days,
          "a deviation seen at the same time on each of this many previous days is expected");
ABSL_FLAG(double, spike_recurrence_ratio, predictor::anomaly::SpikeOptions().recurrence_ratio,
          "... when those deviations reach this share of it");
ABSL_FLAG(double, spike_recurrence_min, predictor::anomaly::SpikeOptions().recurrence_min_deviation,
          "... for deviations of at least this many scale units");
ABSL_FLAG(double, spike_min_scale, predictor::anomaly::SpikeOptions().min_scale_relative,
          "the robust scale is at least this share of |median| and of the 5-95% range");

namespace cli {
namespace {

namespace an = predictor::anomaly;

an::SpikeOptions OptionsFromFlags() {
  an::SpikeOptions o;
  o.baseline = absl::GetFlag(FLAGS_spike_baseline);
  o.recent = absl::GetFlag(FLAGS_spike_recent);
  o.recent_long = absl::GetFlag(FLAGS_spike_recent_long);
  o.long_window = absl::GetFlag(FLAGS_spike_long_window);
  o.threshold = absl::GetFlag(FLAGS_spike_threshold);
  o.suppress = absl::GetFlag(FLAGS_spike_suppress);
  o.min_scale_relative = absl::GetFlag(FLAGS_spike_min_scale);
  o.recurrence_days = absl::GetFlag(FLAGS_spike_recurrence_days);
  o.recurrence_ratio = absl::GetFlag(FLAGS_spike_recurrence_ratio);
  o.recurrence_min_deviation = absl::GetFlag(FLAGS_spike_recurrence_min);
  return o;
}

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone());
}

absl::StatusOr<std::vector<predictor::Sample>> ReadSamples(const std::string& path) {
  absl::StatusOr<std::vector<base::Point>> points = base::ReadTraceCsv(path);
  if (!points.ok()) return points.status();
  std::vector<predictor::Sample> out;
  out.reserve(points->size());
  for (const base::Point& p : *points) out.push_back({p.time, p.value});
  return out;
}

// combined_windows.json: {"category/file.csv": [["start", "end"], ...], ...}, keyed here by
// the file's base name.
absl::StatusOr<std::map<std::string, std::vector<an::LabelWindow>>> ReadWindows(
    const std::string& path) {
  absl::StatusOr<std::string> text = base::ReadFile(path);
  if (!text.ok()) return text.status();
  rapidjson::Document doc;
  doc.Parse(text->c_str(), text->size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  }
  std::map<std::string, std::vector<an::LabelWindow>> out;
  for (auto& m : doc.GetObject()) {
    std::string key = m.name.GetString();
    key = key.substr(key.rfind('/') == std::string::npos ? 0 : key.rfind('/') + 1);
    auto& windows = out[key];
    if (!m.value.IsArray()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", key));
    for (auto& w : m.value.GetArray()) {
      if (!w.IsArray() || w.Size() != 2 || !w[0].IsString() || !w[1].IsString()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": ", key, ": a window is not [\"start\", \"end\"]"));
      }
      absl::StatusOr<absl::Time> a = base::ParseTimestamp(w[0].GetString());
      absl::StatusOr<absl::Time> b = base::ParseTimestamp(w[1].GetString());
      if (!a.ok()) return a.status();
      if (!b.ok()) return b.status();
      windows.push_back({*a, *b});
    }
  }
  return out;
}

// Row by row as the reconciler sees them: the spike score, and is_anomaly where a spike
// detection starts or (with --pattern) a pattern deviation becomes active, one detection per
// `options.suppress`.
absl::StatusOr<std::vector<an::SpikeScore>> Detect(const std::vector<predictor::Sample>& samples,
                                                   const an::SpikeOptions& options) {
  absl::StatusOr<std::vector<an::SpikeScore>> scores = an::ScoreHistory(samples, options);
  if (!scores.ok() || !absl::GetFlag(FLAGS_pattern)) return scores;
  an::PatternTracker pattern;
  bool was_active = false;
  absl::Time last = absl::InfinitePast();
  for (size_t i = 0; i < samples.size(); ++i) {
    absl::StatusOr<an::Finding> f = pattern.Update(samples[i].time, samples[i].value);
    if (!f.ok()) return f.status();
    an::SpikeScore& s = (*scores)[i];
    const bool starts = f->active && !was_active;
    was_active = f->active;
    if (s.is_anomaly) last = samples[i].time;
    if (starts && samples[i].time - last >= options.suppress) {
      s.is_anomaly = true;
      s.score = std::max(s.score, options.threshold);
      last = samples[i].time;
    }
  }
  return scores;
}

int RunOne(const an::SpikeOptions& options) {
  const std::string input = absl::GetFlag(FLAGS_input);
  absl::StatusOr<std::vector<predictor::Sample>> samples = ReadSamples(input);
  if (!samples.ok()) {
    PrintError(std::cerr, "anomalies", samples.status().ToString());
    return 1;
  }
  absl::StatusOr<std::vector<an::SpikeScore>> scores = Detect(*samples, options);
  if (!scores.ok()) {
    PrintError(std::cerr, "anomalies", scores.status().ToString());
    return 1;
  }
  std::string out = "timestamp,value,score,is_anomaly\n";
  int detections = 0;
  for (size_t i = 0; i < samples->size(); ++i) {
    const an::SpikeScore& s = (*scores)[i];
    absl::StrAppend(&out, Time((*samples)[i].time), ",", absl::StrFormat("%.10g", (*samples)[i].value),
                    ",", absl::StrFormat("%.6f", s.score), ",", s.is_anomaly ? 1 : 0, "\n");
    detections += s.is_anomaly;
  }
  const std::string path = absl::GetFlag(FLAGS_output);
  if (path.empty()) {
    std::cout << out;
  } else {
    std::ofstream f(path);
    f << out;
    if (!f) {
      std::cerr << "anomalies: cannot write " << path << "\n";
      return 1;
    }
    std::cerr << "anomalies: " << samples->size() << " rows, " << detections
              << " detections -> " << path << "\n";
  }
  return 0;
}

struct Scored {
  std::vector<an::NabFile> binary;     // is_anomaly as 0/1
  std::vector<an::NabFile> continuous; // the score, 0 while a detection is suppressed
  std::vector<an::NabFile> gaussian;   // windowed Gaussian
};

absl::StatusOr<Scored> ScoreDirectory(const std::string& dir, const an::SpikeOptions& options) {
  const std::string windows_path = absl::GetFlag(FLAGS_nab_windows).empty()
                                       ? dir + "/combined_windows.json"
                                       : absl::GetFlag(FLAGS_nab_windows);
  auto windows = ReadWindows(windows_path);
  if (!windows.ok()) return windows.status();
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (absl::EndsWith(name, ".csv") && windows->count(name)) names.push_back(name);
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": ", ec.message()));
  if (names.empty()) {
    return absl::NotFoundError(absl::StrCat(dir, ": no CSV file named in ", windows_path));
  }
  std::sort(names.begin(), names.end());
  Scored out;
  for (const std::string& name : names) {
    auto samples = ReadSamples(dir + "/" + name);
    if (!samples.ok()) return samples.status();
    auto scores = Detect(*samples, options);
    if (!scores.ok()) return scores.status();
    auto gauss = an::WindowedGaussianScores(*samples);
    if (!gauss.ok()) return gauss.status();
    an::NabFile f{name, {}, {}, (*windows)[name]};
    for (const auto& s : *samples) f.times.push_back(s.time);
    an::NabFile b = f, c = f, g = f;
    absl::Time last = absl::InfinitePast();
    for (size_t i = 0; i < samples->size(); ++i) {
      const an::SpikeScore& s = (*scores)[i];
      if (s.is_anomaly) last = f.times[i];
      const bool suppressed = !s.is_anomaly && f.times[i] - last < options.suppress;
      b.scores.push_back(s.is_anomaly ? 1.0 : 0.0);
      c.scores.push_back(suppressed ? 0.0 : s.score);
    }
    g.scores = *gauss;
    out.binary.push_back(std::move(b));
    out.continuous.push_back(std::move(c));
    out.gaussian.push_back(std::move(g));
  }
  return out;
}

void PrintResults(const std::string& title, const std::vector<an::NabResult>& results) {
  std::cout << "\n" << title << "\n";
  std::cout << absl::StrFormat("%-42s %9s %9s %9s   %s\n", "file", "standard", "low_FP",
                               "low_FN", "windows detected / FP (standard)");
  for (size_t f = 0; f < results[0].files.size(); ++f) {
    const an::FileScore& s = results[0].files[f];
    std::cout << absl::StrFormat("%-42s %9.2f %9.2f %9.2f   %d/%d / %d\n", s.name,
                                 results[0].files[f].normalized, results[1].files[f].normalized,
                                 results[2].files[f].normalized, s.detected_windows, s.windows,
                                 s.false_positives);
  }
  std::cout << absl::StrFormat("%-42s %9.2f %9.2f %9.2f   thresholds %.6g %.6g %.6g\n",
                               "TOTAL", results[0].normalized, results[1].normalized,
                               results[2].normalized, results[0].threshold,
                               results[1].threshold, results[2].threshold);
}

int RunNab(const std::string& dir, const an::SpikeOptions& options) {
  absl::StatusOr<Scored> scored = ScoreDirectory(dir, options);
  if (!scored.ok()) {
    PrintError(std::cerr, "anomalies", scored.status().ToString());
    return 1;
  }
  std::vector<an::NabResult> binary, continuous, gaussian;
  for (const an::NabProfile& p : an::NabProfiles()) {
    auto b = an::ScoreCorpusAt(scored->binary, p, 0.5);
    auto c = an::ScoreCorpusOptimized(scored->continuous, p);
    auto g = an::ScoreCorpusOptimized(scored->gaussian, p);
    for (const auto* r : {&b, &c, &g}) {
      if (!r->ok()) {
        PrintError(std::cerr, "anomalies", r->status().ToString());
        return 1;
      }
    }
    binary.push_back(*b);
    continuous.push_back(*c);
    gaussian.push_back(*g);
  }
  std::cout << "NAB scores (null detector 0, perfect 100) over " << scored->binary.size()
            << " files in " << dir << "\n";
  PrintResults(absl::StrCat(absl::GetFlag(FLAGS_pattern) ? "spike + pattern deviation" : "spike",
                            " detector, default threshold and suppression (binary detections)"),
               binary);
  PrintResults("spike detector score, NAB's corpus-optimised threshold per profile", continuous);
  PrintResults("windowed Gaussian (NAB baseline), NAB's corpus-optimised threshold per profile",
               gaussian);
  return 0;
}

}  // namespace

int AnomaliesMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "anomalies: unexpected argument '" << args[0] << "'\n";
    return 2;
  }
  const an::SpikeOptions options = OptionsFromFlags();
  if (options.baseline <= absl::ZeroDuration() || options.recent < absl::ZeroDuration() ||
      options.long_window <= absl::ZeroDuration() || options.suppress < absl::ZeroDuration() ||
      !(options.threshold > 0 && options.threshold <= 1) || !(options.min_scale_relative >= 0)) {
    std::cerr << "anomalies: --spike_baseline and --spike_long_window must be positive, "
                 "--spike_recent and --spike_suppress not negative, --spike_threshold in "
                 "(0, 1], --spike_min_scale >= 0\n";
    return 2;
  }
  const std::string dir = absl::GetFlag(FLAGS_nab_score);
  if (!dir.empty()) return RunNab(dir, options);
  if (absl::GetFlag(FLAGS_input).empty()) {
    std::cerr << "anomalies: --input or --nab-score is required\n";
    return 2;
  }
  return RunOne(options);
}

}  // namespace cli
