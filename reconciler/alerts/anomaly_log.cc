#include "reconciler/alerts/anomaly_log.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "glog/logging.h"
#include "proto/records.pb.h"

namespace reconciler::alerts {
namespace {

namespace an = predictor::anomaly;

constexpr an::AnomalyType kTypes[] = {an::AnomalyType::kCpuSpike,
                                      an::AnomalyType::kPersistentHighCpu,
                                      an::AnomalyType::kScalingThrashing,
                                      an::AnomalyType::kPatternDeviation};

bool TypeFromName(const std::string& name, an::AnomalyType* out) {
  for (an::AnomalyType t : kTypes) {
    if (name == an::AnomalyTypeName(t)) return *out = t, true;
  }
  return false;
}

smartautoscaler::v1::Severity ToProto(an::Severity s) {
  switch (s) {
    case an::Severity::kInfo: return smartautoscaler::v1::SEVERITY_INFO;
    case an::Severity::kWarning: return smartautoscaler::v1::SEVERITY_WARNING;
    case an::Severity::kCritical: return smartautoscaler::v1::SEVERITY_CRITICAL;
  }
  return smartautoscaler::v1::SEVERITY_UNSPECIFIED;
}

an::Severity FromProto(smartautoscaler::v1::Severity s) {
  if (s == smartautoscaler::v1::SEVERITY_CRITICAL) return an::Severity::kCritical;
  if (s == smartautoscaler::v1::SEVERITY_WARNING) return an::Severity::kWarning;
  return an::Severity::kInfo;
}

std::string Serialize(const Transition& t, absl::Time at) {
  smartautoscaler::v1::Anomaly a;
  a.set_namespace_(t.namespace_name);
  a.set_deployment(t.deployment);
  a.set_metric("cpu");
  a.set_timestamp_ms(absl::ToUnixMillis(at));
  a.set_value(t.evidence.value);
  a.set_severity(ToProto(t.evidence.severity));
  a.set_detector(an::AnomalyTypeName(t.evidence.type));
  a.set_start_ms(absl::ToUnixMillis(t.start));
  a.set_end_ms(t.end == absl::InfiniteFuture() ? 0 : absl::ToUnixMillis(t.end));
  if (!std::isnan(t.evidence.low)) a.set_band_low(t.evidence.low);
  if (!std::isnan(t.evidence.high)) a.set_band_high(t.evidence.high);
  for (double v : t.evidence.values) a.add_values(v);
  a.set_judged(t.evidence.judged);
  return a.SerializeAsString();
}

bool Parse(const std::string& payload, Transition* t) {
  smartautoscaler::v1::Anomaly a;
  if (!a.ParseFromString(payload)) return false;
  if (!TypeFromName(a.detector(), &t->evidence.type)) return false;
  t->namespace_name = a.namespace_();
  t->deployment = a.deployment();
  t->evidence.active = a.end_ms() == 0;
  t->evidence.severity = FromProto(a.severity());
  t->evidence.value = a.value();
  t->evidence.low = a.has_band_low() ? a.band_low() : std::nan("");
  t->evidence.high = a.has_band_high() ? a.band_high() : std::nan("");
  t->evidence.values.assign(a.values().begin(), a.values().end());
  t->evidence.judged = a.judged();
  t->start = absl::FromUnixMillis(a.start_ms());
  t->evidence.since = t->start;
  t->end = a.end_ms() == 0 ? absl::InfiniteFuture() : absl::FromUnixMillis(a.end_ms());
  return true;
}

}  // namespace

AnomalyLog::AnomalyLog(storage::Store* store, const base::Clock* clock, AnomalyLogOptions options)
    : store_(store), clock_(clock), options_(options) {}

void AnomalyLog::OnTransition(const Transition& t) {
  const bool resolved = t.end != absl::InfiniteFuture();
  const absl::Time at = resolved ? t.end : t.start;
  absl::Status s = store_->AppendEvent(storage::EventLog::kAnomalies, at, Serialize(t, at),
                                       {.sync = true});
  if (!s.ok()) {
    ++write_errors_;
    LOG(ERROR) << "anomaly log: cannot record " << an::AnomalyTypeName(t.evidence.type) << " on "
               << t.namespace_name << "/" << t.deployment << ": " << s;
  }
}

absl::StatusOr<std::vector<Transition>> AnomalyLog::Latest(absl::Time from, absl::Time to) const {
  absl::StatusOr<std::vector<storage::Event>> events =
      store_->ScanEvents(storage::EventLog::kAnomalies, from, to);
  if (!events.ok()) return events.status();
  // Events come oldest first: a later record of the same anomaly replaces the earlier one.
  std::map<std::tuple<std::string, std::string, int, absl::Time>, Transition> latest;
  for (const storage::Event& e : *events) {
    Transition t;
    if (!Parse(e.payload, &t)) {
      ++read_errors_;
      continue;
    }
    latest[{t.namespace_name, t.deployment, static_cast<int>(t.evidence.type), t.start}] = t;
  }
  std::vector<Transition> out;
  for (auto& [key, t] : latest) out.push_back(std::move(t));
  std::stable_sort(out.begin(), out.end(),
                   [](const Transition& a, const Transition& b) { return a.start < b.start; });
  return out;
}

absl::StatusOr<std::vector<Transition>> AnomalyLog::ForDeployment(const std::string& ns,
                                                                  const std::string& deployment,
                                                                  absl::Time from,
                                                                  absl::Time to) const {
  if (to < from) return absl::InvalidArgumentError("the window ends before it starts");
  // A resolve is recorded at its end, which may lie after `to`: read to now as well.
  absl::StatusOr<std::vector<Transition>> all =
      Latest(from - options_.lookback, std::max(to, clock_->Now()) + absl::Milliseconds(1));
  if (!all.ok()) return all.status();
  std::vector<Transition> out;
  for (Transition& t : *all) {
    if (t.namespace_name != ns || t.deployment != deployment) continue;
    if (t.start < to && t.end >= from) out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::vector<Transition>> AnomalyLog::Open() const {
  const absl::Time now = clock_->Now();
  absl::StatusOr<std::vector<Transition>> all =
      Latest(now - options_.lookback, now + absl::Milliseconds(1));
  if (!all.ok()) return all.status();
  std::vector<Transition> out;
  for (Transition& t : *all) {
    if (t.end == absl::InfiniteFuture()) out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::vector<Transition>> AnomalyLog::ActiveSince(absl::Time from) const {
  const absl::Time now = clock_->Now();
  absl::StatusOr<std::vector<Transition>> all =
      Latest(from - options_.lookback, now + absl::Milliseconds(1));
  if (!all.ok()) return all.status();
  std::vector<Transition> out;
  for (Transition& t : *all) {
    if (t.end >= from && t.start <= now) out.push_back(std::move(t));
  }
  return out;
}

std::string AnomaliesJson(const std::string& ns, const std::string& deployment, double hours,
                          const std::vector<Transition>& anomalies) {
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "namespace", ns);
  base::JsonField(w, "deployment", deployment);
  base::JsonNumberField(w, "hours", hours);
  w.Key("anomalies");
  w.StartArray();
  for (const Transition& t : anomalies) {
    const an::Finding& f = t.evidence;
    w.StartObject();
    base::JsonField(w, "type", an::AnomalyTypeName(f.type));
    base::JsonField(w, "severity", an::SeverityName(f.severity));
    base::JsonTimeField(w, "start", t.start);
    base::JsonTimeField(w, "end", t.end);
    w.Key("active");
    w.Bool(t.end == absl::InfiniteFuture());
    w.Key("evidence");
    w.StartObject();
    base::JsonNumberField(w, "value", f.value);
    w.Key("judged");
    f.judged.empty() ? w.Null() : w.String(f.judged.c_str());
    w.Key("band");
    w.StartObject();
    base::JsonNumberField(w, "low", f.low);
    base::JsonNumberField(w, "high", f.high);
    w.EndObject();
    const bool thresholded = f.type == an::AnomalyType::kPersistentHighCpu ||
                             f.type == an::AnomalyType::kScalingThrashing;
    base::JsonNumberField(w, "threshold", thresholded ? f.high : std::nan(""));
    w.Key("values");
    w.StartArray();
    for (double v : f.values) std::isfinite(v) ? w.Double(v) : w.Null();
    w.EndArray();
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

// The original's "expected_value": the threshold crossed, or the band's middle (one side when
// the other does not apply); NaN when there is neither.
double Expected(const an::Finding& f, bool thresholded) {
  if (thresholded) return f.high;
  if (std::isfinite(f.low) && std::isfinite(f.high)) return (f.low + f.high) / 2;
  return std::isfinite(f.high) ? f.high : f.low;
}

}  // namespace

std::string OriginalAnomaliesJson(const std::vector<Transition>& anomalies) {
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartArray();
  for (auto t = anomalies.rbegin(); t != anomalies.rend(); ++t) {  // newest first
    const an::Finding& f = t->evidence;
    const bool thresholded = f.type == an::AnomalyType::kPersistentHighCpu ||
                             f.type == an::AnomalyType::kScalingThrashing;
    const double expected = Expected(f, thresholded);
    w.StartObject();
    base::JsonTimeField(w, "timestamp", t->start);
    base::JsonField(w, "type", an::AnomalyTypeName(f.type));
    base::JsonField(w, "severity", an::SeverityName(f.severity));
    std::string description = absl::StrCat(an::AnomalyTypeName(f.type), ": ", f.value);
    if (thresholded) {
      absl::StrAppend(&description, " above ", f.high);
    } else {
      absl::StrAppend(&description, " outside ",
                      std::isfinite(f.low) ? absl::StrCat(f.low) : std::string("-inf"), "..",
                      std::isfinite(f.high) ? absl::StrCat(f.high) : std::string("+inf"));
    }
    if (!f.judged.empty()) absl::StrAppend(&description, " (", f.judged, ")");
    base::JsonField(w, "description", description);
    base::JsonNumberField(w, "current", f.value);
    base::JsonNumberField(w, "expected", expected);
    base::JsonNumberField(w, "deviation",
                          std::isfinite(expected) && expected != 0
                              ? 100 * (f.value - expected) / std::abs(expected)
                              : std::nan(""));
    base::JsonTimeField(w, "start", t->start);
    base::JsonTimeField(w, "end", t->end);
    w.Key("active");
    w.Bool(t->end == absl::InfiniteFuture());
    w.EndObject();
  }
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace reconciler::alerts
