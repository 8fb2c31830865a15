#include "adapter/static_metrics.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace adapter {

absl::StatusOr<std::vector<MetricPoint>> ParseStaticMetrics(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("static metrics: JSON error at offset ", doc.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  const rapidjson::Value* list = &doc;
  if (doc.IsObject()) {
    auto it = doc.FindMember("metrics");
    if (it == doc.MemberEnd())
      return absl::InvalidArgumentError("static metrics: no \"metrics\" array");
    list = &it->value;
  }
  if (!list->IsArray())
    return absl::InvalidArgumentError("static metrics: \"metrics\" must be an array");
  std::vector<MetricPoint> points;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const rapidjson::Value& m = (*list)[i];
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat("static metrics: entry ", i, ": ", why));
    };
    if (!m.IsObject()) return bad("not an object");
    MetricPoint p;
    auto str = [&](const char* field, std::string* out, bool required) -> bool {
      auto it = m.FindMember(field);
      if (it == m.MemberEnd()) return !required;
      if (!it->value.IsString()) return false;
      out->assign(it->value.GetString(), it->value.GetStringLength());
      return !required || !out->empty();
    };
    if (!str("namespace", &p.namespace_name, true))
      return bad("\"namespace\" must be a non-empty string");
    if (!str("metric", &p.metric, true)) return bad("\"metric\" must be a non-empty string");
    if (!str("deployment", &p.deployment, false)) return bad("\"deployment\" must be a string");
    auto value = m.FindMember("value");
    if (value == m.MemberEnd() || !value->value.IsNumber())
      return bad("\"value\" must be a number");
    p.value = value->value.GetDouble();
    if (auto labels = m.FindMember("labels"); labels != m.MemberEnd()) {
      if (!labels->value.IsObject()) return bad("\"labels\" must be an object of strings");
      for (auto l = labels->value.MemberBegin(); l != labels->value.MemberEnd(); ++l) {
        if (!l->value.IsString()) return bad("\"labels\" must be an object of strings");
        p.labels[l->name.GetString()] = l->value.GetString();
      }
    }
    std::string ts;
    if (!str("timestamp", &ts, false)) return bad("\"timestamp\" must be an RFC 3339 string");
    if (!ts.empty()) {
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, ts, &p.timestamp, &err)) {
        return bad(absl::StrCat("bad timestamp \"", ts, "\": ", err));
      }
    }
    if (auto w = m.FindMember("windowSeconds"); w != m.MemberEnd()) {
      if (!w->value.IsInt64() || w->value.GetInt64() < 0)
        return bad("\"windowSeconds\" must be a non-negative integer");
      p.window = absl::Seconds(w->value.GetInt64());
    }
    points.push_back(std::move(p));
  }
  return points;
}

absl::StatusOr<std::vector<MetricPoint>> LoadStaticMetrics(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --static-metrics file ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<std::vector<MetricPoint>> points = ParseStaticMetrics(ss.str());
  if (!points.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", points.status().message()));
  }
  return points;
}

}  // namespace adapter
