#include "backtest/report.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace backtest {
namespace {

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone());
}

const char* const kColors[] = {"#d62728", "#2ca02c", "#ff7f0e", "#1f77b4"};

}  // namespace

std::string FormatTable(const TraceResult& r) {
  std::string out = absl::StrCat("trace ", r.trace, ": replay ", Time(r.window.start), " .. ",
                                 Time(r.window.end), " UTC\n");
  absl::StrAppendFormat(&out, "  %-20s %8s %12s %14s %12s %10s %7s\n", "policy", "target",
                        "overloaded", "unserved", "replica", "cost", "scale");
  absl::StrAppendFormat(&out, "  %-20s %8s %12s %14s %12s %10s %7s\n", "", "%", "minutes",
                        "core-minutes", "hours", "", "events");
  for (const PolicyResult& p : r.policies) {
    std::string target = p.target_pct ? absl::StrFormat("%.1f", *p.target_pct) : "-";
    if (p.policy == "smart" && p.target_pct) target = absl::StrCat("~", target);
    absl::StrAppendFormat(&out, "  %-20s %8s %12.1f %14.1f %12.1f %10.2f %7d\n", p.policy, target,
                          p.figures.overloaded_minutes, p.figures.unserved_core_minutes,
                          p.figures.replica_hours, p.cost, p.figures.scale_events);
  }
  if (!r.pricing.empty()) absl::StrAppend(&out, "  cost = ", r.pricing, "\n");
  absl::StrAppend(&out, "  gap closed (native -> oracle overloaded minutes): ",
                  r.gap_closed ? absl::StrFormat("%.0f %%", 100 * *r.gap_closed)
                               : std::string("n/a (native does not overload more than the oracle)"),
                  "\n");
  if (!r.cost_matched) {
    absl::StrAppend(&out,
                    "  note: no target in the search range matches smart's replica-hours "
                    "within tolerance; the closest is shown\n");
  }
  absl::StrAppendFormat(&out, "  smart: %d cycles, forecast trusted in %d, %d buckets backfilled\n",
                        r.smart.cycles, r.smart.trusted_cycles, r.smart.history_points);
  return out;
}

std::string FormatJson(const TraceResult& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("trace");
  w.String(r.trace.c_str());
  w.Key("policies");
  w.StartArray();
  for (const PolicyResult& p : r.policies) {
    w.StartObject();
    w.Key("policy");
    w.String(p.policy.c_str());
    w.Key("target_pct");
    if (p.target_pct) {
      w.Double(*p.target_pct);
    } else {
      w.Null();
    }
    w.Key("overloaded_minutes");
    w.Double(p.figures.overloaded_minutes);
    w.Key("unserved_core_minutes");
    w.Double(p.figures.unserved_core_minutes);
    w.Key("replica_hours");
    w.Double(p.figures.replica_hours);
    w.Key("scale_events");
    w.Int(p.figures.scale_events);
    w.Key("cost");
    w.Double(p.cost);
    w.Key("cpu_cost");
    w.Double(p.cpu_cost);
    w.Key("memory_cost");
    if (p.memory_cost) {
      w.Double(*p.memory_cost);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string FormatSeriesCsv(const TraceResult& r) {
  std::string out = "time,demand_cores";
  for (const PolicyResult& p : r.policies) absl::StrAppend(&out, ",", p.policy, "_ready_cores");
  absl::StrAppend(&out, ",smart_cpu_pressure,smart_rule\n");
  for (const SeriesRow& row : r.series) {
    absl::StrAppend(&out, Time(row.time), ",", absl::StrFormat("%.4f", row.demand_cores));
    for (double c : row.ready_cores) absl::StrAppend(&out, ",", c);
    absl::StrAppend(&out, ",",
                    row.smart_pressure ? absl::StrFormat("%.4f", *row.smart_pressure) : "", ",",
                    row.smart_rule, "\n");
  }
  return out;
}

namespace {

// The plot's geometry: demand and capacity (cores) in the top panel, the served pressure in
// the bottom one, time along x.
struct Frame {
  double width = 1200, left = 60, right = 20;
  double top_y0 = 30, top_h = 360, bot_y0 = 30 + 360 + 40, bot_h = 160;
  double ymax = 1, pmax = 1.5;  // cores; pressure
  double t0 = 0, t1 = 1;        // Unix seconds
  double plot_w() const { return width - left - right; }
  double height() const { return bot_y0 + bot_h + 40; }
  double X(absl::Time t) const {
    return left +
           plot_w() * (absl::ToDoubleSeconds(t - absl::UnixEpoch()) - t0) / std::max(1.0, t1 - t0);
  }
  double Y(double cores) const { return top_y0 + top_h * (1 - cores / ymax); }
  double P(double pressure) const { return bot_y0 + bot_h * (1 - std::min(pressure, pmax) / pmax); }
};

Frame MakeFrame(const TraceResult& r) {
  Frame f;
  for (const SeriesRow& row : r.series) {
    f.ymax = std::max(f.ymax, row.demand_cores);
    for (double c : row.ready_cores) f.ymax = std::max(f.ymax, c);
    if (row.smart_pressure) f.pmax = std::max(f.pmax, std::min(*row.smart_pressure, 4.0));
  }
  f.ymax *= 1.05;
  f.t0 = absl::ToDoubleSeconds(r.series.front().time - absl::UnixEpoch());
  f.t1 = absl::ToDoubleSeconds(r.series.back().time - absl::UnixEpoch());
  return f;
}

void AppendAxis(const Frame& f, double y0, double h, double vmax, const char* label,
                std::string* out) {
  absl::StrAppendFormat(out,
                        "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
                        "fill=\"none\" stroke=\"#999\"/>\n",
                        f.left, y0, f.plot_w(), h);
  for (int i = 0; i <= 4; ++i) {
    absl::StrAppendFormat(out, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                          f.left - 4, y0 + h * (1 - i / 4.0) + 4, vmax * i / 4);
  }
  absl::StrAppendFormat(out, "<text x=\"4\" y=\"%.0f\">%s</text>\n", y0 - 4, label);
}

// One line through value(row) (nullopt: skipped), every `stride` rows.
void AppendLine(const TraceResult& r, const Frame& f, size_t stride, const char* color,
                const std::function<absl::optional<double>(const SeriesRow&)>& value,
                std::string* out) {
  absl::StrAppendFormat(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1\" points=\"",
                        color);
  for (size_t i = 0; i < r.series.size(); i += stride) {
    if (absl::optional<double> v = value(r.series[i])) {
      absl::StrAppendFormat(out, "%.1f,%.1f ", f.X(r.series[i].time), *v);
    }
  }
  absl::StrAppend(out, "\"/>\n");
}

void AppendLegend(const TraceResult& r, const Frame& f, std::string* out) {
  double lx = f.left + 8;
  auto legend = [&](const char* color, const std::string& text) {
    absl::StrAppendFormat(out,
                          "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                          "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                          lx, f.top_y0 + 10, color, lx + 16, f.top_y0 + 15, text);
    lx += 24 + 7.0 * text.size();
  };
  legend("#000", "demand");
  for (size_t p = 0; p < r.policies.size(); ++p) {
    legend(kColors[p % 4],
           absl::StrFormat("%s (%.0f overloaded min, %.0f replica-h)", r.policies[p].policy,
                           r.policies[p].figures.overloaded_minutes,
                           r.policies[p].figures.replica_hours));
  }
}

}  // namespace

std::string FormatSvg(const TraceResult& r) {
  Frame f = r.series.empty() ? Frame{} : MakeFrame(r);
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n",
      f.width, f.height());
  absl::StrAppend(&out, "<text x=\"", f.left, "\" y=\"18\" font-size=\"14\">backtest ", r.trace,
                  ": demand and ready capacity (cores), ", Time(r.window.start), " .. ",
                  Time(r.window.end), " UTC</text>\n");
  if (r.series.empty()) return out + "</svg>\n";
  // At most about 2,000 points per line (one per 3 minutes over 4 days): a small file.
  const size_t stride = std::max<size_t>(1, r.series.size() / 2000 + 1);
  AppendAxis(f, f.top_y0, f.top_h, f.ymax, "cores", &out);
  AppendAxis(f, f.bot_y0, f.bot_h, f.pmax, "smart_cpu_pressure", &out);
  for (absl::Time d = r.series.front().time; d <= r.series.back().time; d += absl::Hours(24)) {
    absl::StrAppendFormat(&out, "<text x=\"%.1f\" y=\"%.0f\">%s</text>\n", f.X(d),
                          f.bot_y0 + f.bot_h + 16,
                          absl::FormatTime("%m-%d %H:%M", d, absl::UTCTimeZone()));
  }
  AppendLine(
      r, f, stride, "#000",
      [&](const SeriesRow& row) -> absl::optional<double> { return f.Y(row.demand_cores); }, &out);
  for (size_t p = 0; p < r.policies.size(); ++p) {
    AppendLine(
        r, f, stride, kColors[p % 4],
        [&](const SeriesRow& row) -> absl::optional<double> {
          if (p >= row.ready_cores.size()) return absl::nullopt;
          return f.Y(row.ready_cores[p]);
        },
        &out);
  }
  AppendLine(
      r, f, stride, "#2ca02c",
      [&](const SeriesRow& row) -> absl::optional<double> {
        if (!row.smart_pressure) return absl::nullopt;
        return f.P(*row.smart_pressure);
      },
      &out);
  for (double band : {0.9, 1.1}) {
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                          "stroke-dasharray=\"4 3\"/>\n",
                          f.left, f.left + f.plot_w(), f.P(band), f.P(band));
  }
  AppendLegend(r, f, &out);
  return out + "</svg>\n";
}

}  // namespace backtest
