// CostJson: the cost route's object, written with RapidJSON.
#include <cmath>
#include <string>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Num(Writer* w, const char* key, double v) {
  w->Key(key);
  w->Double(std::round(v * 1e6) / 1e6);
}

void MaybeNum(Writer* w, const char* key, const absl::optional<double>& v) {
  if (v) return Num(w, key, *v);
  w->Key(key);
  w->Null();
}

void Str(Writer* w, const char* key, absl::string_view v) {
  w->Key(key);
  w->String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void WriteRecommendation(Writer* w, const char* key, const Recommendation& r, int64_t current) {
  w->Key(key);
  w->StartObject();
  w->Key("current");
  w->Int64(current);
  w->Key("recommended");
  if (r.available) {
    w->Int64(r.value);
  } else {
    w->Null();
  }
  w->Key("uncapped");
  if (r.available) {
    w->Int64(r.uncapped);
  } else {
    w->Null();
  }
  w->Key("at_least");
  w->Bool(r.at_least);
  w->Key("capped");
  w->Bool(r.capped);
  Num(w, "monthly_saving", r.monthly_saving);
  Str(w, "note", r.note);
  w->EndObject();
}

}  // namespace

std::string CostJson(absl::string_view namespace_name, absl::string_view deployment,
                     const CostReport& c, const Rightsizing& rs,
                     int64_t cpu_request_millicores, int64_t memory_request_bytes) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(&w, "namespace", namespace_name);
  Str(&w, "deployment", deployment);
  Num(&w, "hours", absl::ToDoubleHours(c.to - c.from));
  Num(&w, "cpu_cost", c.cpu_cost);
  Num(&w, "memory_cost", c.memory_cost);
  Num(&w, "total_cost", c.total_cost);
  Num(&w, "wasted_cpu_cost", c.wasted_cpu_cost);
  Num(&w, "wasted_memory_cost", c.wasted_memory_cost);
  Num(&w, "total_wasted_cost", c.total_wasted_cost);
  MaybeNum(&w, "cpu_utilization_percent", c.cpu_utilization_percent);
  MaybeNum(&w, "memory_utilization_percent", c.memory_utilization_percent);
  Num(&w, "estimated_monthly_cost", c.estimated_monthly_cost);
  Num(&w, "optimization_potential", c.optimization_potential);
  Str(&w, "recommendation", c.recommendation);
  Num(&w, "allocated_cpu_cost", c.allocated_cpu_cost);
  Num(&w, "allocated_memory_cost", c.allocated_memory_cost);
  Num(&w, "allocated_total_cost", c.allocated_total_cost);
  MaybeNum(&w, "wasted_capacity_percent", c.wasted_capacity_percent);
  Num(&w, "hourly_cost", c.hourly_cost);
  Num(&w, "pod_hours", c.pod_hours);
  Num(&w, "measured_hours", c.measured_hours);
  Num(&w, "requested_core_hours", c.requested_core_hours);
  Num(&w, "used_core_hours", c.used_core_hours);
  Num(&w, "requested_gb_hours", c.requested_gb_hours);
  Num(&w, "used_gb_hours", c.used_gb_hours);
  w.Key("rightsizing");
  w.StartObject();
  WriteRecommendation(&w, "cpu_request_millicores", rs.cpu, cpu_request_millicores);
  WriteRecommendation(&w, "memory_request_bytes", rs.memory, memory_request_bytes);
  Num(&w, "history_days", rs.history_days);
  Num(&w, "confidence", rs.confidence);
  Str(&w, "confidence_label", rs.confidence_label);
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

}  // namespace costs
