// The history sub-resource: a deployment's stored series and forecasts over 1 h, 24 h or 7 d,
// bucketed on one time axis for the page's charts.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/json_writer.h"
#include "base/time_format.h"
#include "proto/records.pb.h"
#include "reconciler/web/web.h"

namespace reconciler::web {
namespace {

// At most this many buckets per range: a chart's width.
constexpr int kBuckets = 360;
// The loop's forecast step (ForecastTracker::kStep): one record per deployment per step.
constexpr absl::Duration kForecastStep = absl::Minutes(5);

// The stored series the history shows, by their stored metric name.
constexpr const char* kSeries[] = {
    "cpu_demand_cores",   "cpu_ready_capacity_cores", "smart_cpu_blended",    "smart_cpu_predicted",
    "smart_cpu_pressure", "smart_cpu_target",         "smart_memory_blended", "ready_pods",
};

// The range: ?range=1h|24h|7d, or the original's ?hours=1..168; 1 h by default.
absl::StatusOr<absl::Duration> RangeOf(const base::HttpRequest& req) {
  auto r = req.query.find("range");
  auto h = req.query.find("hours");
  if (r != req.query.end() && h != req.query.end()) {
    return absl::InvalidArgumentError("give range or hours, not both");
  }
  if (r != req.query.end()) {
    if (r->second == "1h") return absl::Hours(1);
    if (r->second == "24h") return absl::Hours(24);
    if (r->second == "7d") return absl::Hours(24 * 7);
    return absl::InvalidArgumentError(
        absl::StrCat("range \"", r->second, "\": want 1h, 24h or 7d"));
  }
  if (h != req.query.end()) {
    int hours = 0;
    if (!absl::SimpleAtoi(h->second, &hours) || hours < 1 || hours > 168) {
      return absl::InvalidArgumentError(
          absl::StrCat("hours \"", h->second, "\": want a whole number from 1 to 168"));
    }
    return absl::Hours(hours);
  }
  return absl::Hours(1);
}

// Means per bucket; NaN where a bucket holds nothing (written as null).
struct Buckets {
  absl::Time from;
  absl::Duration step;
  std::vector<double> sum;
  std::vector<int> count;
  Buckets(absl::Time f, absl::Duration s, int n) : from(f), step(s), sum(n, 0), count(n, 0) {}
  void Add(absl::Time t, double v) {
    const int64_t i = (t - from) / step;
    if (i < 0 || i >= static_cast<int64_t>(sum.size()) || !std::isfinite(v)) return;
    sum[i] += v;
    ++count[i];
  }
  void Write(base::JsonWriter& w) const {
    w.StartArray();
    for (size_t i = 0; i < sum.size(); ++i) {
      if (count[i] == 0) {
        w.Null();
      } else {
        w.Double(sum[i] / count[i]);
      }
    }
    w.EndArray();
  }
};

// The mean of the samples in [a, b) (sorted by time); nullopt when there are none.
absl::optional<double> MeanIn(const std::vector<storage::Sample>& s, absl::Time a, absl::Time b) {
  auto it = std::lower_bound(s.begin(), s.end(), a,
                             [](const storage::Sample& x, absl::Time t) { return x.time < t; });
  double sum = 0;
  int n = 0;
  for (; it != s.end() && it->time < b; ++it, ++n) sum += it->value;
  if (n == 0) return absl::nullopt;
  return sum / n;
}

// The one-step (first bucket) error of the forecast's p50 against persistence (the origin's
// bucket carried forward) over the same origins, cores; both against the stored demand.
struct StepAccuracy {
  double forecast_abs = 0, persistence_abs = 0;
  int origins = 0;
};

// The series_id of a serialized Forecast read from its first field without parsing the rest:
// the generated serializer writes fields in number order, so when series_id (field 1, a varint)
// is set it comes first. nullopt when the payload does not start with it (series_id 0, another
// writer): the caller parses it whole.
absl::optional<uint64_t> LeadingSeriesId(absl::string_view payload) {
  if (payload.empty() || static_cast<uint8_t>(payload[0]) != 0x08) return absl::nullopt;
  uint64_t v = 0;
  for (size_t i = 1; i < payload.size() && i <= 10; ++i) {
    const uint8_t b = static_cast<uint8_t>(payload[i]);
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * (i - 1));
    if ((b & 0x80) == 0) return v;
  }
  return absl::nullopt;
}

// The forecast records the history reads, oldest first. With buckets of at least two forecast
// steps (7 d: 28 min) only those made in the first step of each bucket, one per deployment and
// bucket, rather than all of them: the log holds every deployment's records, and reading them
// all is the 7 d range's cost (BENCHMARKS.md). Otherwise every record in [from - 1 h, to).
absl::StatusOr<std::vector<storage::Event>> ForecastEvents(const storage::Store* store,
                                                           absl::Time from, absl::Time to,
                                                           absl::Duration bucket) {
  if (bucket < 2 * kForecastStep) {
    return store->ScanEvents(storage::EventLog::kForecasts, from - absl::Hours(1), to);
  }
  std::vector<storage::Event> out;
  for (absl::Time b = from; b < to; b += bucket) {
    auto events =
        store->ScanEvents(storage::EventLog::kForecasts, b, std::min(to, b + kForecastStep));
    if (!events.ok()) return events.status();
    for (storage::Event& e : *events) out.push_back(std::move(e));
  }
  return out;
}

// The forecasts of the demand series `id` (ForecastEvents): the first step's p10/p90 at its
// time, the lead peak p90 at the origin, and the step's accuracy against `demand`.
void AddForecasts(const storage::Store* store, storage::SeriesId id, absl::Time from, absl::Time to,
                  absl::Duration bucket, const std::vector<storage::Sample>& demand, Buckets* p10,
                  Buckets* p90, Buckets* peak, StepAccuracy* acc, std::string* error) {
  auto events = ForecastEvents(store, from, to, bucket);
  if (!events.ok()) {
    *error = std::string(events.status().message());
    return;
  }
  smartautoscaler::v1::Forecast f;
  for (const storage::Event& e : *events) {
    // The log holds every deployment's forecasts: skip the others' without parsing them.
    const absl::optional<uint64_t> leading = LeadingSeriesId(e.payload);
    if (leading && *leading != id) continue;
    if (!f.ParseFromString(e.payload) || f.series_id() != id) continue;
    const absl::Time origin = absl::FromUnixMillis(f.origin_ms());
    peak->Add(origin, f.peak_lead_p90());
    if (f.path_size() == 0) continue;
    const absl::Time t = absl::FromUnixMillis(f.path(0).timestamp_ms());
    p10->Add(t, f.path(0).p10());
    p90->Add(t, f.path(0).p90());
    const absl::Duration step = absl::Milliseconds(f.step_ms());
    if (origin < from || step <= absl::ZeroDuration()) continue;
    absl::optional<double> last = MeanIn(demand, origin, origin + step);
    absl::optional<double> actual = MeanIn(demand, t, t + step);
    if (!last || !actual) continue;
    acc->forecast_abs += std::abs(f.path(0).p50() - *actual);
    acc->persistence_abs += std::abs(*last - *actual);
    ++acc->origins;
  }
}

void WriteAccuracy(base::JsonWriter& w, const StepAccuracy& a) {
  w.Key("accuracy");
  w.StartObject();
  base::JsonIntField(w, "origins", a.origins);
  auto mae = [&](double sum) {
    return a.origins > 0 ? absl::optional<double>(sum / a.origins) : absl::nullopt;
  };
  base::JsonNumberField(w, "forecastMae", mae(a.forecast_abs));
  base::JsonNumberField(w, "persistenceMae", mae(a.persistence_abs));
  base::JsonNumberField(w, "ratio",
                        a.persistence_abs > 0
                            ? absl::optional<double>(a.forecast_abs / a.persistence_abs)
                            : absl::nullopt);
  w.EndObject();
}

// The original's arrays on the same buckets: "timestamps" (RFC 3339), "pod_cpu_usage" (the
// served blend, % of request), "pod_count" (ready pods), "hpa_target" (the served target, %);
// "node_utilization" and "confidence" are not stored here, so all null (never 0).
void WriteOriginalHistory(base::JsonWriter& w, absl::Time from, absl::Duration step,
                          const std::map<std::string, Buckets>& series) {
  w.Key("timestamps");
  w.StartArray();
  for (int i = 0; i < kBuckets; ++i) w.String(base::FormatRfc3339(from + i * step).c_str());
  w.EndArray();
  const Buckets none(from, step, kBuckets);
  for (const auto& [original, ours] :
       {std::pair<const char*, const char*>{"pod_cpu_usage", "smart_cpu_blended"},
        {"pod_count", "ready_pods"},
        {"hpa_target", "smart_cpu_target"},
        {"node_utilization", ""},
        {"confidence", ""}}) {
    w.Key(original);
    auto it = series.find(ours);
    (it == series.end() ? none : it->second).Write(w);
  }
}

// The original's fields of one prediction: "predicted_cpu" (the p50, cores), "confidence",
// "action" and "reasoning" (null: a forecast here is a band, not an action), "validated", and
// once its step has passed and demand is stored, "actual_cpu" and "error" (cores).
void WriteOriginalPrediction(base::JsonWriter& w, double p50, absl::optional<double> actual) {
  base::JsonNumberField(w, "predicted_cpu", p50);
  for (const char* k : {"confidence", "action", "reasoning"}) {
    w.Key(k);
    w.Null();
  }
  w.Key("validated");
  w.Bool(actual.has_value());
  if (!actual) return;
  base::JsonNumberField(w, "actual_cpu", *actual);
  base::JsonNumberField(w, "error", std::abs(p50 - *actual));
}

// The original's "accuracy_stats" from the managed deployment's validation (the last 24 h);
// null for an unmanaged deployment or before any validation. Rates in %, avg_accuracy 0-1.
void WriteAccuracyStats(base::JsonWriter& w, const DeploymentStatus* s) {
  w.Key("accuracy_stats");
  if (s == nullptr || s->forecast_validated == 0) {
    w.Null();
    return;
  }
  const int total = s->forecast_validated;
  w.StartObject();
  base::JsonIntField(w, "total_predictions", total);
  base::JsonIntField(w, "accurate_predictions",
                     static_cast<int64_t>(std::lround(s->forecast_accuracy * total)));
  base::JsonNumberField(w, "accuracy_rate", 100 * s->forecast_accuracy);
  base::JsonIntField(w, "false_positives", s->forecast_false_positives);
  base::JsonNumberField(w, "false_positive_rate", 100.0 * s->forecast_false_positives / total);
  base::JsonIntField(w, "false_negatives", s->forecast_false_negatives);
  base::JsonNumberField(w, "avg_accuracy", s->forecast_accuracy);
  // Ours: persistence over the same origins.
  base::JsonNumberField(w, "persistence_accuracy_rate",
                        s->persistence_accuracy
                            ? absl::optional<double>(100 * *s->persistence_accuracy)
                            : absl::nullopt);
  base::JsonNumberField(w, "mae_cores", s->forecast_mae_cores);
  base::JsonNumberField(w, "persistence_mae_cores", s->persistence_mae_cores);
  w.EndObject();
}

}  // namespace

base::HttpResponse HistoryResponse(const storage::Store* store, const std::string& ns,
                                   const std::string& name, const base::HttpRequest& req,
                                   absl::Time now) {
  absl::StatusOr<absl::Duration> range = RangeOf(req);
  if (!range.ok()) return JsonError(400, std::string(range.status().message()));
  if (store == nullptr) return JsonError(503, "no store: history is kept only with STORE_PATH");
  const absl::Duration step = *range / kBuckets;
  const absl::Time to = now;
  const absl::Time from = to - *range;
  std::map<std::string, Buckets> series;
  storage::SeriesId demand_id = 0;
  std::vector<storage::Sample> demand;
  std::string error;
  for (const char* metric : kSeries) {
    auto id = store->LookupSeries({ns, name, metric, {}});
    if (!id.ok()) continue;
    auto samples = store->Scan(*id, from, to);
    if (!samples.ok()) {
      error = std::string(samples.status().message());
      continue;
    }
    Buckets& b = series.emplace(metric, Buckets(from, step, kBuckets)).first->second;
    for (const storage::Sample& s : *samples) b.Add(s.time, s.value);
    if (std::string(metric) == "cpu_demand_cores") {
      demand_id = *id;
      demand = std::move(*samples);
    }
  }
  if (series.empty() && error.empty()) {
    return JsonError(404, absl::StrCat("no stored history for ", ns, "/", name));
  }
  StepAccuracy accuracy;
  if (demand_id != 0) {
    Buckets p10(from, step, kBuckets), p90(from, step, kBuckets), peak(from, step, kBuckets);
    AddForecasts(store, demand_id, from, to, step, demand, &p10, &p90, &peak, &accuracy, &error);
    series.emplace("forecast_p10_cores", p10);
    series.emplace("forecast_p90_cores", p90);
    series.emplace("forecast_peak_p90_cores", peak);
  }
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "namespace", ns);
  base::JsonField(w, "name", name);
  base::JsonTimeField(w, "from", from);
  base::JsonTimeField(w, "to", to);
  base::JsonNumberField(w, "hours", absl::ToDoubleHours(*range));
  base::JsonNumberField(w, "stepSeconds", absl::ToDoubleSeconds(step));
  base::JsonField(w, "error", error);
  WriteAccuracy(w, accuracy);
  w.Key("time");  // bucket starts, Unix seconds
  w.StartArray();
  for (int i = 0; i < kBuckets; ++i)
    w.Double(absl::ToDoubleSeconds(from + i * step - absl::UnixEpoch()));
  w.EndArray();
  w.Key("series");
  w.StartObject();
  for (const auto& [metric, b] : series) {
    w.Key(metric.c_str());
    b.Write(w);
  }
  w.EndObject();
  WriteOriginalHistory(w, from, step, series);
  w.EndObject();
  base::HttpResponse r;
  r.content_type = "application/json";
  r.body = base::JsonText(buf);
  return r;
}

base::HttpResponse PredictionsResponse(const storage::Store* store, const std::string& ns,
                                       const std::string& name, const base::HttpRequest& req,
                                       absl::Time now, const DeploymentStatus* status) {
  if (!req.query.empty()) {
    return JsonError(400, absl::StrCat("predictions takes no parameters (got \"",
                                       req.query.begin()->first, "\")"));
  }
  if (store == nullptr) return JsonError(503, "no store: forecasts are kept only with STORE_PATH");
  auto id = store->LookupSeries({ns, name, "cpu_demand_cores", {}});
  if (!id.ok()) return JsonError(404, absl::StrCat("no stored demand for ", ns, "/", name));
  auto events = store->ScanEvents(storage::EventLog::kForecasts, now - absl::Hours(1), now);
  if (!events.ok()) return JsonError(503, std::string(events.status().message()));
  smartautoscaler::v1::Forecast latest, f;
  bool found = false;
  for (const storage::Event& e : *events) {
    const absl::optional<uint64_t> leading = LeadingSeriesId(e.payload);
    if (leading && *leading != *id) continue;
    if (f.ParseFromString(e.payload) && f.series_id() == *id) {
      latest = f;
      found = true;
    }
  }
  if (!found) {
    return JsonError(404, absl::StrCat("no forecast for ", ns, "/", name, " in the last hour"));
  }
  // The stored demand over the path, to validate the steps whose time has passed.
  const absl::Duration step = absl::Milliseconds(latest.step_ms());
  std::vector<storage::Sample> demand;
  if (latest.path_size() > 0) {
    auto s = store->Scan(*id, absl::FromUnixMillis(latest.path(0).timestamp_ms()), now);
    if (s.ok()) demand = std::move(*s);
  }
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  base::JsonField(w, "namespace", ns);
  base::JsonField(w, "deployment", name);
  base::JsonField(w, "model", latest.model());
  base::JsonTimeField(w, "origin", absl::FromUnixMillis(latest.origin_ms()));
  base::JsonNumberField(w, "lead_minutes", latest.lead_ms() / 60000.0);
  base::JsonNumberField(w, "peak_lead_p50_cores", latest.peak_lead_p50());
  base::JsonNumberField(w, "peak_lead_p90_cores", latest.peak_lead_p90());
  w.Key("predictions");
  w.StartArray();
  for (const auto& p : latest.path()) {
    const absl::Time t = absl::FromUnixMillis(p.timestamp_ms());
    w.StartObject();
    base::JsonTimeField(w, "timestamp", t);
    base::JsonNumberField(w, "p10_cores", p.p10());
    base::JsonNumberField(w, "p50_cores", p.p50());
    base::JsonNumberField(w, "p90_cores", p.p90());
    WriteOriginalPrediction(w, p.p50(),
                            t + step <= now ? MeanIn(demand, t, t + step) : absl::nullopt);
    w.EndObject();
  }
  w.EndArray();
  WriteAccuracyStats(w, status);
  w.EndObject();
  base::HttpResponse r;
  r.content_type = "application/json";
  r.body = base::JsonText(buf);
  return r;
}

}  // namespace reconciler::web
